//! Key stretching: the TLS-1.0-PRF-like expansion of the shared secret into two sets of
//! IV, cipher key and 20-byte MAC key, one per direction.

use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};

use crate::algo::{Cipher, HashAlgo};

/// The seed of the expansion.
const SEED: &[u8] = b"key expansion";
/// IV length (one AES block) for every cipher.
pub const IV_LEN: usize = 16;
/// MAC key length, always 20 bytes (even with SHA512).
pub const MAC_KEY_LEN: usize = 20;

/// One direction's keys.
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    /// The initial CTR counter block.
    pub iv: Vec<u8>,
    /// The AES key.
    pub cipher_key: Vec<u8>,
    /// The HMAC key.
    pub mac_key: Vec<u8>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys { .. }")
    }
}

/// The raw expansion of `secret`: `2 * (16 + key_len + 20)` bytes.
pub fn stretch_bytes(hash: HashAlgo, cipher: Cipher, secret: &[u8]) -> Vec<u8> {
    let out_len = 2 * (IV_LEN + cipher.key_len() + MAC_KEY_LEN);
    match hash {
        HashAlgo::Sha256 => expand::<Hmac<Sha256>>(secret, out_len),
        HashAlgo::Sha512 => expand::<Hmac<Sha512>>(secret, out_len),
    }
}

fn expand<M: Mac + hmac::digest::KeyInit + Clone>(secret: &[u8], out_len: usize) -> Vec<u8> {
    // HMAC accepts keys of any length
    let base = <M as hmac::digest::KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    let mac = |parts: &[&[u8]]| {
        let mut m = base.clone();
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes()
    };
    let mut out = Vec::with_capacity(out_len + 64);
    let mut a = mac(&[SEED]);
    while out.len() < out_len {
        out.extend_from_slice(&mac(&[&a, SEED]));
        a = mac(&[&a]);
    }
    out.truncate(out_len);
    out
}

/// Stretches `secret` into `(k1, k2)`: the side whose order is Greater sends with `k1`.
pub fn stretch(hash: HashAlgo, cipher: Cipher, secret: &[u8]) -> (Keys, Keys) {
    let out = stretch_bytes(hash, cipher, secret);
    let (h1, h2) = out.split_at(out.len() / 2);
    (split(h1, cipher), split(h2, cipher))
}

fn split(half: &[u8], cipher: Cipher) -> Keys {
    let (iv, rest) = half.split_at(IV_LEN.min(half.len()));
    let (key, mac) = rest.split_at(cipher.key_len().min(rest.len()));
    Keys {
        iv: iv.to_vec(),
        cipher_key: key.to_vec(),
        mac_key: mac.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn empty_secret_vector() {
        let out = stretch_bytes(HashAlgo::Sha256, Cipher::Aes256, &[]);
        assert_eq!(out.len(), 136);
        assert_eq!(
            out[..32],
            hex("67903cc75591ef474fc655a420358fcd3230990a25205501e23dc1019a78cf50")
        );
        assert_eq!(
            stretch_bytes(HashAlgo::Sha512, Cipher::Aes128, &[]).len(),
            104
        );
    }

    #[test]
    fn recorded_rust_handshake_vector() {
        let secret = hex("54cafb5b5bb1624295e0293a499791b68e18aeb685f9c25905e39d2fae71efea");
        let (k1, k2) = stretch(HashAlgo::Sha256, Cipher::Aes128, &secret);
        assert_eq!(k1.iv, hex("f46406617860aa7f016f22fd5f626be7"));
        assert_eq!(k1.cipher_key, hex("434f886e0ac2319eb0dcc04865ed9821"));
        assert_eq!(k1.mac_key, hex("b98c5c6a9b8f6d93b2267cf60a403e060ee0f3c7"));
        assert_eq!(k2.iv, hex("4cca72ea4a6379f9c68e40bad316cbb8"));
        assert_eq!(k2.cipher_key, hex("bbb2d0eebbffb007cce48b6acbbb124e"));
        assert_eq!(k2.mac_key, hex("184be1c07c267f97727a3a23deb9b1f97f1f19b8"));
    }
}
