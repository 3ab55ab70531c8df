//! Which connections are in use: every substream of a connection (opened or accepted) holds an
//! [`ActivityGuard`]; a connection with no substream since [`Activity::idle_for`] is idle, and
//! the swarm's reaper closes connections idle longer than the builder's
//! `idle_connection_timeout` (so a DHT node that talked to thousands of peers does not keep
//! thousands of sockets).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use chainp2p_core::BoxStream;

use crate::resources::StreamPermits;
use futures::{AsyncRead, AsyncWrite};

/// The substream count of one connection and when it last dropped to zero.
#[derive(Debug)]
pub(crate) struct Activity {
    open: AtomicUsize,
    idle_since: Mutex<Instant>,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Activity {
            open: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
        })
    }

    /// How long the connection has had no substream (`None` while one is open).
    pub(crate) fn idle_for(&self, now: Instant) -> Option<Duration> {
        if self.open.load(Ordering::Acquire) > 0 {
            return None;
        }
        let since = *self.idle_since.lock().unwrap_or_else(|e| e.into_inner());
        Some(now.saturating_duration_since(since))
    }

    /// Wraps a substream so that the connection counts as busy while it lives; it holds its
    /// resource-manager `permits` (if any) as long.
    pub(crate) fn track(
        self: &Arc<Self>,
        io: BoxStream,
        permits: Option<StreamPermits>,
    ) -> BoxStream {
        self.open.fetch_add(1, Ordering::AcqRel);
        Box::new(TrackedStream {
            io,
            _guard: ActivityGuard {
                activity: self.clone(),
            },
            _permits: permits,
        })
    }
}

/// Decrements the substream count on drop; the last one out stamps the idle time.
#[derive(Debug)]
struct ActivityGuard {
    activity: Arc<Activity>,
}

impl Drop for ActivityGuard {
    fn drop(&mut self) {
        let mut since = self
            .activity
            .idle_since
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if self.activity.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            *since = Instant::now();
        }
    }
}

/// A substream with its guard and permits.
struct TrackedStream {
    io: BoxStream,
    _guard: ActivityGuard,
    _permits: Option<StreamPermits>,
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipe() -> BoxStream {
        Box::new(futures::io::Cursor::new(Vec::new()))
    }

    #[test]
    fn busy_while_a_substream_lives_idle_after() {
        let a = Activity::new();
        let t0 = Instant::now();
        assert!(a.idle_for(t0).is_some());
        let s1 = a.track(pipe(), None);
        let s2 = a.track(pipe(), None);
        assert_eq!(a.idle_for(Instant::now()), None);
        drop(s1);
        assert_eq!(a.idle_for(Instant::now()), None);
        let before = Instant::now();
        drop(s2);
        let idle = a.idle_for(before + Duration::from_secs(5)).unwrap();
        assert!(idle <= Duration::from_secs(5) && idle > Duration::from_secs(4));
    }
}
