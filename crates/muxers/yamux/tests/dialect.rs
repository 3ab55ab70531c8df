//! Dialects through the real driver: a session over an in-memory pipe whose writes are
//! recorded, and a raw peer on the other end that parses what arrives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use chainp2p_core::identity::Keypair;
use chainp2p_core::{HandlerContext, MuxerHandler, PeerFraming, Role};
use chainp2p_yamux::{
    start, Dialect, Flags, Frame, FrameCodec, FrameType, Header, Mode, YamuxConfig,
};
use futures::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::io::{AsyncReadExt as _, DuplexStream};
use tokio::time::timeout;
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

const T: Duration = Duration::from_secs(20);

type Writes = Arc<Mutex<Vec<Vec<u8>>>>;

/// The pipe, recording the bytes each `poll_write` call got through.
struct Recording {
    inner: Compat<DuplexStream>,
    writes: Writes,
}

impl AsyncRead for Recording {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Recording {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            self.writes.lock().unwrap().push(buf[..n].to_vec());
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// Our end of a pipe of `cap` bytes (recorded), and the raw peer's end.
fn recorded_pipe(cap: usize) -> (Recording, Writes, DuplexStream) {
    let (a, b) = tokio::io::duplex(cap);
    let writes = Writes::default();
    let rec = Recording {
        inner: a.compat(),
        writes: writes.clone(),
    };
    (rec, writes, b)
}

/// The raw peer: parses frames as they arrive.
struct Peer {
    io: DuplexStream,
    wire: BytesMut,
    codec: FrameCodec,
    frames: Vec<Frame>,
}

impl Peer {
    fn new(io: DuplexStream) -> Self {
        Peer {
            io,
            wire: BytesMut::new(),
            codec: FrameCodec::new(1 << 20),
            frames: Vec::new(),
        }
    }

    /// Reads until a frame `pred` accepts has arrived (all frames are kept in `frames`).
    async fn until(&mut self, pred: impl Fn(&Frame) -> bool) {
        loop {
            while let Some(f) = self.codec.decode(&mut self.wire).unwrap() {
                let hit = pred(&f);
                self.frames.push(f);
                if hit {
                    return;
                }
            }
            let mut chunk = [0u8; 4096];
            let n = self.io.read(&mut chunk).await.unwrap();
            assert!(n > 0, "EOF; frames so far: {:?}", self.frames);
            self.wire.extend_from_slice(&chunk[..n]);
        }
    }

    fn fins(&self) -> Vec<&Frame> {
        self.frames
            .iter()
            .filter(|f| f.header.flags.contains(Flags::FIN))
            .collect()
    }
}

fn is_data(id: u32, body: &'static [u8]) -> impl Fn(&Frame) -> bool {
    move |f| f.header.frame_type == FrameType::Data && f.header.stream_id == id && f.body == body
}

fn is_ping(f: &Frame) -> bool {
    f.header.frame_type == FrameType::Ping
}

/// Length of the frame `b` starts with, parsed independently of the crate's helper.
fn frame_len(b: &[u8]) -> usize {
    let h = Header::decode(b[..12].try_into().unwrap()).unwrap();
    12 + h.body_len()
}

/// Asserts that no recorded write holds bytes of two frames.
fn assert_no_write_spans_frames(writes: &[Vec<u8>]) {
    let wire = writes.concat();
    let mut ends = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        at += frame_len(&wire[at..]);
        ends.push(at);
    }
    let mut pos = 0;
    for w in writes {
        let end = *ends.iter().find(|&&e| e > pos).unwrap();
        assert!(
            pos + w.len() <= end,
            "write of {} bytes at {pos} crosses the frame end at {end}; writes: {writes:?}",
            w.len()
        );
        pos += w.len();
    }
}

/// Asserts that every recorded write is exactly one whole frame.
fn assert_one_frame_per_write(writes: &[Vec<u8>]) {
    for w in writes {
        assert_eq!(frame_len(w), w.len(), "writes: {writes:?}");
    }
}

/// Opens a stream and writes `hello` on it before the driver first runs, then runs it: the
/// session has a SYN WindowUpdate, a Data frame and (from the driver's start) a ping to
/// write at once. Returns the recorded writes once the peer has all three frames.
async fn first_writes(config: YamuxConfig, cap: usize) -> Vec<Vec<u8>> {
    let (rec, writes, raw) = recorded_pipe(cap);
    let (m, driver) = start(Box::new(rec), Mode::Client, config).unwrap();
    let mut st = m.open().await.unwrap();
    st.write_all(b"hello").await.unwrap();
    let _driver = tokio::spawn(driver);
    let mut peer = Peer::new(raw);
    peer.until(is_data(1, b"hello")).await;
    peer.until(is_ping).await;
    let types: Vec<_> = peer.frames.iter().map(|f| f.header.frame_type).collect();
    assert_eq!(
        types,
        [FrameType::WindowUpdate, FrameType::Data, FrameType::Ping]
    );
    let w = writes.lock().unwrap().clone();
    w
}

#[tokio::test]
async fn frame_per_write_dialect_writes_one_frame_per_write() {
    timeout(T, async {
        let config = YamuxConfig::new().with_dialect(Dialect::FramePerWrite);
        let writes = first_writes(config, 1 << 16).await;
        assert_one_frame_per_write(&writes);
        assert_eq!(writes.len(), 3);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn frame_per_write_dialect_through_a_tiny_pipe_never_mixes_frames() {
    timeout(T, async {
        // The pipe takes 7 bytes at a time: every frame is cut, none is glued to the next.
        let config = YamuxConfig::new().with_dialect(Dialect::FramePerWrite);
        let writes = first_writes(config, 7).await;
        assert_no_write_spans_frames(&writes);
        assert!(writes.len() >= 7, "{writes:?}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn standard_dialect_coalesces_frames_into_one_write() {
    timeout(T, async {
        let config = YamuxConfig::new().with_dialect(Dialect::Standard);
        let writes = first_writes(config, 1 << 16).await;
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert_eq!(writes[0].len(), 12 + 17 + 12);
    })
    .await
    .unwrap();
}

fn ctx(framing: PeerFraming) -> HandlerContext {
    let mut ctx = HandlerContext::new(Role::Dialer, Arc::new(Keypair::generate_ed25519()));
    ctx.peer_framing = framing;
    ctx
}

/// `multiplex`es over a recorded pipe for a peer with `framing`, then (driver running) opens
/// a stream, writes `a`, tells the muxer the peer's `agent` and closes the stream; then
/// writes `b` on a second stream so that the peer knows when it has seen everything.
/// Returns the recorded writes and the peer.
async fn close_after_agent(
    config: YamuxConfig,
    framing: PeerFraming,
    agent: &str,
) -> (Vec<Vec<u8>>, Peer) {
    let (rec, writes, raw) = recorded_pipe(1 << 16);
    let (m, driver) = config
        .multiplex(Box::new(rec), &ctx(framing))
        .await
        .unwrap();
    let _driver = tokio::spawn(driver);
    let mut peer = Peer::new(raw);
    let mut s1 = m.open_stream().await.unwrap();
    s1.write_all(b"a").await.unwrap();
    s1.flush().await.unwrap();
    peer.until(is_data(1, b"a")).await;
    m.peer_agent(agent);
    s1.close().await.unwrap();
    let mut s2 = m.open_stream().await.unwrap();
    s2.write_all(b"b").await.unwrap();
    s2.flush().await.unwrap();
    peer.until(is_data(3, b"b")).await;
    let w = writes.lock().unwrap().clone();
    (w, peer)
}

#[tokio::test]
async fn message_per_frame_peer_gets_one_frame_per_write() {
    timeout(T, async {
        let (writes, peer) = close_after_agent(
            YamuxConfig::new(),
            PeerFraming::MessagePerFrame,
            "go-ipfs/0.4.23",
        )
        .await;
        assert_one_frame_per_write(&writes);
        assert!(writes.len() >= 4, "{writes:?}");
        // Not c-ipfs: FramePerWrite half-closes as the spec says.
        assert_eq!(peer.fins().len(), 1);
        assert_eq!(peer.fins()[0].header.stream_id, 1);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn c_ipfs_agent_switches_a_frame_per_write_session_to_c_libp2p() {
    timeout(T, async {
        let (writes, peer) = close_after_agent(
            YamuxConfig::new(),
            PeerFraming::MessagePerFrame,
            "c-ipfs/1.0",
        )
        .await;
        assert_one_frame_per_write(&writes);
        assert!(
            peer.fins().is_empty(),
            "c-ipfs got a FIN: {:?}",
            peer.frames
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn c_ipfs_agent_leaves_a_standard_session_standard() {
    timeout(T, async {
        // A stream peer (Auto -> Standard), and a secio peer with Standard chosen explicitly.
        for (config, framing) in [
            (YamuxConfig::new(), PeerFraming::Stream),
            (
                YamuxConfig::new().with_dialect(Dialect::Standard),
                PeerFraming::MessagePerFrame,
            ),
        ] {
            let (_, peer) = close_after_agent(config, framing, "c-ipfs/1.0").await;
            assert_eq!(peer.fins().len(), 1, "{framing:?}: {:?}", peer.frames);
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn stream_peer_gets_coalesced_writes_from_multiplex() {
    timeout(T, async {
        let (rec, writes, raw) = recorded_pipe(1 << 16);
        let (m, driver) = YamuxConfig::new()
            .multiplex(Box::new(rec), &ctx(PeerFraming::Stream))
            .await
            .unwrap();
        let mut st = m.open_stream().await.unwrap();
        st.write_all(b"hello").await.unwrap();
        let _driver = tokio::spawn(driver);
        let mut peer = Peer::new(raw);
        peer.until(is_ping).await;
        let writes = writes.lock().unwrap().clone();
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert_eq!(writes[0].len(), 12 + 17 + 12);
    })
    .await
    .unwrap();
}
