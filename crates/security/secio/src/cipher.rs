//! One direction's frame crypto, sans-IO: AES-CTR whose keystream runs on across frames, then
//! HMAC over the ciphertext (encrypt-then-MAC). Works in place on the caller's buffer, or from
//! one buffer into another (the copy folded into the keystream pass: [`CipherState::seal_from`],
//! [`CipherState::verify`] + [`CipherState::decrypt_to`]), which is what [`crate::SecioStream`]
//! uses.

use aes::{Aes128, Aes256};
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};

use crate::algo::{Cipher, HashAlgo};
use crate::error::SecioError;
use crate::stretch::Keys;

type Aes128Ctr = ctr::Ctr128BE<Aes128>;
type Aes256Ctr = ctr::Ctr128BE<Aes256>;

enum Ctr {
    Aes128(Box<Aes128Ctr>),
    Aes256(Box<Aes256Ctr>),
}

enum Hmacs {
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
}

/// The cipher and MAC state of one direction (ours to send, or the remote's to receive).
pub struct CipherState {
    ctr: Ctr,
    mac: Hmacs,
}

impl CipherState {
    /// A state from one direction's stretched keys.
    pub fn new(cipher: Cipher, hash: HashAlgo, keys: &Keys) -> Result<Self, SecioError> {
        let bad = |_| SecioError::BadField("stretched key length");
        let ctr = match cipher {
            Cipher::Aes128 => Ctr::Aes128(Box::new(
                Aes128Ctr::new_from_slices(&keys.cipher_key, &keys.iv).map_err(bad)?,
            )),
            Cipher::Aes256 => Ctr::Aes256(Box::new(
                Aes256Ctr::new_from_slices(&keys.cipher_key, &keys.iv).map_err(bad)?,
            )),
        };
        let bad = |_| SecioError::BadField("MAC key length");
        let mac = match hash {
            HashAlgo::Sha256 => {
                Hmacs::Sha256(<Hmac<Sha256> as Mac>::new_from_slice(&keys.mac_key).map_err(bad)?)
            }
            HashAlgo::Sha512 => {
                Hmacs::Sha512(<Hmac<Sha512> as Mac>::new_from_slice(&keys.mac_key).map_err(bad)?)
            }
        };
        Ok(CipherState { ctr, mac })
    }

    /// Length of the MAC appended to each frame.
    pub fn mac_len(&self) -> usize {
        match self.mac {
            Hmacs::Sha256(_) => 32,
            Hmacs::Sha512(_) => 64,
        }
    }

    fn apply_keystream(&mut self, buf: &mut [u8]) {
        match &mut self.ctr {
            Ctr::Aes128(c) => c.apply_keystream(buf),
            Ctr::Aes256(c) => c.apply_keystream(buf),
        }
    }

    fn apply_keystream_b2b(&mut self, input: &[u8], out: &mut [u8]) -> Result<(), SecioError> {
        let r = match &mut self.ctr {
            Ctr::Aes128(c) => c.apply_keystream_b2b(input, out),
            Ctr::Aes256(c) => c.apply_keystream_b2b(input, out),
        };
        r.map_err(|_| SecioError::BadField("keystream buffer lengths differ"))
    }

    fn mac_into(&self, ct: &[u8], tag: &mut [u8]) {
        match &self.mac {
            Hmacs::Sha256(m) => {
                tag.copy_from_slice(&m.clone().chain_update(ct).finalize().into_bytes())
            }
            Hmacs::Sha512(m) => {
                tag.copy_from_slice(&m.clone().chain_update(ct).finalize().into_bytes())
            }
        }
    }

    /// The ciphertext length of a `body_len`-byte frame body (the rest is the MAC); a body
    /// shorter than the MAC is [`SecioError::ShortFrame`].
    fn ciphertext_len(&self, body_len: usize) -> Result<usize, SecioError> {
        let mac = self.mac_len();
        body_len
            .checked_sub(mac)
            .ok_or(SecioError::ShortFrame { len: body_len, mac })
    }

    /// Seals `plain` into `body`, which must be exactly `plain.len() + mac_len()` bytes: the
    /// ciphertext is written straight from `plain` (no copy first), then its MAC. The same
    /// bytes as copying `plain` into `body` and calling [`CipherState::seal_in_place`].
    pub fn seal_from(&mut self, plain: &[u8], body: &mut [u8]) -> Result<(), SecioError> {
        let mac_len = self.mac_len();
        if body.len() != plain.len() + mac_len {
            return Err(SecioError::BadField("sealed body length"));
        }
        let (ct, tag) = body.split_at_mut(plain.len());
        self.apply_keystream_b2b(plain, ct)?;
        self.mac_into(ct, tag);
        Ok(())
    }

    /// Checks the MAC at the end of a frame `body` (constant-time) without decrypting; returns
    /// the ciphertext length. The caller then decrypts the ciphertext, in order and each byte
    /// once, with [`CipherState::decrypt_to`]. Errors as [`CipherState::open_in_place`].
    pub fn verify(&self, body: &[u8]) -> Result<usize, SecioError> {
        let ct_len = self.ciphertext_len(body.len())?;
        let (ct, tag) = body.split_at(ct_len);
        let ok = match &self.mac {
            Hmacs::Sha256(m) => m.clone().chain_update(ct).verify_slice(tag).is_ok(),
            Hmacs::Sha512(m) => m.clone().chain_update(ct).verify_slice(tag).is_ok(),
        };
        if ok {
            Ok(ct_len)
        } else {
            Err(SecioError::MacFailure)
        }
    }

    /// Decrypts the next `ct.len()` bytes of the stream from `ct` into `out` (the same length),
    /// advancing the keystream. Only for ciphertext whose frame passed [`CipherState::verify`].
    pub fn decrypt_to(&mut self, ct: &[u8], out: &mut [u8]) -> Result<(), SecioError> {
        self.apply_keystream_b2b(ct, out)
    }

    /// Seals a frame body in place: `body` is `plaintext ‖ mac_len() spare bytes`; the
    /// plaintext is encrypted and the MAC of the ciphertext written into the spare bytes.
    pub fn seal_in_place(&mut self, body: &mut [u8]) -> Result<(), SecioError> {
        let ct_len = self.ciphertext_len(body.len())?;
        let (ct, tag) = body.split_at_mut(ct_len);
        self.apply_keystream(ct);
        self.mac_into(ct, tag);
        Ok(())
    }

    /// Opens a frame body in place: checks the MAC at the end of `body` (constant-time), then
    /// decrypts the ciphertext before it; returns the plaintext length. A body shorter than the
    /// MAC is [`SecioError::ShortFrame`], a wrong MAC [`SecioError::MacFailure`] (nothing is
    /// decrypted then, so the keystream does not advance).
    pub fn open_in_place(&mut self, body: &mut [u8]) -> Result<usize, SecioError> {
        let ct_len = self.verify(body)?;
        if let Some(ct) = body.get_mut(..ct_len) {
            self.apply_keystream(ct);
        }
        Ok(ct_len)
    }
}

impl std::fmt::Debug for CipherState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CipherState")
            .field("mac_len", &self.mac_len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(cipher: Cipher) -> Keys {
        Keys {
            iv: vec![0xff; 16], // the counter wraps at once: 128-bit increment
            cipher_key: vec![7; cipher.key_len()],
            mac_key: vec![9; 20],
        }
    }

    #[test]
    fn round_trip_with_keystream_across_frames() {
        for cipher in [Cipher::Aes128, Cipher::Aes256] {
            for hash in [HashAlgo::Sha256, HashAlgo::Sha512] {
                let mut tx = CipherState::new(cipher, hash, &keys(cipher)).unwrap();
                let mut rx = CipherState::new(cipher, hash, &keys(cipher)).unwrap();
                let mut whole = vec![0u8; 0];
                for len in [5usize, 0, 37, 1000] {
                    let mut body = vec![0x5a; len + tx.mac_len()];
                    tx.seal_in_place(&mut body).unwrap();
                    whole.extend_from_slice(&body[..len]);
                    assert_eq!(rx.open_in_place(&mut body).unwrap(), len);
                    assert!(body[..len].iter().all(|&b| b == 0x5a));
                }
                // the same keystream as one continuous CTR pass
                let mut one = CipherState::new(cipher, hash, &keys(cipher)).unwrap();
                let mut plain = vec![0x5a; whole.len()];
                one.apply_keystream(&mut plain);
                assert_eq!(plain, whole);
            }
        }
    }

    #[test]
    fn buffer_to_buffer_gives_the_in_place_bytes() {
        for cipher in [Cipher::Aes128, Cipher::Aes256] {
            for hash in [HashAlgo::Sha256, HashAlgo::Sha512] {
                let mut a = CipherState::new(cipher, hash, &keys(cipher)).unwrap();
                let mut b = CipherState::new(cipher, hash, &keys(cipher)).unwrap();
                let mut rx = CipherState::new(cipher, hash, &keys(cipher)).unwrap();
                // odd lengths: the keystream's partial blocks carry across frames
                for len in [5usize, 0, 37, 1000, 17] {
                    let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
                    let mut in_place = plain.clone();
                    in_place.resize(len + a.mac_len(), 0);
                    a.seal_in_place(&mut in_place).unwrap();
                    let mut b2b = vec![0u8; len + b.mac_len()];
                    b.seal_from(&plain, &mut b2b).unwrap();
                    assert_eq!(in_place, b2b);
                    // verified once, then decrypted in two pieces
                    assert_eq!(rx.verify(&b2b).unwrap(), len);
                    let mut out = vec![0u8; len];
                    let cut = len / 3;
                    rx.decrypt_to(&b2b[..cut], &mut out[..cut]).unwrap();
                    rx.decrypt_to(&b2b[cut..len], &mut out[cut..]).unwrap();
                    assert_eq!(out, plain);
                }
                let mut wrong = vec![0u8; 3];
                assert!(a.seal_from(&[1, 2], &mut wrong).is_err());
                assert!(a.decrypt_to(&[1, 2], &mut wrong).is_err());
            }
        }
    }

    #[test]
    fn tampering_and_short_frames_are_rejected() {
        let mut tx =
            CipherState::new(Cipher::Aes128, HashAlgo::Sha256, &keys(Cipher::Aes128)).unwrap();
        let mut rx =
            CipherState::new(Cipher::Aes128, HashAlgo::Sha256, &keys(Cipher::Aes128)).unwrap();
        let mut body = vec![1u8; 10 + 32];
        tx.seal_in_place(&mut body).unwrap();
        body[3] ^= 0x80;
        assert!(matches!(
            rx.open_in_place(&mut body),
            Err(SecioError::MacFailure)
        ));
        assert!(matches!(rx.verify(&body), Err(SecioError::MacFailure)));
        assert!(matches!(
            rx.open_in_place(&mut [0u8; 31]),
            Err(SecioError::ShortFrame { len: 31, mac: 32 })
        ));
        assert!(matches!(
            rx.verify(&[0u8; 31]),
            Err(SecioError::ShortFrame { len: 31, mac: 32 })
        ));
    }
}
