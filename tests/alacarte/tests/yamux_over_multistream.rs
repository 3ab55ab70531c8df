//! The à la carte pair on `futures`' executor, no tokio anywhere: multistream-select agrees on
//! `/yamux/1.0.0` over an in-memory pipe, yamux runs on the negotiated stream and a substream
//! echoes bytes; and both layers' timers (negotiation timeout, keep-alive) fire without a
//! runtime.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use alacarte_check::pipe::pipe;
use chainp2p_multistream::{dialer_select, listener_select, MultistreamConfig, MultistreamError};
use chainp2p_yamux::{start, Mode, YamuxConfig, YamuxError, PROTOCOL};
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;
use futures::{AsyncReadExt, AsyncWriteExt};

#[test]
fn negotiates_yamux_and_echoes_on_a_substream() {
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    pool.run_until(async move {
        let (a, b) = pipe(64 * 1024);
        let protocols = vec![PROTOCOL.to_owned()];
        let cfg = MultistreamConfig::default();
        let (d, l) = futures::join!(
            dialer_select(Box::new(a), &protocols, &cfg),
            listener_select(Box::new(b), &protocols, &cfg),
        );
        let (d, l) = (d.unwrap(), l.unwrap());
        assert_eq!(d.protocol, PROTOCOL);
        assert_eq!(l.protocol, PROTOCOL);

        let (client, client_driver) = start(d.io, Mode::Client, YamuxConfig::default()).unwrap();
        let (server, server_driver) = start(l.io, Mode::Server, YamuxConfig::default()).unwrap();
        spawner
            .spawn_local(async move {
                let _ = client_driver.await;
            })
            .unwrap();
        spawner
            .spawn_local(async move {
                let _ = server_driver.await;
            })
            .unwrap();
        // The server echoes what the first substream sends until its FIN.
        spawner
            .spawn_local(async move {
                let mut s = server.accept().await.unwrap().unwrap();
                let mut got = Vec::new();
                s.read_to_end(&mut got).await.unwrap();
                s.write_all(&got).await.unwrap();
                s.close().await.unwrap();
            })
            .unwrap();

        let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut s = client.open().await.unwrap();
        s.write_all(&payload).await.unwrap();
        s.close().await.unwrap();
        let mut echoed = Vec::new();
        s.read_to_end(&mut echoed).await.unwrap();
        assert_eq!(echoed, payload);
        client.shutdown().await.unwrap();
    });
}

#[test]
fn negotiation_timeout_fires_without_a_runtime() {
    futures::executor::block_on(async {
        // The peer end stays open and silent.
        let (a, _silent) = pipe(1024);
        let cfg = MultistreamConfig {
            timeout: Duration::from_millis(100),
            ..MultistreamConfig::default()
        };
        let err = dialer_select(Box::new(a), &[PROTOCOL.to_owned()], &cfg)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err.downcast_ref::<MultistreamError>(),
                Some(MultistreamError::Timeout(_))
            ),
            "{err}"
        );
    });
}

#[test]
fn unanswered_keepalive_ends_the_session_without_a_runtime() {
    futures::executor::block_on(async {
        // Nobody reads or answers at the other end (the pipe is large enough for the pings).
        let (a, _silent) = pipe(1024);
        let cfg = YamuxConfig::new()
            .with_ping_interval(Some(Duration::from_millis(50)))
            .with_keepalive_timeout(Some(Duration::from_millis(200)));
        let (_muxer, driver) = start(Box::new(a), Mode::Client, cfg).unwrap();
        let err = driver.await.unwrap_err();
        assert_eq!(
            err.downcast_ref::<YamuxError>(),
            Some(&YamuxError::KeepAliveTimeout(Duration::from_millis(200)))
        );
    });
}
