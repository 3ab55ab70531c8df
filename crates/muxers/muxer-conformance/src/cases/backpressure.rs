//! Readers slower than writers: a slow reader and a peer that never reads. Memory must stay
//! bounded, by backpressure (writers wait) and/or by resetting stuck or overflowing streams as
//! the muxer's [`Overflow`] promises, and the connection must stay usable for new streams.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chainp2p_core::MuxerHandler;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{oneshot, watch};
use tokio::time::{interval, Instant, MissedTickBehavior};

use crate::pair::{connected_pair, DEFAULT_PIPE_CAPACITY};
use crate::util::{
    accept, io_err, open, ping_pong, read_pattern, within, write_pattern, Pattern, STEP,
};
use crate::{Expectations, Overflow};

/// Write chunk of the fast writers (also slack in the bounds).
const CHUNK: usize = 64 * 1024;
/// Bytes a writer sends to announce its stream before it floods it.
const HELLO: u64 = 1024;
/// Bytes the fast writer of [`slow_reader`] tries to send.
const SLOW_TOTAL: u64 = 8 * 1024 * 1024;
/// Reads of 1 KiB, one per millisecond tick, in the slow phase.
const SLOW_TICKS: usize = 300;
/// Streams and bytes per stream in [`never_reading_peer`].
const IGNORED_STREAMS: usize = 16;
const IGNORED_TOTAL: u64 = 4 * 1024 * 1024;

/// How far a writer may get ahead of its reader: the muxer's promise plus the pipe and one
/// write.
fn bound(e: &Expectations) -> u64 {
    (e.max_unread_per_stream + DEFAULT_PIPE_CAPACITY + CHUNK) as u64
}

/// The dialer writes 8 MiB as fast as it can; the listener reads 1 KiB per millisecond for
/// 300 ms, then fast. Unless the muxer resets immediately, the reader is alive: the writer
/// must be held to `bound` bytes ahead and all 8 MiB arrive intact (flow control, or
/// connection backpressure without a reset); with [`Overflow::ResetImmediately`] the stream
/// must be reset (read error, never a short EOF) after at most `bound` unread bytes. A new
/// stream works afterwards either way.
pub async fn slow_reader(h: &dyn MuxerHandler, e: &Expectations) -> Result<(), String> {
    let pair = connected_pair(h, h, DEFAULT_PIPE_CAPACITY).await?;
    let pattern = Arc::new(Pattern::new(30));
    let written = Arc::new(AtomicU64::new(0));
    let mut a = open(pair.dialer.as_ref(), "dialer").await?;
    let (p, w) = (pattern.clone(), written.clone());
    let (accepted, on_accept) = oneshot::channel::<()>();
    let writer = tokio::spawn(async move {
        // Announce the stream with its first KiB; flood only once it was accepted (a muxer
        // without flow control may reset a stream that overflows before it is accepted).
        write_pattern(&mut a, &p, (0, HELLO), CHUNK, &w).await?;
        let _ = on_accept.await;
        write_pattern(&mut a, &p, (HELLO, SLOW_TOTAL), CHUNK, &w).await?;
        a.close().await
    });
    let mut b = accept(pair.listener.as_ref(), "listener").await?;
    let _ = accepted.send(());

    let mut tick = interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut buf = [0u8; 1024];
    let mut read = 0u64;
    let mut error = None;
    let mut max_ahead = 0u64;
    // Without flow control, keep reading slowly until the writer is done (then far more than
    // the muxer may buffer is unread, whatever the scheduling) or the reset shows.
    let slow_until = Instant::now() + STEP;
    for t in 0.. {
        let writer_done = written.load(Ordering::Relaxed) >= SLOW_TOTAL;
        if t >= SLOW_TICKS
            && (e.slow_reader_gets_everything() || writer_done || Instant::now() > slow_until)
        {
            break;
        }
        tick.tick().await;
        max_ahead = max_ahead.max(written.load(Ordering::Relaxed).saturating_sub(read));
        match within(STEP, "slow listener read", b.read(&mut buf)).await? {
            Ok(0) => {
                return Err(format!(
                    "listener saw EOF after {read} of {SLOW_TOTAL} bytes"
                ))
            }
            Ok(n) => {
                pattern.check(read, buf.get(..n).unwrap_or_default())?;
                read += n as u64;
            }
            Err(err) => {
                error = Some(err);
                break;
            }
        }
    }
    let slow_read = read;
    eprintln!(
        "slow_reader: read {slow_read} bytes slowly; writer at most {max_ahead} bytes ahead; \
         read error during the slow phase: {}",
        error.is_some()
    );
    if e.slow_reader_gets_everything() {
        if let Some(err) = error {
            return Err(format!(
                "slow listener read failed after {read} bytes ({:?} promises an alive reader \
                 is never reset): {err}",
                e.overflow
            ));
        }
        if max_ahead > bound(e) {
            return Err(format!(
                "writer got {max_ahead} bytes ahead of a reader reading 1 KiB/ms; backpressure \
                 should hold it to {} (max_unread_per_stream + pipe + one write)",
                bound(e)
            ));
        }
        let end = within(
            STEP,
            "fast read of the rest",
            read_pattern(&mut b, &pattern, read, SLOW_TOTAL),
        )
        .await??;
        if let Some(err) = end.error {
            return Err(format!(
                "listener read failed after {} bytes: {err}",
                end.bytes
            ));
        }
        if end.bytes != SLOW_TOTAL {
            return Err(format!(
                "listener saw EOF after {} of {SLOW_TOTAL} bytes",
                end.bytes
            ));
        }
        within(STEP, "writer to finish", writer)
            .await?
            .map_err(|e| format!("writer task failed: {e}"))?
            .map_err(io_err("dialer write of 8 MiB"))?;
    } else {
        let (bytes, err) = match error {
            Some(err) => (read, Some(err)),
            None => {
                let end = within(
                    STEP,
                    "fast read of the rest",
                    read_pattern(&mut b, &pattern, read, SLOW_TOTAL),
                )
                .await??;
                (end.bytes, end.error)
            }
        };
        if err.is_none() {
            return Err(format!(
                "listener read all {bytes} bytes and EOF although it fell {max_ahead} bytes \
                 behind: without flow control the stream must be reset once more than {} bytes \
                 are unread (unbounded buffering?)",
                e.max_unread_per_stream
            ));
        }
        if bytes > slow_read + bound(e) {
            return Err(format!(
                "listener got {bytes} bytes before the reset, {} after its slow phase: more than \
                 the {} the muxer may buffer",
                bytes - slow_read,
                bound(e)
            ));
        }
        // The writer learns of the reset (error) or had finished; it must not hang.
        let _ = within(STEP, "writer to finish after the reset", writer)
            .await?
            .map_err(|e| format!("writer task failed: {e}"))?;
    }
    drop(b);
    ping_pong(pair.dialer.as_ref(), pair.listener.as_ref()).await?;
    pair.close_cleanly().await
}

/// The dialer opens 16 streams and writes up to 4 MiB on each; the listener accepts them all
/// and never reads. With flow control the writers are held back and a new stream ping-pongs
/// both ways meanwhile; reading one stream then lets its writer finish with every byte intact.
/// Without, the streams must be reset: at once ([`Overflow::ResetImmediately`]), or
/// ([`Overflow::ResetAfter`]) not before the timeout since they were accepted and all of them
/// within about one timeout (one stall, not one per stream); then new streams ping-pong both
/// ways and each ignored stream reads as an error after at most `bound` bytes.
pub async fn never_reading_peer(h: &dyn MuxerHandler, e: &Expectations) -> Result<(), String> {
    let pair = connected_pair(h, h, DEFAULT_PIPE_CAPACITY).await?;
    let mut writers = Vec::new();
    let mut progress = Vec::new();
    let (go, on_go) = watch::channel(false);
    for i in 0..IGNORED_STREAMS {
        let mut a = open(pair.dialer.as_ref(), "dialer").await?;
        let p = Pattern::new(100 + i as u64);
        let w = Arc::new(AtomicU64::new(0));
        progress.push(w.clone());
        let mut on_go = on_go.clone();
        writers.push(tokio::spawn(async move {
            // Announced with a first KiB; the flood starts once all streams were accepted.
            let r = async {
                write_pattern(&mut a, &p, (0, HELLO), CHUNK, &w).await?;
                let _ = on_go.wait_for(|go| *go).await;
                write_pattern(&mut a, &p, (HELLO, IGNORED_TOTAL), CHUNK, &w).await?;
                a.close().await
            }
            .await;
            (r, Instant::now())
        }));
    }
    // Every stream's reader makes its last progress (accept) after this.
    let before_accept = Instant::now();
    let mut held = Vec::new();
    for i in 0..IGNORED_STREAMS {
        held.push(accept(pair.listener.as_ref(), &format!("listener stream #{i}")).await?);
    }
    let go_at = Instant::now();
    let _ = go.send(true);
    // Without flow control the writers end (done, or failed by the reset) on their own, after
    // at most one stall.
    let mut ended = Vec::new();
    if e.overflow != Overflow::Backpressure {
        let mut first_end: Option<Instant> = None;
        let mut last_end = go_at;
        for (i, w) in writers.drain(..).enumerate() {
            let (r, at) = within(STEP + e.stall(), &format!("writer #{i} to end"), w)
                .await?
                .map_err(|e| format!("writer task failed: {e}"))?;
            first_end = Some(first_end.map_or(at, |f| f.min(at)));
            last_end = last_end.max(at);
            ended.push(r);
        }
        if let (Overflow::ResetAfter(t), Some(first)) = (e.overflow, first_end) {
            let early = first.saturating_duration_since(before_accept);
            if early < t {
                return Err(format!(
                    "an ignored stream ended {early:?} after it was accepted: {:?} promises \
                     no reset before {t:?} without reader progress",
                    e.overflow
                ));
            }
            let total = last_end.saturating_duration_since(go_at);
            if total > t + STEP / 2 {
                return Err(format!(
                    "the {IGNORED_STREAMS} ignored streams took {total:?} to be reset: \
                     {:?} promises about one stall in total, not one per stream",
                    e.overflow
                ));
            }
            eprintln!(
                "never_reading_peer: first reset {early:?} after accept, all {IGNORED_STREAMS} \
                 within {total:?} of the flood"
            );
        }
    }
    // Let the writers run until they are stuck (or done), at most 3 s.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut last = Vec::new();
    let mut stable_since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now: Vec<u64> = progress.iter().map(|w| w.load(Ordering::Relaxed)).collect();
        if now != last {
            last = now;
            stable_since = Instant::now();
        } else if stable_since.elapsed() >= Duration::from_millis(200) || Instant::now() > deadline
        {
            break;
        }
    }
    // The session still serves new streams, both ways.
    ping_pong(pair.dialer.as_ref(), pair.listener.as_ref()).await?;
    ping_pong(pair.listener.as_ref(), pair.dialer.as_ref()).await?;

    if e.overflow == Overflow::Backpressure {
        for (i, w) in last.iter().enumerate() {
            if *w > bound(e) {
                return Err(format!(
                    "writer of ignored stream #{i} got {w} bytes accepted; flow control should \
                     hold it to {}",
                    bound(e)
                ));
            }
        }
        // Reading the first ignored stream unblocks its writer: all bytes, in order.
        let mut first = held.remove(0);
        let p = Pattern::new(100);
        let end = within(
            STEP,
            "read of ignored stream #0",
            read_pattern(&mut first, &p, 0, IGNORED_TOTAL),
        )
        .await??;
        if end.error.is_some() || end.bytes != IGNORED_TOTAL {
            return Err(format!(
                "ignored stream #0 ended after {} of {IGNORED_TOTAL} bytes ({:?}) once read",
                end.bytes, end.error
            ));
        }
        let w0 = writers.remove(0);
        within(STEP, "writer #0 to finish once read", w0)
            .await?
            .map_err(|e| format!("writer task failed: {e}"))?
            .0
            .map_err(io_err("writer #0"))?;
        // Dropping the rest resets them: their blocked writers must wake with an error.
        drop(held);
        for (i, w) in writers.into_iter().enumerate() {
            let r = within(
                STEP,
                &format!("blocked writer #{} to end after reset", i + 1),
                w,
            )
            .await?
            .map_err(|e| format!("writer task failed: {e}"))?
            .0;
            if r.is_ok() && e.drop_resets {
                return Err(format!(
                    "writer #{} completed though its stream was reset",
                    i + 1
                ));
            }
        }
    } else {
        for (i, mut s) in held.into_iter().enumerate() {
            let p = Pattern::new(100 + i as u64);
            let end = within(
                STEP,
                &format!("read of ignored stream #{i}"),
                read_pattern(&mut s, &p, 0, IGNORED_TOTAL),
            )
            .await??;
            if end.error.is_none() {
                return Err(format!(
                    "ignored stream #{i} delivered {} bytes and EOF: without flow control it \
                     should have been reset beyond {} unread bytes",
                    end.bytes, e.max_unread_per_stream
                ));
            }
            if end.bytes > bound(e) {
                return Err(format!(
                    "ignored stream #{i} had {} bytes buffered, more than {}",
                    end.bytes,
                    bound(e)
                ));
            }
        }
        if ended.iter().all(|r| r.is_ok()) {
            return Err("every writer completed on streams the peer never read: no reset".into());
        }
    }
    pair.close_cleanly().await
}
