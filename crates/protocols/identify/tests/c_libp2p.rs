//! What c-libp2p (c-ipfs) answers an identify request with: one message on a stream it never
//! closes, carrying the text of its peer id where the key belongs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use chainp2p_core::identity::{Keypair, PeerId};
use chainp2p_core::{BoxStream, ChainError, ErrorKind};
use chainp2p_identify::proto::Identify;
use chainp2p_identify::{read_answer, request_with_config, IdentifyConfig, IdentifyError};
use futures::{AsyncReadExt, AsyncWriteExt};
use prost::Message;
use tokio_util::compat::TokioAsyncReadCompatExt;

const LIMIT: Duration = Duration::from_secs(5);

/// A peer that writes `bytes` and then keeps the stream open, reading until we close.
fn peer_sending_and_staying(bytes: Vec<u8>) -> BoxStream {
    peer_telling_when_we_close(bytes).0
}

/// [`peer_sending_and_staying`], also saying when it saw our side close.
fn peer_telling_when_we_close(bytes: Vec<u8>) -> (BoxStream, tokio::sync::oneshot::Receiver<()>) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let (ours, mut theirs): (BoxStream, BoxStream) = (Box::new(a.compat()), Box::new(b.compat()));
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        theirs.write_all(&bytes).await.unwrap();
        let mut rest = Vec::new();
        if theirs.read_to_end(&mut rest).await.is_ok() {
            let _ = tx.send(());
        }
        // Never closes its side.
        std::future::pending::<()>().await;
    });
    (ours, rx)
}

/// c-libp2p's answer (identify/identify.c): publicKey is the peer id's base58 text.
fn c_libp2p_answer(peer: &PeerId) -> Identify {
    Identify {
        public_key: Some(peer.to_base58().into_bytes()),
        protocol_version: Some("ipfs/0.1.0".into()),
        agent_version: Some("c-ipfs/1.0".into()),
        ..Identify::default()
    }
}

fn wire(msgs: &[Identify]) -> Vec<u8> {
    msgs.iter()
        .flat_map(Message::encode_length_delimited_to_vec)
        .collect()
}

fn first_only(remote_key: Option<&Keypair>) -> IdentifyConfig {
    IdentifyConfig {
        first_message_only: true,
        remote_key: remote_key.map(Keypair::public),
        ..IdentifyConfig::default()
    }
}

fn identify_error(e: &ChainError) -> &IdentifyError {
    e.downcast_ref::<IdentifyError>()
        .unwrap_or_else(|| panic!("not an identify error: {e}"))
}

#[tokio::test]
async fn first_message_only_answers_without_waiting_for_eof() {
    let key = Keypair::generate_ed25519();
    let peer = key.public().to_peer_id();
    let second = Identify {
        protocols: vec!["/never/merged".into()],
        agent_version: Some("later".into()),
        ..Identify::default()
    };
    let mut io = peer_sending_and_staying(wire(&[c_libp2p_answer(&peer), second]));
    let info = tokio::time::timeout(
        LIMIT,
        read_answer(&mut io, Some(&peer), &first_only(Some(&key))),
    )
    .await
    .expect("returned without EOF")
    .unwrap();
    assert_eq!(info.agent_version, "c-ipfs/1.0");
    assert!(info.protocols.is_empty(), "only the first message counts");
}

#[tokio::test]
async fn request_with_first_message_only_returns_and_closes_our_side() {
    let key = Keypair::generate_ed25519();
    let peer = key.public().to_peer_id();
    let (mut io, closed) = peer_telling_when_we_close(wire(&[c_libp2p_answer(&peer)]));
    let info = tokio::time::timeout(
        LIMIT,
        request_with_config(&mut io, Some(&peer), &first_only(Some(&key))),
    )
    .await
    .expect("returned without EOF")
    .unwrap();
    assert_eq!(info.public_key, key.public());
    tokio::time::timeout(LIMIT, closed)
        .await
        .expect("our side closed")
        .unwrap();
}

#[tokio::test]
async fn without_first_message_only_an_open_stream_times_out() {
    let key = Keypair::generate_ed25519();
    let peer = key.public().to_peer_id();
    let mut io = peer_sending_and_staying(wire(&[c_libp2p_answer(&peer)]));
    let config = IdentifyConfig {
        timeout: Duration::from_millis(200),
        remote_key: Some(key.public()),
        ..IdentifyConfig::default()
    };
    let err = tokio::time::timeout(LIMIT, read_answer(&mut io, Some(&peer), &config))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(identify_error(&err), IdentifyError::Timeout(_)),
        "{err}"
    );
}

#[tokio::test]
async fn peer_id_text_as_key_takes_the_authenticated_key() {
    let key = Keypair::generate_ed25519();
    let peer = key.public().to_peer_id();
    let mut io = peer_sending_and_staying(wire(&[c_libp2p_answer(&peer)]));
    let info = tokio::time::timeout(
        LIMIT,
        read_answer(&mut io, Some(&peer), &first_only(Some(&key))),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(info.public_key, key.public());
    assert_eq!(info.protocol_version, "ipfs/0.1.0");
}

#[tokio::test]
async fn peer_id_text_as_key_without_a_remote_key_is_missing_public_key() {
    let peer = Keypair::generate_ed25519().public().to_peer_id();
    let mut io = peer_sending_and_staying(wire(&[c_libp2p_answer(&peer)]));
    let err = tokio::time::timeout(LIMIT, read_answer(&mut io, Some(&peer), &first_only(None)))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(identify_error(&err), IdentifyError::MissingPublicKey),
        "{err}"
    );
}

#[tokio::test]
async fn the_authenticated_key_must_still_be_the_expected_peers() {
    let key = Keypair::generate_ed25519();
    let other = Keypair::generate_ed25519();
    let peer = key.public().to_peer_id();
    let mut io = peer_sending_and_staying(wire(&[c_libp2p_answer(&peer)]));
    let err = tokio::time::timeout(
        LIMIT,
        read_answer(&mut io, Some(&peer), &first_only(Some(&other))),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(
        matches!(identify_error(&err), IdentifyError::PeerMismatch { .. }),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Authentication);
}

#[tokio::test]
async fn another_peers_id_text_is_not_replaced() {
    let key = Keypair::generate_ed25519();
    let peer = key.public().to_peer_id();
    let stranger = Keypair::generate_ed25519().public().to_peer_id();
    let mut io = peer_sending_and_staying(wire(&[c_libp2p_answer(&stranger)]));
    let got = tokio::time::timeout(
        LIMIT,
        read_answer(&mut io, Some(&peer), &first_only(Some(&key))),
    )
    .await
    .unwrap();
    assert!(
        got.is_err(),
        "text of {stranger} accepted for {peer}: {got:?}"
    );
}

#[tokio::test]
async fn a_real_key_is_still_checked_against_the_expected_peer() {
    let key = Keypair::generate_ed25519();
    let other = Keypair::generate_ed25519();
    let real = |k: &Keypair| Identify {
        public_key: Some(k.public().encode_protobuf()),
        agent_version: Some("go-ipfs/0.4.23".into()),
        ..Identify::default()
    };
    // The real key wins over the configured one…
    let peer = key.public().to_peer_id();
    let mut io = peer_sending_and_staying(wire(&[real(&key)]));
    let info = tokio::time::timeout(
        LIMIT,
        read_answer(&mut io, Some(&peer), &first_only(Some(&other))),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(info.public_key, key.public());
    // …and another peer's real key is refused, whatever key the config holds.
    let mut io = peer_sending_and_staying(wire(&[real(&other)]));
    let err = tokio::time::timeout(
        LIMIT,
        read_answer(&mut io, Some(&peer), &first_only(Some(&key))),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(
        matches!(identify_error(&err), IdentifyError::PeerMismatch { .. }),
        "{err}"
    );
}
