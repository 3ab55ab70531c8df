//! The handshake, sans-IO: what we send ([`local_exchange`]) and how the remote's message is
//! checked ([`verify_exchange`]). Both sides send one `Exchange` at once, without waiting; the
//! only check possible is that the claimed PeerId is the one of the sent public key (nothing is
//! signed) and, for a dialer, that it is the peer we meant to reach.

use chainp2p_core::identity::{PeerId, PublicKey};
use prost::Message;

use crate::codec::encode_frame;
use crate::error::PlaintextError;
use crate::proto::Exchange;

/// The authenticated (well: self-consistent) identity of the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteIdentity {
    /// The remote's PeerId.
    pub peer_id: PeerId,
    /// The remote's public key.
    pub public_key: PublicKey,
}

/// Our `Exchange` message body (protobuf, no length prefix).
pub fn local_exchange(public: &PublicKey) -> Vec<u8> {
    Exchange {
        id: Some(public.to_peer_id().to_bytes()),
        pubkey: Some(public.encode_protobuf()),
    }
    .encode_to_vec()
}

/// Our `Exchange` message as it goes on the wire: `uvarint(len) ‖ body`.
pub fn local_frame(public: &PublicKey) -> Vec<u8> {
    let body = local_exchange(public);
    let mut out = Vec::with_capacity(body.len() + 3);
    encode_frame(&body, &mut out);
    out
}

/// Decodes and checks the remote's `Exchange` body: both fields present, the key decodable,
/// `id == PeerId(pubkey)`, and the peer the one `expected` (when given).
pub fn verify_exchange(
    body: &[u8],
    expected: Option<PeerId>,
) -> Result<RemoteIdentity, PlaintextError> {
    let msg = Exchange::decode(body)?;
    let id = msg.id.ok_or(PlaintextError::MissingField("id"))?;
    let key = msg.pubkey.ok_or(PlaintextError::MissingField("pubkey"))?;
    let public_key = PublicKey::try_decode_protobuf(&key)?;
    let claimed = PeerId::from_bytes(&id)?;
    let derived = public_key.to_peer_id();
    if claimed != derived {
        return Err(PlaintextError::IdKeyMismatch {
            claimed: Box::new(claimed),
            derived: Box::new(derived),
        });
    }
    if let Some(expected) = expected {
        if expected != derived {
            return Err(PlaintextError::PeerIdMismatch {
                expected: Box::new(expected),
                actual: Box::new(derived),
            });
        }
    }
    Ok(RemoteIdentity {
        peer_id: derived,
        public_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainp2p_core::identity::Keypair;
    use chainp2p_core::LayerError;

    #[test]
    fn own_message_verifies() {
        let k = Keypair::generate_ed25519();
        let body = local_exchange(&k.public());
        let remote = verify_exchange(&body, Some(k.public().to_peer_id())).unwrap();
        assert_eq!(remote.public_key, k.public());
        let frame = local_frame(&k.public());
        assert_eq!(usize::from(frame[0]), body.len());
        assert_eq!(&frame[1..], &body[..]);
    }

    #[test]
    fn id_of_another_key_is_refused() {
        let a = Keypair::generate_ed25519();
        let b = Keypair::generate_ed25519();
        let body = Exchange {
            id: Some(b.public().to_peer_id().to_bytes()),
            pubkey: Some(a.public().encode_protobuf()),
        }
        .encode_to_vec();
        let err = verify_exchange(&body, None).unwrap_err();
        assert!(matches!(err, PlaintextError::IdKeyMismatch { .. }), "{err}");
        assert_eq!(err.kind(), chainp2p_core::ErrorKind::Authentication);
    }

    #[test]
    fn unexpected_peer_is_refused() {
        let a = Keypair::generate_secp256k1();
        let other = Keypair::generate_ed25519().public().to_peer_id();
        let err = verify_exchange(&local_exchange(&a.public()), Some(other)).unwrap_err();
        assert!(
            matches!(err, PlaintextError::PeerIdMismatch { .. }),
            "{err}"
        );
    }

    #[test]
    fn missing_or_garbage_fields_are_refused() {
        let k = Keypair::generate_ed25519();
        let no_key = Exchange {
            id: Some(k.public().to_peer_id().to_bytes()),
            pubkey: None,
        }
        .encode_to_vec();
        assert!(matches!(
            verify_exchange(&no_key, None),
            Err(PlaintextError::MissingField("pubkey"))
        ));
        let bad_key = Exchange {
            id: Some(k.public().to_peer_id().to_bytes()),
            pubkey: Some(vec![1, 2, 3]),
        }
        .encode_to_vec();
        assert!(matches!(
            verify_exchange(&bad_key, None),
            Err(PlaintextError::InvalidKey(_))
        ));
        let bad_id = Exchange {
            id: Some(vec![0xff; 5]),
            pubkey: Some(k.public().encode_protobuf()),
        }
        .encode_to_vec();
        assert!(matches!(
            verify_exchange(&bad_id, None),
            Err(PlaintextError::InvalidPeerId(_))
        ));
        assert!(matches!(
            verify_exchange(&[0xff, 0xff], None),
            Err(PlaintextError::Decode(_))
        ));
    }
}
