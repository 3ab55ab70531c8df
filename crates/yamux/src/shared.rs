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
    /// The driver task, woken when output is queued or the session must close.
    pub(crate) driver: Option<Waker>,
    /// `accept_stream` callers.
    pub(crate) accept: Vec<Waker>,
    /// `open_stream` callers waiting for an ACK backlog slot.
    pub(crate) open: Vec<Waker>,
    /// Writers waiting for room in the output queue, and `shutdown` callers. When the driver
    /// takes the queue it wakes only as many as can fill it again (the oldest first), not a
    /// herd of 100 writers of whom most would find it full; all of them once the driver finds
    /// nothing queued (so a woken writer that never writes cannot strand the rest).
    pub(crate) drained: Vec<Waker>,
    /// Flushers: woken once `flushed_total` reaches their mark (not on every write, so many
    /// streams waiting for their flush do not all wake on each socket write).
    pub(crate) flushers: Vec<(u64, Waker)>,
    pub(crate) streams: HashMap<StreamId, StreamWakers>,
    /// Bytes of output the driver wrote and flushed (compare with `Session::queued_total`).
    pub(crate) flushed_total: u64,
    /// `Muxer::close` was called.
    pub(crate) closing: bool,
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
            open: Vec::new(),
            drained: Vec::new(),
            flushers: Vec::new(),
            streams: HashMap::new(),
            flushed_total: 0,
            closing: false,
            driver_done: false,
        }
    }

    /// Wakes the waiters named by the session's events, and the driver if output is queued.
    pub(crate) fn dispatch(&mut self) {
        while let Some(ev) = self.session.poll_event() {
            match ev {
                Event::InboundStream(_) => wake_all(&mut self.accept),
                Event::StreamAcked(_) => wake_all(&mut self.open),
                Event::Readable(id) => self.wake_stream(id, true, false),
                Event::Writable(id) => self.wake_stream(id, false, true),
                Event::StreamClosed(id) | Event::StreamReset(id) => {
                    self.wake_stream(id, true, true)
                }
                Event::Pong { .. } => {}
                Event::GoAwayReceived(_) => wake_all(&mut self.open),
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
        wake_all(&mut self.open);
        wake_all(&mut self.drained);
        for (_, w) in self.flushers.drain(..) {
            w.wake();
        }
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

impl Shared {
    /// Records that output up to `total` was written and flushed; wakes the flushers it
    /// satisfies.
    pub(crate) fn flushed(&mut self, total: u64) {
        self.flushed_total = total;
        self.flushers.retain(|(mark, w)| {
            if *mark <= total {
                w.wake_by_ref();
                false
            } else {
                true
            }
        });
    }

    /// Registers `w` to be woken once `flushed_total >= mark`.
    pub(crate) fn wait_flushed(&mut self, mark: u64, w: &Waker) {
        if let Some(entry) = self.flushers.iter_mut().find(|(_, x)| x.will_wake(w)) {
            entry.0 = mark;
        } else {
            self.flushers.push((mark, w.clone()));
        }
    }
}

/// Wakes the first (longest waiting) `n` wakers of `list`.
pub(crate) fn wake_first(list: &mut Vec<Waker>, n: usize) {
    for w in list.drain(..n.min(list.len())) {
        w.wake();
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

/// Locks, recovering from poisoning (the session holds no invariants a panic elsewhere breaks
/// halfway: every mutation is a short, non-panicking critical section).
pub(crate) fn lock(shared: &SharedRef) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}
