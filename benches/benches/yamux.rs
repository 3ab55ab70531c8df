//! Criterion bench of the `yamux` crate beside rust-libp2p's muxer (crates.io `yamux` 0.13), in
//! memory over a tokio duplex (4 MiB buffer), each group side by side in the same run:
//! `yamux/single_stream_64k`, `yamux/100_streams`, `yamux/open_10000_streams` (workloads in
//! `muxbench`), plus memory per idle stream (10,000 streams, counting allocator), printed
//! before the groups since criterion cannot measure memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

mod muxbench;

use std::future::{poll_fn, Future};
use std::sync::Arc;
use std::task::Poll;

use chain_benches::alloc::{counting, live_bytes, Counting};
use chainp2p_yamux::{start, Mode, YamuxConfig, YamuxMuxer, YamuxStream};
use criterion::{criterion_group, criterion_main, Criterion};
use futures::channel::{mpsc, oneshot};
use futures::StreamExt;
use muxbench::{
    groups, idle_stream_bytes, keepers, memory_wanted, print_memory, rt, sinks, Opener, PIPE,
};
use tokio_util::compat::TokioAsyncReadCompatExt;

#[global_allocator]
static ALLOC: Counting = counting();

fn live() -> usize {
    live_bytes(&ALLOC)
}

/// Ours: the client muxer handle.
#[derive(Clone)]
struct Ours(Arc<YamuxMuxer>);

impl Opener for Ours {
    type S = YamuxStream;
    fn open(&self) -> impl Future<Output = YamuxStream> + Send {
        let m = self.0.clone();
        async move { m.open().await.unwrap() }
    }
}

/// An ours pair (must run inside the runtime); `inbound` gets every server-side stream.
fn ours(cfg: YamuxConfig, mut inbound: impl FnMut(YamuxStream) + Send + 'static) -> Ours {
    let (a, b) = tokio::io::duplex(PIPE);
    let (c, dc) = start(Box::new(a.compat()), Mode::Client, cfg.clone()).unwrap();
    let (s, ds) = start(Box::new(b.compat()), Mode::Server, cfg).unwrap();
    tokio::spawn(dc);
    tokio::spawn(ds);
    tokio::spawn(async move {
        while let Ok(Some(st)) = s.accept().await {
            inbound(st);
        }
    });
    Ours(c)
}

/// rust-yamux: open requests go to the task that polls the client connection.
#[derive(Clone)]
struct Theirs(mpsc::UnboundedSender<oneshot::Sender<yamux::Stream>>);

impl Opener for Theirs {
    type S = yamux::Stream;
    fn open(&self) -> impl Future<Output = yamux::Stream> + Send {
        let (tx, rx) = oneshot::channel();
        self.0.unbounded_send(tx).unwrap();
        async move { rx.await.unwrap() }
    }
}

/// A rust-yamux pair (must run inside the runtime); `inbound` gets every server-side stream.
fn theirs(cfg: yamux::Config, mut inbound: impl FnMut(yamux::Stream) + Send + 'static) -> Theirs {
    let (a, b) = tokio::io::duplex(PIPE);
    let mut client = yamux::Connection::new(a.compat(), cfg.clone(), yamux::Mode::Client);
    let mut server = yamux::Connection::new(b.compat(), cfg, yamux::Mode::Server);
    tokio::spawn(async move {
        poll_fn(|cx| loop {
            match server.poll_next_inbound(cx) {
                Poll::Ready(Some(Ok(s))) => inbound(s),
                Poll::Ready(_) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        })
        .await
    });
    let (tx, mut rx) = mpsc::unbounded::<oneshot::Sender<yamux::Stream>>();
    tokio::spawn(async move {
        let mut waiting: Option<oneshot::Sender<yamux::Stream>> = None;
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
    Theirs(tx)
}

/// Memory per idle stream; both sides allow 20,000 streams (defaults: 512).
fn memory() {
    let rt = rt();
    let ours_cfg = YamuxConfig::default().with_max_inbound_streams(20_000);
    let o = idle_stream_bytes(&rt, live, |keep| ours(ours_cfg, keepers(keep)));
    let mut cfg = yamux::Config::default();
    cfg.set_max_connection_receive_window(None);
    cfg.set_max_num_streams(20_000);
    let t = idle_stream_bytes(&rt, live, |keep| theirs(cfg, keepers(keep)));
    print_memory("yamux", ("ours", o), ("yamux-0.13", t));
}

fn benches(c: &mut Criterion) {
    if memory_wanted() {
        memory();
    }
    let rt = rt();
    let (o, t) = {
        let _g = rt.enter();
        (
            ours(YamuxConfig::default(), sinks()),
            theirs(yamux::Config::default(), sinks()),
        )
    };
    groups(c, &rt, "yamux", ("ours", &o), ("yamux-0.13", &t));
}

criterion_group!(yamux_benches, benches);
criterion_main!(yamux_benches);
