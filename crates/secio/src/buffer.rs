//! The receive buffer shared by the handshake and the encrypted stream: raw bytes from the
//! stream below, read in large chunks; frames are checked and decrypted in place. It grows (up
//! to one maximal frame, whose length the caller has already checked) when a frame is larger
//! than its current size.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::AsyncRead;

/// Below this much free space at the end, the buffer is compacted before reading.
const MIN_READ: usize = 16 * 1024;

/// A byte buffer with a read window `[start, end)`.
pub(crate) struct RecvBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl RecvBuf {
    /// A buffer of `size` bytes (at least 64 KiB).
    pub(crate) fn new(size: usize) -> Self {
        RecvBuf {
            buf: vec![0u8; size.max(64 * 1024)],
            start: 0,
            end: 0,
        }
    }

    /// The buffered, unconsumed bytes.
    pub(crate) fn data(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// The buffered bytes, mutable (frames are decrypted in place).
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.start..self.end).unwrap_or_default()
    }

    /// Number of buffered bytes.
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    /// Drops `n` bytes from the front.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Makes room for a frame of `frame_total` bytes starting at `start`, and for a read.
    fn make_room(&mut self, frame_total: usize) {
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
    /// bytes (already checked against the limit) fits; `Ok(0)` is EOF.
    pub(crate) fn poll_fill<T: AsyncRead + Unpin>(
        &mut self,
        io: &mut T,
        cx: &mut Context<'_>,
        frame_total: usize,
    ) -> Poll<io::Result<usize>> {
        self.make_room(frame_total);
        if self.end == self.buf.len() {
            // a whole frame is buffered already; the caller only reads for incomplete frames
            self.buf.resize(self.buf.len() + MIN_READ, 0);
        }
        let spare = self.buf.get_mut(self.end..).unwrap_or_default();
        let n = match Pin::new(io).poll_read(cx, spare) {
            Poll::Ready(Ok(n)) => n,
            other => return other,
        };
        self.end += n.min(self.buf.len() - self.end);
        Poll::Ready(Ok(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacts_and_grows_for_a_large_frame() {
        let mut rb = RecvBuf::new(0);
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
}
