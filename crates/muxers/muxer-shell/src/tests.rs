//! Unit tests of the shell against a scripted fake session.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::BytesMut;
use futures::task::{waker, ArcWake};

use crate::{OutputWriter, Shared, ShellSession, StreamCore, Wake, WakePolicy};

#[derive(Debug, Clone, PartialEq)]
struct FakeError(String);

impl From<io::Error> for FakeError {
    fn from(e: io::Error) -> Self {
        FakeError(e.to_string())
    }
}

/// A session whose events and output the test scripts.
#[derive(Debug, Default)]
struct Fake {
    events: VecDeque<Wake<u32>>,
    out: BytesMut,
    total: u64,
    ended: Option<Result<(), FakeError>>,
    released: Vec<u32>,
}

impl Fake {
    fn queue(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
        self.total += bytes.len() as u64;
    }
}

impl ShellSession for Fake {
    type StreamId = u32;
    type Error = FakeError;
    fn poll_wake(&mut self) -> Option<Wake<u32>> {
        self.events.pop_front()
    }
    fn output_len(&self) -> usize {
        self.out.len()
    }
    fn queued_total(&self) -> u64 {
        self.total
    }
    fn swap_output(&mut self, buf: &mut BytesMut) {
        std::mem::swap(&mut self.out, buf);
    }
    fn ended(&self) -> Option<Result<(), &FakeError>> {
        self.ended.as_ref().map(|r| r.as_ref().map(|_| ()))
    }
    fn on_io_error(&mut self, err: FakeError) {
        self.ended = Some(Err(err));
    }
    fn on_closed(&mut self) {
        self.ended.get_or_insert(Ok(()));
    }
    fn close_write(&mut self, _id: u32) -> Result<(), FakeError> {
        if self.total == 0 {
            self.queue(b"FIN");
        }
        Ok(())
    }
    fn reset(&mut self, _id: u32) {}
    fn release(&mut self, id: u32) {
        self.released.push(id);
    }
}

#[derive(Default)]
struct Count(AtomicUsize);

impl ArcWake for Count {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> (Arc<Count>, Waker) {
    let c = Arc::new(Count::default());
    (c.clone(), waker(c))
}

fn woken(c: &Count) -> usize {
    c.0.load(Ordering::SeqCst)
}

#[test]
fn dispatch_wakes_only_whom_the_events_name() {
    let mut s = Shared::new(Fake::default());
    let (r1, w1) = counter();
    let (r2, w2) = counter();
    let (acc, wacc) = counter();
    let (drv, wdrv) = counter();
    s.streams.insert(1, Default::default());
    s.streams.insert(2, Default::default());
    s.wait_readable(1, &w1);
    s.wait_readable(2, &w2);
    s.accept.push(wacc);
    s.driver = Some(wdrv);
    s.session.events.push_back(Wake::Read(1));
    s.dispatch();
    assert_eq!(
        (woken(&r1), woken(&r2), woken(&acc), woken(&drv)),
        (1, 0, 0, 0)
    );
    // Queued output wakes the driver; a termination wakes everyone.
    s.session.queue(b"x");
    s.session.events.push_back(Wake::Everyone);
    s.dispatch();
    assert_eq!(
        (woken(&r1), woken(&r2), woken(&acc), woken(&drv)),
        (1, 1, 1, 1)
    );
}

#[test]
fn writer_on_take_writes_everything_and_releases_all_waiters() {
    let shared = Mutex::new(Shared::new(Fake::default()));
    let counts: Vec<_> = (0..3).map(|_| counter()).collect();
    {
        let mut g = shared.lock().unwrap();
        g.session.queue(b"hello ");
        g.session.queue(b"world");
        for (_, w) in &counts {
            g.drained.push(w.clone());
        }
    }
    let (_, w) = counter();
    let mut cx = Context::from_waker(&w);
    let mut io = futures::io::Cursor::new(Vec::new());
    let mut out = OutputWriter::new(WakePolicy::OnTake(1));
    assert_eq!(out.poll_write_out(&mut io, &mut cx, &shared), Ok(true));
    assert!(out.all_written());
    assert_eq!(io.get_ref().as_slice(), b"hello world");
    let g = shared.lock().unwrap();
    assert_eq!(g.flushed_total, 11);
    assert!(g.drained.is_empty());
    assert!(counts.iter().all(|(c, _)| woken(c) == 1));
}

#[test]
fn writer_each_write_tracks_in_flight_and_wakes_flushers_by_mark() {
    let shared = Mutex::new(Shared::new(Fake::default()));
    let (early, we) = counter();
    let (late, wl) = counter();
    {
        let mut g = shared.lock().unwrap();
        g.session.queue(b"abcd");
        g.wait_flushed(4, &we);
        g.wait_flushed(100, &wl);
    }
    let (_, w) = counter();
    let mut cx = Context::from_waker(&w);
    let mut io = futures::io::Cursor::new(Vec::new());
    let mut out = OutputWriter::new(WakePolicy::EachWrite);
    assert_eq!(out.poll_write_out(&mut io, &mut cx, &shared), Ok(true));
    let g = shared.lock().unwrap();
    assert_eq!(g.in_flight, 0);
    assert_eq!((woken(&early), woken(&late)), (1, 0));
    assert_eq!(g.flushers.len(), 1);
}

#[test]
fn stream_core_close_marks_once_and_drop_releases() {
    let shared = Arc::new(Mutex::new(Shared::new(Fake::default())));
    let core = StreamCore::new(7, shared.clone());
    assert_eq!(core.id(), 7);
    assert_eq!(core.close_write(), Ok(Some(3)));
    assert_eq!(core.close_write(), Ok(None));
    drop(core);
    let g = shared.lock().unwrap();
    assert!(g.streams.is_empty());
    assert_eq!(g.session.released, vec![7]);
}

#[test]
fn finish_and_end_polls_report_the_error() {
    let mut s = Shared::new(Fake::default());
    let (c, w) = counter();
    assert!(s.poll_inbound_end(&w).is_pending());
    let err = FakeError("boom".into());
    assert_eq!(s.finish_driver(Err(err.clone())), Err(err.clone()));
    assert_eq!(woken(&c), 1);
    assert_eq!(s.poll_inbound_end(&w), Poll::Ready(Err(err.clone())));
    assert_eq!(s.poll_driver_done(&w), Poll::Ready(Err(err)));
}
