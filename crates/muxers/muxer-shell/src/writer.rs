//! The driver's output half: takes the session's queued output (by swapping buffers, so the
//! data path allocates nothing per batch), writes it to the socket coalesced, flushes, and
//! wakes the writers and flushers that this unblocks.

use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use futures::io::AsyncWrite;

use crate::shared::{lock, wake_all, wake_first};
use crate::{Shared, ShellSession};

/// When writers blocked on the output queue (`Shared::drained`) are woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WakePolicy {
    /// After every socket write and flush, all of them; `Shared::in_flight` tracks the bytes
    /// taken but not yet written (for muxers that count them against their write limit).
    EachWrite,
    /// When the queue is taken, the first (oldest) `n` of them, enough to fill it again; all
    /// of them once nothing is queued (so a woken writer that never writes cannot strand the
    /// rest). Flushers wait on `Shared::flushers`.
    OnTake(usize),
}

/// The output side of a driver; see the module docs.
#[derive(Debug)]
pub struct OutputWriter {
    /// Output being written; swapped with the session's emptied buffer.
    buf: BytesMut,
    /// `queued_total` of the session when `buf` was taken.
    taken_total: u64,
    need_flush: bool,
    policy: WakePolicy,
}

impl OutputWriter {
    /// A writer that wakes blocked writers as `policy` says.
    pub fn new(policy: WakePolicy) -> Self {
        OutputWriter {
            buf: BytesMut::new(),
            taken_total: 0,
            need_flush: false,
            policy,
        }
    }

    /// Everything taken from the session was written and flushed.
    pub fn all_written(&self) -> bool {
        self.buf.is_empty() && !self.need_flush
    }

    /// Nothing taken from the session waits to be written (a flush may still be due).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Writes queued output until the session has none or the socket is not ready, then
    /// flushes. `Ok(true)` if anything was written or flushed; `Err` if the socket failed.
    pub fn poll_write_out<S, W>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
        shared: &Mutex<Shared<S>>,
    ) -> Result<bool, S::Error>
    where
        S: ShellSession,
        W: AsyncWrite + Unpin + ?Sized,
    {
        let mut progress = false;
        loop {
            if self.buf.is_empty() && !self.take(shared) {
                break;
            }
            match Pin::new(&mut *io).poll_write(cx, &self.buf) {
                Poll::Pending => return Ok(progress),
                Poll::Ready(Ok(0)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "socket accepted no bytes",
                    )
                    .into())
                }
                Poll::Ready(Ok(n)) => {
                    self.buf.advance(n.min(self.buf.len()));
                    self.need_flush = true;
                    progress = true;
                    if self.policy == WakePolicy::EachWrite {
                        // Room freed: writers waiting on the write limit may continue.
                        let mut g = lock(shared);
                        g.in_flight = self.buf.len();
                        wake_all(&mut g.drained);
                    }
                }
                Poll::Ready(Err(e)) => return Err(e.into()),
            }
        }
        if self.need_flush {
            match Pin::new(&mut *io).poll_flush(cx) {
                Poll::Pending => {}
                Poll::Ready(Ok(())) => {
                    self.need_flush = false;
                    progress = true;
                    let mut g = lock(shared);
                    g.flushed(self.taken_total);
                    if self.policy == WakePolicy::EachWrite {
                        wake_all(&mut g.drained);
                    }
                }
                Poll::Ready(Err(e)) => return Err(e.into()),
            }
        }
        Ok(progress)
    }

    /// Takes the session's queued output into the (empty) buffer; `false` if none is queued.
    fn take<S: ShellSession>(&mut self, shared: &Mutex<Shared<S>>) -> bool {
        let mut g = lock(shared);
        if g.session.output_len() == 0 {
            if let WakePolicy::OnTake(_) = self.policy {
                // Nothing queued: any writer still waiting may go.
                wake_all(&mut g.drained);
            }
            return false;
        }
        // The emptied buffer goes back to the session: no allocation per batch.
        g.session.swap_output(&mut self.buf);
        self.taken_total = g.session.queued_total();
        match self.policy {
            WakePolicy::EachWrite => g.in_flight = self.buf.len(),
            // Room for the whole write limit again: enough writers to fill it.
            WakePolicy::OnTake(n) => wake_first(&mut g.drained, n),
        }
        true
    }
}
