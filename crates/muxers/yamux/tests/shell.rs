//! The async shell over an in-memory tokio duplex: two muxers talking through real drivers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use chainp2p_core::{BoxStream, ErrorKind, HandlerContext, Muxer, MuxerHandler, Role};
use chainp2p_yamux::{start, Mode, YamuxConfig, YamuxError, YamuxMuxer};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use tokio::io::AsyncWriteExt as _;
use tokio::time::timeout;
use tokio_util::compat::TokioAsyncReadCompatExt;

type Driver = tokio::task::JoinHandle<Result<(), chainp2p_core::ChainError>>;

fn pair_with(
    cap: usize,
    config: YamuxConfig,
) -> (Arc<YamuxMuxer>, Driver, Arc<YamuxMuxer>, Driver) {
    let (a, b) = tokio::io::duplex(cap);
    let (ca, da) = start(Box::new(a.compat()), Mode::Client, config.clone()).unwrap();
    let (sb, db) = start(Box::new(b.compat()), Mode::Server, config).unwrap();
    (ca, tokio::spawn(da), sb, tokio::spawn(db))
}

fn pair() -> (Arc<YamuxMuxer>, Driver, Arc<YamuxMuxer>, Driver) {
    pair_with(1 << 20, YamuxConfig::default())
}

const T: Duration = Duration::from_secs(20);

#[tokio::test]
async fn open_accept_echo_both_directions() {
    timeout(T, async {
        let (c, _dc, s, _ds) = pair();
        for (opener, acceptor, parity) in [(&c, &s, 1), (&s, &c, 0)] {
            let mut out = opener.open().await.unwrap();
            assert_eq!(out.id() % 2, parity);
            out.write_all(b"hello").await.unwrap();
            out.flush().await.unwrap();
            let mut inb = acceptor.accept().await.unwrap().unwrap();
            assert_eq!(inb.id(), out.id());
            let mut buf = [0u8; 5];
            inb.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"hello");
            inb.write_all(b"world").await.unwrap();
            inb.close().await.unwrap();
            let mut back = Vec::new();
            out.read_to_end(&mut back).await.unwrap();
            assert_eq!(back, b"world");
            out.close().await.unwrap();
            let mut rest = Vec::new();
            inb.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn chain_handler_uses_the_connection_role_for_parity() {
    timeout(T, async {
        let (a, b) = tokio::io::duplex(1 << 16);
        let key = Arc::new(chainp2p_core::identity::Keypair::generate_ed25519());
        let cfg = YamuxConfig::new();
        assert_eq!(MuxerHandler::protocol(&cfg), "/yamux/1.0.0");
        let ctx_d = HandlerContext::new(Role::Dialer, key.clone());
        let ctx_l = HandlerContext::new(Role::Listener, key);
        let (md, dd) = cfg.multiplex(Box::new(a.compat()), &ctx_d).await.unwrap();
        let (ml, dl) = cfg.multiplex(Box::new(b.compat()), &ctx_l).await.unwrap();
        tokio::spawn(dd);
        tokio::spawn(dl);
        let mut s: BoxStream = md.open_stream().await.unwrap();
        s.write_all(b"x").await.unwrap();
        let mut r = ml.accept_stream().await.unwrap().unwrap();
        let mut one = [0u8; 1];
        r.read_exact(&mut one).await.unwrap();
        assert_eq!(&one, b"x");
        // The listener's own streams get even ids, which the dialer accepts.
        let mut s2 = ml.open_stream().await.unwrap();
        s2.write_all(b"y").await.unwrap();
        let mut r2 = md.accept_stream().await.unwrap().unwrap();
        r2.read_exact(&mut one).await.unwrap();
        assert_eq!(&one, b"y");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn transfers_several_mib_intact() {
    timeout(T, async {
        let (c, _dc, s, _ds) = pair();
        let data: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        let expect = data.clone();
        let reader = tokio::spawn(async move {
            let mut inb = s.accept().await.unwrap().unwrap();
            let mut got = Vec::new();
            inb.read_to_end(&mut got).await.unwrap();
            got
        });
        let mut out = c.open().await.unwrap();
        for chunk in data.chunks(64 * 1024) {
            out.write_all(chunk).await.unwrap();
        }
        out.close().await.unwrap();
        assert!(reader.await.unwrap() == expect);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn writer_blocks_when_reader_does_not_read_and_resumes_when_it_does() {
    timeout(T, async {
        let (c, _dc, s, _ds) = pair();
        let mut out = c.open().await.unwrap();
        out.write_all(b"!").await.unwrap();
        let mut inb = s.accept().await.unwrap().unwrap();
        let big = vec![1u8; 1024 * 1024];
        // The window (256 KiB) fills: the write cannot finish while nobody reads.
        let blocked = timeout(Duration::from_millis(300), out.write_all(&big)).await;
        assert!(blocked.is_err(), "writer must block on the window");
        // Start reading: the writer resumes and everything arrives.
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            inb.read_to_end(&mut got).await.unwrap();
            got.len()
        });
        // Part of `big` may already be queued; send a fresh complete message after it.
        let mut out2 = out;
        out2.write_all(&big).await.unwrap();
        out2.close().await.unwrap();
        let n = reader.await.unwrap();
        assert!(n > big.len() && n <= 1 + 2 * big.len(), "got {n}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn both_sides_writing_through_a_tiny_pipe_do_not_deadlock() {
    timeout(T, async {
        // 1 KiB pipe: both drivers are blocked on socket writes most of the time, and must keep
        // reading meanwhile.
        let (c, _dc, s, _ds) = pair_with(1024, YamuxConfig::default());
        let total = 4 * 1024 * 1024;
        let mut tasks = Vec::new();
        for (me, other) in [(c.clone(), s.clone()), (s, c)] {
            tasks.push(tokio::spawn(async move {
                let mut out = me.open().await.unwrap();
                out.write_all(&vec![9u8; total]).await.unwrap();
                out.close().await.unwrap();
                drop(out);
                0usize
            }));
            tasks.push(tokio::spawn(async move {
                let mut inb = other.accept().await.unwrap().unwrap();
                let mut n = 0usize;
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let k = inb.read(&mut buf).await.unwrap();
                    if k == 0 {
                        break n;
                    }
                    n += k;
                }
            }));
        }
        let mut received = 0;
        for t in tasks {
            received += t.await.unwrap();
        }
        assert_eq!(received, 2 * total);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn many_concurrent_streams() {
    timeout(T, async {
        let (c, _dc, s, _ds) = pair();
        let server = tokio::spawn(async move {
            let mut handles = Vec::new();
            while let Some(mut st) = s.accept().await.unwrap() {
                handles.push(tokio::spawn(async move {
                    let mut buf = Vec::new();
                    st.read_to_end(&mut buf).await.unwrap();
                    st.write_all(&buf).await.unwrap();
                    st.close().await.unwrap();
                }));
                if handles.len() == 200 {
                    break;
                }
            }
            for h in handles {
                h.await.unwrap();
            }
        });
        let mut clients = Vec::new();
        for i in 0..200u32 {
            let c = c.clone();
            clients.push(tokio::spawn(async move {
                let mut st = c.open().await.unwrap();
                let msg = vec![(i % 256) as u8; 10_000 + i as usize];
                st.write_all(&msg).await.unwrap();
                st.close().await.unwrap();
                let mut back = Vec::new();
                st.read_to_end(&mut back).await.unwrap();
                assert_eq!(back, msg);
            }));
        }
        for h in clients {
            h.await.unwrap();
        }
        server.await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn dropping_a_stream_without_close_resets_it() {
    timeout(T, async {
        let (c, _dc, s, _ds) = pair();
        let mut out = c.open().await.unwrap();
        out.write_all(b"x").await.unwrap();
        let mut inb = s.accept().await.unwrap().unwrap();
        let mut one = [0u8; 1];
        inb.read_exact(&mut one).await.unwrap();
        drop(out);
        let err = inb.read(&mut one).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn ping_measures_rtt() {
    timeout(T, async {
        let (c, _dc, _s, _ds) = pair();
        assert!(c.rtt().is_none());
        c.ping();
        for _ in 0..200 {
            if c.rtt().is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("no pong");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn close_sends_goaway_and_ends_both_sessions_cleanly() {
    timeout(T, async {
        let (c, dc, s, ds) = pair();
        Muxer::close(c.as_ref()).await.unwrap();
        assert!(c.is_closed());
        assert!(s.accept().await.unwrap().is_none(), "clean end: Ok(None)");
        assert_eq!(
            s.goaway_received(),
            Some(chainp2p_yamux::GoAwayCode::Normal)
        );
        dc.await.unwrap().unwrap();
        ds.await.unwrap().unwrap();
        assert!(c.open().await.is_err());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn protocol_error_fails_the_driver_and_the_streams() {
    timeout(T, async {
        let (a, mut raw) = tokio::io::duplex(1 << 16);
        let (m, d) = start(Box::new(a.compat()), Mode::Server, YamuxConfig::default()).unwrap();
        let driver = tokio::spawn(d);
        // A stream, then a frame of unknown type 9.
        raw.write_all(&[0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0])
            .await
            .unwrap();
        let mut st = m.accept().await.unwrap().unwrap();
        raw.write_all(&[0, 9, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])
            .await
            .unwrap();
        let err = driver.await.unwrap().unwrap_err();
        assert_eq!(err.layer().as_str(), "yamux");
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert_eq!(
            err.downcast_ref::<YamuxError>(),
            Some(&YamuxError::UnknownType(9))
        );
        let io = st.read(&mut [0u8; 4]).await.unwrap_err();
        let chain = chainp2p_core::ChainError::from_io("test", io);
        assert_eq!(
            chain.downcast_ref::<YamuxError>(),
            Some(&YamuxError::UnknownType(9))
        );
        assert!(m.accept().await.is_err());
        // The peer saw: our ACK, then GoAway(protocol error).
        let mut seen = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut raw, &mut seen)
            .await
            .unwrap();
        assert_eq!(
            &seen[seen.len() - 12..],
            &[0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn peer_eof_ends_the_session_cleanly() {
    timeout(T, async {
        let (a, raw) = tokio::io::duplex(1 << 16);
        let (m, d) = start(Box::new(a.compat()), Mode::Client, YamuxConfig::default()).unwrap();
        let driver = tokio::spawn(d);
        drop(raw);
        driver.await.unwrap().unwrap();
        assert!(m.accept().await.unwrap().is_none());
        assert!(Muxer::is_closed(m.as_ref()));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn both_peers_write_8_mib_before_reading_over_a_64_kib_pipe() {
    timeout(T, async {
        // Windows large enough for the whole message, so only the socket can block: both
        // drivers are stuck writing into a 64 KiB pipe and must keep reading meanwhile.
        let cfg = YamuxConfig::new()
            .with_receive_window(16 << 20)
            .with_max_stream_receive_window(16 << 20);
        let (c, _dc, s, _ds) = pair_with(64 * 1024, cfg);
        let total = 8 << 20;
        let mut tasks = Vec::new();
        for (me, other) in [(c.clone(), s.clone()), (s, c)] {
            tasks.push(tokio::spawn(async move {
                let mut out = me.open().await.unwrap();
                out.write_all(b"!").await.unwrap();
                let mut inb = other.accept().await.unwrap().unwrap();
                out.write_all(&vec![3u8; total]).await.unwrap();
                out.close().await.unwrap();
                // Only now read what the other side sent.
                let mut got = Vec::new();
                inb.read_to_end(&mut got).await.unwrap();
                got.len()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), total + 1);
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn rtt_is_measured_at_start_without_asking() {
    timeout(T, async {
        let (c, _dc, s, _ds) = pair();
        for _ in 0..400 {
            if c.rtt().is_some() && s.rtt().is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("no RTT from the start-up ping");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn unanswered_keepalive_ends_the_driver_with_a_timeout() {
    timeout(T, async {
        let (a, mut raw) = tokio::io::duplex(1 << 16);
        let cfg = YamuxConfig::new()
            .with_ping_interval(Some(Duration::from_millis(50)))
            .with_keepalive_timeout(Some(Duration::from_millis(200)));
        let (m, d) = start(Box::new(a.compat()), Mode::Client, cfg).unwrap();
        let driver = tokio::spawn(d);
        // The first thing on the wire is a ping SYN; the peer never answers.
        let mut ping = [0u8; 12];
        tokio::io::AsyncReadExt::read_exact(&mut raw, &mut ping)
            .await
            .unwrap();
        assert_eq!(&ping[..8], &[0, 2, 0, 1, 0, 0, 0, 0]);
        let err = driver.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert_eq!(
            err.downcast_ref::<YamuxError>(),
            Some(&YamuxError::KeepAliveTimeout(Duration::from_millis(200)))
        );
        assert!(m.open().await.is_err());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn answered_keepalive_keeps_an_idle_session_alive() {
    timeout(T, async {
        let cfg = YamuxConfig::new()
            .with_ping_interval(Some(Duration::from_millis(20)))
            .with_keepalive_timeout(Some(Duration::from_millis(100)));
        let (c, dc, s, ds) = pair_with(1 << 16, cfg);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(!dc.is_finished() && !ds.is_finished());
        let mut st = c.open().await.unwrap();
        st.write_all(b"alive").await.unwrap();
        let mut inb = s.accept().await.unwrap().unwrap();
        let mut buf = [0u8; 5];
        inb.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"alive");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn eof_in_the_middle_of_a_frame_is_an_error_not_a_clean_end() {
    timeout(T, async {
        let (a, mut raw) = tokio::io::duplex(1 << 16);
        let (_m, d) = start(Box::new(a.compat()), Mode::Client, YamuxConfig::default()).unwrap();
        let driver = tokio::spawn(d);
        // Stream 2 opens, then a data header announcing 100 bytes, 4 of them, then EOF.
        raw.write_all(&[0, 1, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0])
            .await
            .unwrap();
        raw.write_all(&[0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 100, 1, 2, 3, 4])
            .await
            .unwrap();
        drop(raw);
        let err = driver.await.unwrap().unwrap_err();
        assert_eq!(
            err.downcast_ref::<YamuxError>(),
            Some(&YamuxError::UnexpectedEof { buffered: 16 })
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn window_overrun_through_the_shell_gets_goaway() {
    timeout(T, async {
        let (a, mut raw) = tokio::io::duplex(1 << 20);
        let (m, d) = start(Box::new(a.compat()), Mode::Client, YamuxConfig::default()).unwrap();
        let driver = tokio::spawn(d);
        // Stream 2 with SYN and 256 KiB + 1 of data: beyond the initial window.
        let len: u32 = 256 * 1024 + 1;
        let mut frame = vec![0, 0, 0, 1, 0, 0, 0, 2];
        frame.extend_from_slice(&len.to_be_bytes());
        frame.resize(12 + len as usize, 0);
        raw.write_all(&frame).await.unwrap();
        let err = driver.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded);
        assert!(matches!(
            err.downcast_ref::<YamuxError>(),
            Some(YamuxError::WindowExceeded { id: 2, .. })
        ));
        assert!(m.accept().await.is_err());
        let mut seen = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut raw, &mut seen)
            .await
            .unwrap();
        assert_eq!(
            &seen[seen.len() - 12..],
            &[0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        );
    })
    .await
    .unwrap();
}
