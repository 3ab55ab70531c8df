//! Typed requests and responses ([`Request`], [`Response`], [`KadPeer`], [`WireRecord`]) and
//! their conversion from and to the [`proto::Message`], with validation.
//!
//! Decoding is lenient where one bad entry should not cost the rest (a peer whose id does not
//! parse, an address that does not parse: skipped and counted in [`DecodeStats`]) and strict
//! where the message cannot be acted upon (unknown type, PUT_VALUE without a record or under
//! the wrong key, a response of another type: a typed [`KadError`]). Peer lists and address
//! lists are bounded ([`DecodeLimits`]) before anything is allocated for them.
//!
//! Encoding matches what go-libp2p-kad-dht sends byte for byte: requests carry
//! `clusterLevelRaw = 1` ([`REQUEST_CLUSTER_LEVEL_RAW`]); responses echo the request's key
//! (except FIND_NODE, as go) and its `clusterLevelRaw`. rust-libp2p sends 10 / 9 there; both
//! implementations ignore the field.

use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::Multiaddr;

use crate::codec::{encode_frame, fit_response};
use crate::config::Config;
use crate::error::KadError;
use crate::proto::{self, decode_bounded, ConnectionType, MessageType};

/// `clusterLevelRaw` of the requests we send: go's `level + 1` with level 0.
pub const REQUEST_CLUSTER_LEVEL_RAW: i32 = 1;

/// A peer as reported on the wire: id, addresses, and how the sender is connected to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KadPeer {
    /// The peer.
    pub id: PeerId,
    /// Its addresses (binary multiaddrs on the wire).
    pub addrs: Vec<Multiaddr>,
    /// The sender's connection to it.
    pub connection: ConnectionType,
}

impl KadPeer {
    /// The protobuf form.
    pub fn to_proto(&self) -> proto::Peer {
        proto::Peer {
            id: self.id.to_bytes(),
            addrs: self.addrs.iter().map(|a| a.to_vec()).collect(),
            connection: self.connection as i32,
        }
    }

    /// Parses a protobuf peer: `None` (counted) if its id is not a PeerId (as bytes, or as
    /// base58 text, which c-ipfs sends); unparseable
    /// addresses are skipped and counted; an unknown connection type reads as
    /// `NOT_CONNECTED`, as in go and rust.
    pub fn from_proto(peer: proto::Peer, stats: &mut DecodeStats) -> Option<KadPeer> {
        let Some(id) = peer_id_from_wire(&peer.id) else {
            stats.invalid_peers += 1;
            return None;
        };
        let mut addrs = Vec::with_capacity(peer.addrs.len());
        for raw in peer.addrs {
            match Multiaddr::try_from(raw) {
                Ok(addr) => addrs.push(addr),
                Err(_) => stats.invalid_addrs += 1,
            }
        }
        let connection = ConnectionType::try_from(peer.connection).unwrap_or_default();
        Some(KadPeer {
            id,
            addrs,
            connection,
        })
    }
}

/// A peer id as the wire carries it: its multihash bytes, or (c-libp2p, i.e. c-ipfs) the
/// base58 text of them.
fn peer_id_from_wire(bytes: &[u8]) -> Option<PeerId> {
    PeerId::from_bytes(bytes).ok().or_else(|| {
        let text = std::str::from_utf8(bytes).ok()?;
        text.parse().ok()
    })
}

/// A record as carried on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRecord {
    /// The key.
    pub key: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
    /// The original publisher (field 666, rust-libp2p only); an unparseable one reads as none.
    pub publisher: Option<PeerId>,
    /// Remaining time to live in seconds (field 777, rust-libp2p only); 0 reads as none.
    pub ttl: Option<u32>,
    /// When the sender received it, RFC 3339 (field 5); empty reads as none.
    pub time_received: Option<String>,
}

impl WireRecord {
    /// A record with just a key and a value.
    pub fn new(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Self {
        WireRecord {
            key: key.into(),
            value: value.into(),
            publisher: None,
            ttl: None,
            time_received: None,
        }
    }

    /// The protobuf form.
    pub fn to_proto(&self) -> proto::Record {
        proto::Record {
            key: self.key.clone(),
            value: self.value.clone(),
            time_received: self.time_received.clone().unwrap_or_default(),
            publisher: self.publisher.map(|p| p.to_bytes()).unwrap_or_default(),
            ttl: self.ttl.unwrap_or(0),
        }
    }

    /// Parses a protobuf record (never fails: the optional fields degrade to `None`).
    pub fn from_proto(record: proto::Record) -> Self {
        WireRecord {
            key: record.key,
            value: record.value,
            publisher: PeerId::from_bytes(&record.publisher).ok(),
            ttl: (record.ttl != 0).then_some(record.ttl),
            time_received: (!record.time_received.is_empty()).then_some(record.time_received),
        }
    }
}

/// Limits applied while decoding one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Most peers decoded per list.
    pub max_peers: usize,
    /// Most addresses decoded per peer.
    pub max_addrs: usize,
    /// Longest key accepted in a request.
    pub max_key_size: usize,
}

impl From<&Config> for DecodeLimits {
    fn from(c: &Config) -> Self {
        DecodeLimits {
            max_peers: c.max_peers_per_message(),
            max_addrs: c.max_addrs_per_peer(),
            max_key_size: c.max_key_size(),
        }
    }
}

impl Default for DecodeLimits {
    fn default() -> Self {
        (&Config::default()).into()
    }
}

/// What decoding skipped: nothing is dropped silently.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Peers beyond [`DecodeLimits::max_peers`], skipped undecoded.
    pub peers_over_limit: usize,
    /// Addresses beyond [`DecodeLimits::max_addrs`], skipped.
    pub addrs_over_limit: usize,
    /// Peers whose id is not a PeerId.
    pub invalid_peers: usize,
    /// Addresses that are not multiaddrs.
    pub invalid_addrs: usize,
}

impl DecodeStats {
    /// Whether anything was skipped.
    pub fn is_clean(&self) -> bool {
        *self == DecodeStats::default()
    }
}

/// A decoded message with what the wire said besides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<T> {
    /// The message.
    pub message: T,
    /// The (unused) `clusterLevelRaw`, which go echoes in responses.
    pub cluster_level_raw: i32,
    /// What was skipped.
    pub stats: DecodeStats,
}

/// A Kademlia request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// FIND_NODE: the peers closest to `key` (a PeerId's bytes, or any key).
    FindNode {
        /// The target.
        key: Vec<u8>,
    },
    /// GET_VALUE: the record under `key`, and closer peers.
    GetValue {
        /// The record key.
        key: Vec<u8>,
    },
    /// PUT_VALUE: store the record (the message key is the record's key).
    PutValue {
        /// The record.
        record: WireRecord,
    },
    /// ADD_PROVIDER: the providers offer `key`. Has no response.
    AddProvider {
        /// The content key (a multihash).
        key: Vec<u8>,
        /// The providers (normally the sender only, with its addresses).
        providers: Vec<KadPeer>,
    },
    /// GET_PROVIDERS: the providers of `key`, and closer peers.
    GetProviders {
        /// The content key (a multihash).
        key: Vec<u8>,
    },
    /// PING (deprecated).
    Ping,
}

/// A Kademlia response; it carries its request's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// To FIND_NODE.
    FindNode {
        /// The closest peers the responder knows, closest first.
        closer: Vec<KadPeer>,
    },
    /// To GET_VALUE.
    GetValue {
        /// The record, if the responder has it.
        record: Option<WireRecord>,
        /// Closer peers.
        closer: Vec<KadPeer>,
    },
    /// To PUT_VALUE: the stored record, echoed.
    PutValue {
        /// The record.
        record: WireRecord,
    },
    /// To GET_PROVIDERS.
    GetProviders {
        /// Known providers.
        providers: Vec<KadPeer>,
        /// Closer peers.
        closer: Vec<KadPeer>,
    },
    /// To PING.
    Ping,
}

fn peers_from_proto(list: Vec<proto::Peer>, stats: &mut DecodeStats) -> Vec<KadPeer> {
    list.into_iter()
        .filter_map(|p| KadPeer::from_proto(p, stats))
        .collect()
}

fn peers_to_proto(list: &[KadPeer]) -> Vec<proto::Peer> {
    list.iter().map(KadPeer::to_proto).collect()
}

/// Decodes a frame's body within `limits`.
fn decode_message(
    frame: &[u8],
    limits: &DecodeLimits,
) -> Result<(proto::Message, DecodeStats), KadError> {
    let (msg, overflow) = decode_bounded(frame, limits.max_peers, limits.max_addrs)?;
    let stats = DecodeStats {
        peers_over_limit: overflow.peers,
        addrs_over_limit: overflow.addrs,
        ..DecodeStats::default()
    };
    Ok((msg, stats))
}

impl Request {
    /// The message type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Request::FindNode { .. } => MessageType::FindNode,
            Request::GetValue { .. } => MessageType::GetValue,
            Request::PutValue { .. } => MessageType::PutValue,
            Request::AddProvider { .. } => MessageType::AddProvider,
            Request::GetProviders { .. } => MessageType::GetProviders,
            Request::Ping => MessageType::Ping,
        }
    }

    /// The message key (empty for PING).
    pub fn key(&self) -> &[u8] {
        match self {
            Request::FindNode { key }
            | Request::GetValue { key }
            | Request::AddProvider { key, .. }
            | Request::GetProviders { key } => key,
            Request::PutValue { record } => &record.key,
            Request::Ping => &[],
        }
    }

    /// Whether a response follows (all but ADD_PROVIDER).
    pub fn expects_response(&self) -> bool {
        !matches!(self, Request::AddProvider { .. })
    }

    /// The protobuf form, as go sends it.
    pub fn to_proto(&self) -> proto::Message {
        let mut msg = proto::Message {
            r#type: self.message_type() as i32,
            key: self.key().to_vec(),
            cluster_level_raw: REQUEST_CLUSTER_LEVEL_RAW,
            ..Default::default()
        };
        match self {
            Request::PutValue { record } => msg.record = Some(record.to_proto()),
            Request::AddProvider { providers, .. } => {
                msg.provider_peers = peers_to_proto(providers)
            }
            _ => {}
        }
        msg
    }

    /// The request as one frame (length prefix and body), refusing more than `max` bytes.
    pub fn encode(&self, max: usize) -> Result<Vec<u8>, KadError> {
        encode_frame(&self.to_proto(), max)
    }

    /// Validates a decoded protobuf as a request.
    pub fn from_proto(
        msg: proto::Message,
        limits: &DecodeLimits,
        stats: &mut DecodeStats,
    ) -> Result<Request, KadError> {
        let ty = MessageType::try_from(msg.r#type)
            .map_err(|_| KadError::UnknownMessageType(msg.r#type))?;
        if msg.key.len() > limits.max_key_size {
            return Err(KadError::KeyTooLarge {
                len: msg.key.len(),
                max: limits.max_key_size,
            });
        }
        if msg.key.is_empty() && ty != MessageType::Ping {
            return Err(KadError::EmptyKey(ty));
        }
        let key = msg.key;
        Ok(match ty {
            MessageType::FindNode => Request::FindNode { key },
            MessageType::GetValue => Request::GetValue { key },
            MessageType::GetProviders => Request::GetProviders { key },
            MessageType::Ping => Request::Ping,
            MessageType::PutValue => {
                let record = msg.record.ok_or(KadError::MissingRecord)?;
                if record.key != key {
                    return Err(KadError::WrongKey);
                }
                Request::PutValue {
                    record: WireRecord::from_proto(record),
                }
            }
            MessageType::AddProvider => {
                let providers = peers_from_proto(msg.provider_peers, stats);
                if providers.is_empty() {
                    return Err(KadError::NoValidProvider);
                }
                Request::AddProvider { key, providers }
            }
        })
    }

    /// Decodes and validates a request frame's body.
    pub fn decode(frame: &[u8], limits: &DecodeLimits) -> Result<Decoded<Request>, KadError> {
        let (msg, mut stats) = decode_message(frame, limits)?;
        let cluster_level_raw = msg.cluster_level_raw;
        let message = Request::from_proto(msg, limits, &mut stats)?;
        Ok(Decoded {
            message,
            cluster_level_raw,
            stats,
        })
    }
}

impl Response {
    /// The message type (that of the request answered).
    pub fn message_type(&self) -> MessageType {
        match self {
            Response::FindNode { .. } => MessageType::FindNode,
            Response::GetValue { .. } => MessageType::GetValue,
            Response::PutValue { .. } => MessageType::PutValue,
            Response::GetProviders { .. } => MessageType::GetProviders,
            Response::Ping => MessageType::Ping,
        }
    }

    /// The protobuf form, as go answers: the request's key echoed (not for FIND_NODE) and its
    /// `clusterLevelRaw` echoed.
    pub fn to_proto(&self, request_key: &[u8], cluster_level_raw: i32) -> proto::Message {
        let mut msg = proto::Message {
            r#type: self.message_type() as i32,
            cluster_level_raw,
            ..Default::default()
        };
        match self {
            Response::FindNode { closer } => msg.closer_peers = peers_to_proto(closer),
            Response::GetValue { record, closer } => {
                msg.key = request_key.to_vec();
                msg.record = record.as_ref().map(WireRecord::to_proto);
                msg.closer_peers = peers_to_proto(closer);
            }
            Response::PutValue { record } => {
                msg.key = record.key.clone();
                msg.record = Some(record.to_proto());
            }
            Response::GetProviders { providers, closer } => {
                msg.key = request_key.to_vec();
                msg.provider_peers = peers_to_proto(providers);
                msg.closer_peers = peers_to_proto(closer);
            }
            Response::Ping => {}
        }
        msg
    }

    /// The response as one frame: peer lists cut (farthest closer peers first, then
    /// providers) until it fits `soft_max`; refused if still over `hard_max`. Returns the
    /// frame and how many peers were cut.
    pub fn encode(
        &self,
        request_key: &[u8],
        cluster_level_raw: i32,
        soft_max: usize,
        hard_max: usize,
    ) -> Result<(Vec<u8>, usize), KadError> {
        let mut msg = self.to_proto(request_key, cluster_level_raw);
        let cut = fit_response(&mut msg, soft_max);
        Ok((encode_frame(&msg, hard_max)?, cut))
    }

    /// Validates a decoded protobuf as the response to `request`.
    pub fn from_proto(
        msg: proto::Message,
        request: &Request,
        stats: &mut DecodeStats,
    ) -> Result<Response, KadError> {
        let got = MessageType::try_from(msg.r#type)
            .map_err(|_| KadError::UnknownMessageType(msg.r#type))?;
        let sent = request.message_type();
        if got != sent || !request.expects_response() {
            return Err(KadError::UnexpectedResponse { sent, got });
        }
        Ok(match got {
            MessageType::FindNode => {
                // c-libp2p answers FIND_NODE in providerPeers (routing/dht_protocol.c).
                let peers = match msg.closer_peers.is_empty() {
                    true => msg.provider_peers,
                    false => msg.closer_peers,
                };
                Response::FindNode {
                    closer: peers_from_proto(peers, stats),
                }
            }
            MessageType::GetValue => {
                let record = msg.record.map(WireRecord::from_proto);
                if record.as_ref().is_some_and(|r| r.key != request.key()) {
                    return Err(KadError::WrongKey);
                }
                Response::GetValue {
                    record,
                    closer: peers_from_proto(msg.closer_peers, stats),
                }
            }
            MessageType::PutValue => {
                let record = WireRecord::from_proto(msg.record.ok_or(KadError::MissingRecord)?);
                if record.key != request.key() {
                    return Err(KadError::WrongKey);
                }
                Response::PutValue { record }
            }
            MessageType::GetProviders => Response::GetProviders {
                providers: peers_from_proto(msg.provider_peers, stats),
                closer: peers_from_proto(msg.closer_peers, stats),
            },
            MessageType::Ping => Response::Ping,
            MessageType::AddProvider => return Err(KadError::UnexpectedResponse { sent, got }),
        })
    }

    /// Decodes and validates a response frame's body against the request it answers.
    pub fn decode(
        frame: &[u8],
        request: &Request,
        limits: &DecodeLimits,
    ) -> Result<Decoded<Response>, KadError> {
        let (msg, mut stats) = decode_message(frame, limits)?;
        let cluster_level_raw = msg.cluster_level_raw;
        let message = Response::from_proto(msg, request, &mut stats)?;
        Ok(Decoded {
            message,
            cluster_level_raw,
            stats,
        })
    }
}
