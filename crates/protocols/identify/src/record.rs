//! Signed peer records (libp2p RFC 0003 inside an RFC 0002 signed envelope): the
//! `signedPeerRecord` field of identify, our listen addresses signed with our identity key, as
//! go-libp2p and rust-libp2p send and read it. No I/O.
//!
//! `Envelope { public_key = 1; payload_type = 2; payload = 3; signature = 5 }`, payload
//! `PeerRecord { peer_id = 1; seq = 2; repeated AddressInfo addresses = 3 }`,
//! `AddressInfo { multiaddr = 1 }`; the payload type is the two raw bytes `03 01` and the
//! signature covers `uvarint(len) ‖ "libp2p-peer-record" ‖ uvarint(len) ‖ payload type ‖
//! uvarint(len) ‖ payload`.
//!
//! On the wire, go-libp2p writes that standard form, but rust-libp2p 0.57's identify
//! (libp2p-identify 0.48, `PeerRecord::new` / `from_signed_envelope` of libp2p-core 0.44) still
//! writes and reads the legacy form: payload type `/libp2p/routing-state-record`, domain
//! `libp2p-routing-state`. We send the standard form (rust-libp2p ignores a record it cannot
//! read and uses `listenAddrs`, checked in the tests) and read both.

use chainp2p_core::identity::{Keypair, PeerId, PublicKey};
use chainp2p_core::multiaddr::Multiaddr;
use prost::Message;

/// The signature domain of peer records.
pub const DOMAIN: &str = "libp2p-peer-record";
/// The payload type of peer records (multicodec 0x0301 as two big-endian bytes, as go and rust
/// write it).
pub const PAYLOAD_TYPE: [u8; 2] = [0x03, 0x01];
/// The legacy payload type rust-libp2p still uses.
pub const LEGACY_PAYLOAD_TYPE: &[u8] = b"/libp2p/routing-state-record";
/// The legacy signature domain rust-libp2p still uses.
pub const LEGACY_DOMAIN: &str = "libp2p-routing-state";
/// Addresses read from one record at most (the rest are ignored).
pub const MAX_ADDRS: usize = 64;

#[derive(Clone, PartialEq, prost::Message)]
struct Envelope {
    #[prost(bytes = "vec", tag = "1")]
    public_key: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    payload_type: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    payload: Vec<u8>,
    #[prost(bytes = "vec", tag = "5")]
    signature: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PeerRecordProto {
    #[prost(bytes = "vec", tag = "1")]
    peer_id: Vec<u8>,
    #[prost(uint64, tag = "2")]
    seq: u64,
    #[prost(message, repeated, tag = "3")]
    addresses: Vec<AddressInfo>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct AddressInfo {
    #[prost(bytes = "vec", tag = "1")]
    multiaddr: Vec<u8>,
}

/// A verified peer record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRecord {
    /// The peer the record is about (the signer).
    pub peer: PeerId,
    /// Its sequence number (newer records have larger ones).
    pub seq: u64,
    /// Its addresses (unparseable ones skipped, at most [`MAX_ADDRS`]).
    pub addrs: Vec<Multiaddr>,
}

/// Why a signed peer record was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Not a protobuf envelope or record.
    #[error("malformed signed peer record: {0}")]
    Malformed(#[from] prost::DecodeError),
    /// The envelope's public key does not decode.
    #[error("bad public key in signed peer record: {0}")]
    BadPublicKey(String),
    /// The payload is not a peer record.
    #[error("signed envelope of payload type {0:02x?}, not a peer record")]
    WrongPayloadType(Vec<u8>),
    /// The signature does not verify.
    #[error("signed peer record with an invalid signature")]
    BadSignature,
    /// The record names another peer than its signer (or than the one expected).
    #[error("peer record of {got} signed by or sent for {expected}")]
    WrongPeer {
        /// The peer the record names.
        got: String,
        /// The signer or expected peer.
        expected: String,
    },
    /// Signing failed (our key cannot sign).
    #[error("cannot sign the peer record: {0}")]
    Signing(String),
}

/// The bytes the signature covers.
fn signed_bytes(domain: &str, payload_type: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut buf = unsigned_varint::encode::usize_buffer();
    let mut out = Vec::with_capacity(domain.len() + payload_type.len() + payload.len() + 12);
    for part in [domain.as_bytes(), payload_type, payload] {
        out.extend_from_slice(unsigned_varint::encode::usize(part.len(), &mut buf));
        out.extend_from_slice(part);
    }
    out
}

/// Our signed peer record: `addrs` with sequence number `seq`, signed with `key`.
pub fn sign(key: &Keypair, seq: u64, addrs: &[Multiaddr]) -> Result<Vec<u8>, RecordError> {
    let payload = PeerRecordProto {
        peer_id: key.public().to_peer_id().to_bytes(),
        seq,
        addresses: addrs
            .iter()
            .map(|a| AddressInfo {
                multiaddr: a.to_vec(),
            })
            .collect(),
    }
    .encode_to_vec();
    let signature = key
        .sign(&signed_bytes(DOMAIN, &PAYLOAD_TYPE, &payload))
        .map_err(|e| RecordError::Signing(e.to_string()))?;
    Ok(Envelope {
        public_key: key.public().encode_protobuf(),
        payload_type: PAYLOAD_TYPE.to_vec(),
        payload,
        signature,
    }
    .encode_to_vec())
}

/// Verifies a signed peer record, standard or legacy form: envelope, payload type, signature,
/// and that the record is about its signer (and about `expected` when given).
pub fn verify(bytes: &[u8], expected: Option<&PeerId>) -> Result<PeerRecord, RecordError> {
    let env = Envelope::decode(bytes)?;
    let key = PublicKey::try_decode_protobuf(&env.public_key)
        .map_err(|e| RecordError::BadPublicKey(e.to_string()))?;
    let domain = if env.payload_type == PAYLOAD_TYPE {
        DOMAIN
    } else if env.payload_type == LEGACY_PAYLOAD_TYPE {
        LEGACY_DOMAIN
    } else {
        return Err(RecordError::WrongPayloadType(env.payload_type));
    };
    if !key.verify(
        &signed_bytes(domain, &env.payload_type, &env.payload),
        &env.signature,
    ) {
        return Err(RecordError::BadSignature);
    }
    let record = PeerRecordProto::decode(env.payload.as_slice())?;
    let signer = key.to_peer_id();
    let peer = PeerId::from_bytes(&record.peer_id).map_err(|_| RecordError::WrongPeer {
        got: "an unparseable peer id".into(),
        expected: signer.to_string(),
    })?;
    for want in std::iter::once(&signer).chain(expected) {
        if &peer != want {
            return Err(RecordError::WrongPeer {
                got: peer.to_string(),
                expected: want.to_string(),
            });
        }
    }
    let addrs = record
        .addresses
        .into_iter()
        .filter_map(|a| Multiaddr::try_from(a.multiaddr).ok())
        .take(MAX_ADDRS)
        .collect();
    Ok(PeerRecord {
        peer,
        seq: record.seq,
        addrs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_records_round_trip_for_every_key_type() {
        let addrs: Vec<Multiaddr> = vec![
            "/ip4/127.0.0.1/tcp/4001".parse().unwrap(),
            "/ip6/::1/tcp/4001".parse().unwrap(),
        ];
        for key in [
            Keypair::generate_ed25519(),
            Keypair::generate_secp256k1(),
            Keypair::generate_ecdsa(),
        ] {
            let me = key.public().to_peer_id();
            let bytes = sign(&key, 7, &addrs).unwrap();
            let rec = verify(&bytes, Some(&me)).unwrap();
            assert_eq!(
                rec,
                PeerRecord {
                    peer: me,
                    seq: 7,
                    addrs: addrs.clone()
                }
            );
        }
    }

    #[test]
    fn tampering_and_wrong_peers_are_refused() {
        let key = Keypair::generate_ed25519();
        let addrs: Vec<Multiaddr> = vec!["/ip4/127.0.0.1/tcp/1".parse().unwrap()];
        let bytes = sign(&key, 1, &addrs).unwrap();
        let other = PeerId::random();
        assert!(matches!(
            verify(&bytes, Some(&other)),
            Err(RecordError::WrongPeer { .. })
        ));
        // Flip one byte of the payload's address: the signature no longer matches.
        let mut env = Envelope::decode(bytes.as_slice()).unwrap();
        let last = env.payload.len() - 1;
        env.payload[last] ^= 1;
        let tampered = env.encode_to_vec();
        assert!(matches!(
            verify(&tampered, None),
            Err(RecordError::BadSignature)
        ));
        // Another payload type.
        let mut env = Envelope::decode(bytes.as_slice()).unwrap();
        env.payload_type = vec![0x81, 0x06];
        assert!(matches!(
            verify(&env.encode_to_vec(), None),
            Err(RecordError::WrongPayloadType(_))
        ));
        assert!(matches!(
            verify(&[0xff, 0xff], None),
            Err(RecordError::Malformed(_))
        ));
    }

    #[test]
    fn signed_bytes_follow_the_rfc_layout() {
        let b = signed_bytes(DOMAIN, &PAYLOAD_TYPE, b"xyz");
        let mut want = vec![18u8];
        want.extend_from_slice(b"libp2p-peer-record");
        want.extend_from_slice(&[2, 3, 1, 3]);
        want.extend_from_slice(b"xyz");
        assert_eq!(b, want);
    }
}
