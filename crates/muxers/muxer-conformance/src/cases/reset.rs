//! Resets (a stream dropped without closing, the only reset the `Muxer` trait offers) while
//! data is moving, and dropped idle streams: the peer must see an error or EOF, never hang, and
//! the connection stays usable.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use chainp2p_core::{BoxStream, MuxerHandler};
use futures::io::{AsyncReadExt, AsyncWriteExt};

use crate::pair::{connected_pair, DEFAULT_PIPE_CAPACITY};
use crate::util::{
    accept, io_err, open, ping_pong, read_pattern, within, write_pattern, Pattern, STEP,
};
use crate::Expectations;

/// Most bytes the writer in [`reset_while_peer_writes`] tries before calling the reset
/// ignored.
const WRITE_CAP: u64 = 256 * 1024 * 1024;
/// Bytes the resetting reader reads before dropping its stream.
const READ_BEFORE_RESET: u64 = 300 * 1024;
/// Bytes written before the writer drops its stream in [`reset_while_peer_reads`].
const WRITE_BEFORE_RESET: u64 = 512 * 1024;

/// After a reset: a read must fail (not `Ok(0)`, not data) and a write must fail.
async fn expect_reset(s: &mut BoxStream, who: &str) -> Result<(), String> {
    let mut b = [0u8; 1024];
    match within(STEP, &format!("{who} read after reset"), s.read(&mut b)).await? {
        Err(_) => {}
        Ok(0) => {
            return Err(format!(
                "{who} read returned Ok(0) (EOF) after the peer reset the stream: a reset must \
                 read as an error, not as a clean end"
            ))
        }
        Ok(n) => {
            return Err(format!(
                "{who} read returned {n} bytes after the stream was reset"
            ))
        }
    }
    let w = within(STEP, &format!("{who} write after reset"), async {
        s.write_all(b"after reset").await?;
        s.flush().await
    })
    .await?;
    if w.is_ok() {
        return Err(format!(
            "{who} write (and flush) after the stream was reset succeeded"
        ));
    }
    Ok(())
}

/// The listener writes as fast as it can; the dialer reads 300 KiB, then resets (drops) its
/// stream. The listener's writes must fail soon, then its read must fail (not EOF) and a
/// further write must fail; a new stream still works.
pub async fn reset_while_peer_writes(h: &dyn MuxerHandler, e: &Expectations) -> Result<(), String> {
    if !e.drop_resets {
        return Ok(());
    }
    let pair = connected_pair(h, h, DEFAULT_PIPE_CAPACITY).await?;
    let pattern = Arc::new(Pattern::new(10));
    let mut a = open(pair.dialer.as_ref(), "dialer").await?;
    a.write_all(b"go").await.map_err(io_err("dialer write"))?;
    a.flush().await.map_err(io_err("dialer flush"))?;
    let mut b = accept(pair.listener.as_ref(), "listener").await?;
    let mut go = [0u8; 2];
    within(STEP, "listener read", b.read_exact(&mut go))
        .await?
        .map_err(io_err("listener read"))?;

    let p = pattern.clone();
    let writer = tokio::spawn(async move {
        let written = AtomicU64::new(0);
        let r = write_pattern(&mut b, &p, (0, WRITE_CAP), 64 * 1024, &written).await;
        (b, r, written.into_inner())
    });
    let mut buf = vec![0u8; 16 * 1024];
    let mut got = 0u64;
    while got < READ_BEFORE_RESET {
        let n = within(STEP, "dialer read before reset", a.read(&mut buf))
            .await?
            .map_err(io_err("dialer read before reset"))?;
        if n == 0 {
            return Err("dialer read EOF, but the listener never closed".into());
        }
        pattern.check(got, buf.get(..n).unwrap_or_default())?;
        got += n as u64;
    }
    drop(a);

    let (mut b, r, written) = within(
        STEP,
        "listener writes to fail after the dialer's reset",
        writer,
    )
    .await?
    .map_err(|e| format!("writer task failed: {e}"))?;
    if r.is_ok() {
        return Err(format!(
            "listener wrote all {written} bytes although the dialer reset the stream"
        ));
    }
    expect_reset(&mut b, "listener").await?;
    drop(b);
    ping_pong(pair.dialer.as_ref(), pair.listener.as_ref()).await?;
    pair.close_cleanly().await
}

/// The dialer writes 512 KiB, flushes, and resets (drops) its stream while the listener reads:
/// the listener reads a correct prefix and then an error, never a clean EOF; its write fails;
/// a new stream still works.
pub async fn reset_while_peer_reads(h: &dyn MuxerHandler, e: &Expectations) -> Result<(), String> {
    if !e.drop_resets {
        return Ok(());
    }
    let pair = connected_pair(h, h, DEFAULT_PIPE_CAPACITY).await?;
    let pattern = Arc::new(Pattern::new(11));
    let mut a = open(pair.dialer.as_ref(), "dialer").await?;
    let listener = pair.listener.clone();
    let p = pattern.clone();
    // The reset must reach a stream the listener has accepted: a muxer may skip, in
    // `accept_stream`, a stream the peer reset before it was accepted (nothing left to read).
    let (accepted_tx, accepted_rx) = tokio::sync::oneshot::channel::<()>();
    let reader = tokio::spawn(async move {
        let mut b = accept(listener.as_ref(), "listener").await?;
        let _ = accepted_tx.send(());
        let end = read_pattern(&mut b, &p, 0, WRITE_BEFORE_RESET).await?;
        Ok::<_, String>((b, end))
    });
    within(
        STEP,
        "dialer write",
        write_pattern(
            &mut a,
            &pattern,
            (0, WRITE_BEFORE_RESET),
            64 * 1024,
            &AtomicU64::new(0),
        ),
    )
    .await?
    .map_err(io_err("dialer write"))?;
    within(STEP, "listener accept before the reset", accepted_rx)
        .await?
        .map_err(|_| "listener task ended before accepting".to_string())?;
    drop(a);
    let (mut b, end) = within(
        STEP,
        "listener read to end after the dialer's reset",
        reader,
    )
    .await?
    .map_err(|e| format!("reader task failed: {e}"))??;
    if end.error.is_none() {
        return Err(format!(
            "listener read EOF (Ok(0)) after {} bytes, but the dialer reset the stream without \
             closing it: a reset must read as an error, else data loss looks like a clean end",
            end.bytes
        ));
    }
    let w = within(STEP, "listener write after reset", async {
        b.write_all(b"after reset").await?;
        b.flush().await
    })
    .await?;
    if w.is_ok() {
        return Err(
            "listener write (and flush) after the dialer reset the stream succeeded".into(),
        );
    }
    drop(b);
    ping_pong(pair.dialer.as_ref(), pair.listener.as_ref()).await?;
    pair.close_cleanly().await
}

/// Idle streams dropped without close, by the opener and by the acceptor, and one dropped
/// right after opening: a pending read on the other side ends (EOF or error) instead of
/// hanging, and the connection stays usable.
pub async fn dropped_stream_without_close(
    h: &dyn MuxerHandler,
    _e: &Expectations,
) -> Result<(), String> {
    let pair = connected_pair(h, h, DEFAULT_PIPE_CAPACITY).await?;
    for opener_drops in [true, false] {
        let mut a = open(pair.dialer.as_ref(), "dialer").await?;
        a.write_all(b"hello")
            .await
            .map_err(io_err("dialer write"))?;
        a.flush().await.map_err(io_err("dialer flush"))?;
        let mut b = accept(pair.listener.as_ref(), "listener").await?;
        let mut hello = [0u8; 5];
        within(STEP, "listener read", b.read_exact(&mut hello))
            .await?
            .map_err(io_err("listener read"))?;
        let (dropped, mut kept, who) = if opener_drops {
            (a, b, "listener")
        } else {
            (b, a, "dialer")
        };
        let pending = tokio::spawn(async move {
            let mut buf = [0u8; 64];
            let r = kept.read(&mut buf).await;
            (kept, r)
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        drop(dropped);
        let (_kept, r) = within(
            STEP,
            &format!("{who}'s pending read to end after the peer dropped the stream"),
            pending,
        )
        .await?
        .map_err(|e| format!("reader task failed: {e}"))?;
        if let Ok(n @ 1..) = r {
            return Err(format!("{who} read {n} bytes nobody sent"));
        }
    }
    // Dropped before any data: the acceptor may or may not see it; nothing may break.
    drop(open(pair.dialer.as_ref(), "dialer").await?);
    ping_pong(pair.dialer.as_ref(), pair.listener.as_ref()).await?;
    ping_pong(pair.listener.as_ref(), pair.dialer.as_ref()).await?;
    pair.close_cleanly().await
}
