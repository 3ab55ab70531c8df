//! Where the node's identity comes from: `--seed N`, `--key FILE` (see [`crate::keyfile`]), or
//! a fresh Ed25519 key.

use anyhow::{Context, Result};
use chainp2p_core::identity::Keypair;

use crate::cli::CommonArgs;
use crate::keyfile;

/// The keypair the flags ask for.
pub fn keypair(args: &CommonArgs) -> Result<Keypair> {
    if let Some(seed) = args.seed {
        return Ok(seeded_ed25519(seed));
    }
    if let Some(path) = &args.key {
        let bytes =
            std::fs::read(path).with_context(|| format!("reading key file {}", path.display()))?;
        return keyfile::decode(&bytes)
            .with_context(|| format!("cannot use key file {}", path.display()));
    }
    Ok(Keypair::generate_ed25519())
}

/// The rust-libp2p test-peer convention: the 32-byte Ed25519 secret is `seed` as little-endian
/// u64 in bytes 0–7, zeros after.
pub fn seeded_ed25519(seed: u64) -> Keypair {
    let mut secret = [0u8; 32];
    let (head, _) = secret.split_at_mut(8);
    head.copy_from_slice(&seed.to_le_bytes());
    match Keypair::ed25519_from_bytes(secret) {
        Ok(k) => k,
        // 32 bytes are always a valid Ed25519 secret; keep a defined outcome anyway.
        Err(_) => Keypair::generate_ed25519(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_convention_is_stable() {
        let a = seeded_ed25519(1).public().to_peer_id();
        let b = seeded_ed25519(1).public().to_peer_id();
        let c = seeded_ed25519(2).public().to_peer_id();
        assert_eq!(a, b);
        assert_ne!(a, c);
        // The secret bytes follow the convention exactly.
        let kp = seeded_ed25519(0x0102).try_into_ed25519().unwrap();
        let secret = kp.secret();
        let bytes: &[u8] = secret.as_ref();
        assert_eq!(&bytes[..8], &0x0102u64.to_le_bytes());
        assert!(bytes[8..].iter().all(|b| *b == 0));
    }
}
