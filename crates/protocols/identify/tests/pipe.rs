//! Identify over an in-memory pipe: the spec's wire example, the handler's answer and push
//! paths, and hostile inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use chainp2p_core::identity::{Keypair, PeerId};
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::{BoxStream, ErrorKind, HandlerContext, Next, Role, StreamHandler};
use chainp2p_identify::{
    push, request, IdentifyError, IdentifyHandler, IdentifyInfo, LocalInfo, PushInfo, PROTOCOL,
    PUSH_PROTOCOL,
};
use futures::{AsyncReadExt, AsyncWriteExt};
use prost::Message;
use tokio_util::compat::TokioAsyncReadCompatExt;

const LIMIT: Duration = Duration::from_secs(10);

fn pipe() -> (BoxStream, BoxStream) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    (Box::new(a.compat()), Box::new(b.compat()))
}

fn ma(s: &str) -> Multiaddr {
    s.parse().unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A peer that writes `bytes` and closes; returns the other end.
fn peer_sending(bytes: Vec<u8>) -> BoxStream {
    let (ours, mut theirs) = pipe();
    tokio::spawn(async move {
        theirs.write_all(&bytes).await.unwrap();
        theirs.close().await.unwrap();
        let mut rest = Vec::new();
        let _ = theirs.read_to_end(&mut rest).await;
    });
    ours
}

fn example_info() -> IdentifyInfo {
    IdentifyInfo {
        public_key: Keypair::ed25519_from_bytes([7u8; 32]).unwrap().public(),
        protocol_version: "ipfs/0.1.0".into(),
        agent_version: "c-ipfs/1.0".into(),
        listen_addrs: vec![ma("/ip4/127.0.0.1/tcp/4001")],
        protocols: vec![
            "/ipfs/id/1.0.0".into(),
            "/ipfs/ping/1.0.0".into(),
            "/ipfs/kad/1.0.0".into(),
        ],
        observed_addr: Some(ma("/ip4/192.168.0.2/tcp/54321")),
        signed_peer_record: None,
    }
}

/// A minimal identify message as the spec's field list
/// (<https://github.com/libp2p/specs/blob/master/identify/README.md>) encodes it, byte for byte.
fn example_wire(info: &IdentifyInfo) -> Vec<u8> {
    let key = info.public_key.encode_protobuf();
    assert_eq!(&key[..4], &hex("08011220")[..]);
    let mut body = hex("0a 24");
    body.extend_from_slice(&key);
    body.extend(hex("12 08 04 7f000001 06 0fa1"));
    for p in ["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", "/ipfs/kad/1.0.0"] {
        body.extend([0x1a, p.len() as u8]);
        body.extend(p.as_bytes());
    }
    body.extend(hex("22 08 04 c0a80002 06 d431"));
    body.extend(hex("2a 0a"));
    body.extend(b"ipfs/0.1.0");
    body.extend(hex("32 0a"));
    body.extend(b"c-ipfs/1.0");
    assert_eq!(body.len(), 133);
    let mut wire = vec![0x85, 0x01]; // uvarint(133)
    wire.extend(body);
    wire
}

#[test]
fn encoding_matches_the_spec_example() {
    let info = example_info();
    let msg = info.to_proto(4096).unwrap();
    assert_eq!(msg.encode_length_delimited_to_vec(), example_wire(&info));
}

#[tokio::test]
async fn request_decodes_the_spec_example() {
    let info = example_info();
    let peer = info.public_key.to_peer_id();
    let mut io = peer_sending(example_wire(&info));
    let got = tokio::time::timeout(LIMIT, request(&mut io, Some(&peer)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, info);
}

#[tokio::test]
async fn handler_answers_with_info_updated_after_construction() {
    let key = Arc::new(Keypair::generate_ed25519());
    let handler = IdentifyHandler::new(LocalInfo::default());
    assert_eq!(
        handler.protocols(),
        vec![PROTOCOL.to_owned(), PUSH_PROTOCOL.to_owned()]
    );
    let swarm_copy = handler.clone();
    swarm_copy.set_listen_addrs(vec![ma("/ip4/127.0.0.1/tcp/4001")]);
    swarm_copy.set_protocols(vec![PROTOCOL.into(), "/ipfs/ping/1.0.0".into()]);

    let mut ctx = HandlerContext::new(Role::Listener, key.clone());
    ctx.remote_addr = Some(ma("/ip4/127.0.0.1/tcp/50000"));
    let (mut dialer, listener) = pipe();
    let task = tokio::spawn(async move { handler.handle(PROTOCOL, listener, ctx).await });

    let peer = key.public().to_peer_id();
    let info = tokio::time::timeout(LIMIT, request(&mut dialer, Some(&peer)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.public_key, key.public());
    assert_eq!(info.listen_addrs, vec![ma("/ip4/127.0.0.1/tcp/4001")]);
    assert_eq!(info.protocols, vec![PROTOCOL, "/ipfs/ping/1.0.0"]);
    assert_eq!(info.observed_addr, Some(ma("/ip4/127.0.0.1/tcp/50000")));
    assert_eq!(info.protocol_version, "ipfs/0.1.0");
    assert_eq!(
        info.agent_version,
        format!("chain-node/{}", env!("CARGO_PKG_VERSION"))
    );
    // Our listen addresses also travel signed (RFC 0003 peer record in an RFC 0002 envelope).
    let record = info.verified_record().unwrap().unwrap();
    assert_eq!(record.peer, peer);
    assert_eq!(record.addrs, vec![ma("/ip4/127.0.0.1/tcp/4001")]);
    assert!(matches!(task.await.unwrap(), Ok(Next::Done)));
}

#[tokio::test]
async fn messages_split_in_several_are_merged() {
    let info = example_info();
    let mut first = info.to_proto(4096).unwrap();
    let second = chainp2p_identify::proto::Identify {
        protocols: vec!["/extra/1.0.0".into()],
        listen_addrs: vec![ma("/ip6/::1/tcp/1").to_vec()],
        ..Default::default()
    };
    first.agent_version = None;
    let mut wire = first.encode_length_delimited_to_vec();
    wire.extend(
        chainp2p_identify::proto::Identify {
            agent_version: Some("late".into()),
            ..second
        }
        .encode_length_delimited_to_vec(),
    );
    let got = request(&mut peer_sending(wire), None).await.unwrap();
    assert_eq!(got.protocols.last().unwrap(), "/extra/1.0.0");
    assert_eq!(got.protocols.len(), 4);
    assert_eq!(
        got.listen_addrs,
        vec![ma("/ip4/127.0.0.1/tcp/4001"), ma("/ip6/::1/tcp/1")]
    );
    assert_eq!(got.agent_version, "late");
}

#[tokio::test]
async fn key_of_another_peer_is_an_authentication_error() {
    let info = example_info();
    let other = PeerId::random();
    let err = request(&mut peer_sending(example_wire(&info)), Some(&other))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.layer().as_str(), "identify");
    assert!(matches!(
        err.downcast_ref::<IdentifyError>(),
        Some(IdentifyError::PeerMismatch { .. })
    ));
}

#[tokio::test]
async fn oversize_message_is_a_limit_error() {
    let mut wire = vec![0xa9, 0x46]; // uvarint(9001) > 8 KiB
    wire.extend(vec![0u8; 9001]);
    let err = request(&mut peer_sending(wire), None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded);
    assert!(matches!(
        err.downcast_ref::<IdentifyError>(),
        Some(IdentifyError::MessageTooLarge {
            len: 9001,
            max: 8192
        })
    ));
}

#[tokio::test]
async fn too_many_messages_is_a_limit_error() {
    let one = chainp2p_identify::proto::Identify {
        protocols: vec!["/p".into()],
        ..Default::default()
    }
    .encode_length_delimited_to_vec();
    let err = request(&mut peer_sending(one.repeat(11)), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded);
    assert!(matches!(
        err.downcast_ref::<IdentifyError>(),
        Some(IdentifyError::TooManyMessages { max: 10 })
    ));
}

#[tokio::test]
async fn malformed_protobuf_is_a_protocol_error() {
    // Field 1 announces 5 bytes, only 1 follows inside the 3-byte message.
    let err = request(&mut peer_sending(vec![0x03, 0x0a, 0x05, 0x01]), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(matches!(
        err.downcast_ref::<IdentifyError>(),
        Some(IdentifyError::Malformed(_))
    ));

    // Well-formed protobuf, but the key bytes are garbage.
    let bad_key = chainp2p_identify::proto::Identify {
        public_key: Some(vec![1, 2, 3]),
        ..Default::default()
    };
    let err = request(
        &mut peer_sending(bad_key.encode_length_delimited_to_vec()),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);

    // No key at all.
    let no_key = chainp2p_identify::proto::Identify {
        agent_version: Some("x".into()),
        ..Default::default()
    };
    let err = request(
        &mut peer_sending(no_key.encode_length_delimited_to_vec()),
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err.downcast_ref::<IdentifyError>(),
        Some(IdentifyError::MissingPublicKey)
    ));

    let err = request(&mut peer_sending(Vec::new()), None)
        .await
        .unwrap_err();
    assert!(matches!(
        err.downcast_ref::<IdentifyError>(),
        Some(IdentifyError::NoMessage)
    ));
}

#[tokio::test]
async fn stream_ending_inside_a_message_is_reported() {
    let mut wire = example_wire(&example_info());
    wire.truncate(50);
    let err = request(&mut peer_sending(wire), None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
    assert!(matches!(
        err.downcast_ref::<IdentifyError>(),
        Some(IdentifyError::Truncated { buffered: 50 })
    ));
}

#[tokio::test(start_paused = true)]
async fn silent_peer_times_out() {
    let (mut dialer, _silent) = pipe();
    let err = request(&mut dialer, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn pushes_reach_subscribers_with_the_peer() {
    let remote = Keypair::generate_ed25519();
    let handler = IdentifyHandler::default();
    let mut pushes = handler.subscribe();
    let mut ctx = HandlerContext::new(Role::Listener, Arc::new(Keypair::generate_ed25519()));
    ctx.remote_peer = Some(remote.public().to_peer_id());

    let info = IdentifyInfo {
        public_key: remote.public(),
        ..example_info()
    };
    let (mut dialer, listener) = pipe();
    let task = tokio::spawn({
        let handler = handler.clone();
        let ctx = ctx.clone();
        async move { handler.handle(PUSH_PROTOCOL, listener, ctx).await }
    });
    tokio::time::timeout(LIMIT, push(&mut dialer, &info))
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(task.await.unwrap(), Ok(Next::Done)));
    let event = pushes.recv().await.unwrap();
    assert_eq!(event.peer, ctx.remote_peer);
    assert_eq!(event.push.public_key, Some(remote.public()));
    assert_eq!(event.push.protocols, info.protocols);

    // A push carrying someone else's key is refused and not published.
    let (mut dialer, listener) = pipe();
    let task = tokio::spawn(async move { handler.handle(PUSH_PROTOCOL, listener, ctx).await });
    push(&mut dialer, &example_info()).await.unwrap();
    let err = task.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(pushes.try_recv().is_err());
}

#[tokio::test]
async fn partial_push_without_key_is_accepted() {
    let handler = IdentifyHandler::default();
    let mut pushes = handler.subscribe();
    let ctx = HandlerContext::new(Role::Listener, Arc::new(Keypair::generate_ed25519()));
    let partial = chainp2p_identify::proto::Identify {
        protocols: vec!["/ipfs/kad/1.0.0".into()],
        ..Default::default()
    };
    let bytes = partial.encode_length_delimited_to_vec();
    handler
        .handle(PUSH_PROTOCOL, peer_sending(bytes), ctx)
        .await
        .unwrap();
    let event = pushes.recv().await.unwrap();
    assert_eq!(
        event.push,
        PushInfo {
            protocols: vec!["/ipfs/kad/1.0.0".into()],
            ..Default::default()
        }
    );
}

#[tokio::test]
async fn unknown_protocol_id_is_unsupported() {
    let (_d, listener) = pipe();
    let ctx = HandlerContext::new(Role::Listener, Arc::new(Keypair::generate_ed25519()));
    let err = IdentifyHandler::default()
        .handle("/other/1.0.0", listener, ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

/// Signed peer records against rust-libp2p's own code (libp2p-core 0.44): it reads ours with its
/// standard-form reader (what go writes); its identify uses the legacy form, whose reader
/// refuses ours (so rust-libp2p falls back to `listenAddrs`); we read both of its forms.
#[test]
fn signed_peer_records_interoperate_with_rust_libp2p() {
    let key = Keypair::generate_ed25519();
    let addrs = vec![ma("/ip4/127.0.0.1/tcp/4001"), ma("/ip6/::1/tcp/4002")];
    let ours = chainp2p_identify::record::sign(&key, 42, &addrs).unwrap();
    let envelope = libp2p_core::SignedEnvelope::from_protobuf_encoding(&ours).unwrap();
    let theirs = libp2p_core::PeerRecord::from_signed_envelope_interop(envelope.clone()).unwrap();
    assert_eq!(theirs.peer_id(), key.public().to_peer_id());
    assert_eq!(theirs.seq(), 42);
    assert_eq!(theirs.addresses(), addrs.as_slice());
    assert!(libp2p_core::PeerRecord::from_signed_envelope(envelope).is_err());

    let me = key.public().to_peer_id();
    for made_by_rust in [
        libp2p_core::PeerRecord::new(&key, addrs.clone()).unwrap(),
        libp2p_core::PeerRecord::new_interop(&key, addrs.clone()).unwrap(),
    ] {
        let bytes = made_by_rust.into_signed_envelope().into_protobuf_encoding();
        let read = chainp2p_identify::record::verify(&bytes, Some(&me)).unwrap();
        assert_eq!(read.addrs, addrs);
    }
}
