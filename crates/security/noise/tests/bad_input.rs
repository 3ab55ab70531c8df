//! One test per hostile input: each asserts the typed error and that it arrives in bounded time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use chainp2p_core::identity::Keypair;
use chainp2p_core::{ChainError, ErrorKind, Role, SecurityHandler};
use chainp2p_noise::{NoiseConfig, NoiseError};
use common::*;
use futures::io::AsyncReadExt;
use tokio::io::{AsyncWriteExt, DuplexStream};

/// Upgrades `ours` as initiator against a hand-driven raw peer; the caller drives the peer.
async fn dial(
    ours: chainp2p_core::BoxStream,
    key: &Keypair,
    cfg: NoiseConfig,
) -> Result<chainp2p_core::SecuredStream, ChainError> {
    cfg.secure(ours, &ctx(Role::Dialer, key)).await
}

/// Dials a raw peer that reads message 1, answers with the raw bytes `reply`, and then
/// closes its side if `close`; returns the dial's error.
async fn dial_error_after_reply(reply: &'static [u8], close: bool) -> ChainError {
    let (ours, mut raw) = raw_pipe();
    let key = Keypair::generate_ed25519();
    let peer = async move {
        let _msg1 = read_frame(&mut raw).await;
        raw.write_all(reply).await.unwrap();
        if close {
            raw.shutdown().await.unwrap();
        }
        raw
    };
    let (res, _raw) = tokio::join!(dial(ours, &key, NoiseConfig::new()), peer);
    res.unwrap_err()
}

/// Completes a handshake with a hand-driven honest responder, which then runs `then` with its
/// transport state and raw end (returned, so it stays open); returns our secured stream.
async fn secured_against<F, Fut>(then: F) -> (chainp2p_core::SecuredStream, DuplexStream)
where
    F: FnOnce(snow::TransportState, DuplexStream) -> Fut,
    Fut: Future<Output = DuplexStream>,
{
    let (ours, mut raw) = raw_pipe();
    let (key, peer_key) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
    let peer = async move {
        let t = manual_responder(&mut raw, &peer_key).await;
        then(t, raw).await
    };
    let (res, raw) = tokio::join!(dial(ours, &key, NoiseConfig::new()), peer);
    (res.unwrap(), raw)
}

/// Encrypts `msg` as one transport message (ciphertext only, no length prefix).
fn seal(t: &mut snow::TransportState, msg: &[u8]) -> Vec<u8> {
    let mut ct = vec![0u8; msg.len() + 16];
    let n = t.write_message(msg, &mut ct).unwrap();
    ct.truncate(n);
    ct
}

/// The error of the next read on `s`.
async fn read_error(s: &mut chainp2p_core::SecuredStream) -> ChainError {
    ChainError::from_io("test", s.io.read(&mut [0u8; 100]).await.unwrap_err())
}

#[tokio::test]
async fn responder_signing_the_wrong_bytes_fails_authentication() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let key = Keypair::generate_ed25519();
        let evil = Keypair::generate_ed25519();
        let peer = async move {
            let (mut hs, _kp) = snow_state(false);
            let msg1 = read_frame(&mut raw).await;
            let mut buf = vec![0u8; 65535];
            hs.read_message(&msg1, &mut buf).unwrap();
            // signs a static key that is not the one in the handshake
            let sig = evil
                .sign(&chainp2p_noise::payload::signed_bytes(&[0x42; 32]))
                .unwrap();
            let n = hs.write_message(&payload(&evil, sig), &mut buf).unwrap();
            write_frame(&mut raw, &buf[..n]).await;
            raw
        };
        let (res, _raw) = tokio::join!(dial(ours, &key, NoiseConfig::new()), peer);
        let err = res.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert!(
            matches!(noise_err(&err), NoiseError::BadSignature { .. }),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn unexpected_peer_id_fails_and_names_both() {
    bounded(async {
        let (a, b) = boxed_pipe();
        let (ka, kb, kc) = (Keypair::generate_ed25519(), Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let expected = kc.public().to_peer_id();
        let actual = kb.public().to_peer_id();
        let mut dctx = ctx(Role::Dialer, &ka);
        dctx.remote_peer = Some(expected);
        let cfg = NoiseConfig::new();
        let lctx = ctx(Role::Listener, &kb);
        let (d, _l) = tokio::join!(cfg.secure(a, &dctx), cfg.secure(b, &lctx));
        let err = d.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert!(
            matches!(noise_err(&err), NoiseError::PeerIdMismatch { expected: e, actual: a } if **e == expected && **a == actual)
        );
        let msg = err.to_string();
        assert!(msg.contains(&expected.to_string()) && msg.contains(&actual.to_string()), "{msg}");
    })
    .await;
}

#[tokio::test]
async fn first_message_with_a_payload_is_rejected() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let key = Keypair::generate_ed25519();
        let cfg = NoiseConfig::new();
        let peer = async move {
            let (mut hs, _) = snow_state(true);
            let mut buf = vec![0u8; 1024];
            let n = hs.write_message(b"early data", &mut buf).unwrap();
            write_frame(&mut raw, &buf[..n]).await;
            raw
        };
        let lctx = ctx(Role::Listener, &key);
        let (res, _raw) = tokio::join!(cfg.secure(ours, &lctx), peer);
        let err = res.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(
            matches!(noise_err(&err), NoiseError::NonEmptyMsg1Payload { len: 10 }),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn silent_peer_times_out_the_handshake() {
    bounded(async {
        let (ours, raw) = raw_pipe();
        let key = Keypair::generate_ed25519();
        let cfg = NoiseConfig::new().with_handshake_timeout(Duration::from_millis(150));
        let started = Instant::now();
        let err = dial(ours, &key, cfg).await.unwrap_err();
        let took = started.elapsed();
        drop(raw);
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(matches!(noise_err(&err), NoiseError::HandshakeTimeout(d) if *d == Duration::from_millis(150)));
        assert!(took >= Duration::from_millis(150) && took < Duration::from_secs(2), "{took:?}");
    })
    .await;
}

#[tokio::test]
async fn eof_mid_handshake_frame_is_truncation() {
    bounded(async {
        let err = dial_error_after_reply(&[0x00, 0xc8, 9, 9], true).await;
        assert_eq!(err.kind(), ErrorKind::Closed);
        assert!(
            matches!(
                noise_err(&err),
                NoiseError::FrameTruncated { have: 4, need: 202 }
            ),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn garbage_length_over_the_handshake_limit_is_rejected_at_the_header() {
    bounded(async {
        // 65535 bytes announced, none sent, the connection left open
        let err = dial_error_after_reply(&[0xff, 0xff], false).await;
        assert_eq!(err.kind(), ErrorKind::LimitExceeded);
        assert!(
            matches!(
                noise_err(&err),
                NoiseError::Oversize {
                    len: 65535,
                    max: 8192
                }
            ),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn eof_mid_transport_frame_is_truncation_not_eof() {
    bounded(async {
        let (mut s, _raw) = secured_against(|_t, mut raw| async move {
            raw.write_all(&[0x00, 0x40, 1, 2, 3]).await.unwrap(); // claims 64 bytes, sends 3
            raw.shutdown().await.unwrap();
            raw
        })
        .await;
        let err = read_error(&mut s).await;
        assert_eq!(err.kind(), ErrorKind::Closed);
        assert!(
            matches!(
                noise_err(&err),
                NoiseError::FrameTruncated { have: 5, need: 66 }
            ),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn tampered_transport_frame_fails_to_decrypt() {
    bounded(async {
        let (mut s, _raw) = secured_against(|mut t, mut raw| async move {
            let mut ct = seal(&mut t, b"hello");
            ct[0] ^= 1; // flip one ciphertext bit
            write_frame(&mut raw, &ct).await;
            raw
        })
        .await;
        let err = read_error(&mut s).await;
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(matches!(noise_err(&err), NoiseError::Decrypt), "{err}");
        // the stream stays failed
        assert!(s.io.read(&mut [0u8; 100]).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn frame_shorter_than_a_tag_fails_to_decrypt() {
    bounded(async {
        let (mut s, _raw) = secured_against(|_t, mut raw| async move {
            write_frame(&mut raw, &[1, 2, 3]).await;
            raw
        })
        .await;
        let err = read_error(&mut s).await;
        assert!(matches!(noise_err(&err), NoiseError::Decrypt), "{err}");
    })
    .await;
}

#[tokio::test]
async fn empty_transport_frame_is_no_data_not_eof() {
    bounded(async {
        let (mut s, _raw) = secured_against(|mut t, mut raw| async move {
            for msg in [&b""[..], b"", b"after"] {
                write_frame(&mut raw, &seal(&mut t, msg)).await;
            }
            raw
        })
        .await;
        let mut buf = [0u8; 100];
        let n = s.io.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"after");
    })
    .await;
}
