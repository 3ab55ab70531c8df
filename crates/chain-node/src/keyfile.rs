//! Key files: `keygen` writes a libp2p protobuf `PrivateKey` (Ed25519, Secp256k1, ECDSA P-256,
//! RSA as PKCS#1), and `--key FILE` reads that or a PKCS#8 DER `PrivateKeyInfo` (RSA, ECDSA
//! P-256, secp256k1, Ed25519). RSA moduli above [`MAX_RSA_BITS`] are refused before any key
//! math is done.

use anyhow::{anyhow, bail, Context, Result};
use chainp2p_core::identity::Keypair;
use prost::Message;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::der::Decode;
use rsa::pkcs8::{ObjectIdentifier, PrivateKeyInfo};

/// The largest RSA modulus we accept in a key file.
pub const MAX_RSA_BITS: usize = 8192;
/// The RSA modulus size `keygen --type rsa` generates (what go-ipfs and c-ipfs use).
pub const RSA_KEYGEN_BITS: usize = 2048;

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_SECP256K1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// libp2p `KeyType` numbers.
const TYPE_RSA: i32 = 0;
const TYPE_ED25519: i32 = 1;
const TYPE_SECP256K1: i32 = 2;
const TYPE_ECDSA: i32 = 3;

/// The libp2p `PrivateKey` protobuf (proto2, both fields required).
#[derive(Clone, PartialEq, prost::Message)]
struct PrivateKeyProto {
    #[prost(int32, required, tag = "1")]
    key_type: i32,
    #[prost(bytes = "vec", required, tag = "2")]
    data: Vec<u8>,
}

/// The key types `keygen --type` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyType {
    /// Ed25519 (the default identity of modern libp2p).
    Ed25519,
    /// Secp256k1 ECDSA.
    Secp256k1,
    /// ECDSA on NIST P-256.
    Ecdsa,
    /// RSA, 2048 bits (what c-ipfs and old go-ipfs need for secio).
    Rsa,
}

impl KeyType {
    /// Lower-case name, as on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::Secp256k1 => "secp256k1",
            KeyType::Ecdsa => "ecdsa",
            KeyType::Rsa => "rsa",
        }
    }
}

/// Makes a key of `kind`; returns it and its key-file encoding (libp2p protobuf). RSA
/// generation takes a CPU-second or so: call this off the async runtime.
pub fn generate(kind: KeyType) -> Result<(Keypair, Vec<u8>)> {
    let keypair = match kind {
        KeyType::Ed25519 => Keypair::generate_ed25519(),
        KeyType::Secp256k1 => Keypair::generate_secp256k1(),
        KeyType::Ecdsa => Keypair::generate_ecdsa(),
        KeyType::Rsa => {
            let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_KEYGEN_BITS)
                .context("generating an RSA key")?;
            let pkcs1 = key
                .to_pkcs1_der()
                .context("encoding the RSA key as PKCS#1")?;
            let bytes = PrivateKeyProto {
                key_type: TYPE_RSA,
                data: pkcs1.as_bytes().to_vec(),
            }
            .encode_to_vec();
            // libp2p-identity cannot encode RSA private keys: load what we wrote, which also
            // proves the file reads back.
            let keypair = decode(&bytes).context("reading back the generated RSA key")?;
            return Ok((keypair, bytes));
        }
    };
    let bytes = keypair
        .to_protobuf_encoding()
        .context("encoding the private key")?;
    Ok((keypair, bytes))
}

/// Reads a key file's bytes: a libp2p protobuf `PrivateKey` first, else PKCS#8 DER.
pub fn decode(bytes: &[u8]) -> Result<Keypair> {
    let protobuf_err = match decode_protobuf(bytes) {
        Ok(k) => return Ok(k),
        Err(e) => e,
    };
    if let Ok(info) = PrivateKeyInfo::from_der(bytes) {
        return decode_pkcs8(&info, bytes).context("reading a PKCS#8 private key");
    }
    Err(protobuf_err.context(
        "neither a libp2p protobuf private key nor a PKCS#8 DER private key \
         (Ed25519, secp256k1, ECDSA P-256 or RSA)",
    ))
}

fn decode_protobuf(bytes: &[u8]) -> Result<Keypair> {
    let proto = PrivateKeyProto::decode(bytes)
        .map_err(|e| anyhow!("not a libp2p protobuf private key: {e}"))?;
    match proto.key_type {
        TYPE_RSA => check_rsa_pkcs1(&proto.data)?,
        TYPE_ED25519 | TYPE_SECP256K1 | TYPE_ECDSA => {}
        other => bail!("unknown libp2p key type {other}"),
    }
    Keypair::from_protobuf_encoding(bytes)
        .map_err(|e| anyhow!("invalid libp2p protobuf private key: {e}"))
}

fn decode_pkcs8(info: &PrivateKeyInfo<'_>, whole: &[u8]) -> Result<Keypair> {
    let oid = info.algorithm.oid;
    if oid == OID_RSA {
        check_rsa_pkcs1(info.private_key)?;
        let mut der = whole.to_vec();
        return Keypair::rsa_from_pkcs8(&mut der).map_err(|e| {
            anyhow!("invalid RSA key (libp2p-identity loads RSA identities of 2048-4096 bits): {e}")
        });
    }
    if oid == OID_ED25519 {
        // CurvePrivateKey ::= OCTET STRING (32 bytes), inside the privateKey OCTET STRING.
        let secret = match info.private_key {
            [0x04, 0x20, rest @ ..] if rest.len() == 32 => rest.to_vec(),
            _ => bail!("invalid Ed25519 PKCS#8 private key"),
        };
        return Keypair::ed25519_from_bytes(secret)
            .map_err(|e| anyhow!("invalid Ed25519 key: {e}"));
    }
    if oid == OID_EC {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|_| anyhow!("EC private key without a named curve"))?;
        let mut sec1 = info.private_key.to_vec();
        if curve == OID_P256 {
            let wrapped = PrivateKeyProto {
                key_type: TYPE_ECDSA,
                data: sec1,
            }
            .encode_to_vec();
            return Keypair::from_protobuf_encoding(&wrapped)
                .map_err(|e| anyhow!("invalid ECDSA P-256 key: {e}"));
        }
        if curve == OID_SECP256K1 {
            return Keypair::secp256k1_from_der(&mut sec1)
                .map_err(|e| anyhow!("invalid secp256k1 key: {e}"));
        }
        bail!("unsupported EC curve {curve} (supported: P-256, secp256k1)");
    }
    bail!("unsupported PKCS#8 key algorithm {oid} (supported: RSA, EC P-256/secp256k1, Ed25519)")
}

/// Refuses PKCS#1 RSA keys whose modulus is above [`MAX_RSA_BITS`] (structure only, no math).
fn check_rsa_pkcs1(der: &[u8]) -> Result<()> {
    let key = rsa::pkcs1::RsaPrivateKey::from_der(der)
        .map_err(|e| anyhow!("invalid PKCS#1 RSA private key: {e}"))?;
    let bits = modulus_bits(key.modulus.as_bytes());
    if bits > MAX_RSA_BITS {
        bail!("RSA key of {bits} bits refused: the limit is {MAX_RSA_BITS} bits");
    }
    Ok(())
}

/// Bit length of a big-endian unsigned integer.
fn modulus_bits(be: &[u8]) -> usize {
    let Some(first) = be.iter().position(|b| *b != 0) else {
        return 0;
    };
    let significant = be.len() - first;
    let top = be.get(first).copied().unwrap_or(0);
    (significant - 1) * 8 + (8 - top.leading_zeros() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::EncodePrivateKey;

    #[test]
    fn every_generated_type_reads_back() {
        for kind in [
            KeyType::Ed25519,
            KeyType::Secp256k1,
            KeyType::Ecdsa,
            KeyType::Rsa,
        ] {
            let (key, bytes) = generate(kind).unwrap();
            let back = decode(&bytes).unwrap();
            assert_eq!(back.public(), key.public(), "{kind:?}");
        }
    }

    #[test]
    fn rsa_pkcs8_is_accepted() {
        let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
        let pkcs8 = key.to_pkcs8_der().unwrap();
        let kp = decode(pkcs8.as_bytes()).unwrap();
        assert_eq!(kp.key_type(), chainp2p_core::identity::KeyType::RSA);
    }

    #[test]
    fn huge_rsa_modulus_is_refused_before_any_math() {
        let der = fake_pkcs1(&[0xc5; 1100]);
        let file = PrivateKeyProto {
            key_type: TYPE_RSA,
            data: der,
        }
        .encode_to_vec();
        let err = format!("{:#}", decode(&file).unwrap_err());
        assert!(err.contains("8800 bits") && err.contains("8192"), "{err}");
    }

    #[test]
    fn garbage_is_refused_with_both_formats_named() {
        let err = format!("{:#}", decode(b"this is not a key").unwrap_err());
        assert!(err.contains("protobuf") && err.contains("PKCS#8"), "{err}");
    }

    #[test]
    fn bit_length() {
        assert_eq!(modulus_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(modulus_bits(&[0x01]), 1);
        assert_eq!(modulus_bits(&[]), 0);
    }

    /// A structurally valid PKCS#1 `RSAPrivateKey` with the given modulus (not a real key).
    pub(crate) fn fake_pkcs1(modulus: &[u8]) -> Vec<u8> {
        fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
            let mut out = vec![tag];
            let len = body.len();
            if len < 0x80 {
                out.push(len as u8);
            } else {
                out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
            }
            out.extend_from_slice(body);
            out
        }
        let mut seq = tlv(0x02, &[0]);
        let mut n = vec![0u8];
        n.extend_from_slice(modulus);
        seq.extend(tlv(0x02, &n));
        for _ in 0..7 {
            seq.extend(tlv(0x02, &[0x03]));
        }
        tlv(0x30, &seq)
    }
}
