//! One test per hostile input: each asserts the typed error, its `ChainError` kind, and that
//! the failure came fast (well inside the 10 s default timeout unless the test is about time).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::time::{Duration, Instant};

use chainp2p_core::{BoxStream, ChainError, ErrorKind, Role};
use chainp2p_multistream::{
    dialer_select, listener_select, Multistream, MultistreamConfig, MultistreamError,
};
use common::*;
use futures::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

/// Runs our listener against a raw peer that writes `bytes` (then keeps the stream open, or
/// closes it when `close`), returning the listener's error and how long it took.
async fn listener_vs_raw(
    bytes: Vec<u8>,
    close: bool,
    cfg: MultistreamConfig,
) -> (ChainError, Duration) {
    let (ours, mut raw) = pipe();
    let peer = tokio::spawn(async move {
        raw.write_all(&bytes).await.unwrap();
        raw.flush().await.unwrap();
        if close {
            raw.close().await.unwrap();
        }
        // keep the stream alive (and drain our writes) until the listener gives up
        let mut sink = Vec::new();
        let _ = raw.read_to_end(&mut sink).await;
    });
    let start = Instant::now();
    let err = listener_select(ours, &ids(&["/noise"]), &cfg)
        .await
        .unwrap_err();
    let took = start.elapsed();
    peer.abort();
    (err, took)
}

async fn listener_error(bytes: &[u8]) -> (ChainError, Duration) {
    timeout(
        BOUND,
        listener_vs_raw(bytes.to_vec(), false, MultistreamConfig::default()),
    )
    .await
    .unwrap()
}

fn assert_fast(took: Duration) {
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[tokio::test]
async fn oversize_length_is_rejected_from_the_prefix_alone() {
    // 70000 announced, only the prefix sent: we must not wait for (or allocate) the body
    let (err, took) = listener_error(&[HEADER, b"\xf0\xa2\x04"].concat()).await;
    assert_eq!(err.kind(), ErrorKind::LimitExceeded);
    assert!(matches!(
        err.downcast_ref(),
        Some(MultistreamError::MessageTooLong {
            len: 70000,
            max: 16383
        })
    ));
    assert_eq!(err.layer().as_str(), "multistream");
    assert_fast(took);
}

#[tokio::test]
async fn oversize_first_message_is_rejected() {
    let (err, took) = listener_error(b"\x80\x80\x01").await;
    assert!(matches!(
        err.downcast_ref(),
        Some(MultistreamError::MessageTooLong { .. })
    ));
    assert_fast(took);
}

#[tokio::test]
async fn non_minimal_varint_is_rejected() {
    let (err, took) = listener_error(b"\x93\x00/multistream/1.0.0\n").await;
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(matches!(
        err.downcast_ref(),
        Some(MultistreamError::InvalidVarint(_))
    ));
    assert_fast(took);
}

#[tokio::test]
async fn overlong_varint_is_rejected_with_a_huge_limit() {
    let cfg = MultistreamConfig {
        max_message_len: usize::MAX,
        ..MultistreamConfig::default()
    };
    let (err, took) = timeout(BOUND, listener_vs_raw(vec![0xff; 12], false, cfg))
        .await
        .unwrap();
    assert!(
        matches!(err.downcast_ref(), Some(MultistreamError::InvalidVarint(_))),
        "{err}"
    );
    assert_fast(took);
}

#[tokio::test]
async fn missing_trailing_newline_is_rejected() {
    let (err, took) = listener_error(&[HEADER, b"\x07/noise!"].concat()).await;
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(matches!(
        err.downcast_ref(),
        Some(MultistreamError::MissingNewline)
    ));
    assert_fast(took);
}

#[tokio::test]
async fn non_utf8_protocol_is_rejected() {
    let (err, took) = listener_error(&[HEADER, b"\x04/\xff\xfe\n"].concat()).await;
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(matches!(
        err.downcast_ref(),
        Some(MultistreamError::NotUtf8)
    ));
    assert_fast(took);
}

#[tokio::test]
async fn wrong_header_is_rejected() {
    let (err, took) = listener_error(&msg("/multistream/2.0.0")).await;
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(matches!(
        err.downcast_ref(),
        Some(MultistreamError::WrongHeader { .. })
    ));
    assert_fast(took);
}

#[tokio::test]
async fn eof_mid_message_is_reported() {
    let (err, took) = timeout(
        BOUND,
        listener_vs_raw(
            [HEADER, b"\x07/noi"].concat(),
            true,
            MultistreamConfig::default(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(err.kind(), ErrorKind::Closed);
    assert!(matches!(
        err.downcast_ref(),
        Some(MultistreamError::EofMidMessage { buffered: 5 })
    ));
    assert_fast(took);
}

#[tokio::test]
async fn eof_before_a_proposal_is_reported() {
    let (err, _) = timeout(
        BOUND,
        listener_vs_raw(HEADER.to_vec(), true, MultistreamConfig::default()),
    )
    .await
    .unwrap();
    assert_eq!(err.kind(), ErrorKind::Closed);
    assert!(matches!(err.downcast_ref(), Some(MultistreamError::Eof)));
}

#[tokio::test]
async fn dialer_proposing_forever_hits_the_attempt_limit() {
    let mut bytes = HEADER.to_vec();
    for i in 0..1000 {
        bytes.extend(msg(&format!("/nope/{i}")));
    }
    let (err, took) = listener_error(&bytes).await;
    assert_eq!(err.kind(), ErrorKind::LimitExceeded);
    assert!(matches!(
        err.downcast_ref(),
        Some(MultistreamError::TooManyAttempts { max: 32 })
    ));
    assert_fast(took);
}

#[tokio::test]
async fn endless_ls_requests_hit_the_attempt_limit() {
    let mut bytes = HEADER.to_vec();
    for _ in 0..100 {
        bytes.extend(msg("ls"));
    }
    let (err, _) = listener_error(&bytes).await;
    assert!(matches!(
        err.downcast_ref(),
        Some(MultistreamError::TooManyAttempts { .. })
    ));
}

#[tokio::test]
async fn garbage_after_our_na_is_a_failed_negotiation() {
    // a lazy dialer's payload after a rejected proposal: not a loud protocol violation
    let (err, took) =
        listener_error(&[HEADER, &msg("/tls/1.0.0"), b"\x00\x20\x16\x03\x01garbage"].concat())
            .await;
    assert_eq!(err.kind(), ErrorKind::NegotiationFailed, "{err}");
    assert_fast(took);
}

/// Runs our dialer against a raw listener that answers `na` to everything, forever.
async fn dialer_vs_na_forever(protocols: Vec<String>) -> (ChainError, Duration) {
    let (ours, mut raw) = pipe();
    let peer = tokio::spawn(async move {
        raw.write_all(HEADER).await.unwrap();
        for _ in 0..10_000 {
            if raw.write_all(&msg("na")).await.is_err() {
                break;
            }
            let _ = raw.flush().await;
            let mut buf = [0u8; 256];
            if matches!(raw.read(&mut buf).await, Ok(0) | Err(_)) {
                break;
            }
        }
    });
    let start = Instant::now();
    let err = dialer_select(ours, &protocols, &MultistreamConfig::default())
        .await
        .unwrap_err();
    let took = start.elapsed();
    peer.abort();
    (err, took)
}

#[tokio::test]
async fn listener_answering_na_forever_exhausts_a_short_list() {
    let (err, took) = timeout(BOUND, dialer_vs_na_forever(ids(&["/a", "/b", "/c"])))
        .await
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::NegotiationFailed);
    assert!(matches!(
        err.downcast_ref(),
        Some(MultistreamError::NegotiationFailed)
    ));
    assert_fast(took);
}

#[tokio::test]
async fn listener_answering_na_forever_hits_the_attempt_limit() {
    let many: Vec<String> = (0..100).map(|i| format!("/p/{i}")).collect();
    let (err, took) = timeout(BOUND, dialer_vs_na_forever(many)).await.unwrap();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded);
    assert!(matches!(
        err.downcast_ref(),
        Some(MultistreamError::TooManyAttempts { max: 32 })
    ));
    assert_fast(took);
}

#[tokio::test]
async fn oversize_answer_to_our_dialer_is_rejected() {
    let (ours, mut raw) = pipe();
    raw.write_all(&[HEADER, b"\xff\xff\x03"].concat())
        .await
        .unwrap();
    let err = timeout(
        BOUND,
        dialer_select(ours, &ids(&["/a"]), &MultistreamConfig::default()),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(matches!(
        err.downcast_ref(),
        Some(MultistreamError::MessageTooLong { .. })
    ));
}

#[tokio::test]
async fn silent_peer_times_out() {
    let cfg = MultistreamConfig {
        timeout: Duration::from_millis(100),
        ..MultistreamConfig::default()
    };
    for role in [Role::Dialer, Role::Listener] {
        let (ours, _raw) = pipe(); // the peer says nothing and keeps the stream open
        let start = Instant::now();
        let result = match role {
            Role::Dialer => dialer_select(ours, &ids(&["/a"]), &cfg).await.map(|_| ()),
            Role::Listener => listener_select(ours, &ids(&["/a"]), &cfg).await.map(|_| ()),
        };
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{role}");
        assert!(matches!(
            err.downcast_ref(),
            Some(MultistreamError::Timeout(_))
        ));
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(100) && took < Duration::from_secs(2),
            "{took:?}"
        );
    }
}

#[tokio::test]
async fn invalid_local_protocols_are_invalid_input() {
    let (ours, _raw) = pipe();
    let err = dialer_select(ours, &[], &MultistreamConfig::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let (ours, _raw) = pipe();
    let long = format!("/{}", "x".repeat(2000));
    let err = dialer_select(ours, &[long], &MultistreamConfig::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn listener_keeps_serving_after_a_bad_peer() {
    timeout(BOUND, async {
        let echo = Echo::new("/echo/1.0.0");
        let server = std::sync::Arc::new(Multistream::new(
            vec![echo.clone()],
            MultistreamConfig::default(),
        ));
        let (tx, mut rx) = tokio::sync::mpsc::channel::<BoxStream>(4);
        let accept_loop = {
            let server = server.clone();
            tokio::spawn(async move {
                let mut results = Vec::new();
                while let Some(io) = rx.recv().await {
                    results.push(
                        server
                            .dispatch(io, ctx(Role::Listener))
                            .await
                            .map(|d| d.protocol),
                    );
                }
                results
            })
        };
        // a bad peer: oversize message
        let (ours, mut bad) = pipe();
        tx.send(ours).await.unwrap();
        bad.write_all(&[HEADER, b"\xff\xff\x03"].concat())
            .await
            .unwrap();
        // then a good one
        let (ours, good) = pipe();
        tx.send(ours).await.unwrap();
        let client = Multistream::new(vec![Echo::new("/echo/1.0.0")], MultistreamConfig::default());
        let d = client.dispatch(good, ctx(Role::Dialer)).await.unwrap();
        assert_eq!(d.protocol, "/echo/1.0.0");
        drop(tx);
        let results = accept_loop.await.unwrap();
        assert_eq!(results.len(), 2);
        let first = results[0].as_ref().unwrap_err();
        assert_eq!(first.kind(), ErrorKind::LimitExceeded);
        assert_eq!(results[1].as_ref().unwrap(), "/echo/1.0.0");
        assert_eq!(echo.seen.lock().unwrap().len(), 1);
    })
    .await
    .unwrap();
}
