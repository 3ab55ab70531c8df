//! Perf over a real loopback TCP socket (no security, no muxer): the raw ceiling the upper
//! layers are measured against. Size via `PERF_MIB` (default 16 MiB each way); run with
//! `--release --nocapture` to read the numbers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use chainp2p_perf::{run, PerfHandler};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::compat::TokioAsyncReadCompatExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn perf_over_loopback_tcp() {
    let mib: u64 = std::env::var("PERF_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let bytes = mib << 20;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        PerfHandler::default()
            .serve(&mut socket.compat())
            .await
            .unwrap()
    });
    let mut client = TcpStream::connect(addr).await.unwrap().compat();
    let report = tokio::time::timeout(Duration::from_secs(120), run(&mut client, bytes, bytes))
        .await
        .unwrap()
        .unwrap();
    let served = server.await.unwrap();
    assert_eq!((served.received, served.sent), (bytes, bytes));
    assert_eq!((report.upload_bytes, report.download_bytes), (bytes, bytes));
    println!(
        "perf loopback {mib} MiB each way: up {:.0} Mbit/s, down {:.0} Mbit/s, total {:.0} Mbit/s",
        report.upload_mbit_per_s(),
        report.download_mbit_per_s(),
        report.mbit_per_s()
    );
}
