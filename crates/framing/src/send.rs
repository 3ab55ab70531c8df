//! [`SendBuf`]: the reusable send buffer of an encrypted stream shell. Frames are sealed
//! straight into it, then written out, possibly over several calls when the stream below is
//! busy; bytes in it are accepted from the caller and are never dropped. Once drained, the
//! buffer goes back to the thread's [`pool`](crate::pool): an idle stream holds none.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures::io::AsyncWrite;

use crate::pool;

/// A byte buffer whose `[pos, end)` window is still to be written.
#[derive(Debug, Default)]
pub struct SendBuf {
    buf: Vec<u8>,
    pos: usize,
    end: usize,
}

impl SendBuf {
    /// An empty buffer (nothing is allocated until the first [`SendBuf::space`]).
    pub fn new() -> Self {
        SendBuf::default()
    }

    /// Bytes allocated now (zero once drained).
    pub fn allocated(&self) -> usize {
        self.buf.capacity()
    }

    /// Bytes waiting to be written.
    #[inline]
    pub fn pending(&self) -> usize {
        self.end - self.pos
    }

    /// The whole buffer, grown (once) to at least `len` bytes, to seal frames into; the
    /// caller then calls [`SendBuf::filled`]. Only valid once drained.
    #[inline]
    pub fn space(&mut self, len: usize) -> &mut [u8] {
        if self.buf.is_empty() {
            self.buf = pool::take(len);
        }
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
        &mut self.buf
    }

    /// Marks the first `n` bytes of the buffer as to be written.
    #[inline]
    pub fn filled(&mut self, n: usize) {
        self.pos = 0;
        self.end = n.min(self.buf.len());
    }

    /// Writes out the pending bytes; `WriteZero` if the stream below takes none.
    pub fn poll_drain<T: AsyncWrite + Unpin>(
        &mut self,
        io: &mut T,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        while self.pos < self.end {
            let pending = self.buf.get(self.pos..self.end).unwrap_or_default();
            let n = ready!(Pin::new(&mut *io).poll_write(cx, pending))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pos += n;
        }
        self.pos = 0;
        self.end = 0;
        if !self.buf.is_empty() {
            pool::give(std::mem::take(&mut self.buf));
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::poll_fn;
    use futures::io::Cursor;

    #[test]
    fn drains_what_was_filled_and_gives_the_buffer_back() {
        let mut sb = SendBuf::new();
        assert_eq!(sb.pending(), 0);
        sb.space(8)[..5].copy_from_slice(b"hello");
        sb.filled(5);
        assert_eq!(sb.pending(), 5);
        let mut out = Cursor::new(vec![0u8; 0]);
        futures::executor::block_on(poll_fn(|cx| sb.poll_drain(&mut out, cx))).unwrap();
        assert_eq!(sb.pending(), 0);
        assert_eq!(out.get_ref(), b"hello");
        assert_eq!(sb.allocated(), 0, "a drained buffer holds no memory");
        assert!(sb.space(4).len() >= 4);
    }

    #[test]
    fn a_stream_that_takes_nothing_is_write_zero() {
        let mut sb = SendBuf::new();
        sb.space(3);
        sb.filled(3);
        let mut full = Cursor::new(&mut [][..]);
        let err =
            futures::executor::block_on(poll_fn(|cx| sb.poll_drain(&mut full, cx))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
        assert_eq!(sb.pending(), 3, "nothing is dropped");
    }
}
