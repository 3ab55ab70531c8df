//! [`RecvBuf`]: the receive buffer of a security layer's handshake and encrypted stream. Raw
//! bytes from the stream below are read in large chunks; frames are parsed (and decrypted) in
//! place, so no frame is copied or allocated on its own. The buffer compacts itself so that the
//! frame at its front fits, and grows (up to that frame, whose length the caller has already
//! checked against its limit) only when a frame is larger than the buffer.
//!
//! The allocation exists only while bytes flow: it is taken from the thread's [`pool`] when a
//! read starts with nothing buffered, and given back when a read finds nothing to read
//! (`Pending`) and nothing is buffered, so an idle connection holds no receive buffer.
//! A read that starts empty takes a small buffer ([`FIRST_READ`], or the frame it must hold);
//! only once a read fills all the space offered (more bytes are waiting: bulk data) does the
//! buffer grow to its full size, until the stream is idle again. A burst of handshakes and
//! small messages on many connections therefore never holds large buffers.
//!
//! [`pool`]: crate::pool

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::AsyncRead;

use crate::pool;

/// Below this much free space at the end, the buffer is compacted before reading.
pub const MIN_READ: usize = 16 * 1024;
/// The buffer a read takes when nothing is buffered and no bulk data is flowing.
pub const FIRST_READ: usize = 16 * 1024;

/// A byte buffer with a read window `[start, end)`.
#[derive(Debug)]
pub struct RecvBuf {
    /// Empty (no allocation) while idle; see the module docs.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The full size (while bulk data flows).
    size: usize,
    /// The last read filled all the space offered: bulk data, use the full size.
    busy: bool,
}

impl RecvBuf {
    /// A buffer of `size` bytes while bytes flow (callers apply their own minimum, e.g. two
    /// maximal frames); nothing is allocated before the first read.
    pub fn new(size: usize) -> Self {
        RecvBuf {
            buf: Vec::new(),
            start: 0,
            end: 0,
            size: size.max(1),
            busy: false,
        }
    }

    /// Bytes allocated now (zero while idle).
    pub fn allocated(&self) -> usize {
        self.buf.capacity()
    }

    /// Gives the allocation back to the pool if nothing is buffered.
    pub fn release_if_empty(&mut self) {
        if self.is_empty() && !self.buf.is_empty() {
            pool::give(std::mem::take(&mut self.buf));
            self.busy = false;
        }
    }

    /// The buffered, unconsumed bytes.
    #[inline]
    pub fn data(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// The buffered bytes, mutable (frames are decrypted in place).
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.start..self.end).unwrap_or_default()
    }

    /// Number of buffered bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether nothing is buffered.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Drops `n` bytes from the front.
    #[inline]
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Makes room for a frame of `frame_total` bytes starting at the front, and for a read.
    fn make_room(&mut self, frame_total: usize) {
        let want = if self.busy {
            self.size
        } else {
            FIRST_READ.min(self.size)
        };
        if self.buf.is_empty() {
            self.buf = pool::take(want.max(frame_total));
        } else if self.buf.len() < want {
            // Bulk data: grow to the full size.
            self.buf.resize(want, 0);
        }
        let cap = self.buf.len();
        if self.start > 0 && (cap - self.end < MIN_READ || cap - self.start < frame_total) {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < self.start + frame_total {
            self.buf.resize(self.start + frame_total, 0);
        }
    }

    /// Reads once from `io` into the free space, first making sure a frame of `frame_total`
    /// bytes (already checked against the caller's limit) fits; `Ok(0)` is EOF.
    pub fn poll_fill<T: AsyncRead + Unpin>(
        &mut self,
        io: &mut T,
        cx: &mut Context<'_>,
        frame_total: usize,
    ) -> Poll<io::Result<usize>> {
        self.make_room(frame_total);
        if self.end == self.buf.len() {
            // a whole frame is buffered already (callers read only for incomplete frames);
            // never report a false EOF by reading into an empty slice
            self.buf.resize(self.buf.len() + MIN_READ, 0);
        }
        let spare = self.buf.get_mut(self.end..).unwrap_or_default();
        let offered = spare.len();
        let n = match Pin::new(io).poll_read(cx, spare) {
            Poll::Ready(Ok(n)) => n,
            Poll::Pending => {
                // Idle until the stream below wakes us: hold no buffer meanwhile.
                self.release_if_empty();
                return Poll::Pending;
            }
            other => return other,
        };
        self.end += n.min(self.buf.len() - self.end);
        self.busy = n >= offered;
        Poll::Ready(Ok(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::poll_fn;
    use futures::io::Cursor;

    #[test]
    fn compacts_when_a_frame_would_not_fit() {
        let mut rb = RecvBuf::new(2 * 65537);
        rb.busy = true;
        rb.make_room(0);
        let cap = rb.buf.len();
        rb.start = cap - 10;
        rb.end = cap - 4;
        rb.buf[cap - 10] = 42;
        rb.make_room(65537);
        assert_eq!((rb.start, rb.end), (0, 6));
        assert_eq!(
            rb.buf.len(),
            cap,
            "a frame that fits after compaction needs no growth"
        );
        assert_eq!(rb.data()[0], 42);
        rb.consume(6);
        assert_eq!(rb.len(), 0);
        assert!(rb.is_empty());
    }

    #[test]
    fn compacts_and_grows_for_a_large_frame() {
        let mut rb = RecvBuf::new(64 * 1024);
        rb.busy = true;
        rb.make_room(0);
        let cap = rb.buf.len();
        rb.start = cap - 10;
        rb.end = cap - 4;
        rb.buf[cap - 10] = 42;
        rb.make_room(100_000);
        assert_eq!((rb.start, rb.end), (0, 6));
        assert_eq!(rb.data()[0], 42);
        assert!(rb.buf.len() >= 100_000);
        rb.consume(6);
        assert_eq!(rb.len(), 0);
    }

    #[test]
    fn fills_from_the_stream_and_reports_eof() {
        let mut rb = RecvBuf::new(8);
        let mut io = Cursor::new(b"hello world".to_vec());
        let mut fill = |rb: &mut RecvBuf| {
            futures::executor::block_on(poll_fn(|cx| rb.poll_fill(&mut io, cx, 4))).unwrap()
        };
        assert_eq!(fill(&mut rb), 8);
        assert_eq!(rb.data(), b"hello wo");
        // full with whole frames buffered: grows rather than reading into nothing
        assert_eq!(fill(&mut rb), 3);
        assert_eq!(rb.data(), b"hello world");
        rb.data_mut()[0] = b'j';
        rb.consume(6);
        assert_eq!(rb.data(), b"world");
        assert_eq!(fill(&mut rb), 0, "EOF");
        assert_eq!(rb.len(), 5);
    }

    /// A stream that has `data` to read and is `Pending` once it is empty.
    struct Trickle {
        data: Vec<u8>,
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let this = self.get_mut();
            if this.data.is_empty() {
                return Poll::Pending;
            }
            let n = this.data.len().min(buf.len());
            buf[..n].copy_from_slice(&this.data[..n]);
            this.data.drain(..n);
            Poll::Ready(Ok(n))
        }
    }

    #[test]
    fn an_idle_read_gives_the_buffer_back_and_the_next_read_takes_one() {
        let mut io = Trickle { data: Vec::new() };
        let mut rb = RecvBuf::new(64 * 1024);
        assert_eq!(rb.allocated(), 0, "nothing before the first read");
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(rb.poll_fill(&mut io, &mut cx, 4).is_pending());
        assert_eq!(rb.allocated(), 0, "an idle read holds no buffer");
        io.data.extend_from_slice(b"abc");
        assert!(matches!(
            rb.poll_fill(&mut io, &mut cx, 4),
            Poll::Ready(Ok(3))
        ));
        assert!(rb.allocated() >= FIRST_READ);
        // A partial frame stays buffered across an idle read.
        assert!(rb.poll_fill(&mut io, &mut cx, 4).is_pending());
        assert_eq!(rb.data(), b"abc");
        rb.consume(3);
        assert!(rb.poll_fill(&mut io, &mut cx, 4).is_pending());
        assert_eq!(rb.allocated(), 0);
    }

    #[test]
    fn small_reads_stay_small_and_bulk_data_grows_the_buffer_to_its_size() {
        let mut io = Trickle {
            data: vec![1u8; 300 * 1024],
        };
        let mut rb = RecvBuf::new(128 * 1024);
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        // The first read offers a small buffer and fills it: bulk data.
        let Poll::Ready(Ok(n)) = rb.poll_fill(&mut io, &mut cx, 4) else {
            panic!("a read");
        };
        assert!(
            n >= FIRST_READ && rb.allocated() < 64 * 1024,
            "{n} {}",
            rb.allocated()
        );
        rb.consume(n);
        let Poll::Ready(Ok(n)) = rb.poll_fill(&mut io, &mut cx, 4) else {
            panic!("a read");
        };
        assert_eq!(n, 128 * 1024, "grown to the full size for bulk data");
        rb.consume(n);
        while rb.poll_fill(&mut io, &mut cx, 4).is_ready() {
            let len = rb.len();
            rb.consume(len);
        }
        assert_eq!(rb.allocated(), 0, "idle again: released");
        io.data.extend_from_slice(b"hello");
        assert!(matches!(
            rb.poll_fill(&mut io, &mut cx, 4),
            Poll::Ready(Ok(5))
        ));
        assert!(
            !rb.busy,
            "no bulk data any more: the next fresh buffer is small again"
        );
    }
}
