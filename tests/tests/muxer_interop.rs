//! Muxer interop over real TCP on 127.0.0.1: our swarm (noise + our yamux or mplex) against a rust-libp2p
//! 0.57 swarm (noise + `libp2p-yamux` 0.48 or `libp2p-mplex` 0.44), each side dialing in turn.
//!
//! For each muxer and each dialer:
//! - **bulk**: 100 streams opened at once by one side, each moving 1 MiB each way concurrently
//!   (a distinct deterministic pattern per stream and direction), checked byte for byte;
//! - **half-close**: one side writes and closes its write half, the other reads to EOF and only then
//!   answers, and the first reads the answer (each side as the first writer and as the opener);
//! - **reset**: after an exchange one side drops its open stream (RST), and the other side sees it: our
//!   read fails with an error (not a clean EOF); rust-libp2p's read of a reset stream returns EOF for both
//!   of its muxers (rust-yamux 0.13 `Stream::poll_read`, libp2p-mplex `poll_read_stream`), so on the rust
//!   side the reset is told from a FIN by its writes failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context as _, Result};
use chainp2p_core::{BoxStream, ChainError, HandlerContext, MuxerHandler, Next, StreamHandler};
use chainp2p_swarm::{Connection, Swarm, SwarmBuilder, SwarmEvent};
use common::muxer::{exchange, MuxPeer, Pattern, RustMuxer};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::mpsc;

/// Concurrent streams opened by one side in the bulk test.
const STREAMS: usize = 100;
/// Bytes each way per bulk stream.
const STREAM_BYTES: usize = 1024 * 1024;
/// Bound on one wait for a connection or a stream.
const WAIT: Duration = Duration::from_secs(10);
/// Bound on a whole test.
const TEST: Duration = Duration::from_secs(60);

const HALF: &str = "/muxtest/half/1.0.0";
const RESET: &str = "/muxtest/reset/1.0.0";

fn bulk_protocol(i: usize) -> String {
    format!("/muxtest/bulk/{i}")
}

/// Every test protocol: one per bulk stream (see `common::muxer` on libp2p-stream's one-slot channel).
fn test_protocols() -> Vec<String> {
    let mut v: Vec<String> = (0..STREAMS).map(bulk_protocol).collect();
    v.push(HALF.to_string());
    v.push(RESET.to_string());
    v
}

/// Our muxer handler for `m`.
fn our_muxer(m: RustMuxer) -> Arc<dyn MuxerHandler> {
    match m {
        RustMuxer::Yamux => Arc::new(chainp2p_yamux::YamuxConfig::default()),
        // Defaults: mplex has no flow control, and rust-libp2p sends each stream's 1 MiB as fast
        // as it can while a reader task may not have run yet; our default overflow policy
        // stops reading the connection meanwhile (TCP backpressure) instead of resetting a
        // reader that is alive.
        RustMuxer::Mplex => Arc::new(chainp2p_mplex::MplexConfig::default()),
    }
}

/// Our application handler for the test protocols: hands each negotiated inbound stream to the test.
struct Inbox {
    protocols: Vec<String>,
    tx: mpsc::UnboundedSender<(String, BoxStream)>,
}

impl StreamHandler for Inbox {
    fn protocols(&self) -> Vec<String> {
        self.protocols.clone()
    }

    fn handle<'a, 'b, 't>(
        &'a self,
        protocol: &'b str,
        io: BoxStream,
        _ctx: HandlerContext,
    ) -> Pin<Box<dyn Future<Output = Result<Next, ChainError>> + Send + 't>>
    where
        'a: 't,
        'b: 't,
        Self: 't,
    {
        let _ = self.tx.send((protocol.to_string(), io));
        Box::pin(async { Ok(Next::Done) })
    }
}

/// Which side does something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Ours,
    Rust,
}

/// A live connection between our swarm and a rust-libp2p peer.
struct Pair {
    muxer: RustMuxer,
    _ours: Swarm,
    conn: Connection,
    inbox: mpsc::UnboundedReceiver<(String, BoxStream)>,
    rust: MuxPeer,
    our_id: PeerId,
}

/// Connects our swarm and a rust peer over `muxer`; `dialer` says who dials.
async fn connect(muxer: RustMuxer, dialer: Side) -> Result<Pair> {
    let (tx, inbox) = mpsc::unbounded_channel();
    let keypair = chainp2p_swarm::identity::Keypair::generate_ed25519();
    let our_id = keypair.public().to_peer_id();
    let ours = SwarmBuilder::new(keypair)
        .muxers(vec![our_muxer(muxer)])
        .protocol(Arc::new(Inbox {
            protocols: test_protocols(),
            tx,
        }))
        .build();
    let mut rust = MuxPeer::spawn(7, muxer, &test_protocols())?;
    let conn = match dialer {
        Side::Ours => {
            let addr = rust.listen().await?;
            let conn = tokio::time::timeout(WAIT, ours.dial(&addr))
                .await
                .context("our dial timed out")??;
            rust.wait_connected(our_id, WAIT).await?;
            conn
        }
        Side::Rust => {
            let mut events = ours.subscribe();
            let bound = ours.listen(&"/ip4/127.0.0.1/tcp/0".parse()?).await?;
            let addr: Multiaddr = bound.with(Protocol::P2p(our_id));
            rust.dial(addr).await?;
            rust.wait_connected(our_id, WAIT).await?;
            let deadline = tokio::time::Instant::now() + WAIT;
            loop {
                match tokio::time::timeout_at(deadline, events.recv()).await {
                    Ok(Ok(SwarmEvent::ConnectionEstablished { peer_id, .. }))
                        if peer_id == rust.peer_id =>
                    {
                        break
                    }
                    Ok(Ok(SwarmEvent::IncomingConnectionError { error, .. })) => {
                        bail!("inbound connection from rust failed: {error}")
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => bail!("our swarm events: {e}"),
                    Err(_) => bail!("our swarm saw no connection from rust within {WAIT:?}"),
                }
            }
            ours.connection(&rust.peer_id)
                .ok_or_else(|| anyhow!("our swarm has no connection to the rust peer"))?
        }
    };
    let want = muxer.protocol();
    ensure!(
        conn.chain().protocols().iter().any(|p| p == want),
        "our chain {:?} lacks {want}",
        conn.chain().protocols()
    );
    Ok(Pair {
        muxer,
        _ours: ours,
        conn,
        inbox,
        rust,
        our_id,
    })
}

impl Pair {
    /// Opens a stream for `protocol` from `side`, and returns it with the peer's end.
    async fn open_pair(&mut self, side: Side, protocol: &str) -> Result<(Duplex, Duplex)> {
        match side {
            Side::Ours => {
                let s = self.conn.open_stream(protocol).await?;
                let (p, _, r) = self.rust.next_inbound(WAIT).await?;
                ensure!(p == protocol, "rust accepted {p}, expected {protocol}");
                Ok((Duplex::Ours(s), Duplex::Rust(r)))
            }
            Side::Rust => {
                let r = self.rust.open(self.our_id, protocol).await?;
                let (p, s) = self.our_inbound().await?;
                ensure!(p == protocol, "we accepted {p}, expected {protocol}");
                Ok((Duplex::Rust(r), Duplex::Ours(s)))
            }
        }
    }

    async fn our_inbound(&mut self) -> Result<(String, BoxStream)> {
        tokio::time::timeout(WAIT, self.inbox.recv())
            .await
            .context("no inbound stream on our side")?
            .ok_or_else(|| anyhow!("our inbox is closed"))
    }
}

/// One end of a stream, on either side.
enum Duplex {
    Ours(BoxStream),
    Rust(libp2p::Stream),
}

impl Duplex {
    fn io(&mut self) -> &mut (dyn AsyncRW + Send) {
        match self {
            Duplex::Ours(s) => s,
            Duplex::Rust(s) => s,
        }
    }
}

trait AsyncRW: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRW for T {}

/// The pattern seed of bulk stream `i` sent by `side`.
fn seed(side: Side, i: usize) -> u64 {
    (i as u64) * 2 + u64::from(side == Side::Rust)
}

/// (a) `opener` opens [`STREAMS`] streams at once; each moves [`STREAM_BYTES`] each way, checked.
async fn bulk(pair: &mut Pair, opener: Side) -> Result<()> {
    let started = Instant::now();
    let acceptor = if opener == Side::Ours {
        Side::Rust
    } else {
        Side::Ours
    };
    let mut openers = Vec::new();
    for i in 0..STREAMS {
        let protocol = bulk_protocol(i);
        let fut: Pin<Box<dyn Future<Output = Result<()>> + Send>> = match opener {
            Side::Ours => {
                let conn = pair.conn.clone();
                Box::pin(async move {
                    let s = conn.open_stream(&protocol).await?;
                    run_bulk(s, opener, i).await
                })
            }
            Side::Rust => {
                let mut control = pair.rust.control();
                let peer = pair.our_id;
                Box::pin(async move {
                    let proto = libp2p::StreamProtocol::try_from_owned(protocol)?;
                    let s = control
                        .open_stream(peer, proto)
                        .await
                        .map_err(|e| anyhow!("rust opening bulk stream {i}: {e}"))?;
                    run_bulk(s, opener, i).await
                })
            }
        };
        openers.push(tokio::spawn(fut));
    }
    let mut acceptors = Vec::new();
    for _ in 0..STREAMS {
        let fut: Pin<Box<dyn Future<Output = Result<()>> + Send>> = match acceptor {
            Side::Rust => {
                let (p, _, s) = pair.rust.next_inbound(WAIT).await?;
                Box::pin(run_bulk(s, acceptor, bulk_index(&p)?))
            }
            Side::Ours => {
                let (p, s) = pair.our_inbound().await?;
                Box::pin(run_bulk(s, acceptor, bulk_index(&p)?))
            }
        };
        acceptors.push(tokio::spawn(fut));
    }
    for (i, t) in openers.into_iter().enumerate() {
        t.await?
            .with_context(|| format!("{opener:?} opener side of bulk stream {i}"))?;
    }
    for t in acceptors {
        t.await?
            .with_context(|| format!("{acceptor:?} acceptor side of a bulk stream"))?;
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{:?}, {opener:?} opens: {STREAMS} streams x 2 x {STREAM_BYTES} B in {secs:.2} s ({:.0} Mbit/s)",
        pair.muxer,
        (2 * STREAMS * STREAM_BYTES) as f64 * 8.0 / secs / 1e6
    );
    Ok(())
}

fn bulk_index(protocol: &str) -> Result<usize> {
    protocol
        .strip_prefix("/muxtest/bulk/")
        .and_then(|i| i.parse().ok())
        .filter(|i| *i < STREAMS)
        .ok_or_else(|| anyhow!("unexpected inbound protocol {protocol}"))
}

/// One bulk stream seen from `side`: send our pattern, expect theirs.
async fn run_bulk<S: AsyncRead + AsyncWrite + Unpin>(s: S, side: Side, i: usize) -> Result<()> {
    let other = if side == Side::Ours {
        Side::Rust
    } else {
        Side::Ours
    };
    let send = Pattern::new(seed(side, i));
    let expect = Pattern::new(seed(other, i));
    exchange(s, &send, &expect, STREAM_BYTES).await
}

/// (b) Half-close: `first` writes a request and closes its write half; the other side reads it to EOF,
/// only then answers and closes; `first` reads the answer to EOF. `opener` opens the stream.
async fn half_close(pair: &mut Pair, opener: Side, first: Side) -> Result<()> {
    const REQUEST: usize = 300 * 1024 + 7;
    const ANSWER: usize = 200 * 1024 + 3;
    let (a, b) = pair.open_pair(opener, HALF).await?;
    let (mut w, mut r) = if opener == first { (a, b) } else { (b, a) };
    let req = Pattern::new(1000);
    let ans = Pattern::new(2000);
    let first_side = async {
        let io = w.io();
        req.write(io, REQUEST)
            .await
            .context("writing the request")?;
        io.close().await.context("closing the write half")?;
        ans.expect(io, ANSWER).await.context("reading the answer")
    };
    let second_side = async {
        let io = r.io();
        req.expect(io, REQUEST)
            .await
            .context("reading the request to EOF")?;
        ans.write(io, ANSWER)
            .await
            .context("writing the answer after EOF")?;
        io.close().await.context("closing after the answer")
    };
    let (x, y) = futures::join!(first_side, second_side);
    x.with_context(|| format!("{first:?} (first writer)"))?;
    y.with_context(|| format!("{:?} (answering)", other(first)))?;
    Ok(())
}

fn other(side: Side) -> Side {
    if side == Side::Ours {
        Side::Rust
    } else {
        Side::Ours
    }
}

/// (c) Reset: after a short exchange, `resetter` drops its open stream. The other side must see it.
async fn reset(pair: &mut Pair, opener: Side, resetter: Side) -> Result<()> {
    let (a, b) = pair.open_pair(opener, RESET).await?;
    let (mut o, mut l) = (a, b);
    // A round trip so that the stream is established on both sides.
    o.io().write_all(b"hello").await?;
    o.io().flush().await?;
    let mut buf = [0u8; 5];
    l.io().read_exact(&mut buf).await?;
    ensure!(&buf == b"hello", "got {buf:?}");
    l.io().write_all(b"world").await?;
    l.io().flush().await?;
    o.io().read_exact(&mut buf).await?;
    ensure!(&buf == b"world", "got {buf:?}");

    let (gone, mut survivor) = if opener == resetter { (o, l) } else { (l, o) };
    drop(gone); // dropped without close: RST
    if resetter == Side::Rust && pair.muxer == RustMuxer::Mplex {
        // libp2p-mplex only queues the Reset of a dropped substream (io.rs `drop_stream`) and sends it
        // when the connection next reads or flushes: make it do so by opening another substream.
        let _nudge = pair.rust.open(pair.our_id, RESET).await?;
        let (_, _nudged) = pair.our_inbound().await?;
    }
    let survivor_side = other(resetter);
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(WAIT, survivor.io().read(&mut buf))
        .await
        .with_context(|| format!("{survivor_side:?} read did not end after the reset"))?;
    match survivor_side {
        Side::Ours => match read {
            Err(_) => {}
            Ok(0) => bail!("our read of a reset stream returned a clean EOF"),
            Ok(n) => bail!("our read of a reset stream returned {n} bytes"),
        },
        Side::Rust => match read {
            // rust-libp2p reports a reset as EOF on read (see the module docs).
            Ok(0) | Err(_) => {}
            Ok(n) => bail!("rust read of a reset stream returned {n} bytes"),
        },
    }
    // Writing to a reset stream must fail (a half-closed one would accept the data).
    let deadline = Instant::now() + WAIT;
    loop {
        let w = async {
            survivor.io().write_all(&[0u8; 1024]).await?;
            survivor.io().flush().await
        };
        match tokio::time::timeout(WAIT, w).await {
            Ok(Err(_)) => break,
            Ok(Ok(())) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            Ok(Ok(())) => bail!("{survivor_side:?} can still write to a stream reset {WAIT:?} ago"),
            Err(_) => bail!("{survivor_side:?} write to a reset stream hangs"),
        }
    }
    Ok(())
}

/// Runs `f` against a fresh connection, under the test deadline.
async fn with_pair<F>(muxer: RustMuxer, dialer: Side, f: F) -> Result<()>
where
    F: for<'p> FnOnce(&'p mut Pair) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'p>>,
{
    tokio::time::timeout(TEST, async {
        let mut pair = connect(muxer, dialer).await?;
        f(&mut pair).await?;
        ensure!(
            !pair.conn.is_closed(),
            "the connection died during the test"
        );
        Ok(())
    })
    .await
    .map_err(|_| anyhow!("{muxer:?} test with {dialer:?} dialing exceeded {TEST:?}"))?
}

macro_rules! muxer_tests {
    ($modname:ident, $muxer:expr) => {
        mod $modname {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn bulk_ours_dials_ours_opens() -> Result<()> {
                with_pair($muxer, Side::Ours, |p| Box::pin(bulk(p, Side::Ours))).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn bulk_ours_dials_rust_opens() -> Result<()> {
                with_pair($muxer, Side::Ours, |p| Box::pin(bulk(p, Side::Rust))).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn bulk_rust_dials_ours_opens() -> Result<()> {
                with_pair($muxer, Side::Rust, |p| Box::pin(bulk(p, Side::Ours))).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn bulk_rust_dials_rust_opens() -> Result<()> {
                with_pair($muxer, Side::Rust, |p| Box::pin(bulk(p, Side::Rust))).await
            }

            /// Every (opener, first writer) combination, on connections dialed each way.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn half_close_each_way() -> Result<()> {
                for dialer in [Side::Ours, Side::Rust] {
                    with_pair($muxer, dialer, |p| {
                        Box::pin(async move {
                            for opener in [Side::Ours, Side::Rust] {
                                for first in [Side::Ours, Side::Rust] {
                                    half_close(p, opener, first).await.with_context(|| {
                                        format!("dialer {dialer:?}, opener {opener:?}, first writer {first:?}")
                                    })?;
                                }
                            }
                            Ok(())
                        })
                    })
                    .await?;
                }
                Ok(())
            }

            /// Our side resets (drops an open stream); rust's writes then fail.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn reset_by_ours() -> Result<()> {
                resets($muxer, Side::Ours).await
            }

            /// Rust resets (drops an open stream); our read fails with an error, not EOF.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn reset_by_rust() -> Result<()> {
                resets($muxer, Side::Rust).await
            }
        }
    };
}

/// `resetter` resets streams opened by either side, on connections dialed each way.
async fn resets(muxer: RustMuxer, resetter: Side) -> Result<()> {
    for dialer in [Side::Ours, Side::Rust] {
        with_pair(muxer, dialer, |p| {
            Box::pin(async move {
                for opener in [Side::Ours, Side::Rust] {
                    reset(p, opener, resetter).await.with_context(|| {
                        format!("dialer {dialer:?}, opener {opener:?}, resetter {resetter:?}")
                    })?;
                }
                Ok(())
            })
        })
        .await?;
    }
    Ok(())
}

muxer_tests!(yamux, RustMuxer::Yamux);
muxer_tests!(mplex_rs, RustMuxer::Mplex);
