//! The plaintext handshake between two in-memory peers: the happy path (identities learned,
//! bytes pass untouched, also bytes sent right behind the handshake), and hostile or broken
//! remotes (wrong peer, oversize message, truncated message, silence, id/key mismatch).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use chainp2p_core::identity::Keypair;
use chainp2p_core::{ErrorKind, Role, SecurityHandler};
use chainp2p_framing::testing::{boxed_pipe as pipe, ctx};
use chainp2p_plaintext::{PlaintextConfig, PlaintextError};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use prost::Message;

async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    chainp2p_framing::testing::bounded(Duration::from_secs(10), f).await
}

#[tokio::test]
async fn both_sides_learn_each_other_and_bytes_pass_untouched() {
    bounded(async {
        let (a, b) = pipe();
        let ka = Keypair::generate_ed25519();
        let kb = Keypair::generate_secp256k1();
        let mut dial_ctx = ctx(Role::Dialer, &ka);
        dial_ctx.remote_peer = Some(kb.public().to_peer_id());
        let cfg = PlaintextConfig::new();
        let listen_ctx = ctx(Role::Listener, &kb);
        let (da, lb) = tokio::join!(cfg.secure(a, &dial_ctx), cfg.secure(b, &listen_ctx));
        let (mut da, mut lb) = (da.unwrap(), lb.unwrap());
        assert_eq!(da.remote_peer, kb.public().to_peer_id());
        assert_eq!(da.remote_key, kb.public());
        assert_eq!(lb.remote_peer, ka.public().to_peer_id());
        assert_eq!(
            lb.details,
            vec![("encryption".to_owned(), "none".to_owned())]
        );
        da.io.write_all(b"hello over plaintext").await.unwrap();
        da.io.flush().await.unwrap();
        let mut got = [0u8; 20];
        lb.io.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello over plaintext");
    })
    .await;
}

#[tokio::test]
async fn bytes_right_behind_the_remote_message_are_not_lost() {
    bounded(async {
        let (a, mut raw) = pipe();
        let ka = Keypair::generate_ed25519();
        let kr = Keypair::generate_ed25519();
        // The remote writes its exchange and application bytes in one go.
        let mut burst = chainp2p_plaintext::handshake::local_frame(&kr.public());
        burst.extend_from_slice(b"/multistream/1.0.0\n");
        raw.write_all(&burst).await.unwrap();
        let (mut io, remote) = PlaintextConfig::new()
            .upgrade(a, &ka.public(), None)
            .await
            .unwrap();
        assert_eq!(remote.peer_id, kr.public().to_peer_id());
        let mut rest = [0u8; 19];
        io.read_exact(&mut rest).await.unwrap();
        assert_eq!(&rest, b"/multistream/1.0.0\n");
        // And what we sent is exactly our exchange.
        let mine = chainp2p_plaintext::handshake::local_frame(&ka.public());
        let mut sent = vec![0u8; mine.len()];
        raw.read_exact(&mut sent).await.unwrap();
        assert_eq!(sent, mine);
    })
    .await;
}

#[tokio::test]
async fn dialer_refuses_an_unexpected_peer() {
    bounded(async {
        let (a, b) = pipe();
        let ka = Keypair::generate_ed25519();
        let kb = Keypair::generate_ed25519();
        let mut dial_ctx = ctx(Role::Dialer, &ka);
        dial_ctx.remote_peer = Some(Keypair::generate_ed25519().public().to_peer_id());
        let cfg = PlaintextConfig::new();
        let listen_ctx = ctx(Role::Listener, &kb);
        let (d, _l) = tokio::join!(cfg.secure(a, &dial_ctx), cfg.secure(b, &listen_ctx));
        let err = d.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert_eq!(err.layer().as_str(), "plaintext");
        assert!(matches!(
            err.downcast_ref::<PlaintextError>(),
            Some(PlaintextError::PeerIdMismatch { .. })
        ));
    })
    .await;
}

#[tokio::test]
async fn id_that_is_not_the_key_is_refused() {
    bounded(async {
        let (a, mut raw) = pipe();
        let liar_key = Keypair::generate_ed25519();
        let claimed = Keypair::generate_ed25519().public().to_peer_id();
        let body = chainp2p_plaintext::proto::Exchange {
            id: Some(claimed.to_bytes()),
            pubkey: Some(liar_key.public().encode_protobuf()),
        }
        .encode_to_vec();
        let mut frame = Vec::new();
        chainp2p_plaintext::codec::encode_frame(&body, &mut frame);
        raw.write_all(&frame).await.unwrap();
        let err = PlaintextConfig::new()
            .secure(a, &ctx(Role::Listener, &Keypair::generate_ed25519()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication, "{err}");
        assert!(err.to_string().contains("claims peer id"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn oversize_message_is_refused_from_its_prefix() {
    bounded(async {
        let (a, mut raw) = pipe();
        // Announce 1 MiB and send nothing more: the limit must fire without waiting for it.
        let mut buf = Vec::new();
        chainp2p_framing::uvi::put(1 << 20, &mut buf);
        buf.push(0);
        raw.write_all(&buf).await.unwrap();
        let err = PlaintextConfig::new()
            .secure(a, &ctx(Role::Listener, &Keypair::generate_ed25519()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
        assert!(matches!(
            err.downcast_ref::<PlaintextError>(),
            Some(PlaintextError::Oversize {
                len: 1_048_576,
                max: 16_384
            })
        ));
    })
    .await;
}

#[tokio::test]
async fn truncated_message_is_reported_as_closed() {
    bounded(async {
        let (a, mut raw) = pipe();
        let frame =
            chainp2p_plaintext::handshake::local_frame(&Keypair::generate_ed25519().public());
        raw.write_all(&frame[..frame.len() - 5]).await.unwrap();
        // Half-close: our side still can write its own message, then reads EOF mid-message.
        raw.close().await.unwrap();
        let err = PlaintextConfig::new()
            .secure(a, &ctx(Role::Listener, &Keypair::generate_ed25519()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
        match err.downcast_ref::<PlaintextError>() {
            Some(PlaintextError::Truncated { have, need }) => {
                assert_eq!(*have, frame.len() - 5);
                assert_eq!(*need, frame.len());
            }
            other => panic!("expected Truncated, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn silent_peer_times_out() {
    bounded(async {
        let (a, _raw) = pipe();
        let cfg = PlaintextConfig::new().with_handshake_timeout(Duration::from_millis(200));
        let started = std::time::Instant::now();
        let err = cfg
            .secure(a, &ctx(Role::Dialer, &Keypair::generate_ed25519()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(started.elapsed() >= Duration::from_millis(200));
    })
    .await;
}

#[tokio::test]
async fn peer_closing_at_once_is_reported() {
    bounded(async {
        let (a, raw) = pipe();
        drop(raw);
        let err = PlaintextConfig::new()
            .secure(a, &ctx(Role::Dialer, &Keypair::generate_ed25519()))
            .await
            .unwrap_err();
        // Our write or our read fails; either way the layer is named and it is not a success.
        assert_eq!(err.layer().as_str(), "plaintext", "{err}");
        assert!(
            matches!(err.kind(), ErrorKind::Closed | ErrorKind::Io),
            "{err}"
        );
    })
    .await;
}
