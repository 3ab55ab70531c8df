//! The Kademlia `Message` protobuf, written by hand with `prost` derive because the build has no
//! `protoc`. It mirrors `src/dht.proto` (the source of truth) field for field: same tags, proto3
//! semantics (defaults are not written). prost encodes fields in tag order, as go does, so our
//! bytes equal go-libp2p-kad-dht's for the same message.
//!
//! Also here: [`decode_bounded`], the decoder used for everything read from the network. A
//! plain `Message::decode` materialises every `Peer` of a message, so a 4 MiB message of
//! two-byte empty peers would cost ~100 MiB; the bounded decoder walks the top-level fields
//! itself, decodes at most `max_peers` peers per list and `max_addrs` addresses per peer, and
//! only skips over the rest (counted in [`Overflow`]).

use prost::Message as _;

use crate::error::KadError;

/// `Message.MessageType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MessageType {
    /// `PUT_VALUE = 0`.
    PutValue = 0,
    /// `GET_VALUE = 1`.
    GetValue = 1,
    /// `ADD_PROVIDER = 2`.
    AddProvider = 2,
    /// `GET_PROVIDERS = 3`.
    GetProviders = 3,
    /// `FIND_NODE = 4`.
    FindNode = 4,
    /// `PING = 5` (deprecated; answered, never sent by us unless asked).
    Ping = 5,
}

impl MessageType {
    /// The spec's name, e.g. `FIND_NODE`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::PutValue => "PUT_VALUE",
            MessageType::GetValue => "GET_VALUE",
            MessageType::AddProvider => "ADD_PROVIDER",
            MessageType::GetProviders => "GET_PROVIDERS",
            MessageType::FindNode => "FIND_NODE",
            MessageType::Ping => "PING",
        }
    }
}

impl std::fmt::Display for MessageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Message.ConnectionType`: how the sender is connected to a peer it reports (`Default`,
/// from prost: `NOT_CONNECTED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ConnectionType {
    /// `NOT_CONNECTED = 0`: no connection, no recent attempt.
    NotConnected = 0,
    /// `CONNECTED = 1`: connected now.
    Connected = 1,
    /// `CAN_CONNECT = 2`: recently connected.
    CanConnect = 2,
    /// `CANNOT_CONNECT = 3`: a recent attempt failed.
    CannotConnect = 3,
}

/// `message Record`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Record {
    /// `bytes key = 1`.
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    /// `bytes value = 2`.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
    /// `string timeReceived = 5`: RFC 3339, set by the receiver.
    #[prost(string, tag = "5")]
    pub time_received: String,
    /// `bytes publisher = 666` (rust-libp2p only).
    #[prost(bytes = "vec", tag = "666")]
    pub publisher: Vec<u8>,
    /// `uint32 ttl = 777` (rust-libp2p only; seconds, 0 = none).
    #[prost(uint32, tag = "777")]
    pub ttl: u32,
}

/// `message Message.Peer`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Peer {
    /// `bytes id = 1`: raw PeerId bytes.
    #[prost(bytes = "vec", tag = "1")]
    pub id: Vec<u8>,
    /// `repeated bytes addrs = 2`: binary multiaddrs.
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub addrs: Vec<Vec<u8>>,
    /// `ConnectionType connection = 3`.
    #[prost(enumeration = "ConnectionType", tag = "3")]
    pub connection: i32,
}

/// `message Message`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Message {
    /// `MessageType type = 1`.
    #[prost(enumeration = "MessageType", tag = "1")]
    pub r#type: i32,
    /// `bytes key = 2`.
    #[prost(bytes = "vec", tag = "2")]
    pub key: Vec<u8>,
    /// `Record record = 3`.
    #[prost(message, optional, tag = "3")]
    pub record: Option<Record>,
    /// `repeated Peer closerPeers = 8`.
    #[prost(message, repeated, tag = "8")]
    pub closer_peers: Vec<Peer>,
    /// `repeated Peer providerPeers = 9`.
    #[prost(message, repeated, tag = "9")]
    pub provider_peers: Vec<Peer>,
    /// `int32 clusterLevelRaw = 10`: unused by everyone; go sends 1, rust 10.
    #[prost(int32, tag = "10")]
    pub cluster_level_raw: i32,
}

/// What [`decode_bounded`] skipped because a limit was reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overflow {
    /// Peers (closer or provider) beyond the per-list limit, skipped undecoded.
    pub peers: usize,
    /// Addresses beyond the per-peer limit, skipped.
    pub addrs: usize,
}

const TAG_CLOSER: u32 = 8;
const TAG_PROVIDER: u32 = 9;
const WIRE_VARINT: u8 = 0;
const WIRE_FIXED64: u8 = 1;
const WIRE_LEN: u8 = 2;
const WIRE_FIXED32: u8 = 5;

/// Decodes a `Message` from the network with at most `max_peers` entries in each of
/// `closerPeers` / `providerPeers` and `max_addrs` addresses per peer; the excess is skipped
/// without allocation and counted. Everything else decodes exactly as `Message::decode` would
/// (unknown fields skipped, repeated scalars: last wins).
pub fn decode_bounded(
    mut buf: &[u8],
    max_peers: usize,
    max_addrs: usize,
) -> Result<(Message, Overflow), KadError> {
    let mut msg = Message::default();
    let mut overflow = Overflow::default();
    while !buf.is_empty() {
        let whole = buf;
        let (tag, value) = next_field(&mut buf)?;
        let list = match tag {
            TAG_CLOSER => Some(&mut msg.closer_peers),
            TAG_PROVIDER => Some(&mut msg.provider_peers),
            _ => None,
        };
        match (list, value) {
            (Some(list), Field::Len(bytes)) => {
                if list.len() < max_peers {
                    list.push(decode_peer(bytes, max_addrs, &mut overflow)?);
                } else {
                    overflow.peers += 1;
                }
            }
            (Some(_), _) => return Err(KadError::Malformed("peer field with a wrong wire type")),
            (None, _) => {
                // One complete field: let prost merge it, so scalars, the key, the record and
                // unknown fields behave exactly as with `Message::decode`.
                let used = whole.len() - buf.len();
                let field = whole
                    .get(..used)
                    .ok_or(KadError::Malformed("field bounds"))?;
                msg.merge(field)?;
            }
        }
    }
    Ok((msg, overflow))
}

fn decode_peer(
    mut buf: &[u8],
    max_addrs: usize,
    overflow: &mut Overflow,
) -> Result<Peer, KadError> {
    let mut peer = Peer::default();
    while !buf.is_empty() {
        match next_field(&mut buf)? {
            (1, Field::Len(id)) => peer.id = id.to_vec(),
            (2, Field::Len(addr)) => {
                if peer.addrs.len() < max_addrs {
                    peer.addrs.push(addr.to_vec());
                } else {
                    overflow.addrs += 1;
                }
            }
            // int32 enums are sign-extended varints; truncation is the protobuf rule.
            (3, Field::Varint(v)) => peer.connection = v as i32,
            (1..=3, _) => return Err(KadError::Malformed("Peer field with a wrong wire type")),
            _ => {}
        }
    }
    Ok(peer)
}

/// One field's value; fixed-width values are skipped and not kept.
enum Field<'a> {
    Varint(u64),
    Fixed,
    Len(&'a [u8]),
}

/// Reads one field (key and value) off the front of `buf`.
fn next_field<'a>(buf: &mut &'a [u8]) -> Result<(u32, Field<'a>), KadError> {
    let key = read_varint(buf)?;
    let wire = (key & 7) as u8;
    let tag = u32::try_from(key >> 3).map_err(|_| KadError::Malformed("field number too large"))?;
    if tag == 0 {
        return Err(KadError::Malformed("field number 0"));
    }
    let value = match wire {
        WIRE_VARINT => Field::Varint(read_varint(buf)?),
        WIRE_FIXED64 => {
            advance(buf, 8)?;
            Field::Fixed
        }
        WIRE_FIXED32 => {
            advance(buf, 4)?;
            Field::Fixed
        }
        WIRE_LEN => {
            let len = usize::try_from(read_varint(buf)?)
                .map_err(|_| KadError::Malformed("length overflows"))?;
            let (bytes, rest) = buf
                .split_at_checked(len)
                .ok_or(KadError::Malformed("length beyond the message"))?;
            *buf = rest;
            Field::Len(bytes)
        }
        _ => return Err(KadError::Malformed("unsupported wire type (group)")),
    };
    Ok((tag, value))
}

fn advance(buf: &mut &[u8], n: usize) -> Result<(), KadError> {
    let rest = buf
        .get(n..)
        .ok_or(KadError::Malformed("fixed-width value beyond the message"))?;
    *buf = rest;
    Ok(())
}

/// A protobuf varint (non-minimal encodings accepted, as protobuf requires; at most 10 bytes).
/// Not `unsigned-varint`, which refuses non-minimal encodings (right for length prefixes, wrong
/// inside protobuf), nor prost's decoder, which is `#[doc(hidden)]` API.
fn read_varint(buf: &mut &[u8]) -> Result<u64, KadError> {
    let mut value = 0u64;
    for (i, &b) in buf.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *buf = buf.get(i + 1..).unwrap_or_default();
            return Ok(value);
        }
    }
    Err(KadError::Malformed("bad varint"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field alone, so each tag byte is checked against the spec's list.
    #[test]
    fn field_tags_match_the_spec() {
        let m = |f: fn(&mut Message)| {
            let mut msg = Message::default();
            f(&mut msg);
            msg.encode_to_vec()
        };
        assert_eq!(m(|x| x.r#type = 4), [0x08, 0x04]);
        assert_eq!(m(|x| x.key = vec![7]), [0x12, 1, 7]);
        assert_eq!(
            m(|x| x.record = Some(Record::default())),
            [0x1a, 0],
            "empty record still present"
        );
        assert_eq!(m(|x| x.closer_peers = vec![Peer::default()]), [0x42, 0]);
        assert_eq!(m(|x| x.provider_peers = vec![Peer::default()]), [0x4a, 0]);
        assert_eq!(m(|x| x.cluster_level_raw = 1), [0x50, 0x01]);
        assert_eq!(
            m(|x| x.r#type = 0),
            [0u8; 0],
            "PUT_VALUE: proto3 default omitted"
        );
        let peer = Peer {
            id: vec![1],
            addrs: vec![vec![2]],
            connection: ConnectionType::Connected as i32,
        };
        assert_eq!(peer.encode_to_vec(), [0x0a, 1, 1, 0x12, 1, 2, 0x18, 1]);
        let rec = Record {
            key: vec![1],
            value: vec![2],
            time_received: "t".into(),
            publisher: vec![3],
            ttl: 4,
        };
        // publisher 666 -> key (666<<3|2) = 5330 = d2 29; ttl 777 -> 6216 = c8 30.
        assert_eq!(
            rec.encode_to_vec(),
            [0x0a, 1, 1, 0x12, 1, 2, 0x2a, 1, b't', 0xd2, 0x29, 1, 3, 0xc8, 0x30, 4]
        );
        assert_eq!(Record::decode(rec.encode_to_vec().as_slice()).unwrap(), rec);
    }

    #[test]
    fn bounded_decode_equals_prost_within_limits() {
        let msg = Message {
            r#type: 3,
            key: b"k".to_vec(),
            record: Some(Record {
                key: b"k".to_vec(),
                value: b"v".to_vec(),
                ..Default::default()
            }),
            closer_peers: vec![
                Peer {
                    id: vec![1; 5],
                    addrs: vec![vec![4, 127, 0, 0, 1]],
                    connection: 1,
                };
                3
            ],
            provider_peers: vec![Peer::default(); 2],
            cluster_level_raw: -1,
        };
        let mut bytes = msg.encode_to_vec();
        bytes.extend_from_slice(&[0xf8, 0x01, 0x05]); // unknown field 31, varint: skipped
        let (got, overflow) = decode_bounded(&bytes, 10, 10).unwrap();
        assert_eq!(got, msg);
        assert_eq!(overflow, Overflow::default());

        let (got, overflow) = decode_bounded(&bytes, 2, 0).unwrap();
        assert_eq!(got.closer_peers.len(), 2);
        assert!(got.closer_peers.iter().all(|p| p.addrs.is_empty()));
        assert_eq!(overflow, Overflow { peers: 1, addrs: 2 });
    }

    #[test]
    fn bounded_decode_rejects_malformed_input() {
        for bad in [
            &[0x12, 0x05, 1][..],    // key longer than the message
            &[0x08][..],             // varint missing
            &[0x42, 0x02, 0x0a][..], // peer's id length missing
            &[0x0b][..],             // group
            &[0x00, 0x00][..],       // field 0
            &[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ][..],
            &[0x42, 0x02, 0x08, 0x01][..], // peer.id as a varint
        ] {
            assert!(decode_bounded(bad, 10, 10).is_err(), "{bad:02x?}");
        }
    }
}
