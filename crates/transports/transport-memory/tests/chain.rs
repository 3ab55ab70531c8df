//! The real chain over a memory connection: multistream-select, noise, multistream-select,
//! yamux, then an echo on a yamux substream.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use chainp2p_core::identity::Keypair;
use chainp2p_core::{
    BoxStream, HandlerContext, Muxer, MuxerLayer, Next, Role, SecurityLayer, Transport, TransportIo,
};
use chainp2p_multistream::{Multistream, MultistreamConfig};
use chainp2p_noise::NoiseConfig;
use chainp2p_transport_memory::MemoryTransport;
use chainp2p_yamux::YamuxConfig;
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};

/// Walks `io` up noise and yamux as `role`, spawning the muxer's driver; returns the session
/// and the authenticated remote peer.
async fn upgrade(
    io: BoxStream,
    role: Role,
    key: &Keypair,
) -> (Arc<dyn Muxer>, chainp2p_core::identity::PeerId) {
    let ctx = HandlerContext::new(role, Arc::new(key.clone()));
    let security = Multistream::new(
        vec![Arc::new(SecurityLayer(NoiseConfig::new()))],
        MultistreamConfig::default(),
    );
    let muxer = Multistream::new(
        vec![Arc::new(MuxerLayer(YamuxConfig::new()))],
        MultistreamConfig::default(),
    );
    let secured = match security.dispatch(io, ctx.clone()).await.unwrap().next {
        Next::Secured(s) => s,
        other => panic!("noise gave {other:?}"),
    };
    let peer = secured.remote_peer;
    let mut ctx = ctx;
    ctx.remote_peer = Some(peer);
    ctx.remote_key = Some(secured.remote_key);
    match muxer.dispatch(secured.io, ctx).await.unwrap().next {
        Next::Muxed { muxer, driver } => {
            tokio::spawn(driver);
            (muxer, peer)
        }
        other => panic!("yamux gave {other:?}"),
    }
}

#[tokio::test]
async fn noise_and_yamux_over_a_memory_connection() {
    tokio::time::timeout(Duration::from_secs(20), async {
        let t = MemoryTransport::default();
        let mut listener = t.listen(&"/memory/0".parse().unwrap()).await.unwrap();
        let dialed = t.dial(&listener.local_addr).await.unwrap();
        let accepted = listener.incoming.next().await.unwrap().unwrap();
        let (TransportIo::Raw(d), TransportIo::Raw(a)) = (dialed.io, accepted.io) else {
            panic!("memory connections are raw");
        };
        let (dk, lk) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let ((dm, d_saw), (lm, l_saw)) = tokio::join!(
            upgrade(d, Role::Dialer, &dk),
            upgrade(a, Role::Listener, &lk)
        );
        assert_eq!(d_saw, lk.public().to_peer_id());
        assert_eq!(l_saw, dk.public().to_peer_id());
        assert_eq!(dm.protocol(), lm.protocol());

        let echo = tokio::spawn(async move {
            let mut s = lm.accept_stream().await.unwrap().expect("a substream");
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
            s.close().await.unwrap();
            lm
        });
        let mut s = dm.open_stream().await.unwrap();
        let msg: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        s.write_all(&msg).await.unwrap();
        s.close().await.unwrap();
        let mut back = Vec::new();
        s.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, msg);
        let _lm = echo.await.unwrap();
    })
    .await
    .expect("test exceeded its time bound")
}
