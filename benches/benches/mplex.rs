//! Criterion bench of the `mplex` crate beside rust-libp2p's `libp2p-mplex` 0.44, in memory
//! over a tokio duplex (4 MiB buffer), each group side by side in the same run:
//! `mplex/single_stream_64k`, `mplex/100_streams`, `mplex/open_10000_streams` (workloads in
//! `muxbench`), plus memory per idle stream (10,000 streams, counting allocator), printed
//! before the groups since criterion cannot measure memory.
//!
//! libp2p-mplex is driven the way a rust-libp2p connection drives it: one task per side keeps
//! polling `StreamMuxer::poll_inbound` (which also reads frames for every substream), and the
//! client's task opens outbound substreams on request. Its defaults are kept (8 KiB frames,
//! 32-frame buffers that block the connection when full) except the stream limit, raised from
//! 128 to 512 so that 100 openers cannot trip it. Ours runs with its defaults
//! (`OverflowBehaviour::BlockThenReset`: a full stream buffer pauses the connection while the
//! reader makes progress, like libp2p-mplex's blocking buffers).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

mod muxbench;

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use chain_benches::alloc::{counting, live_bytes, Counting};
use chainp2p_mplex::{start, MplexConfig, MplexMuxer, MplexStream};
use criterion::{criterion_group, criterion_main, Criterion};
use futures::channel::{mpsc, oneshot};
use futures::StreamExt;
use libp2p::core::muxing::StreamMuxer;
use libp2p::core::upgrade::{InboundConnectionUpgrade, OutboundConnectionUpgrade};
use muxbench::{
    groups, idle_stream_bytes, keepers, memory_wanted, print_memory, rt, sinks, Opener, PIPE,
};
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

#[global_allocator]
static ALLOC: Counting = counting();

fn live() -> usize {
    live_bytes(&ALLOC)
}

/// Ours: the client muxer handle.
#[derive(Clone)]
struct Ours(Arc<MplexMuxer>);

impl Opener for Ours {
    type S = MplexStream;
    fn open(&self) -> impl Future<Output = MplexStream> + Send {
        let m = self.0.clone();
        async move { m.open().await.unwrap() }
    }
}

/// An ours pair (must run inside the runtime); `inbound` gets every server-side stream.
fn ours(cfg: MplexConfig, mut inbound: impl FnMut(MplexStream) + Send + 'static) -> Ours {
    let (a, b) = tokio::io::duplex(PIPE);
    let (c, dc) = start(Box::new(a.compat()), cfg.clone()).unwrap();
    let (s, ds) = start(Box::new(b.compat()), cfg).unwrap();
    tokio::spawn(dc);
    tokio::spawn(ds);
    tokio::spawn(async move {
        while let Ok(Some(st)) = s.accept().await {
            inbound(st);
        }
    });
    Ours(c)
}

type Io = Compat<tokio::io::DuplexStream>;
type TheirStream = libp2p_mplex::Substream<Io>;

/// libp2p-mplex: open requests go to the task that polls the client muxer.
#[derive(Clone)]
struct Theirs(mpsc::UnboundedSender<oneshot::Sender<TheirStream>>);

impl Opener for Theirs {
    type S = TheirStream;
    fn open(&self) -> impl Future<Output = TheirStream> + Send {
        let (tx, rx) = oneshot::channel();
        self.0.unbounded_send(tx).unwrap();
        async move { rx.await.unwrap() }
    }
}

/// A libp2p-mplex pair (must run inside the runtime); `inbound` gets every server-side stream.
fn theirs(
    cfg: libp2p_mplex::Config,
    mut inbound: impl FnMut(TheirStream) + Send + 'static,
) -> Theirs {
    let (a, b) = tokio::io::duplex(PIPE);
    let proto = "/mplex/6.7.0";
    let mut client =
        futures::executor::block_on(cfg.clone().upgrade_outbound(a.compat(), proto)).unwrap();
    let mut server = futures::executor::block_on(cfg.upgrade_inbound(b.compat(), proto)).unwrap();
    tokio::spawn(async move {
        poll_fn(|cx| loop {
            match Pin::new(&mut server).poll_inbound(cx) {
                Poll::Ready(Ok(s)) => inbound(s),
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        })
        .await
    });
    let (tx, mut rx) = mpsc::unbounded::<oneshot::Sender<TheirStream>>();
    tokio::spawn(async move {
        let mut waiting: Option<oneshot::Sender<TheirStream>> = None;
        poll_fn(|cx| loop {
            if waiting.is_none() {
                if let Poll::Ready(Some(w)) = rx.poll_next_unpin(cx) {
                    waiting = Some(w);
                }
            }
            let mut progress = false;
            if waiting.is_some() {
                match Pin::new(&mut client).poll_outbound(cx) {
                    Poll::Ready(Ok(s)) => {
                        let _ = waiting.take().unwrap().send(s);
                        progress = true;
                    }
                    Poll::Ready(Err(_)) => return Poll::Ready(()),
                    Poll::Pending => {}
                }
            }
            match Pin::new(&mut client).poll_inbound(cx) {
                Poll::Ready(Ok(_)) => progress = true,
                Poll::Ready(Err(_)) => return Poll::Ready(()),
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

fn their_config(max_streams: usize) -> libp2p_mplex::Config {
    let mut cfg = libp2p_mplex::Config::new();
    cfg.set_max_num_streams(max_streams);
    cfg
}

/// Memory per idle stream; both sides allow 20,000 streams.
fn memory() {
    let rt = rt();
    let ours_cfg = MplexConfig::default().with_max_inbound_streams(20_000);
    let o = idle_stream_bytes(&rt, live, |keep| ours(ours_cfg, keepers(keep)));
    let t = idle_stream_bytes(&rt, live, |keep| {
        theirs(their_config(20_000), keepers(keep))
    });
    print_memory("mplex", ("ours", o), ("libp2p-mplex-0.44", t));
}

fn benches(c: &mut Criterion) {
    if memory_wanted() {
        memory();
    }
    let rt = rt();
    let (o, t) = {
        let _g = rt.enter();
        (
            ours(MplexConfig::default(), sinks()),
            theirs(their_config(512), sinks()),
        )
    };
    groups(c, &rt, "mplex", ("ours", &o), ("libp2p-mplex-0.44", &t));
}

criterion_group!(mplex_benches, benches);
criterion_main!(mplex_benches);
