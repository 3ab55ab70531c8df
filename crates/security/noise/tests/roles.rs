//! Handshakes in both roles with every supported identity type, then data both ways, including
//! writes larger than a frame.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use chainp2p_core::identity::Keypair;
use chainp2p_core::{ErrorKind, Role, SecurityHandler, SecurityLayer, StreamHandler};
use chainp2p_noise::{NoiseConfig, PROTOCOL};
use common::*;
use futures::io::{AsyncReadExt, AsyncWriteExt};

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Handshake `dialer_key` -> `listener_key`, check both PeerIds, exchange `len` bytes each way.
async fn handshake_and_exchange(dialer_key: Keypair, listener_key: Keypair, len: usize) {
    let (a, b) = boxed_pipe();
    let cfg = NoiseConfig::new();
    assert_eq!(cfg.protocol(), PROTOCOL);
    let mut dctx = ctx(Role::Dialer, &dialer_key);
    dctx.remote_peer = Some(listener_key.public().to_peer_id());
    let lctx = ctx(Role::Listener, &listener_key);
    let other = NoiseConfig::new();
    let (d, l) = tokio::join!(cfg.secure(a, &dctx), other.secure(b, &lctx));
    let (d, l) = (d.unwrap(), l.unwrap());
    assert_eq!(d.remote_peer, listener_key.public().to_peer_id());
    assert_eq!(d.remote_key, listener_key.public());
    assert_eq!(l.remote_peer, dialer_key.public().to_peer_id());

    let (to_l, to_d) = (pattern(len, 1), pattern(len, 2));
    let dialer = exchange(d.io, to_l.clone());
    let listener = exchange(l.io, to_d.clone());
    let (got_d, got_l) = tokio::join!(dialer, listener);
    assert_eq!(got_l, to_l);
    assert_eq!(got_d, to_d);
}

/// Writes `send` and concurrently reads as many bytes; returns what was read.
async fn exchange(io: chainp2p_core::BoxStream, send: Vec<u8>) -> Vec<u8> {
    let (mut r, mut w) = io.split();
    let mut got = vec![0u8; send.len()];
    tokio::join!(
        async {
            w.write_all(&send).await.unwrap();
            w.flush().await.unwrap();
        },
        async { r.read_exact(&mut got).await.unwrap() }
    );
    got
}

#[tokio::test]
async fn ed25519_both_roles_small_and_multi_frame() {
    bounded(handshake_and_exchange(
        Keypair::generate_ed25519(),
        Keypair::generate_ed25519(),
        5,
    ))
    .await;
    bounded(handshake_and_exchange(
        Keypair::generate_ed25519(),
        Keypair::generate_ed25519(),
        300_000,
    ))
    .await;
}

#[tokio::test]
async fn secp256k1_dialer_and_listener() {
    bounded(handshake_and_exchange(
        Keypair::generate_secp256k1(),
        Keypair::generate_ed25519(),
        70_000,
    ))
    .await;
    bounded(handshake_and_exchange(
        Keypair::generate_ed25519(),
        Keypair::generate_secp256k1(),
        70_000,
    ))
    .await;
}

#[tokio::test]
async fn ecdsa_dialer_and_listener() {
    bounded(handshake_and_exchange(
        Keypair::generate_ecdsa(),
        Keypair::generate_secp256k1(),
        70_000,
    ))
    .await;
    bounded(handshake_and_exchange(
        Keypair::generate_secp256k1(),
        Keypair::generate_ecdsa(),
        70_000,
    ))
    .await;
}

#[tokio::test]
async fn tiny_reads_see_every_byte_in_order() {
    bounded(async {
        let (a, b) = boxed_pipe();
        let (ka, kb) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let cfg = NoiseConfig::new();
        let (d, l) = tokio::join!(
            cfg.upgrade(a, true, &ka, None),
            cfg.upgrade(b, false, &kb, None)
        );
        let ((mut d, _), (mut l, _)) = (d.unwrap(), l.unwrap());
        let data = pattern(200_000, 9);
        let sent = data.clone();
        let writer = async move {
            d.write_all(&sent).await.unwrap();
            d.close().await.unwrap();
        };
        let reader = async move {
            let mut got = Vec::new();
            let mut chunk = [0u8; 7];
            loop {
                let n = l.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&chunk[..n]);
            }
            got
        };
        let ((), got) = tokio::join!(writer, reader);
        assert_eq!(
            got, data,
            "clean close after whole frames is EOF, all bytes delivered"
        );
    })
    .await;
}

#[tokio::test]
async fn works_as_a_stream_handler() {
    bounded(async {
        let layer = SecurityLayer(NoiseConfig::new());
        assert_eq!(layer.protocols(), vec!["/noise".to_string()]);
        let (a, b) = boxed_pipe();
        let (ka, kb) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let (x, y) = tokio::join!(
            layer.handle(PROTOCOL, a, ctx(Role::Dialer, &ka)),
            layer.handle(PROTOCOL, b, ctx(Role::Listener, &kb))
        );
        match (x.unwrap(), y.unwrap()) {
            (chainp2p_core::Next::Secured(x), chainp2p_core::Next::Secured(y)) => {
                assert_eq!(x.remote_peer, kb.public().to_peer_id());
                assert_eq!(y.remote_peer, ka.public().to_peer_id());
            }
            other => panic!("expected two secured streams, got {other:?}"),
        }
        // both listeners: the handshake cannot work and must fail, not hang
        let (a, b) = boxed_pipe();
        let short =
            NoiseConfig::new().with_handshake_timeout(std::time::Duration::from_millis(200));
        let long = NoiseConfig::new();
        let (ca, cb) = (ctx(Role::Listener, &ka), ctx(Role::Listener, &kb));
        let (x, y) = tokio::join!(short.secure(a, &ca), long.secure(b, &cb));
        // the other side sees the connection close when the first gives up
        assert_eq!(y.unwrap_err().kind(), ErrorKind::Closed);
        assert_eq!(x.unwrap_err().kind(), ErrorKind::Timeout);
    })
    .await;
}

#[tokio::test]
async fn data_arriving_with_msg3_is_kept() {
    use tokio::io::AsyncWriteExt as _;
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let (key, peer_key) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let peer = async move {
            let (mut hs, kp) = snow_state(true);
            let mut buf = vec![0u8; 65535];
            let n = hs.write_message(&[], &mut buf).unwrap();
            write_frame(&mut raw, &buf[..n]).await;
            let msg2 = read_frame(&mut raw).await;
            let mut pl = vec![0u8; 65535];
            hs.read_message(&msg2, &mut pl).unwrap();
            let n = hs
                .write_message(&honest_payload(&peer_key, &kp.public), &mut buf)
                .unwrap();
            let mut wire = (n as u16).to_be_bytes().to_vec();
            wire.extend_from_slice(&buf[..n]);
            let mut t = hs.into_transport_mode().unwrap();
            let m = t.write_message(b"early", &mut buf).unwrap();
            wire.extend_from_slice(&(m as u16).to_be_bytes());
            wire.extend_from_slice(&buf[..m]);
            raw.write_all(&wire).await.unwrap(); // msg3 and a transport frame in one write
            raw
        };
        let lctx = ctx(Role::Listener, &key);
        let cfg = NoiseConfig::new();
        let (res, _raw) = tokio::join!(cfg.secure(ours, &lctx), peer);
        let mut s = res.unwrap();
        let mut got = [0u8; 5];
        s.io.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"early");
    })
    .await;
}

#[tokio::test]
async fn small_writes_are_collected_into_one_frame_until_flush() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let (key, peer_key) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let dctx = ctx(Role::Dialer, &key);
        let cfg = NoiseConfig::new();
        let (res, mut t) = tokio::join!(
            cfg.secure(ours, &dctx),
            manual_responder(&mut raw, &peer_key)
        );
        let mut s = res.unwrap();
        for i in 0..100u8 {
            s.io.write_all(&[i; 10]).await.unwrap();
        }
        s.io.flush().await.unwrap();
        let frame = read_frame(&mut raw).await;
        assert_eq!(frame.len(), 1000 + 16, "one frame for 100 small writes");
        let mut plain = vec![0u8; 65535];
        let n = t.read_message(&frame, &mut plain).unwrap();
        let expected: Vec<u8> = (0..100u8).flat_map(|i| [i; 10]).collect();
        assert_eq!(&plain[..n], &expected[..]);
        // a large write after a small one: the small bytes go first, in their own frame
        s.io.write_all(b"x").await.unwrap();
        s.io.write_all(&vec![9u8; 70_000]).await.unwrap();
        s.io.flush().await.unwrap();
        let mut got = Vec::new();
        while got.len() < 70_001 {
            let f = read_frame(&mut raw).await;
            let n = t
                .read_message(&f, &mut plain)
                .unwrap_or_else(|e| panic!("{e}"));
            got.extend_from_slice(&plain[..n]);
        }
        assert_eq!(got[0], b'x');
        assert!(got[1..].iter().all(|b| *b == 9) && got.len() == 70_001);
    })
    .await;
}
