//! Our multistream-select against rust-libp2p's `multistream-select` 0.14 over an in-memory
//! pipe, in both directions, with `V1` and `V1Lazy`, plus the bytes each side wrote compared
//! with the spec's hex (<https://github.com/multiformats/multistream-select>).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use chainp2p_core::{BoxStream, ErrorKind};
use chainp2p_multistream::{dialer_select, listener_select, MultistreamConfig};
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use multistream_select::{dialer_select_proto, listener_select_proto, Version};
use tokio::time::timeout;
use tokio_util::compat::TokioAsyncReadCompatExt;

const BOUND: Duration = Duration::from_secs(10);

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const HEADER_HEX: &str = "13 2f6d756c746973747265616d2f312e302e30 0a";
const NOISE_HEX: &str = "07 2f6e6f697365 0a";
const NA_HEX: &str = "03 6e61 0a";

/// Records every write passed to the inner stream.
struct Recording {
    inner: BoxStream,
    writes: Arc<Mutex<Vec<Vec<u8>>>>,
}

type Writes = Arc<Mutex<Vec<Vec<u8>>>>;

fn recording(inner: BoxStream) -> (Recording, Writes) {
    let writes = Writes::default();
    (
        Recording {
            inner,
            writes: writes.clone(),
        },
        writes,
    )
}

fn all(w: &Writes) -> Vec<u8> {
    w.lock().unwrap().concat()
}

impl AsyncRead for Recording {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Recording {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            this.writes.lock().unwrap().push(buf[..*n].to_vec());
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

fn pipe() -> (BoxStream, BoxStream) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    (Box::new(a.compat()), Box::new(b.compat()))
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// rust-libp2p dials (V1 or V1Lazy), we listen; then one payload each way.
async fn rust_dialer_our_listener(version: Version) {
    let (a, b) = pipe();
    let (a, rust_writes) = recording(a);
    let (b, our_writes) = recording(b);
    let rust = async move {
        let (proto, mut io) = dialer_select_proto(a, vec!["/noise"], version)
            .await
            .unwrap();
        assert_eq!(proto, "/noise");
        io.write_all(b"hello").await.unwrap();
        io.flush().await.unwrap();
        let mut back = [0u8; 5];
        io.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"olleh");
    };
    let ours = async move {
        let protos = ids(&["/yamux/1.0.0", "/noise"]);
        let mut n = listener_select(Box::new(b), &protos, &MultistreamConfig::default())
            .await
            .unwrap();
        assert_eq!(n.protocol, "/noise");
        let mut got = [0u8; 5];
        n.io.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello");
        n.io.write_all(b"olleh").await.unwrap();
        n.io.flush().await.unwrap();
        n.io
    };
    let (_, _keep) = timeout(BOUND, async { tokio::join!(rust, ours) })
        .await
        .unwrap();
    let header_noise = hex(&format!("{HEADER_HEX} {NOISE_HEX}"));
    assert_eq!(all(&rust_writes)[..header_noise.len()], header_noise[..]);
    assert_eq!(all(&our_writes), [header_noise, b"olleh".to_vec()].concat());
    // our header goes first; with the dialer's bytes already read, it shares the echo's write
    assert!(our_writes.lock().unwrap()[0].starts_with(&hex(HEADER_HEX)));
}

#[tokio::test]
async fn rust_v1_dialer_to_our_listener() {
    rust_dialer_our_listener(Version::V1).await;
}

#[tokio::test]
async fn rust_v1_lazy_dialer_to_our_listener() {
    rust_dialer_our_listener(Version::V1Lazy).await;
}

/// We dial (plain or lazy), rust-libp2p listens; then one payload each way.
async fn our_dialer_rust_listener(lazy: bool) {
    let (a, b) = pipe();
    let (a, our_writes) = recording(a);
    let (b, rust_writes) = recording(b);
    let cfg = MultistreamConfig {
        lazy,
        ..MultistreamConfig::default()
    };
    let ours = async move {
        let protos = ids(&["/noise"]);
        let mut n = dialer_select(Box::new(a), &protos, &cfg).await.unwrap();
        assert_eq!(n.protocol, "/noise");
        n.io.write_all(b"hello").await.unwrap();
        n.io.flush().await.unwrap();
        let mut back = [0u8; 5];
        n.io.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"olleh");
        n.io
    };
    let rust = async move {
        let (proto, mut io) = listener_select_proto(b, vec!["/yamux/1.0.0", "/noise"])
            .await
            .unwrap();
        assert_eq!(proto, "/noise");
        let mut got = [0u8; 5];
        io.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello");
        io.write_all(b"olleh").await.unwrap();
        io.flush().await.unwrap();
        io
    };
    let (_keep, _keep2) = timeout(BOUND, async { tokio::join!(ours, rust) })
        .await
        .unwrap();
    let header_noise = hex(&format!("{HEADER_HEX} {NOISE_HEX}"));
    let first = our_writes.lock().unwrap()[0].clone();
    if lazy {
        assert_eq!(
            first,
            [header_noise.clone(), b"hello".to_vec()].concat(),
            "0-RTT write"
        );
    } else {
        assert_eq!(first, header_noise, "header and proposal in one write");
    }
    assert_eq!(
        all(&rust_writes),
        [header_noise, b"olleh".to_vec()].concat()
    );
}

#[tokio::test]
async fn our_dialer_to_rust_listener() {
    our_dialer_rust_listener(false).await;
}

#[tokio::test]
async fn our_lazy_dialer_to_rust_listener() {
    our_dialer_rust_listener(true).await;
}

#[tokio::test]
async fn na_fallback_our_dialer_rust_listener() {
    let (a, b) = pipe();
    let (b, rust_writes) = recording(b);
    let ours = async move {
        let protos = ids(&["/yamux/1.0.0", "/mplex/6.7.0"]);
        dialer_select(a, &protos, &MultistreamConfig::default())
            .await
            .unwrap()
            .protocol
    };
    let rust = async move {
        listener_select_proto(b, vec!["/mplex/6.7.0"])
            .await
            .unwrap()
            .0
    };
    let (d, l) = timeout(BOUND, async { tokio::join!(ours, rust) })
        .await
        .unwrap();
    assert_eq!((d.as_str(), l), ("/mplex/6.7.0", "/mplex/6.7.0"));
    let mplex = "0d 2f6d706c65782f362e372e30 0a";
    assert_eq!(
        all(&rust_writes),
        hex(&format!("{HEADER_HEX} {NA_HEX} {mplex}"))
    );
}

#[tokio::test]
async fn na_fallback_rust_dialer_our_listener() {
    let (a, b) = pipe();
    let (a, rust_writes) = recording(a);
    let rust = async move {
        dialer_select_proto(a, vec!["/yamux/1.0.0", "/mplex/6.7.0"], Version::V1)
            .await
            .unwrap()
            .0
    };
    let ours = async move {
        let protos = ids(&["/mplex/6.7.0"]);
        listener_select(b, &protos, &MultistreamConfig::default())
            .await
            .unwrap()
            .protocol
    };
    let (d, l) = timeout(BOUND, async { tokio::join!(rust, ours) })
        .await
        .unwrap();
    assert_eq!((d, l.as_str()), ("/mplex/6.7.0", "/mplex/6.7.0"));
    let yamux = "0d 2f79616d75782f312e302e30 0a";
    let mplex = "0d 2f6d706c65782f362e372e30 0a";
    assert_eq!(
        all(&rust_writes),
        hex(&format!("{HEADER_HEX} {yamux} {mplex}"))
    );
}

#[tokio::test]
async fn no_common_protocol_fails_cleanly_both_ways() {
    // rust lazy dialer vs our listener: rust settles on /tls, we answer na
    let (a, b) = pipe();
    let rust = async move {
        let (_, mut io) = dialer_select_proto(a, vec!["/tls/1.0.0"], Version::V1Lazy)
            .await
            .unwrap();
        io.write_all(b"\x16\x03\x01garbage").await.unwrap();
        io.flush().await.unwrap();
        let mut buf = [0u8; 1];
        let r = io.read(&mut buf).await;
        drop(io);
        r
    };
    let ours = async move {
        let protos = ids(&["/noise"]);
        listener_select(b, &protos, &MultistreamConfig::default())
            .await
            .map(|n| n.protocol)
    };
    let (r, l) = timeout(BOUND, async { tokio::join!(rust, ours) })
        .await
        .unwrap();
    assert!(r.is_err(), "the rust dialer sees the na on read");
    assert_eq!(l.unwrap_err().kind(), ErrorKind::NegotiationFailed);

    // our dialer vs rust listener
    let (a, b) = pipe();
    let ours = async move {
        let protos = ids(&["/a", "/b"]);
        dialer_select(a, &protos, &MultistreamConfig::default())
            .await
            .map(|n| n.protocol)
    };
    let rust = async move { listener_select_proto(b, vec!["/c"]).await.map(|(p, _)| p) };
    let (d, l) = timeout(BOUND, async { tokio::join!(ours, rust) })
        .await
        .unwrap();
    assert_eq!(d.unwrap_err().kind(), ErrorKind::NegotiationFailed);
    assert!(l.is_err());
}
