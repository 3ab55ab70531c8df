//! The decoded views of an Identify message, and their conversions to and from the protobuf:
//! address parsing (unparseable addresses are skipped), peer checks, and trimming our own
//! message to the size limit. No I/O.

use chainp2p_core::identity::{PeerId, PublicKey};
use chainp2p_core::multiaddr::{Multiaddr, Protocol};
use prost::Message;

use crate::proto::Identify;
use crate::IdentifyError;

/// A peer's full identify info (answer to `/ipfs/id/1.0.0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifyInfo {
    /// The peer's public key.
    pub public_key: PublicKey,
    /// E.g. `ipfs/0.1.0`.
    pub protocol_version: String,
    /// E.g. `rust-libp2p/0.57.0`.
    pub agent_version: String,
    /// Where the peer listens (unparseable addresses were skipped).
    pub listen_addrs: Vec<Multiaddr>,
    /// Protocol ids the peer accepts inbound.
    pub protocols: Vec<String>,
    /// Our address as the peer sees it, if it said and it parsed.
    pub observed_addr: Option<Multiaddr>,
    /// The peer's signed peer record as received (an RFC 0002 envelope), if any; check it with
    /// [`IdentifyInfo::verified_record`].
    pub signed_peer_record: Option<Vec<u8>>,
}

/// A pushed update (`/ipfs/id/push/1.0.0`): absent fields, and empty lists, mean "unchanged"
/// (rust-libp2p's `PushInfo` semantics). Apply it with [`IdentifyInfo::merge`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushInfo {
    /// New public key (must still be the connection's peer).
    pub public_key: Option<PublicKey>,
    /// New protocol version.
    pub protocol_version: Option<String>,
    /// New agent version.
    pub agent_version: Option<String>,
    /// New listen addresses; empty = unchanged.
    pub listen_addrs: Vec<Multiaddr>,
    /// New protocol list; empty = unchanged.
    pub protocols: Vec<String>,
    /// New observed address.
    pub observed_addr: Option<Multiaddr>,
}

impl IdentifyInfo {
    /// Applies a pushed update.
    pub fn merge(&mut self, push: PushInfo) {
        if let Some(key) = push.public_key {
            self.public_key = key;
        }
        if let Some(v) = push.protocol_version {
            self.protocol_version = v;
        }
        if let Some(v) = push.agent_version {
            self.agent_version = v;
        }
        if !push.listen_addrs.is_empty() {
            self.listen_addrs = push.listen_addrs;
        }
        if !push.protocols.is_empty() {
            self.protocols = push.protocols;
        }
        if push.observed_addr.is_some() {
            self.observed_addr = push.observed_addr;
        }
    }

    /// The decoded view of a (merged) message. Needs `publicKey`; checks it against
    /// `expected_peer` when given.
    pub fn from_proto(
        msg: Identify,
        expected_peer: Option<&PeerId>,
    ) -> Result<Self, IdentifyError> {
        let signed_peer_record = msg.signed_peer_record.clone();
        let push = PushInfo::from_proto(msg, expected_peer)?;
        Ok(IdentifyInfo {
            public_key: push.public_key.ok_or(IdentifyError::MissingPublicKey)?,
            protocol_version: push.protocol_version.unwrap_or_default(),
            agent_version: push.agent_version.unwrap_or_default(),
            listen_addrs: push.listen_addrs,
            protocols: push.protocols,
            observed_addr: push.observed_addr,
            signed_peer_record,
        })
    }

    /// The signed peer record, verified against the public key of this info: `None` if the
    /// peer sent none.
    pub fn verified_record(
        &self,
    ) -> Option<Result<crate::record::PeerRecord, crate::record::RecordError>> {
        let bytes = self.signed_peer_record.as_ref()?;
        Some(crate::record::verify(
            bytes,
            Some(&self.public_key.to_peer_id()),
        ))
    }

    /// Our message, trimmed to at most `max` encoded bytes by dropping listen addresses, then
    /// protocols, from the end (with a warning: the peer will not learn them).
    pub fn to_proto(&self, max: usize) -> Result<Identify, IdentifyError> {
        let mut msg = Identify {
            public_key: Some(self.public_key.encode_protobuf()),
            listen_addrs: self.listen_addrs.iter().map(|a| a.to_vec()).collect(),
            protocols: self.protocols.clone(),
            observed_addr: self.observed_addr.as_ref().map(|a| a.to_vec()),
            protocol_version: Some(self.protocol_version.clone()),
            agent_version: Some(self.agent_version.clone()),
            signed_peer_record: self.signed_peer_record.clone(),
        };
        let mut len = msg.encoded_len();
        if len > max {
            // The record repeats the addresses: the first thing to go.
            msg.signed_peer_record = None;
            len = msg.encoded_len();
        }
        let (mut dropped_addrs, mut dropped_protocols) = (0, 0);
        while len > max {
            // Each repeated entry costs: tag byte + uvarint length + the bytes.
            let cost = |n: usize| 1 + prost::encoding::encoded_len_varint(n as u64) + n;
            if let Some(addr) = msg.listen_addrs.pop() {
                len -= cost(addr.len());
                dropped_addrs += 1;
            } else if let Some(p) = msg.protocols.pop() {
                len -= cost(p.len());
                dropped_protocols += 1;
            } else {
                return Err(IdentifyError::OwnMessageTooLarge { len, max });
            }
        }
        if dropped_addrs + dropped_protocols > 0 {
            tracing::warn!(
                dropped_addrs,
                dropped_protocols,
                max,
                "identify: our message was trimmed to fit the size limit"
            );
        }
        debug_assert_eq!(len, msg.encoded_len());
        Ok(msg)
    }
}

impl PushInfo {
    /// The decoded view of a (merged) push message; checks `publicKey`, when present, against
    /// `expected_peer` when given.
    pub fn from_proto(
        msg: Identify,
        expected_peer: Option<&PeerId>,
    ) -> Result<Self, IdentifyError> {
        let public_key = msg
            .public_key
            .map(|bytes| PublicKey::try_decode_protobuf(&bytes))
            .transpose()?;
        let peer = match (&public_key, expected_peer) {
            (Some(key), Some(expected)) => {
                let got = key.to_peer_id();
                if got != *expected {
                    return Err(IdentifyError::PeerMismatch {
                        expected: Box::new(*expected),
                        got: Box::new(got),
                    });
                }
                Some(got)
            }
            (Some(key), None) => Some(key.to_peer_id()),
            (None, expected) => expected.copied(),
        };
        Ok(PushInfo {
            public_key,
            protocol_version: msg.protocol_version,
            agent_version: msg.agent_version,
            listen_addrs: msg
                .listen_addrs
                .into_iter()
                .filter_map(|bytes| parse_addr(bytes, peer.as_ref()))
                .collect(),
            protocols: msg.protocols,
            observed_addr: msg.observed_addr.and_then(|bytes| parse_addr(bytes, None)),
        })
    }
}

/// A binary multiaddr, or `None` (logged) if it does not parse or names another peer.
fn parse_addr(bytes: Vec<u8>, peer: Option<&PeerId>) -> Option<Multiaddr> {
    let addr = match Multiaddr::try_from(bytes) {
        Ok(addr) => addr,
        Err(e) => {
            tracing::debug!(error = %e, "identify: skipping unparseable address");
            return None;
        }
    };
    if let (Some(Protocol::P2p(id)), Some(peer)) = (addr.iter().last(), peer) {
        if id != *peer {
            tracing::debug!(%addr, %peer, "identify: skipping address of another peer");
            return None;
        }
    }
    Some(addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainp2p_core::identity::Keypair;

    fn info(listen: usize, protocols: usize) -> IdentifyInfo {
        IdentifyInfo {
            public_key: Keypair::generate_ed25519().public(),
            protocol_version: "ipfs/0.1.0".into(),
            agent_version: "test".into(),
            listen_addrs: (0..listen)
                .map(|i| {
                    format!("/ip4/10.0.{}.{}/tcp/4001", i / 256, i % 256)
                        .parse()
                        .unwrap()
                })
                .collect(),
            protocols: (0..protocols)
                .map(|i| format!("/proto/{i}/1.0.0"))
                .collect(),
            observed_addr: Some("/ip4/1.2.3.4/tcp/5".parse().unwrap()),
            signed_peer_record: None,
        }
    }

    #[test]
    fn round_trip_and_peer_check() {
        let i = info(3, 4);
        let msg = i.to_proto(4096).unwrap();
        let peer = i.public_key.to_peer_id();
        assert_eq!(
            IdentifyInfo::from_proto(msg.clone(), Some(&peer)).unwrap(),
            i
        );
        let other = PeerId::random();
        assert!(matches!(
            IdentifyInfo::from_proto(msg, Some(&other)),
            Err(IdentifyError::PeerMismatch { expected, got }) if *expected == other && *got == peer
        ));
    }

    #[test]
    fn own_message_is_trimmed_addresses_first() {
        let big = info(400, 50);
        let msg = big.to_proto(4096).unwrap();
        let len = msg.encoded_len();
        assert!(len <= 4096 && len > 4000, "{len}");
        assert!(msg.listen_addrs.len() < 400);
        assert_eq!(
            msg.protocols.len(),
            50,
            "protocols kept while addresses remain"
        );
        let no_room = IdentifyInfo {
            agent_version: "x".repeat(5000),
            ..info(1, 1)
        };
        assert!(matches!(
            no_room.to_proto(4096),
            Err(IdentifyError::OwnMessageTooLarge { .. })
        ));
    }

    #[test]
    fn bad_addresses_are_skipped_not_fatal() {
        let key = Keypair::generate_ed25519().public();
        let other: Multiaddr = format!("/ip4/9.9.9.9/tcp/1/p2p/{}", PeerId::random())
            .parse()
            .unwrap();
        let msg = Identify {
            public_key: Some(key.encode_protobuf()),
            listen_addrs: vec![
                vec![0xff, 0xff, 0xff],
                "/ip4/1.1.1.1/tcp/1".parse::<Multiaddr>().unwrap().to_vec(),
                other.to_vec(),
            ],
            observed_addr: Some(vec![0x04, 1]),
            ..Default::default()
        };
        let info = IdentifyInfo::from_proto(msg, None).unwrap();
        assert_eq!(
            info.listen_addrs,
            vec!["/ip4/1.1.1.1/tcp/1".parse::<Multiaddr>().unwrap()]
        );
        assert_eq!(info.observed_addr, None);
    }

    #[test]
    fn push_merges_only_what_is_present() {
        let mut i = info(2, 2);
        let before = i.clone();
        i.merge(PushInfo::default());
        assert_eq!(i, before);
        i.merge(PushInfo {
            protocols: vec!["/new".into()],
            agent_version: Some("v2".into()),
            ..Default::default()
        });
        assert_eq!(i.protocols, vec!["/new"]);
        assert_eq!(i.agent_version, "v2");
        assert_eq!(i.listen_addrs, before.listen_addrs);
    }
}
