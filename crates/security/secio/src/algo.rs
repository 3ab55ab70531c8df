//! The negotiable algorithms, their wire names, and the secio selection rule: hash both
//! proposals into an order, then take the first entry of the preferred side's list that the
//! other side also offers.

use sha2::{Digest, Sha256};

use crate::error::{AlgorithmList, SecioError};

/// An ephemeral ECDH curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAgreement {
    /// NIST P-256 (`P-256`).
    P256,
    /// NIST P-384 (`P-384`).
    P384,
    /// NIST P-521 (`P-521`).
    P521,
}

/// A stream cipher (AES in CTR mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cipher {
    /// `AES-128`: 16-byte key.
    Aes128,
    /// `AES-256`: 32-byte key.
    Aes256,
}

/// The HMAC hash of the frames and of key stretching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgo {
    /// `SHA256`: 32-byte MACs.
    Sha256,
    /// `SHA512`: 64-byte MACs.
    Sha512,
}

/// A named, negotiable algorithm.
pub trait Algorithm: Copy + PartialEq + 'static {
    /// Every supported value, in our default order of preference.
    const ALL: &'static [Self];
    /// Which list it belongs to.
    const LIST: AlgorithmList;
    /// The wire name.
    fn name(self) -> &'static str;
    /// The value with that wire name, if supported.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }
}

impl Algorithm for KeyAgreement {
    const ALL: &'static [Self] = &[KeyAgreement::P256, KeyAgreement::P384, KeyAgreement::P521];
    const LIST: AlgorithmList = AlgorithmList::Exchanges;
    fn name(self) -> &'static str {
        match self {
            KeyAgreement::P256 => "P-256",
            KeyAgreement::P384 => "P-384",
            KeyAgreement::P521 => "P-521",
        }
    }
}

impl Algorithm for Cipher {
    const ALL: &'static [Self] = &[Cipher::Aes256, Cipher::Aes128];
    const LIST: AlgorithmList = AlgorithmList::Ciphers;
    fn name(self) -> &'static str {
        match self {
            Cipher::Aes128 => "AES-128",
            Cipher::Aes256 => "AES-256",
        }
    }
}

impl Algorithm for HashAlgo {
    const ALL: &'static [Self] = &[HashAlgo::Sha256, HashAlgo::Sha512];
    const LIST: AlgorithmList = AlgorithmList::Hashes;
    fn name(self) -> &'static str {
        match self {
            HashAlgo::Sha256 => "SHA256",
            HashAlgo::Sha512 => "SHA512",
        }
    }
}

impl Cipher {
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Cipher::Aes128 => 16,
            Cipher::Aes256 => 32,
        }
    }
}

impl HashAlgo {
    /// MAC length in bytes (the full HMAC output).
    pub fn mac_len(self) -> usize {
        match self {
            HashAlgo::Sha256 => 32,
            HashAlgo::Sha512 => 64,
        }
    }
}

macro_rules! display_by_name {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    )*};
}
display_by_name!(KeyAgreement, Cipher, HashAlgo);

/// Joins names with commas, the wire form of a list.
pub fn join<A: Algorithm>(list: &[A]) -> String {
    list.iter().map(|a| a.name()).collect::<Vec<_>>().join(",")
}

/// Which side's preferences win: compares `SHA-256(remote pubkey ‖ local nonce)` with
/// `SHA-256(local pubkey ‖ remote nonce)`. `Equal` means we are talking to ourselves.
pub fn order(
    local_pubkey: &[u8],
    local_nonce: &[u8],
    remote_pubkey: &[u8],
    remote_nonce: &[u8],
) -> std::cmp::Ordering {
    let oh1 = Sha256::new()
        .chain_update(remote_pubkey)
        .chain_update(local_nonce)
        .finalize();
    let oh2 = Sha256::new()
        .chain_update(local_pubkey)
        .chain_update(remote_nonce)
        .finalize();
    oh1.as_slice().cmp(oh2.as_slice())
}

/// Picks the algorithm: with `order` Greater our list is first, otherwise the remote's; the
/// first entry of the first list that the other also holds wins. Unknown names are skipped.
pub fn select<A: Algorithm>(
    order: std::cmp::Ordering,
    ours: &[A],
    theirs: &str,
) -> Result<A, SecioError> {
    let theirs_known: Vec<A> = theirs.split(',').filter_map(A::from_name).collect();
    let (first, second) = if order == std::cmp::Ordering::Greater {
        (ours, theirs_known.as_slice())
    } else {
        (theirs_known.as_slice(), ours)
    };
    first
        .iter()
        .copied()
        .find(|a| second.contains(a))
        .ok_or_else(|| SecioError::NoCommonAlgorithm {
            which: A::LIST,
            ours: join(ours),
            theirs: theirs.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn the_preferred_side_wins() {
        let ours = [Cipher::Aes256, Cipher::Aes128];
        let theirs = "AES-128,AES-256,TwofishCTR";
        assert_eq!(
            select(Ordering::Greater, &ours, theirs).unwrap(),
            Cipher::Aes256
        );
        assert_eq!(
            select(Ordering::Less, &ours, theirs).unwrap(),
            Cipher::Aes128
        );
    }

    #[test]
    fn unknown_names_are_skipped_and_disjoint_lists_fail() {
        let ours = [KeyAgreement::P384];
        assert_eq!(
            select(Ordering::Less, &ours, "X-1,P-384").unwrap(),
            KeyAgreement::P384
        );
        let err = select(Ordering::Less, &ours, "P-256,Curve25519").unwrap_err();
        assert!(
            matches!(
                &err,
                SecioError::NoCommonAlgorithm {
                    which: AlgorithmList::Exchanges,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn order_is_antisymmetric_and_equal_for_self() {
        let (ka, na, kb, nb) = (b"key-a", [1u8; 16], b"key-b", [2u8; 16]);
        let ab = order(ka, &na, kb, &nb);
        assert_ne!(ab, Ordering::Equal);
        assert_eq!(order(kb, &nb, ka, &na), ab.reverse());
        assert_eq!(order(ka, &na, ka, &na), Ordering::Equal);
    }
}
