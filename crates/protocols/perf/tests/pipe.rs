//! Perf over an in-memory pipe: the protocol does not care what is below it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use chainp2p_core::identity::Keypair;
use chainp2p_core::{BoxStream, ErrorKind, HandlerContext, Next, Role, StreamHandler};
use chainp2p_perf::{run, PerfConfig, PerfError, PerfHandler, Served, PROTOCOL};
use futures::{AsyncReadExt, AsyncWriteExt};
use tokio_util::compat::TokioAsyncReadCompatExt;

const LIMIT: Duration = Duration::from_secs(20);
const MIB: u64 = 1 << 20;

fn pipe() -> (BoxStream, BoxStream) {
    let (a, b) = tokio::io::duplex(256 * 1024);
    (Box::new(a.compat()), Box::new(b.compat()))
}

fn ctx() -> HandlerContext {
    HandlerContext::new(Role::Listener, Arc::new(Keypair::generate_ed25519()))
}

#[tokio::test]
async fn upload_and_download_through_the_handler() {
    for (up, down) in [(MIB, 3 * MIB), (0, 0), (0, 5), (123_457, 0)] {
        let (mut client, server) = pipe();
        let handler = PerfHandler::default();
        assert_eq!(handler.protocols(), vec![PROTOCOL.to_owned()]);
        let task = tokio::spawn(async move { handler.handle(PROTOCOL, server, ctx()).await });
        let report = tokio::time::timeout(LIMIT, run(&mut client, up, down))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((report.upload_bytes, report.download_bytes), (up, down));
        assert!(report.total_time >= report.upload_time + report.download_time);
        assert!(matches!(task.await.unwrap(), Ok(Next::Done)));
    }
}

#[tokio::test]
async fn server_sends_nothing_before_the_upload_ends() {
    let (mut client, mut server) = pipe();
    let task = tokio::spawn(async move { PerfHandler::default().serve(&mut server).await });
    client.write_all(&100u64.to_be_bytes()).await.unwrap();
    client.write_all(&[7u8; 1000]).await.unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(100), client.read(&mut byte)).await;
    assert!(
        early.is_err(),
        "server must wait for our EOF before answering"
    );
    client.close().await.unwrap();
    let mut back = Vec::new();
    client.read_to_end(&mut back).await.unwrap();
    assert_eq!(back.len(), 100);
    let served = tokio::time::timeout(LIMIT, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        served,
        Served {
            received: 1000,
            sent: 100
        }
    );
}

#[tokio::test]
async fn short_download_is_an_error() {
    let (mut client, mut server) = pipe();
    tokio::spawn(async move {
        let mut all = Vec::new();
        server.read_to_end(&mut all).await.unwrap();
        server.write_all(&[0u8; 10]).await.unwrap();
        server.close().await.unwrap();
    });
    let err = tokio::time::timeout(LIMIT, run(&mut client, 5, 11))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
    assert_eq!(err.layer().as_str(), "perf");
    assert!(matches!(
        err.downcast_ref::<PerfError>(),
        Some(PerfError::ShortDownload {
            got: 10,
            expected: 11
        })
    ));
}

#[tokio::test]
async fn long_download_is_an_error() {
    let (mut client, mut server) = pipe();
    tokio::spawn(async move {
        let mut all = Vec::new();
        server.read_to_end(&mut all).await.unwrap();
        server.write_all(&[0u8; 12]).await.unwrap();
        server.close().await.unwrap();
    });
    let err = tokio::time::timeout(LIMIT, run(&mut client, 0, 11))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(matches!(
        err.downcast_ref::<PerfError>(),
        Some(PerfError::LongDownload { expected: 11 })
    ));
}

#[tokio::test]
async fn peer_that_hangs_up_early_fails_the_run() {
    let (mut client, mut server) = pipe();
    tokio::spawn(async move {
        let mut header = [0u8; 8];
        server.read_exact(&mut header).await.unwrap();
        drop(server);
    });
    let err = tokio::time::timeout(LIMIT, run(&mut client, 8 * MIB, 1))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
}

#[tokio::test]
async fn server_rejects_a_truncated_request() {
    let (mut client, server) = pipe();
    client.write_all(&[0, 0, 1]).await.unwrap();
    client.close().await.unwrap();
    let err = PerfHandler::default()
        .handle(PROTOCOL, server, ctx())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
    assert!(matches!(
        err.downcast_ref::<PerfError>(),
        Some(PerfError::TruncatedRequest { got: 3 })
    ));
}

#[tokio::test]
async fn server_caps_what_a_client_may_demand() {
    let (mut client, server) = pipe();
    let handler = PerfHandler::new(PerfConfig { max_download: MIB });
    let task = tokio::spawn(async move { handler.handle(PROTOCOL, server, ctx()).await });
    let err = tokio::time::timeout(LIMIT, run(&mut client, 0, MIB + 1))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<PerfError>(),
            Some(PerfError::ShortDownload { got: 0, .. })
        ),
        "{err}"
    );
    let server_err = task.await.unwrap().unwrap_err();
    assert_eq!(server_err.kind(), ErrorKind::LimitExceeded);
    assert!(matches!(
        server_err.downcast_ref::<PerfError>(),
        Some(PerfError::RequestTooLarge { requested, limit }) if *requested == MIB + 1 && *limit == MIB
    ));
}
