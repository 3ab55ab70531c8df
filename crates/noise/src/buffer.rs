//! The receive buffer shared by the handshake and the transport phase: raw bytes from the
//! stream below, read in large chunks and parsed into frames in place (no per-frame allocation).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::AsyncRead;

use crate::codec::MAX_FRAME_LEN;

/// Below this much free space at the end, the buffer is compacted before reading.
const MIN_READ: usize = 16 * 1024;

/// A fixed-size byte buffer with a read window `[start, end)`.
pub(crate) struct ReadBuffer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuffer {
    /// A buffer of `size` bytes; at least two maximal frames so one always fits after compaction.
    pub(crate) fn new(size: usize) -> Self {
        ReadBuffer {
            buf: vec![0u8; size.max(2 * MAX_FRAME_LEN)],
            start: 0,
            end: 0,
        }
    }

    /// The buffered, unconsumed bytes.
    pub(crate) fn data(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
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

    /// Makes sure a whole frame starting at `start` fits and that a read has room.
    fn make_room(&mut self) {
        let cap = self.buf.len();
        if self.start > 0 && (cap - self.end < MIN_READ || cap - self.start < MAX_FRAME_LEN) {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// Reads once from `io` into the free space; `Ok(0)` is EOF.
    pub(crate) fn poll_fill<T: AsyncRead + Unpin>(
        &mut self,
        io: &mut T,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        self.make_room();
        let spare = self.buf.get_mut(self.end..).unwrap_or_default();
        if spare.is_empty() {
            // cannot happen with a buffer of two maximal frames; never report a false EOF
            return Poll::Ready(Err(io::Error::other("noise read buffer full")));
        }
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
    fn compacts_when_a_frame_would_not_fit() {
        let mut rb = ReadBuffer::new(0);
        let cap = rb.buf.len();
        rb.start = cap - 10;
        rb.end = cap - 4;
        rb.buf[cap - 10] = 42;
        rb.make_room();
        assert_eq!((rb.start, rb.end), (0, 6));
        assert_eq!(rb.data()[0], 42);
        rb.consume(6);
        assert_eq!(rb.len(), 0);
    }
}
