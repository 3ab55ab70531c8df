//! A large transfer: 64 MiB each way on one stream at the same time, checked byte for byte.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chainp2p_core::MuxerHandler;
use futures::io::{AsyncReadExt, AsyncWriteExt};

use crate::pair::{connected_pair, DEFAULT_PIPE_CAPACITY};
use crate::util::{accept, io_err, open, read_paced, within, write_paced, Pacing, Pattern};
use crate::Expectations;

/// Bytes sent in each direction.
const LARGE: u64 = 64 * 1024 * 1024;
/// Write size.
const CHUNK: usize = 256 * 1024;
/// Deadline for the whole transfer.
const TRANSFER: Duration = Duration::from_secs(25);

/// Sends 64 MiB from each side to the other on one stream, both directions at once, each
/// direction its own pattern; each side reads exactly what the other wrote, then EOF. For a
/// muxer that resets even an alive reader that falls behind ([`crate::Overflow::ResetImmediately`])
/// the writers are paced by their readers' progress.
pub async fn large_transfer_both_directions(
    h: &dyn MuxerHandler,
    e: &Expectations,
) -> Result<(), String> {
    let pair = connected_pair(h, h, DEFAULT_PIPE_CAPACITY).await?;
    let up = Arc::new(Pattern::new(20));
    let down = Arc::new(Pattern::new(21));
    let started = Instant::now();
    let a = open(pair.dialer.as_ref(), "dialer").await?;
    let (mut ar, mut aw) = a.split();
    // When falling behind means a reset, the readers must keep up: pace each writer to stay
    // within the muxer's per-stream buffer (what an application on such a muxer has to do).
    let pacing = || {
        (!e.slow_reader_gets_everything()).then(|| {
            Arc::new(Pacing::new(
                e.max_unread_per_stream.saturating_sub(CHUNK) as u64 / 2,
            ))
        })
    };
    let (up_pace, down_pace) = (pacing(), pacing());
    let (p, pace) = (up.clone(), up_pace.clone());
    let a_writer = tokio::spawn(async move {
        write_paced(
            &mut aw,
            &p,
            (0, LARGE),
            CHUNK,
            &AtomicU64::new(0),
            pace.as_deref(),
        )
        .await?;
        aw.close().await
    });
    let b = accept(pair.listener.as_ref(), "listener").await?;
    let (mut br, mut bw) = b.split();
    let (p, pace) = (down.clone(), down_pace.clone());
    let b_writer = tokio::spawn(async move {
        write_paced(
            &mut bw,
            &p,
            (0, LARGE),
            CHUNK,
            &AtomicU64::new(0),
            pace.as_deref(),
        )
        .await?;
        bw.close().await
    });
    let p = down.clone();
    let a_reader =
        tokio::spawn(async move { read_paced(&mut ar, &p, 0, LARGE, down_pace.as_deref()).await });
    let p = up.clone();
    let b_reader =
        tokio::spawn(async move { read_paced(&mut br, &p, 0, LARGE, up_pace.as_deref()).await });

    for (task, who) in [(a_writer, "dialer"), (b_writer, "listener")] {
        within(TRANSFER, &format!("{who} writes 64 MiB"), task)
            .await?
            .map_err(|e| format!("{who} writer task failed: {e}"))?
            .map_err(io_err(&format!("{who} write of 64 MiB")))?;
    }
    for (task, who) in [(a_reader, "dialer"), (b_reader, "listener")] {
        let end = within(TRANSFER, &format!("{who} reads 64 MiB"), task)
            .await?
            .map_err(|e| format!("{who} reader task failed: {e}"))?
            .map_err(|e| format!("{who} read: {e}"))?;
        if let Some(e) = end.error {
            return Err(format!("{who} read failed after {} bytes: {e}", end.bytes));
        }
        if end.bytes != LARGE {
            return Err(format!(
                "{who} saw EOF after {} of {LARGE} bytes",
                end.bytes
            ));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "large_transfer_both_directions: 2 x 64 MiB in {secs:.2} s ({:.0} MiB/s each way)",
        64.0 / secs
    );
    pair.close_cleanly().await
}
