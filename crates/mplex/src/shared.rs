//! State shared by the muxer handle, its streams and the driver: the session behind a short
//! `std::sync::Mutex`, plus the wakers of everyone waiting on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

use crate::session::{Event, Session, StreamId};

/// Wakers of one stream handle.
#[derive(Debug, Default)]
pub(crate) struct StreamWakers {
    pub(crate) read: Option<Waker>,
    pub(crate) write: Option<Waker>,
}

/// Everything behind the mutex.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) session: Session,
    /// The driver task, woken when output is queued, input may resume or the session closes.
    pub(crate) driver: Option<Waker>,
    /// `accept` callers.
    pub(crate) accept: Vec<Waker>,
    /// Writers waiting for room in the output queue, flushers and `shutdown` callers.
    pub(crate) drained: Vec<Waker>,
    pub(crate) streams: HashMap<StreamId, StreamWakers>,
    /// Bytes the driver took from the session and has not yet written to the socket; counted
    /// with the session's queue against `write_buffer_limit`.
    pub(crate) in_flight: usize,
    /// Bytes of output the driver wrote and flushed (compare with `Session::queued_total`).
    pub(crate) flushed_total: u64,
    /// The driver finished.
    pub(crate) driver_done: bool,
}

pub(crate) type SharedRef = Arc<Mutex<Shared>>;

impl Shared {
    pub(crate) fn new(session: Session) -> Self {
        Shared {
            session,
            driver: None,
            accept: Vec::new(),
            drained: Vec::new(),
            streams: HashMap::new(),
            in_flight: 0,
            flushed_total: 0,
            driver_done: false,
        }
    }

    /// Wakes the waiters named by the session's events, and the driver if output is queued.
    pub(crate) fn dispatch(&mut self) {
        while let Some(ev) = self.session.poll_event() {
            match ev {
                Event::InboundStream(_) => wake_all(&mut self.accept),
                Event::Readable(id) => self.wake_stream(id, true, false),
                Event::StreamClosed(id) | Event::StreamReset(id) => {
                    self.wake_stream(id, true, true)
                }
                Event::InputResumed => self.wake_driver(),
                Event::Terminated => self.wake_everyone(),
            }
        }
        if self.session.output_len() > 0 {
            self.wake_driver();
        }
    }

    pub(crate) fn wake_driver(&mut self) {
        if let Some(w) = self.driver.take() {
            w.wake();
        }
    }

    fn wake_stream(&mut self, id: StreamId, read: bool, write: bool) {
        if let Some(w) = self.streams.get_mut(&id) {
            if read {
                if let Some(r) = w.read.take() {
                    r.wake();
                }
            }
            if write {
                if let Some(r) = w.write.take() {
                    r.wake();
                }
            }
        }
    }

    pub(crate) fn wake_everyone(&mut self) {
        wake_all(&mut self.accept);
        wake_all(&mut self.drained);
        for w in self.streams.values_mut() {
            if let Some(r) = w.read.take() {
                r.wake();
            }
            if let Some(r) = w.write.take() {
                r.wake();
            }
        }
        self.wake_driver();
    }
}

pub(crate) fn wake_all(list: &mut Vec<Waker>) {
    for w in list.drain(..) {
        w.wake();
    }
}

/// Adds `w` to `list` unless an equivalent waker is there.
pub(crate) fn register(list: &mut Vec<Waker>, w: &Waker) {
    if !list.iter().any(|x| x.will_wake(w)) {
        list.push(w.clone());
    }
}

/// The current time as the session sees it: tokio's clock (so paused-time tests work),
/// as a `std::time::Instant`.
pub(crate) fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// Locks, recovering from poisoning (every mutation is a short, non-panicking critical
/// section, so a panic elsewhere leaves no half-done invariant).
pub(crate) fn lock(shared: &SharedRef) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}
