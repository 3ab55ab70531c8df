//! Interop: our yamux against the crates.io `yamux` 0.13 (rust-libp2p's muxer) over an
//! in-memory pipe, in both roles: streams opened each way, several MiB echoed intact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use chainp2p_yamux::{start, Mode, YamuxConfig, YamuxMuxer};
use futures::channel::{mpsc, oneshot};
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures::StreamExt;
use tokio::time::timeout;
use tokio_util::compat::TokioAsyncReadCompatExt;

const MIB: usize = 1024 * 1024;

/// A handle to a rust-yamux connection driven by its own task.
struct RsPeer {
    open: mpsc::UnboundedSender<oneshot::Sender<yamux::Stream>>,
    inbound: mpsc::UnboundedReceiver<yamux::Stream>,
}

impl RsPeer {
    fn spawn<T>(io: T, mode: yamux::Mode) -> Self
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let mut conn = yamux::Connection::new(io, yamux::Config::default(), mode);
        let (open_tx, mut open_rx) = mpsc::unbounded::<oneshot::Sender<yamux::Stream>>();
        let (in_tx, in_rx) = mpsc::unbounded();
        tokio::spawn(async move {
            let mut waiting: Option<oneshot::Sender<yamux::Stream>> = None;
            poll_fn(|cx| loop {
                if waiting.is_none() {
                    if let Poll::Ready(Some(tx)) = open_rx.poll_next_unpin(cx) {
                        waiting = Some(tx);
                    }
                }
                let mut progress = false;
                if waiting.is_some() {
                    match conn.poll_new_outbound(cx) {
                        Poll::Ready(Ok(s)) => {
                            let _ = waiting.take().unwrap().send(s);
                            progress = true;
                        }
                        Poll::Ready(Err(_)) => return Poll::Ready(()),
                        Poll::Pending => {}
                    }
                }
                match conn.poll_next_inbound(cx) {
                    Poll::Ready(Some(Ok(s))) => {
                        let _ = in_tx.unbounded_send(s);
                        progress = true;
                    }
                    Poll::Ready(Some(Err(_))) | Poll::Ready(None) => return Poll::Ready(()),
                    Poll::Pending => {}
                }
                if !progress {
                    return Poll::Pending;
                }
            })
            .await
        });
        RsPeer {
            open: open_tx,
            inbound: in_rx,
        }
    }

    async fn open(&self) -> yamux::Stream {
        let (tx, rx) = oneshot::channel();
        self.open.unbounded_send(tx).unwrap();
        rx.await.unwrap()
    }
}

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ seed).collect()
}

/// Writes `data` and FIN, then reads everything echoed back.
async fn send_and_collect_echo<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    data: &[u8],
) -> Vec<u8> {
    for chunk in data.chunks(64 * 1024) {
        s.write_all(chunk).await.unwrap();
    }
    s.close().await.unwrap();
    let mut back = Vec::new();
    s.read_to_end(&mut back).await.unwrap();
    back
}

/// Reads until FIN, then echoes everything back and closes.
async fn echo_after_eof<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> usize {
    let mut got = Vec::new();
    s.read_to_end(&mut got).await.unwrap();
    s.write_all(&got).await.unwrap();
    s.close().await.unwrap();
    got.len()
}

async fn exchange(ours: Arc<YamuxMuxer>, mut theirs: RsPeer) {
    // We open, they echo.
    let data = payload(4 * MIB, 1);
    let echo = tokio::spawn(async move {
        let mut s = theirs.inbound.next().await.unwrap();
        let n = echo_after_eof(&mut s).await;
        (theirs, n)
    });
    let mut ours_out = ours.open().await.unwrap();
    let back = send_and_collect_echo(&mut ours_out, &data).await;
    assert!(back == data, "echo of our stream differs");
    let (mut theirs, n) = echo.await.unwrap();
    assert_eq!(n, data.len());

    // They open, we echo.
    let data = payload(3 * MIB + 12345, 7);
    let ours2 = ours.clone();
    let echo = tokio::spawn(async move {
        let mut s = ours2.accept().await.unwrap().unwrap();
        echo_after_eof(&mut s).await
    });
    let mut their_out = theirs.open().await;
    let back = send_and_collect_echo(&mut their_out, &data).await;
    assert!(back == data, "echo of their stream differs");
    assert_eq!(echo.await.unwrap(), data.len());

    // Several streams at once, both ways.
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let ours = ours.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = ours.open().await.unwrap();
            let data = payload(256 * 1024 + usize::from(i), i);
            let back = send_and_collect_echo(&mut s, &data).await;
            assert!(back == data);
        }));
    }
    let server = tokio::spawn(async move {
        let mut hs = Vec::new();
        for _ in 0..8 {
            let mut s = theirs.inbound.next().await.unwrap();
            hs.push(tokio::spawn(async move { echo_after_eof(&mut s).await }));
        }
        for h in hs {
            h.await.unwrap();
        }
    });
    for t in tasks {
        t.await.unwrap();
    }
    server.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_as_client_against_rust_yamux_server() {
    timeout(Duration::from_secs(60), async {
        let (a, b) = tokio::io::duplex(256 * 1024);
        let (ours, driver) =
            start(Box::new(a.compat()), Mode::Client, YamuxConfig::default()).unwrap();
        tokio::spawn(driver);
        let theirs = RsPeer::spawn(b.compat(), yamux::Mode::Server);
        exchange(ours, theirs).await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_as_server_against_rust_yamux_client() {
    timeout(Duration::from_secs(60), async {
        let (a, b) = tokio::io::duplex(256 * 1024);
        let theirs = RsPeer::spawn(a.compat(), yamux::Mode::Client);
        let (ours, driver) =
            start(Box::new(b.compat()), Mode::Server, YamuxConfig::default()).unwrap();
        tokio::spawn(driver);
        exchange(ours, theirs).await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goaway_from_us_ends_the_rust_yamux_connection() {
    timeout(Duration::from_secs(20), async {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let (ours, driver) =
            start(Box::new(a.compat()), Mode::Client, YamuxConfig::default()).unwrap();
        let driver = tokio::spawn(driver);
        let mut theirs = RsPeer::spawn(b.compat(), yamux::Mode::Server);
        let mut s = ours.open().await.unwrap();
        s.write_all(b"hi").await.unwrap();
        let mut inb = theirs.inbound.next().await.unwrap();
        let mut two = [0u8; 2];
        inb.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"hi");
        ours.shutdown().await.unwrap();
        driver.await.unwrap().unwrap();
        // Their connection task ends, so no more inbound streams.
        assert!(theirs.inbound.next().await.is_none());
    })
    .await
    .unwrap();
}
