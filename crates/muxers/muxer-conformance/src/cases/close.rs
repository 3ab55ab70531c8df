//! Closing the session from either side: the peer's accept ends, both say `is_closed`, open
//! streams end, new opens fail, and both drivers finish cleanly.

use std::time::Duration;

use chainp2p_core::MuxerHandler;
use futures::io::{AsyncReadExt, AsyncWriteExt};

use crate::pair::{connected_pair, join_driver, DEFAULT_PIPE_CAPACITY};
use crate::util::{accept, io_err, open, within, STEP};
use crate::Expectations;

/// The dialer closes the session.
pub async fn session_close_by_dialer(
    h: &dyn MuxerHandler,
    _e: &Expectations,
) -> Result<(), String> {
    session_close(h, true).await
}

/// The listener closes the session.
pub async fn session_close_by_listener(
    h: &dyn MuxerHandler,
    _e: &Expectations,
) -> Result<(), String> {
    session_close(h, false).await
}

async fn session_close(h: &dyn MuxerHandler, dialer_closes: bool) -> Result<(), String> {
    let pair = connected_pair(h, h, DEFAULT_PIPE_CAPACITY).await?;
    // One live stream across the session, idle when the session closes.
    let mut a = open(pair.dialer.as_ref(), "dialer").await?;
    a.write_all(b"x").await.map_err(io_err("dialer write"))?;
    a.flush().await.map_err(io_err("dialer flush"))?;
    let mut b = accept(pair.listener.as_ref(), "listener").await?;
    let mut x = [0u8; 1];
    within(STEP, "listener read", b.read_exact(&mut x))
        .await?
        .map_err(io_err("listener read"))?;

    let (closer, remote, closer_name, remote_name, closer_driver, remote_driver, mut remote_stream) =
        if dialer_closes {
            (
                pair.dialer,
                pair.listener,
                "dialer",
                "listener",
                pair.dialer_driver,
                pair.listener_driver,
                b,
            )
        } else {
            (
                pair.listener,
                pair.dialer,
                "listener",
                "dialer",
                pair.listener_driver,
                pair.dialer_driver,
                a,
            )
        };
    // The remote is waiting in accept_stream when the close arrives.
    let r = remote.clone();
    let pending_accept = tokio::spawn(async move { r.accept_stream().await.map(|s| s.is_some()) });
    tokio::time::sleep(Duration::from_millis(10)).await;

    within(STEP, &format!("{closer_name} close()"), closer.close())
        .await?
        .map_err(|e| format!("{closer_name} close() failed: {e}"))?;
    if !closer.is_closed() {
        return Err(format!(
            "{closer_name} is_closed() is false after its close() returned"
        ));
    }
    let accepted = within(
        STEP,
        &format!("{remote_name}'s pending accept_stream() to end after the peer closed"),
        pending_accept,
    )
    .await?
    .map_err(|e| format!("accept task failed: {e}"))?;
    if let Ok(true) = accepted {
        return Err(format!(
            "{remote_name} accepted a stream after the peer closed the session"
        ));
    }
    let mut buf = [0u8; 8];
    match within(
        STEP,
        &format!("{remote_name}'s read on a stream of the closed session"),
        remote_stream.read(&mut buf),
    )
    .await?
    {
        Ok(0) | Err(_) => {}
        Ok(n) => return Err(format!("{remote_name} read {n} bytes nobody sent")),
    }
    let deadline = tokio::time::Instant::now() + STEP;
    while !remote.is_closed() {
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "{remote_name} is_closed() still false {STEP:?} after the peer closed"
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if within(
        STEP,
        &format!("{closer_name} open_stream() after close"),
        closer.open_stream(),
    )
    .await?
    .is_ok()
    {
        return Err(format!(
            "{closer_name} open_stream() succeeded after close()"
        ));
    }
    if within(
        STEP,
        &format!("{remote_name} open_stream() on a closed session"),
        remote.open_stream(),
    )
    .await?
    .is_ok()
    {
        return Err(format!(
            "{remote_name} open_stream() succeeded after the peer closed the session"
        ));
    }
    join_driver(closer_name, closer_driver).await?;
    join_driver(remote_name, remote_driver).await
}
