//! The Identify protobuf message, written by hand with `prost` derive because the build has no
//! `protoc`. It mirrors `src/identify.proto` (the source of truth) field for field: same tags,
//! same proto2 `optional`/`repeated` labels, declared in tag order.

/// `message Identify` of `identify.proto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Identify {
    /// `optional bytes publicKey = 1`: libp2p PublicKey protobuf bytes.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub public_key: Option<Vec<u8>>,
    /// `repeated bytes listenAddrs = 2`: binary multiaddrs.
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub listen_addrs: Vec<Vec<u8>>,
    /// `repeated string protocols = 3`.
    #[prost(string, repeated, tag = "3")]
    pub protocols: Vec<String>,
    /// `optional bytes observedAddr = 4`: binary multiaddr.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub observed_addr: Option<Vec<u8>>,
    /// `optional string protocolVersion = 5`.
    #[prost(string, optional, tag = "5")]
    pub protocol_version: Option<String>,
    /// `optional string agentVersion = 6`.
    #[prost(string, optional, tag = "6")]
    pub agent_version: Option<String>,
    /// `optional bytes signedPeerRecord = 8`.
    #[prost(bytes = "vec", optional, tag = "8")]
    pub signed_peer_record: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// Every field alone, so each tag byte (field << 3 | wire type 2) is checked against the
    /// spec's list: publicKey 0a, listenAddrs 12, protocols 1a, observedAddr 22,
    /// protocolVersion 2a, agentVersion 32, signedPeerRecord 42.
    #[test]
    fn field_tags_match_the_spec() {
        let b = || Some(vec![0xAB]);
        let s = || Some("x".to_owned());
        let cases = [
            (
                Identify {
                    public_key: b(),
                    ..Default::default()
                },
                0x0a,
            ),
            (
                Identify {
                    listen_addrs: vec![vec![0xAB]],
                    ..Default::default()
                },
                0x12,
            ),
            (
                Identify {
                    protocols: vec!["x".into()],
                    ..Default::default()
                },
                0x1a,
            ),
            (
                Identify {
                    observed_addr: b(),
                    ..Default::default()
                },
                0x22,
            ),
            (
                Identify {
                    protocol_version: s(),
                    ..Default::default()
                },
                0x2a,
            ),
            (
                Identify {
                    agent_version: s(),
                    ..Default::default()
                },
                0x32,
            ),
            (
                Identify {
                    signed_peer_record: b(),
                    ..Default::default()
                },
                0x42,
            ),
        ];
        for (msg, tag) in cases {
            let bytes = msg.encode_to_vec();
            assert_eq!(bytes[0], tag, "{msg:?}");
            assert_eq!(bytes[1], 1);
            assert_eq!(Identify::decode(bytes.as_slice()).unwrap(), msg);
        }
    }

    #[test]
    fn merging_concatenates_repeated_and_keeps_last_scalar() {
        let mut msg = Identify::default();
        let first = Identify {
            protocols: vec!["/a".into()],
            agent_version: Some("one".into()),
            ..Default::default()
        };
        let second = Identify {
            protocols: vec!["/b".into()],
            agent_version: Some("two".into()),
            ..Default::default()
        };
        msg.merge(first.encode_to_vec().as_slice()).unwrap();
        msg.merge(second.encode_to_vec().as_slice()).unwrap();
        assert_eq!(msg.protocols, vec!["/a", "/b"]);
        assert_eq!(msg.agent_version.as_deref(), Some("two"));
    }
}
