//! Ephemeral ECDH on the negotiated NIST curve (RustCrypto `p256`/`p384`/`p521`): uncompressed
//! SEC1 public points on the wire, points off the curve rejected, and the shared secret as the
//! X coordinate in the encoding [`SharedSecretWidth`] picks.

use p256::elliptic_curve::rand_core::CryptoRngCore;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand::rngs::OsRng;

use crate::algo::{Algorithm, KeyAgreement};
use crate::error::SecioError;

/// How the shared secret (the ECDH X coordinate) is turned into bytes before key stretching.
///
/// go-libp2p-secio and py-libp2p strip leading zero bytes (`big.Int.Bytes()`); rust-libp2p
/// (ring), js and c-libp2p (mbedtls) use the fixed field width. The two encodings differ only
/// when the X coordinate starts with a zero byte (about 1 in 256 P-256 handshakes), and then
/// give different keys: a forced mode facing the other kind of peer fails the nonce check with
/// a MAC error. [`SharedSecretWidth::Auto`] (the default) talks to both kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SharedSecretWidth {
    /// Learn the peer's encoding from its nonce-echo frame (the default).
    ///
    /// Without a leading zero byte both encodings are the same bytes: nothing changes (no
    /// extra latency). With one, we stretch both candidate key sets, receive the peer's first
    /// encrypted frame before sending ours (go and py send theirs at once, without waiting for
    /// ours), keep the candidate whose MAC verifies, and send our nonce echo with it. If the
    /// peer sends nothing within [`crate::SecioConfig::with_ambiguous_width_wait`] (a peer
    /// that waits for us), ours goes out fixed-width and either width is accepted from the
    /// peer. Two `Auto` peers recognise each other by a 32-bit tag in their Propose nonces and
    /// then use the fixed width without waiting.
    #[default]
    Auto,
    /// Always the field width: 32 (P-256), 48 (P-384) or 66 (P-521) bytes (rust-libp2p, js,
    /// c-libp2p).
    Fixed,
    /// Always with leading zero bytes removed (go-libp2p-secio, py-libp2p).
    StripLeadingZeros,
}

enum Secret {
    P256(p256::ecdh::EphemeralSecret),
    P384(p384::ecdh::EphemeralSecret),
    P521(p521::ecdh::EphemeralSecret),
}

/// An ephemeral ECDH key pair, used for one handshake.
pub struct EphemeralKey {
    secret: Secret,
    public: Vec<u8>,
}

impl EphemeralKey {
    /// A fresh key pair on `curve`.
    pub fn generate(curve: KeyAgreement) -> Self {
        EphemeralKey::generate_with(curve, &mut OsRng)
    }

    /// A key pair on `curve` drawn from `rng` (a seeded RNG makes reproducible tests).
    pub fn generate_with(curve: KeyAgreement, rng: &mut impl CryptoRngCore) -> Self {
        let (secret, public) = match curve {
            KeyAgreement::P256 => {
                let s = p256::ecdh::EphemeralSecret::random(rng);
                let p = s.public_key().to_encoded_point(false).as_bytes().to_vec();
                (Secret::P256(s), p)
            }
            KeyAgreement::P384 => {
                let s = p384::ecdh::EphemeralSecret::random(rng);
                let p = s.public_key().to_encoded_point(false).as_bytes().to_vec();
                (Secret::P384(s), p)
            }
            KeyAgreement::P521 => {
                let s = p521::ecdh::EphemeralSecret::random(rng);
                let p = s.public_key().to_encoded_point(false).as_bytes().to_vec();
                (Secret::P521(s), p)
            }
        };
        EphemeralKey { secret, public }
    }

    /// The curve of this key.
    pub fn curve(&self) -> KeyAgreement {
        match self.secret {
            Secret::P256(_) => KeyAgreement::P256,
            Secret::P384(_) => KeyAgreement::P384,
            Secret::P521(_) => KeyAgreement::P521,
        }
    }

    /// Our public point, uncompressed: `0x04 ‖ X ‖ Y`.
    pub fn public(&self) -> &[u8] {
        &self.public
    }

    /// The shared secret with the remote's uncompressed point `remote`, encoded per `width`
    /// ([`SharedSecretWidth::Auto`] gives the fixed width here). A compressed point, the
    /// identity, or a point not on the curve is [`SecioError::InvalidCurvePoint`].
    pub fn agree(&self, remote: &[u8], width: SharedSecretWidth) -> Result<Vec<u8>, SecioError> {
        Ok(encode_secret(self.agree_fixed(remote)?, width))
    }

    /// The shared secret with `remote` at the curve's fixed field width.
    pub fn agree_fixed(&self, remote: &[u8]) -> Result<Vec<u8>, SecioError> {
        let curve = self.curve();
        let bad = || SecioError::InvalidCurvePoint {
            curve: curve.name(),
            len: remote.len(),
        };
        if remote.len() != point_len(curve) || remote.first() != Some(&0x04) {
            return Err(bad());
        }
        let x = match &self.secret {
            Secret::P256(s) => {
                let pk = p256::PublicKey::from_sec1_bytes(remote).map_err(|_| bad())?;
                s.diffie_hellman(&pk).raw_secret_bytes().to_vec()
            }
            Secret::P384(s) => {
                let pk = p384::PublicKey::from_sec1_bytes(remote).map_err(|_| bad())?;
                s.diffie_hellman(&pk).raw_secret_bytes().to_vec()
            }
            Secret::P521(s) => {
                let pk = p521::PublicKey::from_sec1_bytes(remote).map_err(|_| bad())?;
                s.diffie_hellman(&pk).raw_secret_bytes().to_vec()
            }
        };
        Ok(x)
    }
}

/// Length of an uncompressed point on `curve`.
pub fn point_len(curve: KeyAgreement) -> usize {
    match curve {
        KeyAgreement::P256 => 65,
        KeyAgreement::P384 => 97,
        KeyAgreement::P521 => 133,
    }
}

/// Applies `width` to a fixed-width X coordinate ([`SharedSecretWidth::Auto`] keeps it as
/// it is).
pub fn encode_secret(mut x: Vec<u8>, width: SharedSecretWidth) -> Vec<u8> {
    if width == SharedSecretWidth::StripLeadingZeros {
        let zeros = x.iter().take_while(|&&b| b == 0).count();
        x.drain(..zeros);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_agree_on_every_curve() {
        for curve in KeyAgreement::ALL {
            let (a, b) = (
                EphemeralKey::generate(*curve),
                EphemeralKey::generate(*curve),
            );
            assert_eq!(a.public().len(), point_len(*curve));
            let sa = a.agree(b.public(), SharedSecretWidth::Fixed).unwrap();
            let sb = b.agree(a.public(), SharedSecretWidth::Fixed).unwrap();
            assert_eq!(sa, sb);
            assert_eq!(sa.len(), (point_len(*curve) - 1) / 2);
        }
    }

    #[test]
    fn off_curve_and_compressed_points_are_rejected() {
        let a = EphemeralKey::generate(KeyAgreement::P256);
        let mut off = a.public().to_vec();
        off[64] ^= 1; // y no longer matches x
        let compressed = &a.public()[..33];
        for bad in [&off[..], compressed, &[0u8; 65][..], &[]] {
            let err = a.agree(bad, SharedSecretWidth::Fixed).unwrap_err();
            assert!(
                matches!(err, SecioError::InvalidCurvePoint { curve: "P-256", .. }),
                "{err}"
            );
        }
    }

    #[test]
    fn stripping_only_changes_secrets_with_leading_zeros() {
        assert_eq!(
            encode_secret(vec![0, 0, 5, 0], SharedSecretWidth::StripLeadingZeros),
            [5, 0]
        );
        assert_eq!(
            encode_secret(vec![0, 0, 5, 0], SharedSecretWidth::Fixed),
            [0, 0, 5, 0]
        );
        assert_eq!(
            encode_secret(vec![7, 0], SharedSecretWidth::StripLeadingZeros),
            [7, 0]
        );
    }

    #[test]
    fn a_leading_zero_secret_splits_go_from_the_others() {
        use crate::algo::{Cipher, HashAlgo};
        use crate::stretch::stretch;
        // about 1 in 256 P-256 agreements has a zero first byte; bounded search
        for _ in 0..20_000 {
            let (a, b) = (
                EphemeralKey::generate(KeyAgreement::P256),
                EphemeralKey::generate(KeyAgreement::P256),
            );
            let fixed = a.agree(b.public(), SharedSecretWidth::Fixed).unwrap();
            if fixed[0] != 0 {
                continue;
            }
            let go = b
                .agree(a.public(), SharedSecretWidth::StripLeadingZeros)
                .unwrap();
            assert_eq!(fixed.len(), 32);
            assert!(go.len() < 32 && fixed.ends_with(&go));
            let (k_fixed, _) = stretch(HashAlgo::Sha256, Cipher::Aes128, &fixed);
            let (k_go, _) = stretch(HashAlgo::Sha256, Cipher::Aes128, &go);
            assert_ne!(k_fixed, k_go, "the two encodings must give different keys");
            return;
        }
        panic!("no leading-zero secret found in 20000 tries");
    }
}
