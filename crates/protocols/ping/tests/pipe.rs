//! Ping over an in-memory pipe: the protocol does not care what is below it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use chainp2p_core::identity::Keypair;
use chainp2p_core::{BoxStream, ErrorKind, HandlerContext, Next, Role, StreamHandler};
use chainp2p_ping::{ping, ping_with_timeout, PingConfig, PingError, PingHandler, PROTOCOL};
use futures::{AsyncReadExt, AsyncWriteExt};
use tokio_util::compat::TokioAsyncReadCompatExt;

const LIMIT: Duration = Duration::from_secs(10);

fn pipe() -> (BoxStream, BoxStream) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    (Box::new(a.compat()), Box::new(b.compat()))
}

fn ctx() -> HandlerContext {
    HandlerContext::new(Role::Listener, Arc::new(Keypair::generate_ed25519()))
}

#[tokio::test]
async fn three_pings_on_one_stream_then_close() {
    let (mut dialer, listener) = pipe();
    let handler = PingHandler::default();
    assert_eq!(handler.protocols(), vec![PROTOCOL.to_owned()]);
    let server = tokio::spawn(async move { handler.handle(PROTOCOL, listener, ctx()).await });
    tokio::time::timeout(LIMIT, async {
        for _ in 0..3 {
            let rtt = ping(&mut dialer).await.unwrap();
            assert!(rtt < LIMIT);
        }
        dialer.close().await.unwrap();
        let mut rest = Vec::new();
        dialer.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "listener sends nothing but echoes");
    })
    .await
    .unwrap();
    assert!(matches!(server.await.unwrap(), Ok(Next::Done)));
}

#[tokio::test]
async fn serve_counts_answered_pings() {
    let (mut dialer, mut listener) = pipe();
    let server = tokio::spawn(async move { PingHandler::default().serve(&mut listener).await });
    for _ in 0..5 {
        ping(&mut dialer).await.unwrap();
    }
    dialer.close().await.unwrap();
    assert_eq!(
        tokio::time::timeout(LIMIT, server)
            .await
            .unwrap()
            .unwrap()
            .unwrap(),
        5
    );
}

#[tokio::test]
async fn echo_mismatch_is_a_protocol_error() {
    let (mut dialer, mut peer) = pipe();
    tokio::spawn(async move {
        let mut buf = [0u8; 32];
        peer.read_exact(&mut buf).await.unwrap();
        buf[7] ^= 1;
        peer.write_all(&buf).await.unwrap();
        peer
    });
    let err = tokio::time::timeout(LIMIT, ping(&mut dialer))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(err.layer().as_str(), "ping");
    assert!(matches!(
        err.downcast_ref::<PingError>(),
        Some(PingError::Mismatch)
    ));
}

#[tokio::test(start_paused = true)]
async fn silent_peer_times_out_after_the_default_deadline() {
    let (mut dialer, _silent) = pipe();
    let started = tokio::time::Instant::now();
    let err = ping(&mut dialer).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(matches!(
        err.downcast_ref::<PingError>(),
        Some(PingError::Timeout { what: "echo", .. })
    ));
    let waited = started.elapsed();
    assert!(
        waited >= chainp2p_ping::DEFAULT_PING_TIMEOUT
            && waited < chainp2p_ping::DEFAULT_PING_TIMEOUT + Duration::from_millis(10)
    );
}

#[tokio::test]
async fn peer_closing_mid_echo_is_reported() {
    let (mut dialer, mut peer) = pipe();
    tokio::spawn(async move {
        let mut buf = [0u8; 32];
        peer.read_exact(&mut buf).await.unwrap();
        peer.write_all(&buf[..10]).await.unwrap();
        peer.close().await.unwrap();
    });
    let err = ping_with_timeout(&mut dialer, LIMIT).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
    assert!(matches!(
        err.downcast_ref::<PingError>(),
        Some(PingError::Truncated { got: 10 })
    ));
}

#[tokio::test(start_paused = true)]
async fn listener_gives_up_on_an_idle_stream() {
    let (_dialer, listener) = pipe();
    let handler = PingHandler::new(PingConfig {
        idle_timeout: Duration::from_secs(5),
    });
    let started = tokio::time::Instant::now();
    let err = handler.handle(PROTOCOL, listener, ctx()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_millis(5010),
        "{waited:?}"
    );
}

#[tokio::test]
async fn listener_rejects_a_truncated_ping() {
    let (mut dialer, listener) = pipe();
    dialer.write_all(&[1u8; 31]).await.unwrap();
    dialer.close().await.unwrap();
    let err = tokio::time::timeout(
        LIMIT,
        PingHandler::default().handle(PROTOCOL, listener, ctx()),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
    assert!(matches!(
        err.downcast_ref::<PingError>(),
        Some(PingError::Truncated { got: 31 })
    ));
}
