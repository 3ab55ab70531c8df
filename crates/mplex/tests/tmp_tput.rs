#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]
use futures::io::{AsyncReadExt, AsyncWriteExt};
use mplex::{start, MplexConfig};
use tokio_util::compat::TokioAsyncReadCompatExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tput() {
    let (a, b) = tokio::io::duplex(1 << 20);
    let (ma, da) = start(Box::new(a.compat()), MplexConfig::default().with_overflow(mplex::OverflowBehaviour::Block)).unwrap();
    let (mb, db) = start(Box::new(b.compat()), MplexConfig::default().with_overflow(mplex::OverflowBehaviour::Block)).unwrap();
    tokio::spawn(da);
    tokio::spawn(db);
    let total = 512usize << 20;
    let reader = tokio::spawn(async move {
        let mut s = mb.accept().await.unwrap().unwrap();
        let mut buf = vec![0u8; 256 * 1024];
        let mut n = 0;
        loop {
            let k = s.read(&mut buf).await.unwrap();
            if k == 0 { break n; }
            n += k;
        }
    });
    let t = std::time::Instant::now();
    let mut s = ma.open().await.unwrap();
    let chunk = vec![3u8; 256 * 1024];
    for _ in 0..total / chunk.len() { s.write_all(&chunk).await.unwrap(); }
    s.close().await.unwrap();
    assert_eq!(reader.await.unwrap(), total);
    let dt = t.elapsed();
    println!("THROUGHPUT {} MiB in {:?} = {:.0} MiB/s", total >> 20, dt, (total >> 20) as f64 / dt.as_secs_f64());
}
