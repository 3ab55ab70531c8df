//! Criterion bench of the `noise` crate beside rust-libp2p's libp2p-noise 0.47, in one run:
//! handshake time, encrypted throughput over the same in-memory pipe (64 KiB writes, 16 MiB
//! per iteration), and the raw ChaCha20-Poly1305 cost per 64 KiB (RustCrypto, snow+ring).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use chainp2p_core::identity::Keypair;
use chainp2p_core::{BoxStream, HandlerContext, Role, SecurityHandler};
use chainp2p_noise::{AuthenticStatic, Handshake, NoiseConfig};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use libp2p::core::upgrade::{InboundConnectionUpgrade, OutboundConnectionUpgrade};
use tokio_util::compat::TokioAsyncReadCompatExt;

const WRITE: usize = 64 * 1024;
const TOTAL: usize = 16 * 1024 * 1024;
const PIPE: usize = 256 * 1024;

/// The implementations compared; each bench runs the same code for every entry.
#[derive(Clone, Copy)]
enum Imp {
    Ours,
    Libp2p,
    Plaintext,
}

impl Imp {
    fn name(self) -> &'static str {
        match self {
            Imp::Ours => "ours",
            Imp::Libp2p => "libp2p_noise",
            Imp::Plaintext => "plaintext_pipe_baseline",
        }
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Both sides' configs, built once so their cached signed static keys are reused (as in a node).
struct Peers {
    ours: [(NoiseConfig, HandlerContext); 2],
    libp2p: [libp2p::noise::Config; 2],
}

impl Peers {
    fn new() -> Self {
        let (ka, kb) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let ctx = |role, k: &Keypair| {
            (
                NoiseConfig::new(),
                HandlerContext::new(role, Arc::new(k.clone())),
            )
        };
        let theirs = |k: &Keypair| libp2p::noise::Config::new(k).unwrap();
        Peers {
            ours: [ctx(Role::Dialer, &ka), ctx(Role::Listener, &kb)],
            libp2p: [theirs(&ka), theirs(&kb)],
        }
    }

    /// Connects an in-memory pipe and secures both ends with `imp` (dialer first).
    async fn secure_pair(&self, imp: Imp) -> (BoxStream, BoxStream) {
        let (a, b) = tokio::io::duplex(PIPE);
        let (a, b) = (a.compat(), b.compat());
        match imp {
            Imp::Ours => {
                let [(ca, xa), (cb, xb)] = &self.ours;
                let (x, y) = tokio::join!(ca.secure(Box::new(a), xa), cb.secure(Box::new(b), xb));
                (x.unwrap().io, y.unwrap().io)
            }
            Imp::Libp2p => {
                let [ca, cb] = self.libp2p.clone();
                let (x, y) = tokio::join!(
                    ca.upgrade_outbound(a, "/noise"),
                    cb.upgrade_inbound(b, "/noise")
                );
                (Box::new(x.unwrap().1), Box::new(y.unwrap().1))
            }
            Imp::Plaintext => (Box::new(a), Box::new(b)),
        }
    }
}

fn handshake(c: &mut Criterion) {
    let rt = rt();
    let peers = Peers::new();
    let mut g = c.benchmark_group("noise_handshake_ed25519");
    for imp in [Imp::Ours, Imp::Libp2p] {
        g.bench_function(imp.name(), |b| {
            b.to_async(&rt).iter(|| peers.secure_pair(imp));
        });
    }
    g.finish();
}

/// Writer task sends TOTAL bytes in WRITE-sized writes; the reader drains them.
async fn pump(mut w: BoxStream, mut r: BoxStream) {
    let writer = tokio::spawn(async move {
        let buf = vec![7u8; WRITE];
        for _ in 0..TOTAL / WRITE {
            w.write_all(&buf).await.unwrap();
        }
        w.flush().await.unwrap();
        w
    });
    let mut buf = vec![0u8; WRITE];
    let mut got = 0;
    while got < TOTAL {
        let n = r.read(&mut buf).await.unwrap();
        assert!(n > 0);
        got += n;
    }
    drop(writer.await.unwrap());
}

fn throughput(c: &mut Criterion) {
    let rt = rt();
    let peers = Arc::new(Peers::new());
    let mut g = c.benchmark_group("noise_throughput_64k_writes");
    g.throughput(Throughput::Bytes(TOTAL as u64));
    g.sample_size(10);
    for imp in [Imp::Ours, Imp::Libp2p, Imp::Plaintext] {
        g.bench_function(imp.name(), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let peers = peers.clone();
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (x, y) = peers.secure_pair(imp).await;
                        let start = Instant::now();
                        pump(x, y).await;
                        total += start.elapsed();
                    }
                    total
                }
            });
        });
    }
    g.finish();
}

fn raw_aead(c: &mut Criterion) {
    let mut g = c.benchmark_group("chacha20poly1305_64k");
    g.throughput(Throughput::Bytes(WRITE as u64));
    let cipher = ChaCha20Poly1305::new(&[3u8; 32].into());
    let mut buf = vec![1u8; WRITE];
    let mut nonce = 0u64;
    g.bench_function("rustcrypto_encrypt_in_place", |b| {
        b.iter(|| {
            nonce += 1;
            let mut n = [0u8; 12];
            n[4..].copy_from_slice(&nonce.to_le_bytes());
            cipher
                .encrypt_in_place_detached(&n.into(), &[], &mut buf)
                .unwrap()
        });
    });
    // snow with the ring cipher, as NoiseStream uses it (65519-byte frames = max plaintext).
    let id = Keypair::generate_ed25519();
    let local = AuthenticStatic::generate(&id).unwrap();
    let mut i = Handshake::new(true, &local, None, 8192).unwrap();
    let mut r = Handshake::new(false, &local, None, 8192).unwrap();
    let mut msg = Vec::new();
    while !(i.is_finished() && r.is_finished()) {
        let (from, to) = if i.is_my_turn() {
            (&mut i, &mut r)
        } else {
            (&mut r, &mut i)
        };
        msg.clear();
        from.write_message(&mut msg).unwrap();
        to.read_message(&msg[2..]).unwrap();
    }
    let (mut t, _) = i.finish().unwrap();
    let plain = vec![1u8; chainp2p_noise::codec::MAX_FRAME_PLAINTEXT];
    let mut out = vec![0u8; chainp2p_noise::codec::MAX_FRAME_LEN];
    g.throughput(Throughput::Bytes(plain.len() as u64));
    g.bench_function("snow_ring_transport_encrypt_frame", |b| {
        b.iter(|| t.encrypt_frame(&plain, &mut out).unwrap());
    });
    g.finish();
}

criterion_group!(benches, handshake, throughput, raw_aead);
criterion_main!(benches);
