//! Where the node's identity comes from: `--seed N`, `--key FILE` (see [`crate::keyfile`]), the
//! identity file kept in `listen`'s data directory (made once, as kubo does), or a fresh Ed25519
//! key.

use std::path::Path;

use anyhow::{Context, Result};
use chainp2p_core::identity::Keypair;

use crate::cli::{CommonArgs, ListenArgs};
use crate::dht;
use crate::exit::CliError;
use crate::keyfile;

/// The keypair the flags ask for.
pub fn keypair(args: &CommonArgs) -> Result<Keypair> {
    if let Some(seed) = args.seed {
        return Ok(seeded_ed25519(seed));
    }
    if let Some(path) = &args.key {
        // A key file that cannot be read or used is bad input (exit 2).
        let bytes = std::fs::read(path)
            .with_context(|| CliError::Usage(format!("reading key file {}", path.display())))?;
        return keyfile::decode(&bytes)
            .with_context(|| CliError::Usage(format!("cannot use key file {}", path.display())));
    }
    Ok(Keypair::generate_ed25519())
}

/// The identity file's name in a data directory (libp2p protobuf private key, mode 0600).
pub const IDENTITY_FILE: &str = "identity.key";
/// An identity file larger than this is not a key (an RSA-8192 key is about 4.8 KiB).
const MAX_IDENTITY_FILE: u64 = 64 * 1024;

/// The keypair of `listen`: `--seed`/`--key` when given, a fresh one with `--memory` (nothing
/// written), else the identity kept in the data directory (`--data-dir DIR/identity.key`, or
/// `identity.key` in the per-user base directory), made on the first run.
pub fn listen_keypair(common: &CommonArgs, args: &ListenArgs) -> Result<Keypair> {
    if args.memory || common.seed.is_some() || common.key.is_some() {
        return keypair(common);
    }
    let path = match &args.data_dir {
        Some(dir) => dir.join(IDENTITY_FILE),
        None => match dht::data_base() {
            Ok(base) => base.join(IDENTITY_FILE),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "no identity kept: using a fresh one");
                return keypair(common);
            }
        },
    };
    load_or_create(&path)
}

/// Reads the identity at `path`, or makes one and writes it there (mode 0600) if there is none.
pub fn load_or_create(path: &Path) -> Result<Keypair> {
    match read_identity(path) {
        Ok(Some(k)) => return Ok(k),
        Ok(None) => {}
        Err(e) => return Err(e),
    }
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let keypair = Keypair::generate_ed25519();
    let bytes = keypair
        .to_protobuf_encoding()
        .context("encoding the new identity")?;
    match write_new(path, &bytes) {
        Ok(()) => Ok(keypair),
        // Another node made it in the meantime: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_identity(path)?
            .with_context(|| format!("identity file {} vanished", path.display())),
        Err(e) => Err(e).with_context(|| format!("writing identity file {}", path.display())),
    }
}

/// The identity at `path`; `None` if there is no file.
fn read_identity(path: &Path) -> Result<Option<Keypair>> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("reading identity file {}", path.display()))
        }
    };
    let mut bytes = Vec::new();
    file.take(MAX_IDENTITY_FILE + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading identity file {}", path.display()))?;
    if bytes.len() as u64 > MAX_IDENTITY_FILE {
        anyhow::bail!(
            "identity file {} is larger than {MAX_IDENTITY_FILE} bytes",
            path.display()
        );
    }
    keyfile::decode(&bytes)
        .map(Some)
        .with_context(|| format!("cannot use identity file {}", path.display()))
}

/// Creates `dir` (and its parents) if missing; a new directory is private (0700).
fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Writes `bytes` to a new file at `path` (mode 0600), failing if it exists.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
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
    fn identity_is_made_once_and_kept_private() {
        let dir = std::env::temp_dir().join(format!("chain-node-id-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("sub").join(IDENTITY_FILE);
        let a = load_or_create(&path).unwrap().public().to_peer_id();
        let b = load_or_create(&path).unwrap().public().to_peer_id();
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A file that is not a key is an error, not silently replaced.
        std::fs::write(&path, b"garbage").unwrap();
        assert!(load_or_create(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
