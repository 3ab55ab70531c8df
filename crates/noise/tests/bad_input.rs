//! One test per hostile input: each asserts the typed error and that it arrives in bounded time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::time::{Duration, Instant};

use chain_core::identity::Keypair;
use chain_core::{ChainError, ErrorKind, Role, SecurityHandler};
use common::*;
use futures::io::AsyncReadExt;
use noise::{NoiseConfig, NoiseError};
use tokio::io::AsyncWriteExt;

/// Runs `f` and checks it ended within `BOUND`.
async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, f)
        .await
        .expect("test exceeded its time bound")
}

fn noise_err(e: &ChainError) -> &NoiseError {
    assert_eq!(e.layer().as_str(), "noise", "{e}");
    e.downcast_ref::<NoiseError>()
        .unwrap_or_else(|| panic!("no typed cause in {e}"))
}

/// Upgrades `ours` as initiator against a hand-driven raw peer; the caller drives the peer.
async fn dial(
    ours: chain_core::BoxStream,
    key: &Keypair,
    cfg: NoiseConfig,
) -> Result<chain_core::SecuredStream, ChainError> {
    cfg.secure(ours, &ctx(Role::Dialer, key)).await
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
                .sign(&noise::payload::signed_bytes(&[0x42; 32]))
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
async fn eof_mid_transport_frame_is_truncation_not_eof() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let (key, peer_key) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let peer = async move {
            let _t = manual_responder(&mut raw, &peer_key).await;
            raw.write_all(&[0x00, 0x40, 1, 2, 3]).await.unwrap(); // claims 64 bytes, sends 3
            raw.shutdown().await.unwrap();
            raw
        };
        let (res, _raw) = tokio::join!(dial(ours, &key, NoiseConfig::new()), peer);
        let mut s = res.unwrap();
        let mut buf = [0u8; 100];
        let err = ChainError::from_io("test", s.io.read(&mut buf).await.unwrap_err());
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
async fn eof_mid_handshake_frame_is_truncation() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let key = Keypair::generate_ed25519();
        let peer = async move {
            let _msg1 = read_frame(&mut raw).await;
            raw.write_all(&[0x00, 0xc8, 9, 9]).await.unwrap();
            raw.shutdown().await.unwrap();
            raw
        };
        let (res, _raw) = tokio::join!(dial(ours, &key, NoiseConfig::new()), peer);
        let err = res.unwrap_err();
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
        let (ours, mut raw) = raw_pipe();
        let key = Keypair::generate_ed25519();
        let peer = async move {
            let _msg1 = read_frame(&mut raw).await;
            raw.write_all(&[0xff, 0xff]).await.unwrap(); // 65535 bytes announced, none sent
            raw
        };
        let (res, _raw) = tokio::join!(dial(ours, &key, NoiseConfig::new()), peer);
        let err = res.unwrap_err();
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
async fn tampered_transport_frame_fails_to_decrypt() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let (key, peer_key) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let peer = async move {
            let mut t = manual_responder(&mut raw, &peer_key).await;
            let mut ct = vec![0u8; 64];
            let n = t.write_message(b"hello", &mut ct).unwrap();
            ct[0] ^= 1; // flip one ciphertext bit
            write_frame(&mut raw, &ct[..n]).await;
            raw
        };
        let (res, _raw) = tokio::join!(dial(ours, &key, NoiseConfig::new()), peer);
        let mut s = res.unwrap();
        let mut buf = [0u8; 100];
        let err = ChainError::from_io("test", s.io.read(&mut buf).await.unwrap_err());
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(matches!(noise_err(&err), NoiseError::Decrypt), "{err}");
        // the stream stays failed
        assert!(s.io.read(&mut buf).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn frame_shorter_than_a_tag_fails_to_decrypt() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let (key, peer_key) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let peer = async move {
            let _t = manual_responder(&mut raw, &peer_key).await;
            write_frame(&mut raw, &[1, 2, 3]).await;
            raw
        };
        let (res, _raw) = tokio::join!(dial(ours, &key, NoiseConfig::new()), peer);
        let mut s = res.unwrap();
        let err = ChainError::from_io("test", s.io.read(&mut [0u8; 100]).await.unwrap_err());
        assert!(matches!(noise_err(&err), NoiseError::Decrypt), "{err}");
    })
    .await;
}

#[tokio::test]
async fn empty_transport_frame_is_no_data_not_eof() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let (key, peer_key) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let peer = async move {
            let mut t = manual_responder(&mut raw, &peer_key).await;
            let mut ct = vec![0u8; 64];
            for msg in [&b""[..], b"", b"after"] {
                let n = t.write_message(msg, &mut ct).unwrap();
                write_frame(&mut raw, &ct[..n]).await;
            }
            raw
        };
        let (res, _raw) = tokio::join!(dial(ours, &key, NoiseConfig::new()), peer);
        let mut s = res.unwrap();
        let mut buf = [0u8; 100];
        let n = s.io.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"after");
    })
    .await;
}
