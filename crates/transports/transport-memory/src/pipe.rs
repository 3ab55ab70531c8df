//! The connection itself: a bounded, in-order, lossless duplex byte pipe between two
//! [`MemoryStream`]s, implementing futures' `AsyncRead + AsyncWrite`.
//!
//! Both ends share one mutex-guarded state holding one [`Direction`] per way. A direction's
//! buffer is allocated on the first write and released as soon as the reader drains it, so an
//! idle connection holds no buffer at all.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use futures::io::{AsyncRead, AsyncWrite};

use crate::hub::PortGuard;

/// One way of the pipe: the bytes written and not yet read, and who waits on them.
#[derive(Debug, Default)]
struct Direction {
    /// Written, not yet read. Empty (and unallocated) when drained.
    buf: VecDeque<u8>,
    /// The writing end closed its write half (or was dropped): EOF after `buf`.
    write_closed: bool,
    /// The reading end was dropped: writes fail with `BrokenPipe`.
    read_dropped: bool,
    /// The reader waiting for bytes or EOF.
    reader: Option<Waker>,
    /// The writer waiting for room.
    writer: Option<Waker>,
}

/// The state both ends share.
#[derive(Debug)]
struct Shared {
    /// Written by end A, read by end B.
    a_to_b: Direction,
    /// Written by end B, read by end A.
    b_to_a: Direction,
    /// The most bytes buffered per direction.
    capacity: usize,
}

/// Which end of the pipe a stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    A,
    B,
}

impl Shared {
    /// `(outbound, inbound)` directions of `end`, and the capacity.
    fn split(&mut self, end: End) -> (&mut Direction, &mut Direction, usize) {
        match end {
            End::A => (&mut self.a_to_b, &mut self.b_to_a, self.capacity),
            End::B => (&mut self.b_to_a, &mut self.a_to_b, self.capacity),
        }
    }
}

/// Stores `cx`'s waker in `slot` unless it already holds an equivalent one.
fn register(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

/// One end of an in-memory connection: reads what the other end writes and vice versa.
///
/// - Each direction buffers at most the configured number of bytes; a writer waits (its
///   `poll_write` is pending) while its direction is full.
/// - `poll_close` closes the write half only: the other end reads the buffered bytes, then
///   EOF, and can still write to us.
/// - Dropping an end closes both halves: the other end reads what was buffered for it, then
///   EOF, and its writes fail with [`io::ErrorKind::BrokenPipe`].
#[derive(Debug)]
pub struct MemoryStream {
    shared: Arc<Mutex<Shared>>,
    end: End,
    /// The dialer's ephemeral port, released when this end is dropped.
    _port: Option<PortGuard>,
}

/// A connected pair of streams, each buffering at most `capacity` bytes (at least 1) per
/// direction. What one writes the other reads.
pub fn pipe(capacity: usize) -> (MemoryStream, MemoryStream) {
    pipe_with_port(capacity, None)
}

/// [`pipe`] whose first end holds `port` until it is dropped.
pub(crate) fn pipe_with_port(
    capacity: usize,
    port: Option<PortGuard>,
) -> (MemoryStream, MemoryStream) {
    let shared = Arc::new(Mutex::new(Shared {
        a_to_b: Direction::default(),
        b_to_a: Direction::default(),
        capacity: capacity.max(1),
    }));
    let a = MemoryStream {
        shared: Arc::clone(&shared),
        end: End::A,
        _port: port,
    };
    let b = MemoryStream {
        shared,
        end: End::B,
        _port: None,
    };
    (a, b)
}

impl MemoryStream {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        // No code path panics while holding the lock; if one did, the state is still
        // consistent (every update is a single assignment or a buffer operation).
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes buffered for this end to read, and bytes this end wrote that the other has not
    /// read yet.
    pub fn buffered(&self) -> (usize, usize) {
        let mut s = self.lock();
        let (out, inb, _) = s.split(self.end);
        (inb.buf.len(), out.buf.len())
    }

    /// Heap bytes the connection's buffers hold right now (their allocated capacity, both
    /// directions): 0 when idle.
    pub fn buffer_capacity(&self) -> usize {
        let s = self.lock();
        s.a_to_b.buf.capacity() + s.b_to_a.buf.capacity()
    }
}

impl AsyncRead for MemoryStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut s = self.lock();
        let (_, inb, _) = s.split(self.end);
        if out.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if inb.buf.is_empty() {
            if inb.write_closed {
                return Poll::Ready(Ok(0));
            }
            register(&mut inb.reader, cx);
            return Poll::Pending;
        }
        let mut n = 0;
        while n < out.len() && !inb.buf.is_empty() {
            let rest = out.get_mut(n..).unwrap_or_default();
            match io::Read::read(&mut inb.buf, rest)? {
                0 => break,
                k => n += k,
            }
        }
        if inb.buf.is_empty() {
            // Drained: give the memory back, an idle connection holds no buffer.
            inb.buf = VecDeque::new();
        }
        let writer = inb.writer.take();
        drop(s);
        if let Some(w) = writer {
            w.wake();
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for MemoryStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut s = self.lock();
        let (out, _, capacity) = s.split(self.end);
        if out.read_dropped {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the other end of the memory connection is gone",
            )));
        }
        if out.write_closed {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write half of the memory connection is closed",
            )));
        }
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let room = capacity.saturating_sub(out.buf.len());
        if room == 0 {
            register(&mut out.writer, cx);
            return Poll::Pending;
        }
        let n = room.min(data.len());
        let chunk = data.get(..n).unwrap_or(data);
        if out.buf.capacity() == 0 {
            // First bytes after idle: allocate what this write needs, not the whole capacity.
            out.buf.reserve_exact(n);
        }
        out.buf.extend(chunk);
        let reader = out.reader.take();
        drop(s);
        if let Some(w) = reader {
            w.wake();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Written bytes are in the pipe already.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut s = self.lock();
        let (out, _, _) = s.split(self.end);
        out.write_closed = true;
        let reader = out.reader.take();
        drop(s);
        if let Some(w) = reader {
            w.wake();
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for MemoryStream {
    fn drop(&mut self) {
        let mut s = self.lock();
        let (out, inb, _) = s.split(self.end);
        out.write_closed = true;
        inb.read_dropped = true;
        // Nobody will read these bytes any more.
        inb.buf = VecDeque::new();
        let wakers = [out.reader.take(), inb.writer.take()];
        drop(s);
        for w in wakers.into_iter().flatten() {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_state_is_small() {
        // What an idle connection costs besides its two handles: see the crate docs.
        let shared = std::mem::size_of::<Mutex<Shared>>();
        let handle = std::mem::size_of::<MemoryStream>();
        println!("Mutex<Shared> {shared} bytes, MemoryStream {handle} bytes");
        // Plus 16 bytes of Arc counters; the crate docs add these up.
        assert!(shared <= 160, "{shared}");
        assert!(handle <= 24, "{handle}");
    }
}
