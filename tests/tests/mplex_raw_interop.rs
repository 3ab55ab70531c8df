//! Interop of our `mplex` session (without the rest of the chain) with rust-libp2p's mplex
//! (`libp2p-mplex` 0.44, as in rust-libp2p 0.57) over an in-memory pipe: streams opened
//! either way, the same number opened by both sides, bulk data both ways, half-close and
//! reset; and our default overflow policy against a peer without flow control: rust floods a
//! slow but alive reader, which gets every byte (backpressure), and a never-read stream,
//! which is reset after the 5 s timeout while the connection then carries on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use chainp2p_mplex::{start, Endpoint, MplexConfig, MplexError, MplexMuxer, StreamId};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use libp2p::core::muxing::StreamMuxerExt;
use libp2p::core::upgrade::OutboundConnectionUpgrade;
use libp2p_mplex::Multiplex;
use tokio::time::timeout;
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

type Theirs = Multiplex<Compat<tokio::io::DuplexStream>>;

const T: Duration = Duration::from_secs(30);

async fn connect(config: MplexConfig) -> (Arc<MplexMuxer>, Theirs) {
    let (a, b) = tokio::io::duplex(256 * 1024);
    let (ours, driver) = start(Box::new(a.compat()), config).unwrap();
    tokio::spawn(driver);
    let theirs = libp2p_mplex::Config::new()
        .upgrade_outbound(b.compat(), "/mplex/6.7.0")
        .await
        .unwrap();
    (ours, theirs)
}

fn pattern(seed: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 13 + seed) % 251) as u8).collect()
}

#[tokio::test]
async fn rust_opens_we_accept_and_answer() {
    timeout(T, async {
        let (ours, mut theirs) = connect(MplexConfig::default()).await;
        let mut s = poll_fn(|cx| theirs.poll_outbound_unpin(cx)).await.unwrap();
        s.write_all(b"hello from rust").await.unwrap();
        s.close().await.unwrap();
        let mut inb = ours.accept().await.unwrap().unwrap();
        assert_eq!(inb.id(), StreamId::new(0, Endpoint::Remote));
        let mut got = Vec::new();
        inb.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"hello from rust");
        inb.write_all(b"hello from us").await.unwrap();
        inb.close().await.unwrap();
        let mut back = Vec::new();
        s.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"hello from us");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn we_open_and_bulk_data_round_trips_through_rust() {
    timeout(T, async {
        let (ours, mut theirs) = connect(MplexConfig::default()).await;
        let data = pattern(1, 3 << 20);
        let expect = data.clone();
        let mut out = ours.open().await.unwrap();
        let writer = tokio::spawn(async move {
            out.write_all(&data).await.unwrap();
            out.close().await.unwrap();
            let mut back = Vec::new();
            out.read_to_end(&mut back).await.unwrap();
            back
        });
        // Rust echoes everything back after our Close.
        let mut s = poll_fn(|cx| theirs.poll_inbound_unpin(cx)).await.unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        assert!(got == expect, "rust received our data intact");
        s.write_all(&got).await.unwrap();
        s.close().await.unwrap();
        assert!(
            writer.await.unwrap() == expect,
            "we received rust's echo intact"
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn both_sides_open_stream_zero_at_once() {
    timeout(T, async {
        let (ours, mut theirs) = connect(MplexConfig::default()).await;
        let mut mine = ours.open().await.unwrap();
        mine.write_all(b"ours").await.unwrap();
        mine.close().await.unwrap();
        let mut rs = poll_fn(|cx| theirs.poll_outbound_unpin(cx)).await.unwrap();
        rs.write_all(b"theirs").await.unwrap();
        rs.close().await.unwrap();
        // Rust accepts our stream 0; we accept theirs (also number 0).
        let mut r_in = poll_fn(|cx| theirs.poll_inbound_unpin(cx)).await.unwrap();
        let mut got = Vec::new();
        r_in.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"ours");
        let mut o_in = ours.accept().await.unwrap().unwrap();
        assert_eq!(o_in.id(), StreamId::new(0, Endpoint::Remote));
        assert_eq!(mine.id(), StreamId::new(0, Endpoint::Local));
        let mut got = Vec::new();
        o_in.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"theirs");
        // Answers go to the right stream 0 on each side.
        o_in.write_all(b"to rust's stream").await.unwrap();
        o_in.close().await.unwrap();
        r_in.write_all(b"to our stream").await.unwrap();
        r_in.close().await.unwrap();
        let mut a = Vec::new();
        rs.read_to_end(&mut a).await.unwrap();
        assert_eq!(a, b"to rust's stream");
        let mut b = Vec::new();
        mine.read_to_end(&mut b).await.unwrap();
        assert_eq!(b, b"to our stream");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn resets_cross_both_ways() {
    timeout(T, async {
        let (ours, mut theirs) = connect(MplexConfig::default()).await;
        // Rust drops an open stream: it sends Reset; our reader sees a reset.
        let mut rs = poll_fn(|cx| theirs.poll_outbound_unpin(cx)).await.unwrap();
        rs.write_all(b"x").await.unwrap();
        rs.flush().await.unwrap();
        let mut inb = ours.accept().await.unwrap().unwrap();
        let mut one = [0u8; 1];
        inb.read_exact(&mut one).await.unwrap();
        drop(rs);
        // Rust queues the Reset and writes it with its next flush: open another stream.
        let mut rs2 = poll_fn(|cx| theirs.poll_outbound_unpin(cx)).await.unwrap();
        rs2.write_all(b"z").await.unwrap();
        rs2.flush().await.unwrap();
        let err = inb.read(&mut one).await.unwrap_err();
        let chain = chainp2p_core::ChainError::from_io("test", err);
        assert!(matches!(
            chain.downcast_ref::<MplexError>(),
            Some(MplexError::StreamReset(_))
        ));
        // We reset a stream: rust's reader fails.
        let mut mine = ours.open().await.unwrap();
        mine.write_all(b"y").await.unwrap();
        mine.flush().await.unwrap();
        let mut r_in = poll_fn(|cx| theirs.poll_inbound_unpin(cx)).await.unwrap();
        r_in.read_exact(&mut one).await.unwrap();
        mine.reset();
        // rust-libp2p ends the read side of a reset stream (EOF or error) and refuses writes.
        let res = r_in.read(&mut one).await;
        assert!(matches!(res, Ok(0) | Err(_)), "{res:?}");
        assert!(r_in.write_all(b"z").await.is_err(), "rust saw the reset");
    })
    .await
    .unwrap();
}

fn mplex_error(e: std::io::Error) -> MplexError {
    chainp2p_core::ChainError::from_io("test", e)
        .downcast_ref::<MplexError>()
        .cloned()
        .expect("an mplex error")
}

/// Keeps rust's side of the connection polled (its substreams only make progress while the
/// muxer is polled) by accepting nothing: rust opens every stream in these tests.
fn drive_rust_inbound(mut theirs: Theirs) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move { while poll_fn(|cx| theirs.poll_inbound_unpin(cx)).await.is_ok() {} })
}

#[tokio::test]
async fn rust_floods_a_slow_reader_which_gets_every_byte() {
    timeout(T, async {
        let (ours, mut theirs) = connect(MplexConfig::default()).await;
        let data = pattern(7, 8 << 20);
        let expect = data.clone();
        let mut s = poll_fn(|cx| theirs.poll_outbound_unpin(cx)).await.unwrap();
        let writer = tokio::spawn(async move {
            s.write_all(&data).await.unwrap();
            s.close().await.unwrap();
            s
        });
        let _rust = drive_rust_inbound(theirs);
        let mut inb = ours.accept().await.unwrap().unwrap();
        // Far slower than rust writes (it has no flow control), never idle for 5 s.
        let mut got = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut reads = 0u32;
        loop {
            let n = inb.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            reads += 1;
            if reads.is_multiple_of(8) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        assert!(got == expect, "every byte, in order ({} bytes)", got.len());
        let _ = writer.await.unwrap();
        let stats = ours.stats();
        assert_eq!(stats.overflow_resets, 0, "{stats:?}");
        assert!(stats.input_stalls > 0, "the reader was slower: {stats:?}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn rust_floods_a_never_read_stream_which_is_reset_after_the_timeout() {
    timeout(T, async {
        let (ours, mut theirs) = connect(MplexConfig::default()).await;
        let mut flood = poll_fn(|cx| theirs.poll_outbound_unpin(cx)).await.unwrap();
        flood.write_all(b"!").await.unwrap();
        flood.flush().await.unwrap();
        let mut ignored = ours.accept().await.unwrap().unwrap();
        let accepted = std::time::Instant::now();
        let mut later = poll_fn(|cx| theirs.poll_outbound_unpin(cx)).await.unwrap();
        let flooder = tokio::spawn(async move {
            let chunk = vec![3u8; 64 * 1024];
            for _ in 0..64 {
                if flood.write_all(&chunk).await.is_err() {
                    return;
                }
            }
            let _ = flood.flush().await;
        });
        // Queued behind the flood: arrives once the stuck stream is reset.
        let later_writer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            later.write_all(b"after the stall").await.unwrap();
            later.close().await.unwrap();
            later
        });
        let _rust = drive_rust_inbound(theirs);
        let mut next = ours.accept().await.unwrap().unwrap();
        let mut text = Vec::new();
        next.read_to_end(&mut text).await.unwrap();
        let waited = accepted.elapsed();
        assert_eq!(text, b"after the stall");
        assert!(
            waited >= Duration::from_secs(5) && waited < Duration::from_secs(10),
            "the connection stalled {waited:?} (reset timeout 5 s)"
        );
        assert_eq!(ours.stats().overflow_resets, 1);
        // The stuck reader gets what was buffered, then the typed error (not EOF).
        let mut got = Vec::new();
        let err = loop {
            let mut buf = vec![0u8; 64 * 1024];
            match ignored.read(&mut buf).await {
                Ok(0) => panic!("a reset must not look like EOF"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert!(matches!(
            mplex_error(err),
            MplexError::BufferOverflow { .. }
        ));
        assert!(
            got.len() <= (1 << 20) + 1 && got[0] == b'!',
            "{}",
            got.len()
        );
        flooder.await.unwrap();
        let _ = later_writer.await.unwrap();
    })
    .await
    .unwrap();
}
