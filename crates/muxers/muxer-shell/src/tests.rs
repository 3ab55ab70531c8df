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

/// Test framing for `one_frame_per_write`: one length byte, then that many body bytes.
fn len_prefixed(src: &[u8]) -> usize {
    src.first().map_or(src.len(), |&n| 1 + usize::from(n))
}

/// A socket that records the bytes of every `poll_write` call. Each call consumes the next
/// entry of `script`: `Some(n)` accepts at most `n` bytes, `None` answers `Pending`; once the
/// script is used up every write is accepted whole.
#[derive(Default)]
struct Recorder {
    writes: Vec<Vec<u8>>,
    script: VecDeque<Option<usize>>,
}

impl futures::io::AsyncWrite for Recorder {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = match self.script.pop_front() {
            Some(None) => return Poll::Pending,
            Some(Some(max)) => buf.len().min(max),
            None => buf.len(),
        };
        self.writes.push(buf[..n].to_vec());
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: std::pin::Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: std::pin::Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

const FRAMES: [&[u8]; 4] = [b"\x03abc", b"\x01x", b"\x00", b"\x04pqrs"];

fn queued_frames() -> Mutex<Shared<Fake>> {
    let shared = Mutex::new(Shared::new(Fake::default()));
    {
        let mut g = shared.lock().unwrap();
        for f in FRAMES {
            g.session.queue(f);
        }
    }
    shared
}

#[test]
fn writer_one_frame_per_write_writes_each_frame_alone() {
    let shared = queued_frames();
    let (_, w) = counter();
    let mut cx = Context::from_waker(&w);
    let mut io = Recorder::default();
    let mut out = OutputWriter::new(WakePolicy::OnTake(1)).one_frame_per_write(len_prefixed);
    assert_eq!(out.poll_write_out(&mut io, &mut cx, &shared), Ok(true));
    assert!(out.all_written());
    assert_eq!(io.writes, FRAMES.map(<[u8]>::to_vec));
    assert_eq!(shared.lock().unwrap().flushed_total, 12);
}

#[test]
fn writer_one_frame_per_write_continues_a_partly_written_frame_alone() {
    let shared = queued_frames();
    let (_, w) = counter();
    let mut cx = Context::from_waker(&w);
    // The socket takes part of a frame, then (with room for everything) must be offered only
    // the rest of that frame; later a `Pending` in the middle of the last frame.
    let mut io = Recorder {
        script: [
            Some(2),
            Some(99),
            Some(99),
            Some(99),
            Some(2),
            None,
            Some(1),
        ]
        .into(),
        ..Recorder::default()
    };
    let mut out = OutputWriter::new(WakePolicy::OnTake(1)).one_frame_per_write(len_prefixed);
    assert_eq!(out.poll_write_out(&mut io, &mut cx, &shared), Ok(true));
    assert!(!out.all_written());
    // More output queued meanwhile must not be glued to the rest of the cut frame.
    shared.lock().unwrap().session.queue(b"\x02yz");
    assert_eq!(out.poll_write_out(&mut io, &mut cx, &shared), Ok(true));
    assert!(out.all_written());
    let expected: [&[u8]; 8] = [
        b"\x03a", b"bc", // frame 1, cut by the socket; its rest alone
        b"\x01x", b"\x00",  // frames 2 and 3, whole
        b"\x04p", // frame 4 up to the `Pending`…
        b"q", b"rs", // …and the rest of it alone
        b"\x02yz",
    ];
    assert_eq!(io.writes, expected.map(<[u8]>::to_vec));
}

#[test]
fn writer_without_frame_cutting_coalesces_frames_into_one_write() {
    let shared = queued_frames();
    let (_, w) = counter();
    let mut cx = Context::from_waker(&w);
    let mut io = Recorder::default();
    let mut out = OutputWriter::new(WakePolicy::OnTake(1));
    assert_eq!(out.poll_write_out(&mut io, &mut cx, &shared), Ok(true));
    assert!(out.all_written());
    assert_eq!(io.writes, vec![FRAMES.concat()]);
}

#[test]
fn writer_one_frame_per_write_writes_a_byte_when_frame_len_says_zero() {
    let shared = queued_frames();
    let (_, w) = counter();
    let mut cx = Context::from_waker(&w);
    let mut io = Recorder::default();
    let mut out = OutputWriter::new(WakePolicy::OnTake(1)).one_frame_per_write(|_| 0);
    assert_eq!(out.poll_write_out(&mut io, &mut cx, &shared), Ok(true));
    assert!(out.all_written());
    assert_eq!(io.writes.len(), 12);
    assert!(io.writes.iter().all(|w| w.len() == 1));
}
