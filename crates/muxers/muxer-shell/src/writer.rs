//! The driver's output half: takes the session's queued output (by swapping buffers, so the
//! data path allocates nothing per batch), writes it to the socket coalesced, flushes, and
//! wakes the writers and flushers that this unblocks. For peers that parse one muxer frame
//! per security frame (c-libp2p), [`OutputWriter::one_frame_per_write`] cuts every write at a
//! frame boundary instead (a security layer such as secio seals each write as its own frame).

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
    /// Cuts writes at frame boundaries: the length of the frame at the front of the buffer.
    frame_len: Option<FrameLen>,
    /// Bytes left of a frame the socket took only part of (cut mode only).
    frame_rest: usize,
}

/// Given encoded output that starts at a frame boundary, the length of that first frame
/// (header and body; at most the slice's length is used). The output is our own encoding, so
/// it is well formed; a function that cannot tell returns the slice's length.
pub type FrameLen = fn(&[u8]) -> usize;

impl OutputWriter {
    /// A writer that wakes blocked writers as `policy` says.
    pub fn new(policy: WakePolicy) -> Self {
        OutputWriter {
            buf: BytesMut::new(),
            taken_total: 0,
            need_flush: false,
            policy,
            frame_len: None,
            frame_rest: 0,
        }
    }

    /// Writes one frame per `poll_write` (cut where `frame_len` says) instead of coalescing
    /// frames into large writes: what peers need that parse one muxer frame per security frame.
    pub fn one_frame_per_write(mut self, frame_len: FrameLen) -> Self {
        self.frame_len = Some(frame_len);
        self
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
            let chunk = match self.frame_len {
                // At least one byte, so a zero answer cannot stall the loop.
                Some(frame_len) => {
                    if self.frame_rest == 0 {
                        self.frame_rest = frame_len(&self.buf);
                    }
                    let n = self.frame_rest.clamp(1, self.buf.len());
                    self.buf.get(..n).unwrap_or(&self.buf)
                }
                None => &self.buf,
            };
            match Pin::new(&mut *io).poll_write(cx, chunk) {
                Poll::Pending => return Ok(progress),
                Poll::Ready(Ok(0)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "socket accepted no bytes",
                    )
                    .into())
                }
                Poll::Ready(Ok(n)) => {
                    let n = n.min(chunk.len());
                    self.frame_rest = self.frame_rest.saturating_sub(n);
                    self.buf.advance(n);
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
