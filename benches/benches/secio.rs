//! Criterion bench of the `secio` crate, in memory, in one run: handshake time per curve and
//! per identity key type, encrypted throughput over an in-memory pipe (64 KiB writes, 16 MiB per
//! iteration), and beside it the raw AES-CTR + HMAC cost of the same primitives per 64 KiB
//! (seal = encrypt + MAC, as the sender does; open = verify + decrypt, as the receiver does).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chainp2p_core::identity::Keypair;
use chainp2p_core::{BoxStream, HandlerContext, Role, SecurityHandler};
use chainp2p_secio::cipher::CipherState;
use chainp2p_secio::stretch::stretch;
use chainp2p_secio::{Cipher, HashAlgo, KeyAgreement, SecioConfig};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::compat::TokioAsyncReadCompatExt;

const WRITE: usize = 64 * 1024;
const TOTAL: usize = 16 * 1024 * 1024;
const PIPE: usize = 256 * 1024;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn rsa_key() -> Keypair {
    let mut der = include_bytes!("../../crates/security/secio/tests/fixtures/rsa2048.pk8").to_vec();
    Keypair::rsa_from_pkcs8(&mut der).unwrap()
}

async fn secure_pair(
    cfg: &SecioConfig,
    a: &HandlerContext,
    b: &HandlerContext,
) -> (BoxStream, BoxStream) {
    let (x, y) = tokio::io::duplex(PIPE);
    let (x, y): (BoxStream, BoxStream) = (Box::new(x.compat()), Box::new(y.compat()));
    let (d, l) = tokio::join!(cfg.secure(x, a), cfg.secure(y, b));
    (d.unwrap().io, l.unwrap().io)
}

fn ctxs(ka: &Keypair, kb: &Keypair) -> (HandlerContext, HandlerContext) {
    (
        HandlerContext::new(Role::Dialer, Arc::new(ka.clone())),
        HandlerContext::new(Role::Listener, Arc::new(kb.clone())),
    )
}

fn handshake(c: &mut Criterion) {
    let rt = rt();
    let mut g = c.benchmark_group("secio_handshake");
    let ed = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
    for curve in [KeyAgreement::P256, KeyAgreement::P384, KeyAgreement::P521] {
        let cfg = SecioConfig::new().with_exchanges(&[curve]);
        let (a, b) = ctxs(&ed.0, &ed.1);
        g.bench_function(format!("{curve}_ed25519"), |bch| {
            bch.to_async(&rt).iter(|| secure_pair(&cfg, &a, &b));
        });
    }
    let keys = [
        (
            "secp256k1",
            Keypair::generate_secp256k1(),
            Keypair::generate_secp256k1(),
        ),
        (
            "ecdsa",
            Keypair::generate_ecdsa(),
            Keypair::generate_ecdsa(),
        ),
        ("rsa2048", rsa_key(), rsa_key()),
    ];
    let cfg = SecioConfig::new();
    for (name, ka, kb) in &keys {
        let (a, b) = ctxs(ka, kb);
        g.bench_function(format!("P-256_{name}"), |bch| {
            bch.to_async(&rt).iter(|| secure_pair(&cfg, &a, &b));
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

const SUITES: [(Cipher, HashAlgo); 2] = [
    (Cipher::Aes256, HashAlgo::Sha256),
    (Cipher::Aes128, HashAlgo::Sha256),
];

fn throughput(c: &mut Criterion) {
    let rt = rt();
    let (ka, kb) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
    let (a, b) = ctxs(&ka, &kb);
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut g = c.benchmark_group("secio_throughput_64k_writes");
    g.throughput(Throughput::Bytes(TOTAL as u64));
    g.sample_size(10);
    for (ci, ha) in SUITES {
        let cfg = Arc::new(SecioConfig::new().with_ciphers(&[ci]).with_hashes(&[ha]));
        g.bench_function(format!("{ci}_{ha}"), |bch| {
            bch.to_async(&rt).iter_custom(|iters| {
                let (cfg, a, b) = (cfg.clone(), a.clone(), b.clone());
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (x, y) = secure_pair(&cfg, &a, &b).await;
                        let start = Instant::now();
                        pump(x, y).await;
                        total += start.elapsed();
                    }
                    total
                }
            });
        });
    }
    g.bench_function("plaintext_pipe_baseline", |bch| {
        bch.to_async(&rt).iter_custom(|iters| async move {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (x, y) = tokio::io::duplex(PIPE);
                let start = Instant::now();
                pump(Box::new(x.compat()), Box::new(y.compat())).await;
                total += start.elapsed();
            }
            total
        });
    });
    g.finish();
}

fn raw(c: &mut Criterion) {
    let mut g = c.benchmark_group("secio_raw_aes_ctr_hmac_64k");
    g.throughput(Throughput::Bytes(WRITE as u64));
    for (ci, ha) in SUITES {
        let (k1, _) = stretch(ha, ci, &[5u8; 32]);
        let mut tx = CipherState::new(ci, ha, &k1).unwrap();
        let mut rx = CipherState::new(ci, ha, &k1).unwrap();
        let mut body = vec![1u8; WRITE + tx.mac_len()];
        g.bench_function(format!("{ci}_{ha}_seal"), |bch| {
            bch.iter(|| tx.seal_in_place(&mut body).unwrap());
        });
        let mut tx = CipherState::new(ci, ha, &k1).unwrap();
        g.bench_function(format!("{ci}_{ha}_seal_then_open"), |bch| {
            bch.iter(|| {
                tx.seal_in_place(&mut body).unwrap();
                rx.open_in_place(&mut body).unwrap()
            });
        });
    }
    g.finish();
}

criterion_group!(benches, handshake, throughput, raw);
criterion_main!(benches);
