//! The stream handler over in-memory pipes: several requests per stream answered in order, a
//! client request against it, the per-peer inbound limit, the idle timeout (paused clock),
//! client timeouts, and bad input resetting the stream.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chainp2p_core::identity::{Keypair, PeerId};
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::{BoxStream, ChainError, ErrorKind, HandlerContext, Next, Role, StreamHandler};
use chainp2p_kad::error::KadError;
use chainp2p_kad::handler::{read_frame, send_request, KadHandler, KadServer};
use chainp2p_kad::message::{KadPeer, Request, Response, WireRecord};
use chainp2p_kad::proto::ConnectionType;
use chainp2p_kad::Config;
use futures::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

type Client = Compat<tokio::io::DuplexStream>;

/// Answers FIND_NODE with one fixed peer, GET_VALUE with a record under the key, PUT_VALUE by
/// echo, PING by PING; records every call.
#[derive(Default)]
struct TestServer {
    calls: Mutex<Vec<(PeerId, Option<Multiaddr>, Request)>>,
}

fn some_peer() -> KadPeer {
    KadPeer {
        id: Keypair::generate_ed25519().public().to_peer_id(),
        addrs: vec![Multiaddr::from_str("/ip4/127.0.0.1/tcp/4001").unwrap()],
        connection: ConnectionType::Connected,
    }
}

impl KadServer for TestServer {
    fn handle(
        &self,
        from: &PeerId,
        from_addr: Option<&Multiaddr>,
        request: Request,
    ) -> Result<Option<Response>, KadError> {
        self.calls
            .lock()
            .unwrap()
            .push((*from, from_addr.cloned(), request.clone()));
        Ok(match request {
            Request::FindNode { .. } => Some(Response::FindNode {
                closer: vec![some_peer()],
            }),
            Request::GetValue { key } => Some(Response::GetValue {
                record: Some(WireRecord::new(key, b"value".to_vec())),
                closer: vec![],
            }),
            Request::PutValue { record } => Some(Response::PutValue { record }),
            Request::GetProviders { .. } => Some(Response::GetProviders {
                providers: vec![],
                closer: vec![],
            }),
            Request::AddProvider { .. } => None,
            Request::Ping => Some(Response::Ping),
        })
    }
}

struct Setup {
    handler: KadHandler,
    server: Arc<TestServer>,
    remote: PeerId,
}

fn setup(config: Config) -> Setup {
    let server = Arc::new(TestServer::default());
    Setup {
        handler: KadHandler::new(config, server.clone()).unwrap(),
        server,
        remote: Keypair::generate_ed25519().public().to_peer_id(),
    }
}

impl Setup {
    /// Opens an inbound stream from `self.remote`: the handler runs on one end in a task, the
    /// client end is returned.
    fn open(&self) -> (Client, JoinHandle<Result<Next, chainp2p_core::ChainError>>) {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let io: BoxStream = Box::new(server.compat());
        let mut ctx = HandlerContext::new(Role::Listener, Arc::new(Keypair::generate_ed25519()));
        ctx.remote_peer = Some(self.remote);
        ctx.remote_addr = Some(Multiaddr::from_str("/ip4/127.0.0.1/tcp/5555").unwrap());
        let handler = self.handler.clone();
        let protocol = handler.config().protocol_id().to_owned();
        let task = tokio::spawn(async move { handler.handle(&protocol, io, ctx).await });
        (client.compat(), task)
    }
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("test timed out")
}

#[tokio::test]
async fn several_requests_on_one_stream_are_answered_in_order() {
    within(async {
        let s = setup(Config::default());
        let config = Config::default();
        let (mut io, task) = s.open();
        let provider = some_peer();
        let requests = [
            Request::GetValue {
                key: b"/v/one".to_vec(),
            },
            Request::AddProvider {
                key: b"mh".to_vec(),
                providers: vec![provider],
            },
            Request::FindNode {
                key: b"target".to_vec(),
            },
            Request::PutValue {
                record: WireRecord::new(b"/v/two".to_vec(), b"2".to_vec()),
            },
            Request::Ping,
        ];
        let mut answers = Vec::new();
        for req in &requests {
            answers.push(send_request(&mut io, req, &config).await.unwrap());
        }
        assert_eq!(
            answers[0],
            Some(Response::GetValue {
                record: Some(WireRecord::new(b"/v/one".to_vec(), b"value".to_vec())),
                closer: vec![]
            })
        );
        assert_eq!(answers[1], None, "ADD_PROVIDER has no response");
        assert!(matches!(&answers[2], Some(Response::FindNode { closer }) if closer.len() == 1));
        assert!(matches!(&answers[3], Some(Response::PutValue { record }) if record.value == b"2"));
        assert_eq!(answers[4], Some(Response::Ping));

        io.close().await.unwrap();
        assert!(matches!(task.await.unwrap(), Ok(Next::Done)));
        let calls = s.server.calls.lock().unwrap();
        let seen: Vec<_> = calls.iter().map(|c| c.2.clone()).collect();
        assert_eq!(seen, requests, "server saw every request, in order");
        assert!(calls.iter().all(|c| c.0 == s.remote));
        assert_eq!(
            calls[0].1,
            Some(Multiaddr::from_str("/ip4/127.0.0.1/tcp/5555").unwrap())
        );
        assert_eq!(s.handler.inbound_streams(&s.remote), 0, "slot released");
    })
    .await;
}

#[tokio::test]
async fn configured_protocol_id_is_served_and_others_refused() {
    let s = setup(Config::default().with_protocol("/ipfs/lan/kad/1.0.0"));
    assert_eq!(s.handler.protocols(), vec!["/ipfs/lan/kad/1.0.0"]);
    let (_client, server) = tokio::io::duplex(1024);
    let mut ctx = HandlerContext::new(Role::Listener, Arc::new(Keypair::generate_ed25519()));
    ctx.remote_peer = Some(s.remote);
    let e = s
        .handler
        .handle("/ipfs/kad/1.0.0", Box::new(server.compat()), ctx.clone())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    // A stream without an authenticated peer is refused.
    let (_client, server) = tokio::io::duplex(1024);
    ctx.remote_peer = None;
    let e = s
        .handler
        .handle("/ipfs/lan/kad/1.0.0", Box::new(server.compat()), ctx)
        .await
        .unwrap_err();
    assert!(matches!(
        e.downcast_ref::<KadError>(),
        Some(KadError::UnauthenticatedPeer)
    ));
    assert!(KadHandler::new(Config::default().with_protocol("bad"), s.server.clone()).is_err());
}

#[tokio::test]
async fn per_peer_inbound_streams_are_limited() {
    within(async {
        let s = setup(Config::default().with_max_inbound_streams_per_peer(2));
        let config = Config::default();
        let (mut a, task_a) = s.open();
        let (mut b, _task_b) = s.open();
        // Both are being served (a round trip on each proves the slot is taken).
        send_request(&mut a, &Request::Ping, &config).await.unwrap();
        send_request(&mut b, &Request::Ping, &config).await.unwrap();
        assert_eq!(s.handler.inbound_streams(&s.remote), 2);

        let (mut c, task_c) = s.open();
        let e = task_c.await.unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::LimitExceeded);
        assert!(matches!(
            e.downcast_ref::<KadError>(),
            Some(KadError::TooManyInboundRequests { max: 2, .. })
        ));
        // The refused stream was dropped: the client sees it closed.
        let e = send_request(&mut c, &Request::Ping, &config)
            .await
            .unwrap_err();
        assert!(matches!(e, KadError::Closed | KadError::Io(_)), "{e:?}");

        // Another peer is not affected; freeing a slot lets the peer in again.
        a.close().await.unwrap();
        task_a.await.unwrap().unwrap();
        assert_eq!(s.handler.inbound_streams(&s.remote), 1);
        let (mut d, _task_d) = s.open();
        send_request(&mut d, &Request::Ping, &config).await.unwrap();
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn idle_inbound_streams_are_closed_after_the_timeout() {
    let s = setup(Config::default());
    let (mut io, task) = s.open();
    let start = tokio::time::Instant::now();
    send_request(&mut io, &Request::Ping, &Config::default())
        .await
        .unwrap();
    // Nothing more is sent: the clock runs ahead to the idle timeout.
    assert!(matches!(task.await.unwrap(), Ok(Next::Done)));
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(60), "{waited:?}");
    assert!(waited < Duration::from_secs(61), "{waited:?}");
    let mut rest = Vec::new();
    assert_eq!(io.read_to_end(&mut rest).await.unwrap(), 0, "stream ended");
    assert_eq!(s.handler.inbound_streams(&s.remote), 0);
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_never_answers_times_out() {
    let (client, _silent) = tokio::io::duplex(1024);
    let mut io = client.compat();
    let config = Config::default().with_request_timeout(Duration::from_secs(3));
    let start = tokio::time::Instant::now();
    let e = send_request(&mut io, &Request::FindNode { key: vec![1] }, &config)
        .await
        .unwrap_err();
    assert!(matches!(e, KadError::Timeout(t) if t == Duration::from_secs(3)));
    assert!(start.elapsed() >= Duration::from_secs(3));
    assert_eq!(ChainError::from(e).kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn bad_requests_reset_the_stream_with_a_typed_error() {
    within(async {
        let s = setup(Config::default());
        // Unknown message type.
        let (mut io, task) = s.open();
        io.write_all(&[0x04, 0x08, 0x09, 0x12, 0x00]).await.unwrap();
        let e = task.await.unwrap().unwrap_err();
        assert!(matches!(
            e.downcast_ref::<KadError>(),
            Some(KadError::UnknownMessageType(9))
        ));
        assert_eq!(e.layer().as_str(), "kad");
        assert_eq!(e.kind(), ErrorKind::Protocol);
        // Oversize frame: refused from the prefix alone.
        let (mut io, task) = s.open();
        io.write_all(&[0x80, 0x80, 0x80, 0x04]).await.unwrap(); // 8 MiB
        let e = task.await.unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::LimitExceeded);
        // EOF inside a request.
        let (mut io, task) = s.open();
        io.write_all(&[0x10, 0x08]).await.unwrap();
        io.close().await.unwrap();
        let e = task.await.unwrap().unwrap_err();
        assert!(matches!(
            e.downcast_ref::<KadError>(),
            Some(KadError::Truncated { .. })
        ));
        assert!(s.server.calls.lock().unwrap().is_empty());
        assert_eq!(s.handler.inbound_streams(&s.remote), 0);
    })
    .await;
}

/// A response is cut to `max_response_size` when the server's answer is too long.
#[tokio::test]
async fn long_answers_are_cut_to_the_response_limit() {
    struct Many;
    impl KadServer for Many {
        fn handle(
            &self,
            _: &PeerId,
            _: Option<&Multiaddr>,
            _: Request,
        ) -> Result<Option<Response>, KadError> {
            Ok(Some(Response::FindNode {
                closer: (0..500).map(|_| some_peer()).collect(),
            }))
        }
    }
    within(async {
        let handler = KadHandler::new(Config::default(), Arc::new(Many)).unwrap();
        let (client, server) = tokio::io::duplex(64 * 1024);
        let peer = Keypair::generate_ed25519().public().to_peer_id();
        let serve = tokio::spawn(async move {
            let mut io = server.compat();
            handler.serve(&mut io, &peer, None).await
        });
        let mut io = client.compat();
        let frame = Request::FindNode { key: vec![1] }.encode(100).unwrap();
        io.write_all(&frame).await.unwrap();
        let body = read_frame(&mut io, 1 << 20).await.unwrap().unwrap();
        assert!(body.len() <= 16 * 1024, "{}", body.len());
        io.close().await.unwrap();
        let report = serve.await.unwrap().unwrap();
        assert_eq!(report.requests, 1);
        assert_eq!(report.responses, 1);
        let req = Request::FindNode { key: vec![1] };
        let got = chainp2p_kad::message::Response::decode(
            &body,
            &req,
            &chainp2p_kad::message::DecodeLimits {
                max_peers: 1000,
                ..Default::default()
            },
        )
        .unwrap();
        let Response::FindNode { closer } = got.message else {
            panic!("wrong variant")
        };
        assert_eq!(closer.len() + report.peers_cut, 500, "{report:?}");
        assert!(report.peers_cut > 0);
    })
    .await;
}
