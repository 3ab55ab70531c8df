//! Criterion bench of the `yamux` crate beside rust-libp2p's muxer (crates.io `yamux` 0.13):
//! single-stream throughput over an in-memory tokio duplex (4 MiB buffer), 16 MiB per
//! iteration in 64 KiB writes, one group side by side. Each iteration opens a fresh stream on
//! an established session, writes, half-closes and waits for the receiver's 1-byte receipt.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::channel::{mpsc, oneshot};
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures::StreamExt;
use tokio_util::compat::TokioAsyncReadCompatExt;
use yamux::{start, Mode, YamuxConfig, YamuxMuxer};

const WRITE: usize = 64 * 1024;
const TOTAL: usize = 16 * 1024 * 1024;
const PIPE: usize = 4 * 1024 * 1024;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Receiver side: read to EOF, then answer one byte.
async fn sink<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) {
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0;
    loop {
        let k = s.read(&mut buf).await.unwrap();
        if k == 0 {
            break;
        }
        n += k;
    }
    assert_eq!(n, TOTAL);
    s.write_all(b"k").await.unwrap();
    s.close().await.unwrap();
}

/// Sender side: 16 MiB in 64 KiB writes, FIN, wait for the receipt.
async fn send<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, chunk: &[u8]) {
    for _ in 0..TOTAL / WRITE {
        s.write_all(chunk).await.unwrap();
    }
    s.close().await.unwrap();
    let mut k = [0u8; 1];
    s.read_exact(&mut k).await.unwrap();
}

fn ours(rt: &tokio::runtime::Runtime) -> Arc<YamuxMuxer> {
    rt.block_on(async {
        let (a, b) = tokio::io::duplex(PIPE);
        let (c, dc) = start(Box::new(a.compat()), Mode::Client, YamuxConfig::default()).unwrap();
        let (s, ds) = start(Box::new(b.compat()), Mode::Server, YamuxConfig::default()).unwrap();
        tokio::spawn(dc);
        tokio::spawn(ds);
        tokio::spawn(async move {
            while let Ok(Some(st)) = s.accept().await {
                tokio::spawn(sink(st));
            }
        });
        c
    })
}

type Opener = mpsc::UnboundedSender<oneshot::Sender<yamux_rs::Stream>>;

/// A rust-yamux connection pair; returns the client's stream opener.
fn theirs(rt: &tokio::runtime::Runtime) -> Opener {
    rt.block_on(async {
        let (a, b) = tokio::io::duplex(PIPE);
        let mut client = yamux_rs::Connection::new(
            a.compat(),
            yamux_rs::Config::default(),
            yamux_rs::Mode::Client,
        );
        let mut server = yamux_rs::Connection::new(
            b.compat(),
            yamux_rs::Config::default(),
            yamux_rs::Mode::Server,
        );
        tokio::spawn(async move {
            poll_fn(|cx| loop {
                match server.poll_next_inbound(cx) {
                    Poll::Ready(Some(Ok(s))) => {
                        tokio::spawn(sink(s));
                    }
                    Poll::Ready(_) => return Poll::Ready(()),
                    Poll::Pending => return Poll::Pending,
                }
            })
            .await
        });
        let (tx, mut rx) = mpsc::unbounded::<oneshot::Sender<yamux_rs::Stream>>();
        tokio::spawn(async move {
            let mut waiting: Option<oneshot::Sender<yamux_rs::Stream>> = None;
            poll_fn(|cx| loop {
                if waiting.is_none() {
                    if let Poll::Ready(Some(w)) = rx.poll_next_unpin(cx) {
                        waiting = Some(w);
                    }
                }
                let mut progress = false;
                if waiting.is_some() {
                    match client.poll_new_outbound(cx) {
                        Poll::Ready(Ok(s)) => {
                            let _ = waiting.take().unwrap().send(s);
                            progress = true;
                        }
                        Poll::Ready(Err(_)) => return Poll::Ready(()),
                        Poll::Pending => {}
                    }
                }
                match client.poll_next_inbound(cx) {
                    Poll::Ready(Some(Ok(_))) => progress = true,
                    Poll::Ready(_) => return Poll::Ready(()),
                    Poll::Pending => {}
                }
                if !progress {
                    return Poll::Pending;
                }
            })
            .await
        });
        tx
    })
}

fn throughput(c: &mut Criterion) {
    let rt = rt();
    let chunk = vec![0x5au8; WRITE];
    let mut g = c.benchmark_group("yamux_single_stream_16MiB");
    g.throughput(Throughput::Bytes(TOTAL as u64));
    g.sample_size(10);

    let mux = ours(&rt);
    g.bench_function("ours", |b| {
        b.to_async(&rt).iter(|| {
            let mux = mux.clone();
            let chunk = &chunk;
            async move {
                let s = mux.open().await.unwrap();
                send(s, chunk).await;
            }
        })
    });

    let opener = theirs(&rt);
    g.bench_function("rust-yamux-0.13", |b| {
        b.to_async(&rt).iter(|| {
            let opener = opener.clone();
            let chunk = &chunk;
            async move {
                let (tx, rx) = oneshot::channel();
                opener.unbounded_send(tx).unwrap();
                let s = rx.await.unwrap();
                send(s, chunk).await;
            }
        })
    });
    g.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
