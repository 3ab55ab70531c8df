//! The handshake payload carried (encrypted) in noise messages 2 and 3: the sender's identity
//! key and its signature over the sender's static X25519 key.
//!
//! The structs below mirror `payload.proto` in this directory exactly (same names, tags and
//! labels); they are written by hand because the build has no `protoc`. prost skips unknown
//! fields when decoding, as the spec requires.

use chainp2p_core::identity::{Keypair, PublicKey};
use prost::Message;

use crate::error::NoiseError;

/// The domain-separation prefix of the signed bytes: `prefix ‖ static_x25519_public_key`.
pub const STATIC_KEY_DOMAIN: &[u8] = b"noise-libp2p-static-key:";

/// Mirrors `message NoiseExtensions` of `payload.proto`.
#[derive(Clone, PartialEq, Message)]
pub struct NoiseExtensions {
    /// `repeated bytes webtransport_certhashes = 1;`
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub webtransport_certhashes: Vec<Vec<u8>>,
    /// `repeated string stream_muxers = 2;` (inlined muxer negotiation; we never send it).
    #[prost(string, repeated, tag = "2")]
    pub stream_muxers: Vec<String>,
}

/// Mirrors `message NoiseHandshakePayload` of `payload.proto`.
#[derive(Clone, PartialEq, Message)]
pub struct NoiseHandshakePayload {
    /// `optional bytes identity_key = 1;`: the libp2p `PublicKey` protobuf.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub identity_key: Option<Vec<u8>>,
    /// `optional bytes identity_sig = 2;`: signature over `STATIC_KEY_DOMAIN ‖ static key`.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub identity_sig: Option<Vec<u8>>,
    /// `optional NoiseExtensions extensions = 4;`
    #[prost(message, optional, tag = "4")]
    pub extensions: Option<NoiseExtensions>,
}

/// The bytes an identity key signs: `STATIC_KEY_DOMAIN ‖ static_key`.
pub fn signed_bytes(static_key: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(STATIC_KEY_DOMAIN.len() + static_key.len());
    msg.extend_from_slice(STATIC_KEY_DOMAIN);
    msg.extend_from_slice(static_key);
    msg
}

/// Builds our encoded payload: identity key plus its signature over our static key.
pub fn encode_local(identity: &Keypair, static_public: &[u8]) -> Result<Vec<u8>, NoiseError> {
    let sig = identity
        .sign(&signed_bytes(static_public))
        .map_err(|e| NoiseError::Signing(e.to_string()))?;
    let payload = NoiseHandshakePayload {
        identity_key: Some(identity.public().encode_protobuf()),
        identity_sig: Some(sig),
        extensions: None,
    };
    Ok(payload.encode_to_vec())
}

/// Decodes a remote payload and checks its signature over the remote static key; returns the
/// remote's identity key.
pub fn verify_remote(payload: &[u8], remote_static: &[u8]) -> Result<PublicKey, NoiseError> {
    let payload = NoiseHandshakePayload::decode(payload)?;
    let key_bytes = payload
        .identity_key
        .ok_or(NoiseError::MissingField("identity_key"))?;
    let sig = payload
        .identity_sig
        .ok_or(NoiseError::MissingField("identity_sig"))?;
    let key = PublicKey::try_decode_protobuf(&key_bytes)?;
    if !key.verify(&signed_bytes(remote_static), &sig) {
        return Err(NoiseError::BadSignature {
            peer: Box::new(key.to_peer_id()),
        });
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_payload_encodes_with_the_spec_tags() {
        let p = NoiseHandshakePayload {
            identity_key: Some(vec![1, 2, 3]),
            identity_sig: Some(vec![4, 5]),
            extensions: Some(NoiseExtensions {
                webtransport_certhashes: vec![vec![9]],
                stream_muxers: vec!["/yamux/1.0.0".into()],
            }),
        };
        let bytes = p.encode_to_vec();
        let mut expected = vec![
            0x0a, 3, 1, 2, 3, 0x12, 2, 4, 5, 0x22, 17, 0x0a, 1, 9, 0x12, 12,
        ];
        expected.extend_from_slice(b"/yamux/1.0.0");
        assert_eq!(bytes, expected);
        assert_eq!(NoiseHandshakePayload::decode(bytes.as_slice()).unwrap(), p);
    }

    #[test]
    fn unknown_fields_are_ignored() {
        // field 3 (old "data", bytes) and field 15 (varint) before the known fields
        let bytes = [0x1a, 2, 0xff, 0xff, 0x78, 0x05, 0x0a, 1, 7, 0x12, 1, 8];
        let p = NoiseHandshakePayload::decode(&bytes[..]).unwrap();
        assert_eq!(p.identity_key, Some(vec![7]));
        assert_eq!(p.identity_sig, Some(vec![8]));
        assert_eq!(p.extensions, None);
    }

    #[test]
    fn own_payload_verifies_and_a_foreign_static_key_does_not() {
        let id = Keypair::generate_ed25519();
        let static_key = [7u8; 32];
        let enc = encode_local(&id, &static_key).unwrap();
        assert_eq!(enc.first(), Some(&0x0a));
        assert_eq!(verify_remote(&enc, &static_key).unwrap(), id.public());
        let err = verify_remote(&enc, &[8u8; 32]).unwrap_err();
        assert!(matches!(err, NoiseError::BadSignature { .. }), "{err}");
    }

    #[test]
    fn missing_signature_is_a_typed_error() {
        let p = NoiseHandshakePayload {
            identity_key: Some(Keypair::generate_ed25519().public().encode_protobuf()),
            ..Default::default()
        };
        let err = verify_remote(&p.encode_to_vec(), &[0u8; 32]).unwrap_err();
        assert!(
            matches!(err, NoiseError::MissingField("identity_sig")),
            "{err}"
        );
    }

    #[test]
    fn garbage_key_is_an_invalid_key_error() {
        let p = NoiseHandshakePayload {
            identity_key: Some(vec![0x08, 0x09, 0x12, 0x00]),
            identity_sig: Some(vec![1]),
            extensions: None,
        };
        let err = verify_remote(&p.encode_to_vec(), &[0u8; 32]).unwrap_err();
        assert!(matches!(err, NoiseError::InvalidKey(_)), "{err}");
    }
}
