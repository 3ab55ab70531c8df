//! Criterion bench of the `noise` crate: handshake time, encrypted throughput over an in-memory
//! pipe (64 KiB writes, 16 MiB per iteration), and the raw ChaCha20-Poly1305 cost per 64 KiB.
//!
//! The rust-libp2p (libp2p-noise 0.47) counterparts need `libp2p-core` (for the upgrade traits)
//! in this package's dev-dependencies; until it is there, the same comparison runs as the
//! ignored test `noise_throughput_vs_libp2p` in `tests/tests/noise_interop.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::Arc;
use std::time::Duration;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use chain_core::identity::Keypair;
use chain_core::{BoxStream, HandlerContext, Role, SecurityHandler};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use noise::{AuthenticStatic, Handshake, NoiseConfig};
use tokio_util::compat::TokioAsyncReadCompatExt;

const WRITE: usize = 64 * 1024;
const TOTAL: usize = 16 * 1024 * 1024;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn pipe() -> (BoxStream, BoxStream) {
    let (a, b) = tokio::io::duplex(256 * 1024);
    (Box::new(a.compat()), Box::new(b.compat()))
}

async fn secure_pair(cfg: &NoiseConfig, ka: &Keypair, kb: &Keypair) -> (BoxStream, BoxStream) {
    let (a, b) = pipe();
    let ca = HandlerContext::new(Role::Dialer, Arc::new(ka.clone()));
    let cb = HandlerContext::new(Role::Listener, Arc::new(kb.clone()));
    let (x, y) = tokio::join!(cfg.secure(a, &ca), cfg.secure(b, &cb));
    (x.unwrap().io, y.unwrap().io)
}

fn handshake(c: &mut Criterion) {
    let rt = rt();
    let (ka, kb) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
    let mut g = c.benchmark_group("noise_handshake");
    let cfg = NoiseConfig::new();
    g.bench_function("ours_ed25519_in_memory", |b| {
        b.to_async(&rt).iter(|| secure_pair(&cfg, &ka, &kb));
    });
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
    let (ka, kb) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
    let cfg = NoiseConfig::new();
    let mut g = c.benchmark_group("noise_throughput_64k_writes");
    g.throughput(Throughput::Bytes(TOTAL as u64));
    g.sample_size(10);
    g.bench_function("ours", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let cfg = cfg.clone();
            let (ka, kb) = (ka.clone(), kb.clone());
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (x, y) = secure_pair(&cfg, &ka, &kb).await;
                    let start = std::time::Instant::now();
                    pump(x, y).await;
                    total += start.elapsed();
                }
                total
            }
        });
    });
    g.bench_function("plaintext_pipe_baseline", |b| {
        b.to_async(&rt).iter_custom(|iters| async move {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (x, y) = pipe();
                let start = std::time::Instant::now();
                pump(x, y).await;
                total += start.elapsed();
            }
            total
        });
    });
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
    let plain = vec![1u8; noise::codec::MAX_FRAME_PLAINTEXT];
    let mut out = vec![0u8; noise::codec::MAX_FRAME_LEN];
    g.throughput(Throughput::Bytes(plain.len() as u64));
    g.bench_function("snow_ring_transport_encrypt_frame", |b| {
        b.iter(|| t.encrypt_frame(&plain, &mut out).unwrap());
    });
    g.finish();
}

criterion_group!(benches, handshake, throughput, raw_aead);
criterion_main!(benches);
