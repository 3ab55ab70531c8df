//! Wire format: the spec's example byte for byte, round trips of every message, what go and
//! rust-libp2p send, and hostile input (malformed, unknown type, oversize, wrong key, floods of
//! bogus peers, truncated streams).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::str::FromStr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use chainp2p_core::identity::{Keypair, PeerId};
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_kad::codec::KadCodec;
use chainp2p_kad::error::KadError;
use chainp2p_kad::handler::read_frame;
use chainp2p_kad::message::{DecodeLimits, KadPeer, Request, Response, WireRecord};
use chainp2p_kad::proto::{self, ConnectionType, MessageType};
use prost::Message as _;
use tokio_util::codec::Decoder;

const SPEC_PEER: &str = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn body(frame: &[u8]) -> Vec<u8> {
    let mut buf = BytesMut::from(frame);
    let out = KadCodec::new(1 << 22).decode(&mut buf).unwrap().unwrap();
    assert!(buf.is_empty(), "exactly one frame");
    out.to_vec()
}

fn random_peer(n: u8) -> KadPeer {
    KadPeer {
        id: Keypair::generate_ed25519().public().to_peer_id(),
        addrs: vec![
            Multiaddr::from_str(&format!("/ip4/10.0.0.{n}/tcp/4001")).unwrap(),
            Multiaddr::from_str("/ip6/::1/udp/4001/quic-v1").unwrap(),
        ],
        connection: ConnectionType::Connected,
    }
}

#[test]
fn find_node_is_byte_exact_with_the_spec_example() {
    let peer = PeerId::from_str(SPEC_PEER).unwrap();
    let req = Request::FindNode {
        key: peer.to_bytes(),
    };
    let expected = hex("2c 08 04
         12 26 00240801 12201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e
         50 01");
    assert_eq!(req.encode(1024).unwrap(), expected);
    let back = Request::decode(&expected[1..], &DecodeLimits::default()).unwrap();
    assert_eq!(back.message, req);
    assert_eq!(back.cluster_level_raw, 1);
    assert!(back.stats.is_clean());
}

/// What go (`pb.NewMessage(type, key, 0)`) and rust-libp2p 0.57 (`req_msg_to_proto`) put in
/// each request: type, key, clusterLevelRaw (go 1, rust 10), the record for PUT_VALUE, one
/// provider peer for ADD_PROVIDER. Ours must equal go's bytes and decode rust's.
#[test]
fn requests_are_encoded_as_go_and_rust_send_them() {
    let key = b"/pk/abc".to_vec();
    let me = random_peer(7);
    let cases = [
        (Request::FindNode { key: key.clone() }, 4),
        (Request::GetValue { key: key.clone() }, 1),
        (Request::GetProviders { key: key.clone() }, 3),
        (
            Request::AddProvider {
                key: key.clone(),
                providers: vec![me.clone()],
            },
            2,
        ),
        (
            Request::PutValue {
                record: WireRecord::new(key.clone(), b"v".to_vec()),
            },
            0,
        ),
    ];
    for (req, ty) in cases {
        let go = proto::Message {
            r#type: ty,
            key: key.clone(),
            cluster_level_raw: 1,
            record: matches!(req, Request::PutValue { .. }).then(|| proto::Record {
                key: key.clone(),
                value: b"v".to_vec(),
                ..Default::default()
            }),
            provider_peers: if ty == 2 { vec![me.to_proto()] } else { vec![] },
            ..Default::default()
        };
        let ours = req.encode(1 << 20).unwrap();
        assert_eq!(body(&ours), go.encode_to_vec(), "{req:?}");
        // rust-libp2p's form: clusterLevelRaw 10 (absent for PUT_VALUE); field order as rust
        // writes it (type, clusterLevelRaw, key, ...) is irrelevant to a protobuf decoder.
        let rust = proto::Message {
            cluster_level_raw: if ty == 0 { 0 } else { 10 },
            ..go
        };
        let got = Request::decode(&rust.encode_to_vec(), &DecodeLimits::default()).unwrap();
        assert_eq!(got.message, req);
    }
    // The first bytes of ADD_PROVIDER: type 2, then the key, the provider list, level 1.
    let add = Request::AddProvider {
        key: vec![0x12, 0x20, 1],
        providers: vec![me],
    }
    .encode(1 << 20)
    .unwrap();
    assert_eq!(&add[1..8], &[0x08, 0x02, 0x12, 0x03, 0x12, 0x20, 0x01]);
    assert_eq!(add[8], 0x4a, "providerPeers follows the key");
    assert_eq!(&add[add.len() - 2..], &[0x50, 0x01]);
    // PUT_VALUE is type 0: proto3 writes no type field at all.
    let put = Request::PutValue {
        record: WireRecord::new(b"k".to_vec(), b"v".to_vec()),
    }
    .encode(100)
    .unwrap();
    assert_eq!(put, hex("0d 12 01 6b 1a 06 0a 01 6b 12 01 76 50 01"));
}

#[test]
fn every_request_and_response_round_trips() {
    let limits = DecodeLimits::default();
    let key = b"/v/key".to_vec();
    let record = WireRecord {
        key: key.clone(),
        value: vec![9; 300],
        publisher: Some(random_peer(1).id),
        ttl: Some(3600),
        time_received: Some("2026-11-27T10:00:00Z".into()),
    };
    let peers: Vec<KadPeer> = (0..20).map(random_peer).collect();
    let pairs = [
        (
            Request::FindNode { key: key.clone() },
            Some(Response::FindNode {
                closer: peers.clone(),
            }),
        ),
        (
            Request::GetValue { key: key.clone() },
            Some(Response::GetValue {
                record: Some(record.clone()),
                closer: peers[..3].to_vec(),
            }),
        ),
        (
            Request::GetValue { key: key.clone() },
            Some(Response::GetValue {
                record: None,
                closer: peers.clone(),
            }),
        ),
        (
            Request::PutValue {
                record: record.clone(),
            },
            Some(Response::PutValue {
                record: record.clone(),
            }),
        ),
        (
            Request::GetProviders { key: key.clone() },
            Some(Response::GetProviders {
                providers: peers[..2].to_vec(),
                closer: peers[2..].to_vec(),
            }),
        ),
        (
            Request::AddProvider {
                key: key.clone(),
                providers: peers[..1].to_vec(),
            },
            None,
        ),
        (Request::Ping, Some(Response::Ping)),
    ];
    for (req, resp) in pairs {
        let frame = req.encode(1 << 20).unwrap();
        let got = Request::decode(&body(&frame), &limits).unwrap();
        assert_eq!(got.message, req);
        assert!(got.stats.is_clean());
        assert_eq!(req.expects_response(), resp.is_some());
        if let Some(resp) = resp {
            let (frame, cut) = resp.encode(req.key(), 1, 16 * 1024, 1 << 22).unwrap();
            assert_eq!(cut, 0);
            let got = Response::decode(&body(&frame), &req, &limits).unwrap();
            assert_eq!(got.message, resp, "{req:?}");
            assert_eq!(got.cluster_level_raw, 1, "level echoed");
        }
    }
}

#[test]
fn responses_echo_the_key_as_go_does() {
    let closer = vec![random_peer(1)];
    let find = Response::FindNode {
        closer: closer.clone(),
    }
    .to_proto(b"target", 1);
    assert!(find.key.is_empty(), "go answers FIND_NODE without the key");
    assert_eq!(find.r#type, MessageType::FindNode as i32);
    let get = Response::GetProviders {
        providers: vec![],
        closer,
    }
    .to_proto(b"mh", 10);
    assert_eq!(get.key, b"mh");
    assert_eq!(get.cluster_level_raw, 10);
}

#[test]
fn malformed_and_unknown_messages_are_typed_errors() {
    let limits = DecodeLimits::default();
    let req = Request::FindNode { key: vec![1] };
    for bad in [&[0x12, 0x05, 1][..], &[0xff][..], &[0x42, 0x7f][..]] {
        let e = Request::decode(bad, &limits).unwrap_err();
        assert!(
            matches!(e, KadError::Malformed(_) | KadError::Decode(_)),
            "{e:?}"
        );
        assert!(Response::decode(bad, &req, &limits).is_err());
    }
    // A key of the wrong wire type is caught by prost.
    assert!(matches!(
        Request::decode(&[0x10, 0x01], &limits),
        Err(KadError::Decode(_))
    ));
    let unknown = proto::Message {
        r#type: 9,
        key: vec![1],
        ..Default::default()
    }
    .encode_to_vec();
    assert!(matches!(
        Request::decode(&unknown, &limits),
        Err(KadError::UnknownMessageType(9))
    ));
    assert!(matches!(
        Response::decode(&unknown, &req, &limits),
        Err(KadError::UnknownMessageType(9))
    ));
    // Empty and oversize keys.
    let empty = proto::Message {
        r#type: 4,
        ..Default::default()
    }
    .encode_to_vec();
    assert!(matches!(
        Request::decode(&empty, &limits),
        Err(KadError::EmptyKey(MessageType::FindNode))
    ));
    let long = proto::Message {
        r#type: 1,
        key: vec![1; limits.max_key_size + 1],
        ..Default::default()
    }
    .encode_to_vec();
    assert!(matches!(
        Request::decode(&long, &limits),
        Err(KadError::KeyTooLarge { .. })
    ));
}

#[test]
fn records_under_the_wrong_key_are_refused() {
    let limits = DecodeLimits::default();
    let put = |key: &[u8], record: Option<&[u8]>| {
        proto::Message {
            r#type: 0,
            key: key.to_vec(),
            record: record.map(|k| proto::Record {
                key: k.to_vec(),
                value: b"v".to_vec(),
                ..Default::default()
            }),
            ..Default::default()
        }
        .encode_to_vec()
    };
    assert!(matches!(
        Request::decode(&put(b"a", Some(b"b")), &limits),
        Err(KadError::WrongKey)
    ));
    assert!(matches!(
        Request::decode(&put(b"a", None), &limits),
        Err(KadError::MissingRecord)
    ));
    assert_eq!(KadError::WrongKey.to_string(), "record under the wrong key");
    // Responses: a GET_VALUE or PUT_VALUE answer with a record under another key.
    let get = Request::GetValue { key: b"a".to_vec() };
    let resp = Response::GetValue {
        record: Some(WireRecord::new(b"b".to_vec(), b"v".to_vec())),
        closer: vec![],
    }
    .to_proto(b"a", 1)
    .encode_to_vec();
    assert!(matches!(
        Response::decode(&resp, &get, &limits),
        Err(KadError::WrongKey)
    ));
    let sent = Request::PutValue {
        record: WireRecord::new(b"a".to_vec(), b"v".to_vec()),
    };
    assert!(matches!(
        Response::decode(&put(b"b", Some(b"b")), &sent, &limits),
        Err(KadError::WrongKey)
    ));
    assert!(matches!(
        Response::decode(&put(b"a", None), &sent, &limits),
        Err(KadError::MissingRecord)
    ));
    // A response of another type.
    let find = Response::FindNode { closer: vec![] }
        .to_proto(b"", 1)
        .encode_to_vec();
    assert!(matches!(
        Response::decode(&find, &get, &limits),
        Err(KadError::UnexpectedResponse {
            sent: MessageType::GetValue,
            got: MessageType::FindNode
        })
    ));
}

#[test]
fn bad_peers_and_addresses_are_skipped_and_counted() {
    let good = random_peer(1);
    let mut with_bad_addr = good.to_proto();
    with_bad_addr.addrs.push(vec![0xff, 0xff, 0xff]);
    with_bad_addr.connection = 42; // unknown: reads as NOT_CONNECTED
    let msg = proto::Message {
        r#type: 4,
        closer_peers: vec![
            proto::Peer {
                id: b"not a peer id".to_vec(),
                ..Default::default()
            },
            with_bad_addr,
        ],
        ..Default::default()
    };
    let req = Request::FindNode { key: vec![1] };
    let got = Response::decode(&msg.encode_to_vec(), &req, &DecodeLimits::default()).unwrap();
    let Response::FindNode { closer } = got.message else {
        panic!("wrong variant")
    };
    assert_eq!(closer.len(), 1);
    assert_eq!(closer[0].id, good.id);
    assert_eq!(closer[0].addrs, good.addrs);
    assert_eq!(closer[0].connection, ConnectionType::NotConnected);
    assert_eq!(got.stats.invalid_peers, 1);
    assert_eq!(got.stats.invalid_addrs, 1);
    // ADD_PROVIDER with no valid provider at all is refused.
    let add = proto::Message {
        r#type: 2,
        key: vec![1],
        provider_peers: vec![proto::Peer::default()],
        ..Default::default()
    };
    assert!(matches!(
        Request::decode(&add.encode_to_vec(), &DecodeLimits::default()),
        Err(KadError::NoValidProvider)
    ));
}

/// A peer answering with 10,000 peers (one with 1,002 addresses) costs at most the limits:
/// only `max_peers` peers and `max_addrs` addresses each are decoded, the rest skipped.
#[test]
fn ten_thousand_bogus_peers_cost_bounded_time_and_memory() {
    let limits = DecodeLimits::default();
    let req = Request::FindNode { key: vec![1] };
    let valid = random_peer(1).to_proto();
    let mut peers = Vec::new();
    for i in 0..10_000u32 {
        let mut p = if i % 2 == 0 {
            valid.clone()
        } else {
            proto::Peer {
                id: i.to_be_bytes().to_vec(),
                addrs: vec![vec![4, 1, 2, 3, 4]; 3],
                ..Default::default()
            }
        };
        if i == 0 {
            p.addrs.extend((0..1000).map(|_| vec![4, 1, 2, 3, 4]));
        }
        peers.push(p);
    }
    let msg = proto::Message {
        r#type: 4,
        closer_peers: peers,
        ..Default::default()
    }
    .encode_to_vec();
    assert!(msg.len() < 4 << 20, "{} bytes", msg.len());
    let start = Instant::now();
    let got = Response::decode(&msg, &req, &limits).unwrap();
    let took = start.elapsed();
    let Response::FindNode { closer } = got.message else {
        panic!("wrong variant")
    };
    assert_eq!(closer.len(), limits.max_peers / 2);
    assert_eq!(closer[0].addrs.len(), limits.max_addrs);
    assert!(closer[1..].iter().all(|p| p.addrs.len() == 2));
    assert_eq!(got.stats.peers_over_limit, 10_000 - limits.max_peers);
    assert_eq!(got.stats.invalid_peers, limits.max_peers / 2);
    assert_eq!(got.stats.addrs_over_limit, 1002 - limits.max_addrs);
    eprintln!(
        "decoded a {} KiB response of 10,000 peers in {took:?}",
        msg.len() / 1024
    );
    assert!(took < Duration::from_millis(500), "{took:?}");
}

#[test]
fn our_responses_are_cut_to_the_response_limit() {
    let peers: Vec<KadPeer> = (0..300).map(|i| random_peer(i as u8)).collect();
    let resp = Response::GetProviders {
        providers: peers[..100].to_vec(),
        closer: peers[100..].to_vec(),
    };
    let (frame, cut) = resp.encode(b"mh", 1, 16 * 1024, 4 << 20).unwrap();
    assert!(frame.len() <= 16 * 1024 + 3, "{}", frame.len());
    assert!(cut > 0);
    let req = Request::GetProviders {
        key: b"mh".to_vec(),
    };
    let got = Response::decode(&body(&frame), &req, &DecodeLimits::default()).unwrap();
    let Response::GetProviders { providers, closer } = got.message else {
        panic!("wrong variant")
    };
    assert_eq!(providers.len() + closer.len() + cut, 300);
    assert_eq!(
        closer,
        peers[100..100 + closer.len()],
        "closest kept, in order"
    );
    // A record larger than the soft limit is still sent whole, within the hard limit...
    let big = Response::GetValue {
        record: Some(WireRecord::new(b"k".to_vec(), vec![0; 20_000])),
        closer: peers[..20].to_vec(),
    };
    let (frame, cut) = big.encode(b"k", 1, 16 * 1024, 4 << 20).unwrap();
    assert_eq!(cut, 20);
    assert!(frame.len() > 20_000);
    // ...and refused over it.
    assert!(matches!(
        big.encode(b"k", 1, 16 * 1024, 16 * 1024),
        Err(KadError::OwnMessageTooLarge { .. })
    ));
}

/// Counts the bytes handed out, to prove an oversize frame's body is never read.
struct Counting<'a> {
    data: &'a [u8],
    read: usize,
}

impl futures::AsyncRead for Counting<'_> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let n = buf.len().min(self.data.len() - self.read);
        let start = self.read;
        buf[..n].copy_from_slice(&self.data[start..start + n]);
        self.read += n;
        std::task::Poll::Ready(Ok(n))
    }
}

#[tokio::test]
async fn oversize_frame_is_refused_before_its_body_is_read() {
    // 5 MiB announced (prefix 80 80 c0 02), then the body.
    let mut data = vec![0x80, 0x80, 0xc0, 0x02];
    data.extend(std::iter::repeat_n(0u8, 64));
    let mut r = Counting {
        data: &data,
        read: 0,
    };
    let e = read_frame(&mut r, 4 << 20).await.unwrap_err();
    assert!(
        matches!(e, KadError::MessageTooLarge { len, max } if len == 5 << 20 && max == 4 << 20),
        "{e:?}"
    );
    assert_eq!(r.read, 4, "only the length prefix was read");
}

#[tokio::test]
async fn truncated_streams_and_bad_prefixes_are_typed_errors() {
    // EOF in the body.
    let mut r = futures::io::Cursor::new(vec![0x05, 0x08, 0x04]);
    assert!(matches!(
        read_frame(&mut r, 1024).await,
        Err(KadError::Truncated {
            got: 3,
            expected: 6
        })
    ));
    // EOF in the prefix.
    let mut r = futures::io::Cursor::new(vec![0x80]);
    assert!(matches!(
        read_frame(&mut r, 1024).await,
        Err(KadError::Truncated { .. })
    ));
    // Clean EOF between frames.
    let mut r = futures::io::Cursor::new(Vec::new());
    assert!(read_frame(&mut r, 1024).await.unwrap().is_none());
    // Invalid varints: over-long and non-minimal.
    let mut r = futures::io::Cursor::new(vec![0xff; 12]);
    assert!(matches!(
        read_frame(&mut r, 1024).await,
        Err(KadError::InvalidVarint(_))
    ));
    let mut r = futures::io::Cursor::new(vec![0x81, 0x00]);
    assert!(matches!(
        read_frame(&mut r, 1024).await,
        Err(KadError::InvalidVarint(_))
    ));
    // Two frames back to back are read one at a time, nothing past the first consumed.
    let one = Request::Ping.encode(100).unwrap();
    let mut r = futures::io::Cursor::new([one.clone(), one.clone()].concat());
    assert_eq!(read_frame(&mut r, 100).await.unwrap().unwrap(), &one[1..]);
    assert_eq!(r.position() as usize, one.len());
}

/// A typical FIND_NODE answer (20 peers, 2 addresses each) encodes and decodes fast enough
/// for a node serving thousands of lookups a second.
#[test]
fn typical_response_round_trip_speed() {
    let peers: Vec<KadPeer> = (0..20).map(random_peer).collect();
    let resp = Response::FindNode { closer: peers };
    let req = Request::FindNode { key: vec![1; 38] };
    let limits = DecodeLimits::default();
    let n = 2_000;
    let start = Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        let (frame, _) = resp.encode(b"", 1, 16 * 1024, 4 << 20).unwrap();
        bytes += frame.len();
        let got = Response::decode(&frame[2..], &req, &limits).unwrap();
        assert!(got.stats.is_clean());
    }
    let took = start.elapsed();
    let per = took / n;
    eprintln!(
        "FIND_NODE response ({} bytes, 20 peers): encode+decode {per:?} each",
        bytes / n as usize
    );
    assert!(per < Duration::from_millis(1), "{per:?}");
}

/// c-libp2p (c-ipfs) puts the base58 text of a peer id in `Peer.id`, not its bytes.
#[test]
fn peer_ids_as_base58_text_decode_to_the_peer_id() {
    let good = random_peer(2);
    let mut as_text = good.to_proto();
    as_text.id = good.id.to_base58().into_bytes();
    let mut stats = Default::default();
    let got = KadPeer::from_proto(as_text.clone(), &mut stats).unwrap();
    assert_eq!(got, good);
    assert!(stats.is_clean());
    // Through a whole response, next to a peer sent as bytes and text that is no peer id.
    let bytes_peer = random_peer(3);
    let msg = proto::Message {
        r#type: 4,
        closer_peers: vec![
            as_text,
            bytes_peer.to_proto(),
            proto::Peer {
                id: b"QmNotAPeerIdAtAll".to_vec(),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let req = Request::FindNode { key: vec![1] };
    let got = Response::decode(&msg.encode_to_vec(), &req, &DecodeLimits::default()).unwrap();
    assert_eq!(
        got.message,
        Response::FindNode {
            closer: vec![good, bytes_peer]
        }
    );
    assert_eq!(got.stats.invalid_peers, 1);
}

/// c-libp2p answers FIND_NODE in `providerPeers` (routing/dht_protocol.c).
#[test]
fn find_node_answer_in_provider_peers_is_taken_as_closer() {
    let (a, b, c) = (random_peer(4), random_peer(5), random_peer(6));
    let req = Request::FindNode { key: vec![1] };
    let decode = |closer: &[&KadPeer], providers: &[&KadPeer]| {
        let msg = proto::Message {
            r#type: 4,
            closer_peers: closer.iter().map(|p| p.to_proto()).collect(),
            provider_peers: providers.iter().map(|p| p.to_proto()).collect(),
            ..Default::default()
        };
        Response::decode(&msg.encode_to_vec(), &req, &DecodeLimits::default())
            .unwrap()
            .message
    };
    assert_eq!(
        decode(&[], &[&a, &b]),
        Response::FindNode {
            closer: vec![a.clone(), b.clone()]
        }
    );
    // closerPeers, when present, is the answer.
    assert_eq!(
        decode(&[&c], &[&a, &b]),
        Response::FindNode {
            closer: vec![c.clone()]
        }
    );
    assert_eq!(decode(&[], &[]), Response::FindNode { closer: vec![] });
    // GET_PROVIDERS keeps the two lists apart.
    let msg = proto::Message {
        r#type: 3,
        key: vec![1],
        provider_peers: vec![a.to_proto()],
        ..Default::default()
    };
    let req = Request::GetProviders { key: vec![1] };
    assert_eq!(
        Response::decode(&msg.encode_to_vec(), &req, &DecodeLimits::default())
            .unwrap()
            .message,
        Response::GetProviders {
            providers: vec![a],
            closer: vec![]
        }
    );
}
