//! `/perf/1.0.0` over a raw stream (libp2p-perf is not published for libp2p 0.57).
//!
//! Client: write the u64 BE count N to receive, upload, close the write side, read until EOF counting.
//! Server: read the u64 BE N, read until EOF, only then write N bytes and close.

use std::time::{Duration, Instant};

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The `/perf/1.0.0` protocol id.
pub const PERF_PROTOCOL: &str = "/perf/1.0.0";

/// Size of the read/write buffer on both sides.
const BUF: usize = 64 * 1024;

/// What one perf run moved, seen from the side that ran it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerfStats {
    /// Bytes sent by the client (received by the server).
    pub upload: u64,
    /// Bytes sent by the server (received by the client).
    pub download: u64,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

/// Writes `n` zero bytes in large chunks.
async fn write_zeros<S: AsyncWrite + Unpin>(s: &mut S, mut n: u64) -> std::io::Result<()> {
    let buf = vec![0u8; BUF];
    while n > 0 {
        let chunk = usize::try_from(n.min(BUF as u64)).unwrap_or(BUF);
        s.write_all(&buf[..chunk]).await?;
        n -= chunk as u64;
    }
    Ok(())
}

/// Reads until EOF and returns the number of bytes read.
async fn drain<S: AsyncRead + Unpin>(s: &mut S) -> std::io::Result<u64> {
    let mut buf = vec![0u8; BUF];
    let mut total = 0u64;
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
    }
}

/// Runs the client side: asks for `download` bytes back after uploading `upload` bytes.
pub async fn client<S>(mut s: S, upload: u64, download: u64) -> std::io::Result<PerfStats>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let start = Instant::now();
    s.write_all(&download.to_be_bytes()).await?;
    write_zeros(&mut s, upload).await?;
    s.close().await?;
    let received = drain(&mut s).await?;
    Ok(PerfStats {
        upload,
        download: received,
        elapsed: start.elapsed(),
    })
}

/// Runs the server side on one inbound stream; returns what the client uploaded and what we sent back.
pub async fn serve<S>(mut s: S) -> std::io::Result<PerfStats>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let start = Instant::now();
    let mut len = [0u8; 8];
    s.read_exact(&mut len).await?;
    let requested = u64::from_be_bytes(len);
    let uploaded = drain(&mut s).await?;
    write_zeros(&mut s, requested).await?;
    s.close().await?;
    Ok(PerfStats {
        upload: uploaded,
        download: requested,
        elapsed: start.elapsed(),
    })
}
