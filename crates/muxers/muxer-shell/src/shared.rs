//! State shared by a muxer handle, its streams and the driver: the session behind a short
//! `std::sync::Mutex`, plus the wakers of everyone waiting on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use crate::{ShellSession, Wake};

/// Wakers of one stream handle.
#[derive(Debug, Default)]
pub struct StreamWakers {
    /// The task blocked in `poll_read`.
    pub read: Option<Waker>,
    /// The task blocked in `poll_write` (or, for some muxers, `poll_flush`).
    pub write: Option<Waker>,
}

/// Everything behind the mutex.
#[derive(Debug)]
pub struct Shared<S: ShellSession> {
    /// The sans-IO session.
    pub session: S,
    /// The driver task, woken when output is queued, input may resume or the session closes.
    pub driver: Option<Waker>,
    /// `accept` callers.
    pub accept: Vec<Waker>,
    /// `open` callers waiting for an outbound slot (muxers whose `open` can wait).
    pub open: Vec<Waker>,
    /// Writers waiting for room in the output queue, and `shutdown` callers (and, for
    /// [`WakePolicy::EachWrite`](crate::WakePolicy::EachWrite) muxers, flushers).
    pub drained: Vec<Waker>,
    /// Flushers woken once `flushed_total` reaches their mark (not on every write, so many
    /// streams waiting for their flush do not all wake on each socket write).
    pub flushers: Vec<(u64, Waker)>,
    /// The wakers of each live stream handle.
    pub streams: HashMap<S::StreamId, StreamWakers>,
    /// Bytes the driver took from the session and has not yet written to the socket
    /// (maintained under [`WakePolicy::EachWrite`](crate::WakePolicy::EachWrite) only).
    pub in_flight: usize,
    /// Bytes of output the driver wrote and flushed (compare with `queued_total`).
    pub flushed_total: u64,
    /// A local close was asked for (for muxers whose session does not track it itself).
    pub closing: bool,
    /// The driver finished.
    pub driver_done: bool,
}

/// The shared state as handles hold it.
pub type SharedRef<S> = Arc<Mutex<Shared<S>>>;

impl<S: ShellSession> Shared<S> {
    /// Wraps a fresh session; nobody waits yet.
    pub fn new(session: S) -> Self {
        Shared {
            session,
            driver: None,
            accept: Vec::new(),
            open: Vec::new(),
            drained: Vec::new(),
            flushers: Vec::new(),
            streams: HashMap::new(),
            in_flight: 0,
            flushed_total: 0,
            closing: false,
            driver_done: false,
        }
    }

    /// Wakes the waiters named by the session's events, and the driver if output is queued.
    pub fn dispatch(&mut self) {
        while let Some(wake) = self.session.poll_wake() {
            match wake {
                Wake::Nobody => {}
                Wake::Accept => wake_all(&mut self.accept),
                Wake::Open => wake_all(&mut self.open),
                Wake::Read(id) => self.wake_stream(id, true, false),
                Wake::Write(id) => self.wake_stream(id, false, true),
                Wake::ReadWrite(id) => self.wake_stream(id, true, true),
                Wake::Driver => self.wake_driver(),
                Wake::Everyone => self.wake_everyone(),
            }
        }
        if self.session.output_len() > 0 {
            self.wake_driver();
        }
    }

    /// Wakes the driver task if it waits.
    pub fn wake_driver(&mut self) {
        if let Some(w) = self.driver.take() {
            w.wake();
        }
    }

    fn wake_stream(&mut self, id: S::StreamId, read: bool, write: bool) {
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

    /// Wakes every waiter (the session ended or the driver finished).
    pub fn wake_everyone(&mut self) {
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

    /// Registers `w` as the reader of stream `id` (if its handle is live).
    pub fn wait_readable(&mut self, id: S::StreamId, w: &Waker) {
        if let Some(s) = self.streams.get_mut(&id) {
            s.read = Some(w.clone());
        }
    }

    /// Registers `w` as the writer of stream `id` (if its handle is live).
    pub fn wait_writable(&mut self, id: S::StreamId, w: &Waker) {
        if let Some(s) = self.streams.get_mut(&id) {
            s.write = Some(w.clone());
        }
    }

    /// Records that output up to `total` was written and flushed; wakes the flushers it
    /// satisfies.
    pub fn flushed(&mut self, total: u64) {
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
    pub fn wait_flushed(&mut self, mark: u64, w: &Waker) {
        if let Some(entry) = self.flushers.iter_mut().find(|(_, x)| x.will_wake(w)) {
            entry.0 = mark;
        } else {
            self.flushers.push((mark, w.clone()));
        }
    }

    /// Ends the driver with `result`: the session learns how it ended, the driver is marked
    /// done and everyone is woken. Returns `result` for the driver to report.
    pub fn finish_driver(&mut self, result: Result<(), S::Error>) -> Result<(), S::Error> {
        if let Err(e) = &result {
            self.session.on_io_error(e.clone());
        } else {
            self.session.on_closed();
        }
        self.driver_done = true;
        self.dispatch();
        self.wake_everyone();
        result
    }

    /// For `accept` when no inbound stream is waiting: `Ready(Ok(()))` (no more streams) once
    /// the session ended cleanly or the driver finished, `Ready(Err(e))` if the session
    /// failed, else registers `w` among the `accept` waiters.
    pub fn poll_inbound_end(&mut self, w: &Waker) -> Poll<Result<(), S::Error>> {
        match self.session.ended() {
            Some(Ok(())) => Poll::Ready(Ok(())),
            Some(Err(e)) => Poll::Ready(Err(e.clone())),
            None if self.driver_done => Poll::Ready(Ok(())),
            None => {
                register(&mut self.accept, w);
                Poll::Pending
            }
        }
    }

    /// For `shutdown`: `Ready` with the session's error (or `Ok`) once the driver finished,
    /// else registers `w` among the `drained` waiters.
    pub fn poll_driver_done(&mut self, w: &Waker) -> Poll<Result<(), S::Error>> {
        if self.driver_done {
            return Poll::Ready(match self.session.ended() {
                Some(Err(e)) => Err(e.clone()),
                _ => Ok(()),
            });
        }
        register(&mut self.drained, w);
        Poll::Pending
    }
}

/// Wakes the first (longest waiting) `n` wakers of `list`.
pub fn wake_first(list: &mut Vec<Waker>, n: usize) {
    for w in list.drain(..n.min(list.len())) {
        w.wake();
    }
}

/// Wakes and removes every waker of `list`.
pub fn wake_all(list: &mut Vec<Waker>) {
    for w in list.drain(..) {
        w.wake();
    }
}

/// Adds `w` to `list` unless an equivalent waker is there.
pub fn register(list: &mut Vec<Waker>, w: &Waker) {
    if !list.iter().any(|x| x.will_wake(w)) {
        list.push(w.clone());
    }
}

/// Locks, recovering from poisoning (every mutation is a short, non-panicking critical
/// section, so a panic elsewhere leaves no half-done invariant).
pub fn lock<T>(shared: &Mutex<T>) -> MutexGuard<'_, T> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}
