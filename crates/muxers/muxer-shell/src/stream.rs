//! The protocol-independent core of a substream handle: it registers the stream's wakers,
//! half-closes, resets, and releases the stream when dropped. The muxer's stream type wraps it and adds `poll_read` / `poll_write` /
//! `poll_flush`, which depend on the protocol (flow control, write limits).

use std::sync::MutexGuard;

use crate::shared::lock;
use crate::{Shared, SharedRef, ShellSession, StreamWakers};

/// One substream handle's shared part; dropping it releases the stream in the session.
#[derive(Debug)]
pub struct StreamCore<S: ShellSession> {
    id: S::StreamId,
    shared: SharedRef<S>,
}

impl<S: ShellSession> StreamCore<S> {
    /// Registers stream `id` (already opened or accepted in the session) for wake-ups.
    pub fn new(id: S::StreamId, shared: SharedRef<S>) -> Self {
        lock(&shared).streams.insert(id, StreamWakers::default());
        StreamCore { id, shared }
    }

    /// The stream's id.
    pub fn id(&self) -> S::StreamId {
        self.id
    }

    /// Locks the shared state.
    pub fn lock(&self) -> MutexGuard<'_, Shared<S>> {
        lock(&self.shared)
    }

    /// Resets the stream: both directions end at once, unread data is dropped.
    pub fn reset(&self) {
        let mut g = lock(&self.shared);
        g.session.reset(self.id);
        g.dispatch();
    }

    /// The first step of `poll_close`: queues our half-close (once; later calls queue
    /// nothing). `Ok(Some(mark))` if it queued output: the stream is closed once
    /// `flushed_total` reaches `mark`. The caller then waits for the flush.
    pub fn close_write(&self) -> Result<Option<u64>, S::Error> {
        let mut g = lock(&self.shared);
        let was = g.session.queued_total();
        g.session.close_write(self.id)?;
        let now = g.session.queued_total();
        if now == was {
            return Ok(None);
        }
        g.dispatch();
        Ok(Some(now))
    }
}

impl<S: ShellSession> Drop for StreamCore<S> {
    fn drop(&mut self) {
        let mut g = lock(&self.shared);
        g.streams.remove(&self.id);
        g.session.release(self.id);
        g.dispatch();
    }
}
