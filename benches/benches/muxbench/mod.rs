//! Workloads shared by the muxer benches (`yamux.rs`, `mplex.rs`), so ours and the rust-libp2p
//! crate run exactly the same traffic: a muxer pair over an in-memory tokio duplex, whose client
//! side is an [`Opener`] and whose server side answers every inbound stream with [`sink`] (or
//! [`echo_keep`] for the memory measurement).
//!
//! Groups: `single_stream_64k` (16 MiB on one stream in 64 KiB writes), `100_streams` (100
//! streams in parallel, 1 MiB each), `open_10000_streams` (10,000 streams opened by 100
//! concurrent openers, each stream carrying 1 byte and an 8-byte receipt, then closed both
//! ways), and [`idle_stream_bytes`] (live heap bytes per idle open stream, both sides summed).

use std::future::Future;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use futures::channel::mpsc;
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures::StreamExt;
use tokio::runtime::Runtime;

/// Size of one application write.
pub const WRITE: usize = 64 * 1024;
/// Bytes moved per iteration of `single_stream_64k`.
pub const SINGLE_TOTAL: usize = 16 * 1024 * 1024;
/// Streams of `100_streams`.
pub const PARALLEL_STREAMS: usize = 100;
/// Bytes per stream of `100_streams`.
pub const PARALLEL_EACH: usize = 1024 * 1024;
/// Streams opened per iteration of `open_10000_streams`.
pub const OPENS: usize = 10_000;
/// Concurrent openers of `open_10000_streams` (each opens `OPENS / OPEN_WORKERS` in turn).
pub const OPEN_WORKERS: usize = 100;
/// Idle streams held open for the memory measurement.
pub const IDLE: usize = 10_000;
/// Capacity of the in-memory pipe between the two muxers.
pub const PIPE: usize = 4 * 1024 * 1024;

static CHUNK: [u8; WRITE] = [0x5a; WRITE];

/// The benchmark runtime: two workers, like the machine.
pub fn rt() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The client side of a muxer pair: opens outbound streams.
pub trait Opener: Clone + Send + Sync + 'static {
    /// The stream type.
    type S: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// Opens one outbound stream (panics on failure: this is a benchmark).
    fn open(&self) -> impl Future<Output = Self::S> + Send;
}

/// Server side of the traffic benches: reads to EOF, answers the byte count (u64 LE), closes.
/// The read buffer starts small and grows to 256 KiB once a read fills it, so the 10,000
/// one-byte streams of `open_10000_streams` do not each zero 256 KiB.
pub async fn sink<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) {
    let mut buf = vec![0u8; 64];
    let mut n: u64 = 0;
    loop {
        let k = s.read(&mut buf).await.unwrap();
        if k == 0 {
            break;
        }
        n += k as u64;
        if k == buf.len() && buf.len() < 256 * 1024 {
            buf.resize(256 * 1024, 0);
        }
    }
    s.write_all(&n.to_le_bytes()).await.unwrap();
    s.close().await.unwrap();
}

/// Client side: `total` bytes in `WRITE`-sized writes, FIN, check the receipt, read the FIN.
pub async fn send<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, total: usize) {
    let mut left = total;
    while left > 0 {
        let n = left.min(WRITE);
        s.write_all(&CHUNK[..n]).await.unwrap();
        left -= n;
    }
    s.close().await.unwrap();
    let mut receipt = [0u8; 8];
    s.read_exact(&mut receipt).await.unwrap();
    assert_eq!(u64::from_le_bytes(receipt), total as u64);
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
}

/// Server side of the memory measurement: one byte in, one byte back, then hand the idle
/// stream to `keep`.
pub async fn echo_keep<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    keep: mpsc::UnboundedSender<S>,
) {
    let mut b = [0u8; 1];
    s.read_exact(&mut b).await.unwrap();
    s.write_all(&b).await.unwrap();
    s.flush().await.unwrap();
    keep.unbounded_send(s).ok().unwrap();
}

/// One of the timed workloads.
#[derive(Clone, Copy, Debug)]
pub enum Work {
    /// `single_stream_64k`.
    Single,
    /// `100_streams`.
    Parallel,
    /// `open_10000_streams`.
    Opens,
}

impl Work {
    fn name(self) -> &'static str {
        match self {
            Work::Single => "single_stream_64k",
            Work::Parallel => "100_streams",
            Work::Opens => "open_10000_streams",
        }
    }

    fn throughput(self) -> Throughput {
        match self {
            Work::Single => Throughput::Bytes(SINGLE_TOTAL as u64),
            Work::Parallel => Throughput::Bytes((PARALLEL_STREAMS * PARALLEL_EACH) as u64),
            Work::Opens => Throughput::Elements(OPENS as u64),
        }
    }
}

/// Runs one iteration of `work` through `op`.
pub async fn run<O: Opener>(op: &O, work: Work) {
    match work {
        Work::Single => send(op.open().await, SINGLE_TOTAL).await,
        Work::Parallel => {
            let tasks: Vec<_> = (0..PARALLEL_STREAMS)
                .map(|_| {
                    let op = op.clone();
                    tokio::spawn(async move { send(op.open().await, PARALLEL_EACH).await })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        }
        Work::Opens => {
            let tasks: Vec<_> = (0..OPEN_WORKERS)
                .map(|_| {
                    let op = op.clone();
                    tokio::spawn(async move {
                        for _ in 0..OPENS / OPEN_WORKERS {
                            send(op.open().await, 1).await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        }
    }
}

/// Every timed group, `ours` beside `theirs` in the same group `"{muxer}/{work}"`.
pub fn groups<A: Opener, B: Opener>(
    c: &mut Criterion,
    rt: &Runtime,
    muxer: &str,
    ours: (&str, &A),
    theirs: (&str, &B),
) {
    for work in [Work::Single, Work::Parallel, Work::Opens] {
        let mut g = c.benchmark_group(format!("{muxer}/{}", work.name()));
        g.throughput(work.throughput());
        g.sample_size(10);
        g.bench_function(ours.0, |b| b.to_async(rt).iter(|| run(ours.1, work)));
        g.bench_function(theirs.0, |b| b.to_async(rt).iter(|| run(theirs.1, work)));
        g.finish();
    }
}

/// Opens `n` streams through `op` with `OPEN_WORKERS` concurrent openers; each stream sends one
/// byte and waits for its echo, then stays open and idle.
async fn idle_client<O: Opener>(op: &O, n: usize) -> Vec<O::S> {
    let tasks: Vec<_> = (0..OPEN_WORKERS)
        .map(|w| {
            let op = op.clone();
            let mine = n / OPEN_WORKERS + usize::from(w < n % OPEN_WORKERS);
            tokio::spawn(async move {
                let mut out = Vec::with_capacity(mine);
                for _ in 0..mine {
                    let mut s = op.open().await;
                    s.write_all(b"x").await.unwrap();
                    s.flush().await.unwrap();
                    let mut b = [0u8; 1];
                    s.read_exact(&mut b).await.unwrap();
                    out.push(s);
                }
                out
            })
        })
        .collect();
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

/// Live heap bytes per idle open stream, both sides of the connection summed (the handle
/// structs themselves included), for [`IDLE`] streams each opened, acknowledged and
/// ping-ponged one byte. `make` builds the connection pair inside the runtime: it returns the
/// client's opener, and its server must run [`echo_keep`] with the given sender on every
/// inbound stream. `live` reads the counting allocator.
pub fn idle_stream_bytes<O, K, F>(rt: &Runtime, live: fn() -> usize, make: F) -> f64
where
    O: Opener,
    K: Send + 'static,
    F: FnOnce(mpsc::UnboundedSender<K>) -> O,
{
    rt.block_on(async {
        let (tx, mut rx) = mpsc::unbounded::<K>();
        let op = make(tx);
        settle().await;
        let before = live();
        let client = idle_client(&op, IDLE).await;
        let mut server = Vec::new();
        while server.len() < IDLE {
            server.push(rx.next().await.unwrap());
        }
        settle().await;
        let after = live();
        // The handles' own size is inside the Vecs, whose slack is not per-stream: count it
        // exactly instead.
        let vecs = client.capacity() * std::mem::size_of::<O::S>()
            + server.capacity() * std::mem::size_of::<K>();
        let handles = IDLE * (std::mem::size_of::<O::S>() + std::mem::size_of::<K>());
        let delta = after.saturating_sub(before).saturating_sub(vecs) + handles;
        drop(client);
        drop(server);
        delta as f64 / IDLE as f64
    })
}

/// Lets drivers flush and finished tasks be freed.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// Whether to run the memory measurement: always, unless `BENCH_SKIP_MEMORY` is set (it runs
/// before criterion's groups whatever the filter; skip it when profiling one group).
pub fn memory_wanted() -> bool {
    std::env::var_os("BENCH_SKIP_MEMORY").is_none()
}

/// Prints one memory line, with the ratio ours / theirs.
pub fn print_memory(muxer: &str, ours: (&str, f64), theirs: (&str, f64)) {
    println!(
        "memory_per_idle_stream {muxer}: {}: {:.0} B/stream, {}: {:.0} B/stream (ours/theirs = {:.2}; {IDLE} streams, both sides summed)",
        ours.0,
        ours.1,
        theirs.0,
        theirs.1,
        ours.1 / theirs.1
    );
}

/// An inbound handler that runs [`sink`] on every stream in its own task.
pub fn sinks<S>() -> impl FnMut(S) + Send + 'static
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    |s| {
        tokio::spawn(sink(s));
    }
}

/// An inbound handler that runs [`echo_keep`] on every stream in its own task.
pub fn keepers<S>(keep: mpsc::UnboundedSender<S>) -> impl FnMut(S) + Send + 'static
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    move |s| {
        tokio::spawn(echo_keep(s, keep.clone()));
    }
}
