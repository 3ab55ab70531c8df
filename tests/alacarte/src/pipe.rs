//! An in-memory duplex byte pipe on `futures::io` traits, with no runtime: each direction is a
//! bounded buffer behind a mutex, and a blocked reader or writer is woken by the other end.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use futures::io::{AsyncRead, AsyncWrite};

/// One direction of the pipe.
#[derive(Debug, Default)]
struct Buffer {
    data: VecDeque<u8>,
    /// The writing end closed (or was dropped): readers see EOF once `data` is drained.
    closed: bool,
    /// A reader waiting for data.
    reader: Option<Waker>,
    /// A writer waiting for room.
    writer: Option<Waker>,
}

type Shared = Arc<Mutex<Buffer>>;

fn lock(b: &Shared) -> MutexGuard<'_, Buffer> {
    b.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One end of a [`pipe`]: reads what the other end writes and the other way round.
#[derive(Debug)]
pub struct PipeEnd {
    incoming: Shared,
    outgoing: Shared,
    capacity: usize,
}

/// Two connected ends; each direction buffers at most `capacity` bytes (at least 1).
pub fn pipe(capacity: usize) -> (PipeEnd, PipeEnd) {
    let (ab, ba) = (Shared::default(), Shared::default());
    let capacity = capacity.max(1);
    (
        PipeEnd {
            incoming: ba.clone(),
            outgoing: ab.clone(),
            capacity,
        },
        PipeEnd {
            incoming: ab,
            outgoing: ba,
            capacity,
        },
    )
}

impl AsyncRead for PipeEnd {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut b = lock(&self.incoming);
        if b.data.is_empty() {
            if b.closed || buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            b.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(b.data.len());
        for (dst, src) in buf.iter_mut().zip(b.data.drain(..n)) {
            *dst = src;
        }
        if let Some(w) = b.writer.take() {
            w.wake();
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for PipeEnd {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let capacity = self.capacity;
        let mut b = lock(&self.outgoing);
        if b.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = capacity.saturating_sub(b.data.len());
        if room == 0 {
            b.writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        b.data.extend(buf.iter().take(n));
        if let Some(w) = b.reader.take() {
            w.wake();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut b = lock(&self.outgoing);
        b.closed = true;
        if let Some(w) = b.reader.take() {
            w.wake();
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        for (shared, is_outgoing) in [(&self.outgoing, true), (&self.incoming, false)] {
            let mut b = lock(shared);
            b.closed = true;
            let waiter = if is_outgoing {
                b.reader.take()
            } else {
                b.writer.take()
            };
            if let Some(w) = waiter {
                w.wake();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn bytes_cross_in_both_directions_and_close_is_eof() {
        block_on(async {
            let (mut a, mut b) = pipe(4);
            let (sent, got) = futures::join!(
                async {
                    a.write_all(b"hello, pipe").await.unwrap();
                    a.close().await.unwrap();
                },
                async {
                    let mut got = Vec::new();
                    b.read_to_end(&mut got).await.unwrap();
                    got
                }
            );
            let () = sent;
            assert_eq!(got, b"hello, pipe");
            b.write_all(b"back").await.unwrap();
            let mut back = [0u8; 4];
            a.read_exact(&mut back).await.unwrap();
            assert_eq!(&back, b"back");
        });
    }
}
