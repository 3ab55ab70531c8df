//! The secio handshake messages, mirroring `spipe.proto` in this directory exactly (same names,
//! tags and labels); written by hand because the build has no `protoc`. prost skips unknown
//! fields when decoding.

use prost::Message;

/// Mirrors `message Propose` of `spipe.proto`.
#[derive(Clone, PartialEq, Message)]
pub struct Propose {
    /// `optional bytes rand = 1;`: the sender's 16-byte nonce.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub rand: Option<Vec<u8>>,
    /// `optional bytes pubkey = 2;`: the sender's libp2p `PublicKey` protobuf.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub pubkey: Option<Vec<u8>>,
    /// `optional string exchanges = 3;`: comma-separated curve names, preferred first.
    #[prost(string, optional, tag = "3")]
    pub exchanges: Option<String>,
    /// `optional string ciphers = 4;`: comma-separated cipher names, preferred first.
    #[prost(string, optional, tag = "4")]
    pub ciphers: Option<String>,
    /// `optional string hashes = 5;`: comma-separated hash names, preferred first.
    #[prost(string, optional, tag = "5")]
    pub hashes: Option<String>,
}

/// Mirrors `message Exchange` of `spipe.proto`.
#[derive(Clone, PartialEq, Message)]
pub struct Exchange {
    /// `optional bytes epubkey = 1;`: the uncompressed ephemeral ECDH point.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub epubkey: Option<Vec<u8>>,
    /// `optional bytes signature = 2;`: over `sender proposal ‖ receiver proposal ‖ epubkey`.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub signature: Option<Vec<u8>>,
}

/// Mirrors `enum KeyType` of `spipe.proto` (libp2p identity key types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
#[non_exhaustive]
pub enum KeyType {
    /// `RSA = 0;`
    Rsa = 0,
    /// `Ed25519 = 1;`
    Ed25519 = 1,
    /// `Secp256k1 = 2;`
    Secp256k1 = 2,
    /// `ECDSA = 3;`
    Ecdsa = 3,
}

/// Mirrors `message PublicKey` of `spipe.proto`: read only to size-check RSA keys before the
/// identity crate parses and verifies them.
#[derive(Clone, PartialEq, Message)]
pub struct PublicKey {
    /// `required KeyType Type = 1;`
    #[prost(enumeration = "KeyType", required, tag = "1")]
    pub r#type: i32,
    /// `required bytes Data = 2;`
    #[prost(bytes = "vec", required, tag = "2")]
    pub data: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn propose_encodes_with_the_spec_tags() {
        let p = Propose {
            rand: Some(vec![1]),
            pubkey: Some(vec![2]),
            exchanges: Some("a".into()),
            ciphers: Some("b".into()),
            hashes: Some("c".into()),
        };
        let bytes = p.encode_to_vec();
        assert_eq!(
            bytes,
            [0x0a, 1, 1, 0x12, 1, 2, 0x1a, 1, b'a', 0x22, 1, b'b', 0x2a, 1, b'c']
        );
        assert_eq!(Propose::decode(bytes.as_slice()).unwrap(), p);
    }

    #[test]
    fn exchange_encodes_with_the_spec_tags() {
        let e = Exchange {
            epubkey: Some(vec![4]),
            signature: Some(vec![5, 6]),
        };
        assert_eq!(e.encode_to_vec(), [0x0a, 1, 4, 0x12, 2, 5, 6]);
    }

    #[test]
    fn rsa_public_key_keeps_its_zero_type() {
        let k = PublicKey {
            r#type: KeyType::Rsa as i32,
            data: vec![9],
        };
        assert_eq!(k.encode_to_vec(), [0x08, 0x00, 0x12, 1, 9]);
    }
}
