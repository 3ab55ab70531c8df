//! The async shell over an in-memory tokio duplex: two muxers talking through real drivers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use chainp2p_core::{BoxStream, ChainError, ErrorKind, HandlerContext, Muxer, MuxerHandler, Role};
use chainp2p_mplex::{
    start, Endpoint, MplexConfig, MplexError, MplexMuxer, OverflowBehaviour, StreamId,
};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use tokio::io::AsyncWriteExt as _;
use tokio::time::timeout;
use tokio_util::compat::TokioAsyncReadCompatExt;

type Driver = tokio::task::JoinHandle<Result<(), ChainError>>;

fn pair_with(
    cap: usize,
    config: MplexConfig,
) -> (Arc<MplexMuxer>, Driver, Arc<MplexMuxer>, Driver) {
    let (a, b) = tokio::io::duplex(cap);
    let (ma, da) = start(Box::new(a.compat()), config.clone()).unwrap();
    let (mb, db) = start(Box::new(b.compat()), config).unwrap();
    (ma, tokio::spawn(da), mb, tokio::spawn(db))
}

fn pair() -> (Arc<MplexMuxer>, Driver, Arc<MplexMuxer>, Driver) {
    pair_with(1 << 20, MplexConfig::default())
}

fn mplex_error(e: std::io::Error) -> MplexError {
    ChainError::from_io("test", e)
        .downcast_ref::<MplexError>()
        .cloned()
        .expect("an mplex error")
}

fn pattern(seed: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + seed * 7) % 251) as u8)
        .collect()
}

const T: Duration = Duration::from_secs(60);

#[tokio::test]
async fn open_accept_echo_both_directions() {
    timeout(T, async {
        let (a, _da, b, _db) = pair();
        for (opener, acceptor) in [(&a, &b), (&b, &a)] {
            let mut out = opener.open().await.unwrap();
            assert_eq!(out.id(), StreamId::new(0, Endpoint::Local));
            out.write_all(b"hello").await.unwrap();
            out.flush().await.unwrap();
            let mut inb = acceptor.accept().await.unwrap().unwrap();
            assert_eq!(inb.id(), StreamId::new(0, Endpoint::Remote));
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
async fn chain_handler_works_for_both_roles() {
    timeout(T, async {
        let (a, b) = tokio::io::duplex(1 << 16);
        let key = Arc::new(chainp2p_core::identity::Keypair::generate_ed25519());
        let cfg = MplexConfig::new();
        assert_eq!(MuxerHandler::protocol(&cfg), "/mplex/6.7.0");
        let ctx_d = HandlerContext::new(Role::Dialer, key.clone());
        let ctx_l = HandlerContext::new(Role::Listener, key);
        let (md, dd) = cfg.multiplex(Box::new(a.compat()), &ctx_d).await.unwrap();
        let (ml, dl) = cfg.multiplex(Box::new(b.compat()), &ctx_l).await.unwrap();
        assert_eq!(md.protocol(), "/mplex/6.7.0");
        tokio::spawn(dd);
        tokio::spawn(dl);
        let mut s: BoxStream = md.open_stream().await.unwrap();
        s.write_all(b"x").await.unwrap();
        let mut r = ml.accept_stream().await.unwrap().unwrap();
        let mut one = [0u8; 1];
        r.read_exact(&mut one).await.unwrap();
        assert_eq!(&one, b"x");
        let mut s2 = ml.open_stream().await.unwrap();
        s2.write_all(b"y").await.unwrap();
        let mut r2 = md.accept_stream().await.unwrap().unwrap();
        r2.read_exact(&mut one).await.unwrap();
        assert_eq!(&one, b"y");
    })
    .await
    .unwrap();
}

/// 100 streams, each carrying 1 MiB each way at the same time, every byte checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_streams_one_mib_each_way_intact() {
    const STREAMS: usize = 100;
    const LEN: usize = 1 << 20;
    timeout(T, async {
        let (a, _da, b, _db) = pair();
        let server = tokio::spawn(async move {
            let mut tasks = Vec::new();
            for _ in 0..STREAMS {
                let st = b.accept().await.unwrap().unwrap();
                tasks.push(tokio::spawn(async move {
                    let (mut r, mut w) = st.split();
                    // The first 8 bytes of the client's 1 MiB name its index; answer with
                    // our own pattern.
                    let mut idx = [0u8; 8];
                    r.read_exact(&mut idx).await.unwrap();
                    let i = u64::from_be_bytes(idx) as usize;
                    let writer = async {
                        w.write_all(&pattern(i + 1000, LEN)).await.unwrap();
                        w.close().await.unwrap();
                    };
                    let reader = async {
                        let mut got = Vec::new();
                        r.read_to_end(&mut got).await.unwrap();
                        assert!(
                            got == pattern(i, LEN - 8),
                            "stream {i}: client data corrupted"
                        );
                    };
                    futures::join!(writer, reader);
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
        let mut clients = Vec::new();
        for i in 0..STREAMS {
            let a = a.clone();
            clients.push(tokio::spawn(async move {
                let st = a.open().await.unwrap();
                let (mut r, mut w) = st.split();
                let writer = async {
                    w.write_all(&(i as u64).to_be_bytes()).await.unwrap();
                    w.write_all(&pattern(i, LEN - 8)).await.unwrap();
                    w.close().await.unwrap();
                };
                let reader = async {
                    let mut got = Vec::new();
                    r.read_to_end(&mut got).await.unwrap();
                    assert!(
                        got == pattern(i + 1000, LEN),
                        "stream {i}: server data corrupted"
                    );
                };
                futures::join!(writer, reader);
            }));
        }
        for c in clients {
            c.await.unwrap();
        }
        server.await.unwrap();
        assert_eq!(a.stats().overflow_resets, 0);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn slow_reader_in_block_mode_gets_everything() {
    timeout(T, async {
        let cfg = MplexConfig::new()
            .with_max_buffer_per_stream(64 * 1024)
            .with_split_send_size(16 * 1024)
            .with_overflow(OverflowBehaviour::Block);
        let (a, _da, b, _db) = pair_with(64 * 1024, cfg);
        let data = pattern(3, 2 << 20);
        let expect = data.clone();
        let reader = tokio::spawn(async move {
            let mut inb = b.accept().await.unwrap().unwrap();
            let mut got = Vec::new();
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                let n = inb.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            (got, b.stats())
        });
        let mut out = a.open().await.unwrap();
        out.write_all(&data).await.unwrap();
        out.close().await.unwrap();
        let (got, stats) = reader.await.unwrap();
        assert!(got == expect, "data intact");
        assert_eq!(stats.overflow_resets, 0);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn slow_reader_in_reset_mode_is_reset_and_loses_nothing_silently() {
    timeout(T, async {
        let limit = 64 * 1024;
        let cfg = MplexConfig::new()
            .with_max_buffer_per_stream(limit)
            .with_split_send_size(16 * 1024)
            .with_overflow(OverflowBehaviour::ResetStream);
        let (a, _da, b, _db) = pair_with(1 << 16, cfg);
        let mut out = a.open().await.unwrap();
        let chunk = pattern(5, 16 * 1024);
        // Nobody reads: the writer is reset after the reader's buffer overflows.
        let mut sent = 0usize;
        let err = loop {
            assert!(sent < 64 << 20, "never reset");
            match out.write_all(&chunk).await.and(out.flush().await) {
                Ok(()) => sent += chunk.len(),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
        assert!(matches!(mplex_error(err), MplexError::StreamReset(_)));
        // The reader gets what was buffered (an intact prefix), then a typed error.
        let mut inb = b.accept().await.unwrap().unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 8192];
        let err = loop {
            match inb.read(&mut buf).await {
                Ok(0) => panic!("overflow must not look like a clean EOF"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert!(matches!(
            mplex_error(err),
            MplexError::BufferOverflow { limit: l, .. } if l == limit
        ));
        assert!(!got.is_empty() && got.len() <= limit, "{}", got.len());
        let whole: Vec<u8> = chunk.iter().copied().cycle().take(got.len()).collect();
        assert!(got == whole, "buffered prefix intact");
        assert_eq!(b.stats().overflow_resets, 1);
        // The connection lives.
        let mut s2 = a.open().await.unwrap();
        s2.write_all(b"still here").await.unwrap();
        s2.close().await.unwrap();
        let mut r2 = b.accept().await.unwrap().unwrap();
        let mut text = Vec::new();
        r2.read_to_end(&mut text).await.unwrap();
        assert_eq!(text, b"still here");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn block_then_reset_resets_a_stuck_stream_and_resumes_the_connection() {
    timeout(T, async {
        let stall = Duration::from_millis(300);
        let cfg = MplexConfig::new()
            .with_max_buffer_per_stream(64 * 1024)
            .with_split_send_size(16 * 1024)
            .with_overflow(OverflowBehaviour::BlockThenReset(stall));
        let (a, _da, b, _db) = pair_with(64 * 1024, cfg);
        let started = std::time::Instant::now();
        let mut stuck = a.open().await.unwrap();
        stuck.write_all(&pattern(1, 256 * 1024)).await.unwrap();
        let mut other = a.open().await.unwrap();
        other.write_all(b"after the stall").await.unwrap();
        other.close().await.unwrap();
        let mut held = b.accept().await.unwrap().unwrap(); // never read until the end
        let mut r2 = b.accept().await.unwrap().unwrap();
        let mut text = Vec::new();
        r2.read_to_end(&mut text).await.unwrap();
        assert_eq!(text, b"after the stall");
        assert!(
            started.elapsed() >= stall,
            "the connection was blocked meanwhile"
        );
        assert_eq!(b.stats().overflow_resets, 1);
        // The writer learns its stream was reset.
        let err = stuck.read(&mut [0u8; 1]).await.unwrap_err();
        assert!(matches!(mplex_error(err), MplexError::StreamReset(_)));
        // The stuck reader gets its buffered, intact prefix, then the typed error.
        let mut got = Vec::new();
        let mut buf = vec![0u8; 8192];
        let err = loop {
            match held.read(&mut buf).await {
                Ok(0) => panic!("must not look like a clean EOF"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert!(matches!(
            mplex_error(err),
            MplexError::BufferOverflow { .. }
        ));
        assert_eq!(got, pattern(1, 256 * 1024)[..got.len()]);
        assert!(!got.is_empty() && got.len() <= 64 * 1024);
    })
    .await
    .unwrap();
}

/// Default policy, tokio's paused clock: a never-read stream that overflows stalls the
/// connection until 5 s after it was accepted, then is reset; a reader that reads 4 KiB every
/// 4 s (far slower than its writer, never idle for the 5 s timeout) is never reset and gets
/// every byte.
#[tokio::test(start_paused = true)]
async fn default_policy_keeps_an_alive_slow_reader_and_resets_a_stuck_one() {
    timeout(Duration::from_secs(3600), async {
        let cfg = MplexConfig::new()
            .with_max_buffer_per_stream(64 * 1024)
            .with_split_send_size(16 * 1024);
        let (a, _da, b, _db) = pair_with(64 * 1024, cfg);
        let data = pattern(9, 256 * 1024);
        let mut slow = a.open().await.unwrap();
        let mut stuck = a.open().await.unwrap();
        slow.write_all(b"!").await.unwrap();
        stuck.write_all(b"!").await.unwrap();
        let mut slow_in = b.accept().await.unwrap().unwrap();
        let mut stuck_in = b.accept().await.unwrap().unwrap();
        let accepted = tokio::time::Instant::now();
        let expect = data.clone();
        let stuck_writer = tokio::spawn(async move {
            let chunk = [5u8; 16 * 1024];
            loop {
                if let Err(e) = stuck.write_all(&chunk).await.and(stuck.flush().await) {
                    return (e, tokio::time::Instant::now());
                }
            }
        });
        // The stuck stream overflows first and stalls the connection.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let writer = tokio::spawn(async move {
            slow.write_all(&data).await.unwrap();
            slow.close().await.unwrap();
        });
        let mut got = Vec::new();
        let mut buf = vec![0u8; 4096];
        loop {
            let n = slow_in.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            tokio::time::sleep(Duration::from_secs(4)).await;
        }
        assert_eq!(got[0], b'!');
        assert!(got[1..] == expect[..], "every byte of the slow stream");
        writer.await.unwrap();
        let (err, at) = stuck_writer.await.unwrap();
        assert!(matches!(mplex_error(err), MplexError::StreamReset(_)));
        let waited = at - accepted;
        assert!(
            waited >= Duration::from_secs(5) && waited < Duration::from_secs(9),
            "stuck stream reset after {waited:?}"
        );
        let stats = b.stats();
        assert_eq!(stats.overflow_resets, 1, "{stats:?}");
        let err = stuck_in.read_to_end(&mut Vec::new()).await.unwrap_err();
        assert!(matches!(
            mplex_error(err),
            MplexError::BufferOverflow { .. }
        ));
    })
    .await
    .unwrap();
}

/// Writes `chunk` until a write does not finish within 300 ms; returns the bytes accepted.
async fn write_until_blocked(out: &mut chainp2p_mplex::MplexStream, chunk: &[u8]) -> usize {
    let mut accepted = 0usize;
    for _ in 0..10_000 {
        match timeout(Duration::from_millis(300), out.write(chunk)).await {
            Ok(Ok(n)) => accepted += n,
            Ok(Err(e)) => panic!("write failed: {e}"),
            Err(_) => return accepted,
        }
    }
    panic!("writer never blocked after {accepted} bytes");
}

#[tokio::test]
async fn peer_that_never_reads_in_block_mode_blocks_the_writer_with_bounded_memory() {
    timeout(T, async {
        let cfg = MplexConfig::new()
            .with_max_buffer_per_stream(256 * 1024)
            .with_overflow(OverflowBehaviour::Block);
        let (a, _da, b, _db) = pair_with(64 * 1024, cfg.clone());
        let mut out = a.open().await.unwrap();
        out.write_all(b"!").await.unwrap();
        let _inb = b.accept().await.unwrap().unwrap(); // never read
        let accepted = write_until_blocked(&mut out, &[7u8; 64 * 1024]).await;
        // Bounded: the reader's buffer + its unread input + the pipe + our queue.
        let bound = cfg.max_buffer_per_stream
            + cfg.max_frame_body
            + cfg.read_buffer_size
            + 64 * 1024
            + cfg.write_buffer_limit
            + 64 * 1024;
        assert!(accepted <= bound, "accepted {accepted} > {bound}");
        // No deadlock the other way: the blocked side still writes to us.
        let mut back = b.open().await.unwrap();
        back.write_all(b"reverse works").await.unwrap();
        back.close().await.unwrap();
        let mut r = a.accept().await.unwrap().unwrap();
        let mut text = Vec::new();
        r.read_to_end(&mut text).await.unwrap();
        assert_eq!(text, b"reverse works");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn peer_that_never_reads_the_socket_blocks_the_writer_with_bounded_memory() {
    timeout(T, async {
        let (a, _raw) = tokio::io::duplex(64 * 1024);
        let cfg = MplexConfig::new();
        let (m, d) = start(Box::new(a.compat()), cfg.clone()).unwrap();
        tokio::spawn(d);
        let mut out = m.open().await.unwrap();
        let accepted = write_until_blocked(&mut out, &[1u8; 64 * 1024]).await;
        // Our queue plus the pipe, plus one write call.
        let bound = cfg.write_buffer_limit + 64 * 1024 + 64 * 1024;
        assert!(accepted <= bound, "accepted {accepted} > {bound}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn both_sides_writing_through_a_tiny_pipe_do_not_deadlock() {
    timeout(T, async {
        let (a, _da, b, _db) = pair_with(1024, MplexConfig::default());
        let total = 4 * 1024 * 1024;
        let mut tasks = Vec::new();
        for (me, other) in [(a.clone(), b.clone()), (b, a)] {
            tasks.push(tokio::spawn(async move {
                let mut out = me.open().await.unwrap();
                out.write_all(&vec![9u8; total]).await.unwrap();
                out.close().await.unwrap();
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
async fn dropping_a_stream_without_close_resets_it() {
    timeout(T, async {
        let (a, _da, b, _db) = pair();
        let mut out = a.open().await.unwrap();
        out.write_all(b"x").await.unwrap();
        let mut inb = b.accept().await.unwrap().unwrap();
        let mut one = [0u8; 1];
        inb.read_exact(&mut one).await.unwrap();
        drop(out);
        let err = inb.read(&mut one).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
        assert!(matches!(mplex_error(err), MplexError::StreamReset(_)));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn explicit_reset_reaches_the_peer() {
    timeout(T, async {
        let (a, _da, b, _db) = pair();
        let mut out = a.open().await.unwrap();
        out.write_all(b"x").await.unwrap();
        let mut inb = b.accept().await.unwrap().unwrap();
        inb.reset();
        let err = out.read(&mut [0u8; 1]).await.unwrap_err();
        assert!(matches!(mplex_error(err), MplexError::StreamReset(_)));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn too_many_inbound_streams_are_reset_and_the_connection_lives() {
    timeout(T, async {
        let cfg = MplexConfig::new().with_max_inbound_streams(2);
        let (a, _da, b, _db) = pair_with(1 << 16, cfg);
        let mut streams = Vec::new();
        for _ in 0..3 {
            let mut s = a.open().await.unwrap();
            s.write_all(b"hi").await.unwrap();
            streams.push(s);
        }
        let mut third = streams.pop().unwrap();
        let err = third.read(&mut [0u8; 4]).await.unwrap_err();
        assert!(matches!(mplex_error(err), MplexError::StreamReset(_)));
        let mut first = b.accept().await.unwrap().unwrap();
        let mut two = [0u8; 2];
        first.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"hi");
        assert_eq!(b.stats().refused_streams, 1);
        assert!(!b.is_closed());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn shutdown_ends_both_sessions_cleanly() {
    timeout(T, async {
        let (a, da, b, db) = pair();
        let mut s = a.open().await.unwrap();
        s.write_all(b"last words").await.unwrap();
        Muxer::close(a.as_ref()).await.unwrap();
        assert!(a.is_closed());
        // Data queued before the close arrives; then the stream ends with an error (the
        // session ended without the stream's Close), and accept says: ended cleanly.
        let mut inb = b.accept().await.unwrap().unwrap();
        let mut got = [0u8; 10];
        inb.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"last words");
        let err = inb.read(&mut [0u8; 1]).await.unwrap_err();
        assert!(matches!(mplex_error(err), MplexError::SessionClosed));
        assert!(b.accept().await.unwrap().is_none());
        da.await.unwrap().unwrap();
        db.await.unwrap().unwrap();
        assert!(a.open().await.is_err());
    })
    .await
    .unwrap();
}

async fn raw_peer_error(bytes: &[u8]) -> (ChainError, Arc<MplexMuxer>) {
    let (a, mut raw) = tokio::io::duplex(1 << 16);
    let (m, d) = start(Box::new(a.compat()), MplexConfig::default()).unwrap();
    let driver = tokio::spawn(d);
    raw.write_all(bytes).await.unwrap();
    let err = driver.await.unwrap().unwrap_err();
    (err, m)
}

#[tokio::test]
async fn protocol_errors_fail_the_driver_with_typed_errors() {
    timeout(T, async {
        // NewStream 0, then flag 7.
        let (err, m) = raw_peer_error(&[0x00, 0x00, 0x07, 0x00]).await;
        assert_eq!(err.layer().as_str(), "mplex");
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert_eq!(
            err.downcast_ref::<MplexError>(),
            Some(&MplexError::UnknownFlag(7))
        );
        // The stream accepted before the error fails with the same cause.
        let mut st = m.accept().await.unwrap().unwrap();
        let io = st.read(&mut [0u8; 4]).await.unwrap_err();
        assert_eq!(mplex_error(io), MplexError::UnknownFlag(7));
        assert!(m.accept().await.is_err());
        assert!(m.is_closed());

        let (err, _) = raw_peer_error(&[0x08, 0x00, 0x08, 0x00]).await;
        assert_eq!(
            err.downcast_ref::<MplexError>(),
            Some(&MplexError::DuplicateStream(1))
        );
        let (err, _) = raw_peer_error(&[0x02, 0x81, 0x80, 0x40]).await;
        assert_eq!(err.kind(), ErrorKind::LimitExceeded);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn peer_eof_mid_frame_is_an_error_and_at_a_boundary_is_clean() {
    timeout(T, async {
        let (a, mut raw) = tokio::io::duplex(1 << 16);
        let (m, d) = start(Box::new(a.compat()), MplexConfig::default()).unwrap();
        let driver = tokio::spawn(d);
        raw.write_all(&[0x00, 0x00, 0x02, 0x05, b'a'])
            .await
            .unwrap();
        drop(raw);
        let err = driver.await.unwrap().unwrap_err();
        assert_eq!(
            err.downcast_ref::<MplexError>(),
            Some(&MplexError::EofMidFrame)
        );
        assert!(m.is_closed());

        let (a, raw) = tokio::io::duplex(1 << 16);
        let (m, d) = start(Box::new(a.compat()), MplexConfig::default()).unwrap();
        let driver = tokio::spawn(d);
        drop(raw);
        driver.await.unwrap().unwrap();
        assert!(m.accept().await.unwrap().is_none());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn invalid_config_is_refused_by_start() {
    let (a, _b) = tokio::io::duplex(16);
    let err = start(
        Box::new(a.compat()),
        MplexConfig::new().with_split_send_size(0),
    )
    .err()
    .unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(matches!(
        err.downcast_ref::<MplexError>(),
        Some(MplexError::InvalidConfig(_))
    ));
}
