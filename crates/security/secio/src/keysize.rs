//! The RSA key-size limit, checked on the raw DER before any signature verification: a huge
//! modulus makes verification arbitrarily slow (go-libp2p CVE-2023-39533), so the size is read
//! from the `SubjectPublicKeyInfo` with a minimal DER walker of our own.

use prost::Message;

use crate::error::SecioError;
use crate::proto::{KeyType, PublicKey};

/// Largest RSA modulus we verify signatures with, in bits (go-libp2p's limit).
pub const MAX_RSA_BITS: usize = 8192;

/// Rejects an encoded libp2p public key that is RSA with a modulus above `max_bits`. Other key
/// types and undecodable bytes pass through (the identity crate reports those).
pub fn check_rsa_size(pubkey_proto: &[u8], max_bits: usize) -> Result<(), SecioError> {
    let Ok(key) = PublicKey::decode(pubkey_proto) else {
        return Ok(());
    };
    if key.r#type != KeyType::Rsa as i32 {
        return Ok(());
    }
    let bits = rsa_modulus_bits(&key.data).ok_or(SecioError::BadField("pubkey (RSA DER)"))?;
    if bits > max_bits {
        return Err(SecioError::RsaKeyTooLarge {
            bits,
            max: max_bits,
        });
    }
    Ok(())
}

/// The modulus size in bits of a DER `SubjectPublicKeyInfo` holding an RSA key:
/// `SEQ { SEQ { algorithm }, BIT STRING { SEQ { INTEGER n, INTEGER e } } }`.
pub fn rsa_modulus_bits(spki: &[u8]) -> Option<usize> {
    let (outer, _) = tlv(spki, 0x30)?;
    let (_alg, rest) = tlv(outer, 0x30)?;
    let (bits, _) = tlv(rest, 0x03)?;
    let (unused, key) = bits.split_first()?;
    if *unused != 0 {
        return None;
    }
    let (rsa, _) = tlv(key, 0x30)?;
    let (n, _) = tlv(rsa, 0x02)?;
    let start = n.iter().position(|&b| b != 0)?;
    let n = n.get(start..)?;
    let first = *n.first()?;
    Some(n.len() * 8 - first.leading_zeros() as usize)
}

/// Splits one DER element of tag `tag` off the front of `buf`: (contents, rest).
fn tlv(buf: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = buf.split_first()?;
    if t != tag {
        return None;
    }
    let (&l, mut rest) = rest.split_first()?;
    let len = if l < 0x80 {
        usize::from(l)
    } else {
        let n = usize::from(l & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (len_bytes, r) = rest.split_at_checked(n)?;
        rest = r;
        len_bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    rest.split_at_checked(len)
}

/// Builds a DER `SubjectPublicKeyInfo` for an RSA key with the given big-endian modulus and
/// exponent 65537 (for tests: keys too large to generate).
pub fn rsa_spki(modulus: &[u8]) -> Vec<u8> {
    fn wrap(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = body.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = (len as u32).to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            let used = bytes.get(skip..).unwrap_or_default();
            out.push(0x80 | used.len() as u8);
            out.extend_from_slice(used);
        }
        out.extend_from_slice(body);
        out
    }
    let mut n = vec![0u8];
    n.extend_from_slice(modulus);
    let mut seq = wrap(0x02, &n);
    seq.extend(wrap(0x02, &[1, 0, 1]));
    let rsa = wrap(0x30, &seq);
    let mut bit = vec![0u8];
    bit.extend(rsa);
    // rsaEncryption OID 1.2.840.113549.1.1.1, NULL parameters
    let mut alg = wrap(
        0x06,
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
    );
    alg.extend([0x05, 0x00]);
    let mut body = wrap(0x30, &alg);
    body.extend(wrap(0x03, &bit));
    wrap(0x30, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_built_keys() {
        let mut m = vec![0xffu8; 256];
        assert_eq!(rsa_modulus_bits(&rsa_spki(&m)), Some(2048));
        m[0] = 0x01;
        assert_eq!(rsa_modulus_bits(&rsa_spki(&m)), Some(2041));
        assert_eq!(rsa_modulus_bits(&rsa_spki(&[0xc0; 1025])), Some(8200));
    }

    #[test]
    fn oversized_key_is_refused_and_others_pass() {
        let big = PublicKey {
            r#type: KeyType::Rsa as i32,
            data: rsa_spki(&[0xc0; 1025]),
        }
        .encode_to_vec();
        assert!(matches!(
            check_rsa_size(&big, MAX_RSA_BITS),
            Err(SecioError::RsaKeyTooLarge {
                bits: 8200,
                max: 8192
            })
        ));
        let ok = PublicKey {
            r#type: KeyType::Rsa as i32,
            data: rsa_spki(&[0xc0; 1024]),
        }
        .encode_to_vec();
        assert!(check_rsa_size(&ok, MAX_RSA_BITS).is_ok());
        assert!(check_rsa_size(&[0x08, 0x01, 0x12, 0x00], MAX_RSA_BITS).is_ok());
    }

    #[test]
    fn truncated_der_is_rejected() {
        let spki = rsa_spki(&[0xff; 256]);
        for cut in [0, 1, 5, 30, spki.len() - 1] {
            assert_eq!(rsa_modulus_bits(&spki[..cut]), None, "cut {cut}");
        }
    }
}
