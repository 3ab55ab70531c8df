//! Opening and accepting streams from either side, exact echo both ways, and half-close.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use chainp2p_core::{BoxStream, Muxer, MuxerHandler};
use futures::io::{AsyncReadExt, AsyncWriteExt};

use crate::pair::{connected_pair, DEFAULT_PIPE_CAPACITY};
use crate::util::{accept, io_err, open, read_pattern, within, write_pattern, Pattern, STEP};
use crate::Expectations;

/// Bytes sent each way by the echo cases (below any window, so one task can write then read).
const ECHO_LEN: usize = 100_000;

/// The dialer opens a stream; data goes both ways and is echoed back exactly; both close.
pub async fn open_accept_dialer_opens(
    h: &dyn MuxerHandler,
    _e: &Expectations,
) -> Result<(), String> {
    let pair = connected_pair(h, h, DEFAULT_PIPE_CAPACITY).await?;
    echo_both_ways(pair.dialer.as_ref(), pair.listener.as_ref()).await?;
    pair.close_cleanly().await
}

/// The listener opens a stream; data goes both ways and is echoed back exactly; both close.
pub async fn open_accept_listener_opens(
    h: &dyn MuxerHandler,
    _e: &Expectations,
) -> Result<(), String> {
    let pair = connected_pair(h, h, DEFAULT_PIPE_CAPACITY).await?;
    echo_both_ways(pair.listener.as_ref(), pair.dialer.as_ref()).await?;
    pair.close_cleanly().await
}

/// Reads exactly `len` bytes and checks them against `pattern`.
async fn read_exact_pattern(
    s: &mut BoxStream,
    pattern: &Pattern,
    len: usize,
    what: &str,
) -> Result<Vec<u8>, String> {
    let mut got = vec![0u8; len];
    within(STEP, what, s.read_exact(&mut got))
        .await?
        .map_err(io_err(what))?;
    pattern.check(0, &got).map_err(|e| format!("{what}: {e}"))?;
    Ok(got)
}

/// Writes all of `data` and flushes.
async fn send(s: &mut BoxStream, data: &[u8], what: &str) -> Result<(), String> {
    within(STEP, what, async {
        s.write_all(data).await?;
        s.flush().await
    })
    .await?
    .map_err(io_err(what))
}

/// Expects EOF (`Ok(0)`) on `s`.
async fn expect_eof(s: &mut BoxStream, what: &str) -> Result<(), String> {
    let mut b = [0u8; 16];
    match within(STEP, what, s.read(&mut b)).await? {
        Ok(0) => Ok(()),
        Ok(n) => Err(format!("{what}: expected EOF, got {n} more bytes")),
        Err(e) => Err(format!("{what}: expected EOF, got error {e}")),
    }
}

async fn echo_both_ways(opener: &dyn Muxer, acceptor: &dyn Muxer) -> Result<(), String> {
    let a = Pattern::new(1);
    let b = Pattern::new(2);
    let mut out = open(opener, "opener").await?;
    // The opener speaks first: a muxer may announce a stream lazily, with its first data.
    send(&mut out, a.chunk(0, ECHO_LEN), "opener write").await?;
    let mut inb = accept(acceptor, "acceptor").await?;
    let got = read_exact_pattern(&mut inb, &a, ECHO_LEN, "acceptor read").await?;
    send(&mut inb, &got, "acceptor echo").await?;
    read_exact_pattern(&mut out, &a, ECHO_LEN, "opener read of its echo").await?;

    send(&mut inb, b.chunk(0, ECHO_LEN), "acceptor write").await?;
    let got = read_exact_pattern(&mut out, &b, ECHO_LEN, "opener read").await?;
    send(&mut out, &got, "opener echo").await?;
    read_exact_pattern(&mut inb, &b, ECHO_LEN, "acceptor read of its echo").await?;

    within(STEP, "opener close", out.close())
        .await?
        .map_err(io_err("opener close"))?;
    expect_eof(&mut inb, "acceptor read after the opener closed").await?;
    within(STEP, "acceptor close", inb.close())
        .await?
        .map_err(io_err("acceptor close"))?;
    expect_eof(&mut out, "opener read after the acceptor closed").await
}

/// Bytes sent each way in [`half_close`]: beyond yamux's 256 KiB window, so flow control
/// must keep working across the half-close.
const HALF_CLOSE_LEN: u64 = 1024 * 1024;

/// The opener writes 1 MiB and closes its write side; the acceptor reads all of it then EOF
/// (twice), then writes 1 MiB back on the same stream, which the opener reads in full up to
/// EOF; then the acceptor closes too.
pub async fn half_close(h: &dyn MuxerHandler, _e: &Expectations) -> Result<(), String> {
    let pair = connected_pair(h, h, DEFAULT_PIPE_CAPACITY).await?;
    let up = Arc::new(Pattern::new(3));
    let down = Arc::new(Pattern::new(4));
    let mut out = open(pair.dialer.as_ref(), "dialer").await?;
    let pattern = up.clone();
    let writer = tokio::spawn(async move {
        let r = write_pattern(
            &mut out,
            &pattern,
            (0, HALF_CLOSE_LEN),
            64 * 1024,
            &AtomicU64::new(0),
        )
        .await;
        let r = match r {
            Ok(()) => out.close().await,
            Err(e) => Err(e),
        };
        (out, r)
    });
    let mut inb = accept(pair.listener.as_ref(), "listener").await?;
    let end = within(
        STEP,
        "listener read to EOF",
        read_pattern(&mut inb, &up, 0, HALF_CLOSE_LEN),
    )
    .await??;
    if let Some(e) = end.error {
        return Err(format!(
            "listener read failed after {} bytes: {e}",
            end.bytes
        ));
    }
    if end.bytes != HALF_CLOSE_LEN {
        return Err(format!(
            "listener saw EOF after {} of {HALF_CLOSE_LEN} bytes",
            end.bytes
        ));
    }
    let (mut out, r) = within(STEP, "dialer write and close", writer)
        .await?
        .map_err(|e| format!("writer task failed: {e}"))?;
    r.map_err(io_err("dialer write+close"))?;
    expect_eof(&mut inb, "listener second read after EOF").await?;

    // The half-closed stream still carries data the other way.
    let pattern = down.clone();
    let writer = tokio::spawn(async move {
        let r = write_pattern(
            &mut inb,
            &pattern,
            (0, HALF_CLOSE_LEN),
            64 * 1024,
            &AtomicU64::new(0),
        )
        .await;
        match r {
            Ok(()) => inb.close().await,
            Err(e) => Err(e),
        }
    });
    let end = within(
        STEP,
        "dialer read after its half-close",
        read_pattern(&mut out, &down, 0, HALF_CLOSE_LEN),
    )
    .await??;
    if let Some(e) = end.error {
        return Err(format!(
            "dialer read after its own half-close failed after {} bytes: {e}",
            end.bytes
        ));
    }
    if end.bytes != HALF_CLOSE_LEN {
        return Err(format!(
            "dialer saw EOF after {} of {HALF_CLOSE_LEN} bytes",
            end.bytes
        ));
    }
    within(STEP, "listener write and close", writer)
        .await?
        .map_err(|e| format!("writer task failed: {e}"))?
        .map_err(io_err("listener write back + close"))?;
    drop(out);
    pair.close_cleanly().await
}
