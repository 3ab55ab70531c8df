//! Criterion bench: a full multistream-select negotiation of one protocol (dialer and
//! listener, over an in-memory pipe), ours beside rust-libp2p's `multistream-select`, in one
//! group so the numbers print side by side.

use chainp2p_core::BoxStream;
use chainp2p_multistream::{dialer_select, listener_select, MultistreamConfig};
use criterion::{criterion_group, criterion_main, Criterion};
use multistream_select::{dialer_select_proto, listener_select_proto, Version};
use tokio_util::compat::TokioAsyncReadCompatExt;

fn pipe() -> (BoxStream, BoxStream) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    (Box::new(a.compat()), Box::new(b.compat()))
}

fn negotiation(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let protocols = vec!["/noise".to_string()];
    let config = MultistreamConfig::default();
    let mut group = c.benchmark_group("multistream/negotiate-one-protocol");

    group.bench_function("ours", |b| {
        b.to_async(&rt).iter(|| async {
            let (a, l) = pipe();
            let (d, l) = tokio::join!(
                dialer_select(a, &protocols, &config),
                listener_select(l, &protocols, &config)
            );
            assert!(d.is_ok() && l.is_ok());
        })
    });

    group.bench_function("rust-libp2p", |b| {
        b.to_async(&rt).iter(|| async {
            let (a, l) = pipe();
            let (d, l) = tokio::join!(
                dialer_select_proto(a, ["/noise"], Version::V1),
                listener_select_proto(l, ["/noise"])
            );
            assert!(d.is_ok() && l.is_ok());
        })
    });
    group.finish();
}

criterion_group!(benches, negotiation);
criterion_main!(benches);
