//! The driver future (runs on tokio: it uses tokio's clock and timer for
//! `OverflowBehaviour::BlockThenReset`): owns the socket, feeds what it reads into the session
//! and writes what the session queued, coalesced into large writes. It keeps reading while a
//! write is pending (two peers blocked on writes cannot deadlock), stops reading while the
//! session blocks input (a full stream buffer or accept queue), arms a timer at the session's
//! `poll_timeout` meanwhile, and ends with `Ok(())` on a clean close (EOF at a frame boundary,
//! or our close flushed) or with the session's error.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use chainp2p_core::{BoxStream, ChainError};
use chainp2p_muxer_shell::{OutputWriter, WakePolicy};
use futures::io::{AsyncRead, AsyncWrite};
use tokio::time::Sleep;

use crate::error::MplexError;
use crate::session::Termination;
use crate::shared::{lock, now, SharedRef};

/// Rounds of read+write per poll before yielding to other tasks.
const ROUNDS_PER_POLL: usize = 16;

/// The session's I/O loop; see the module docs.
pub(crate) struct Driver {
    io: BoxStream,
    shared: SharedRef,
    /// Socket reads land here: taken from the thread's buffer pool for a read, given back
    /// when the socket has nothing to read (an idle connection holds none).
    scratch: Vec<u8>,
    /// The configured read size.
    read_size: usize,
    /// Undecoded input (a partial frame); emptied, it gives its allocation back.
    read_buf: BytesMut,
    /// `read_buf` holds bytes the session left undecoded because input was blocked.
    unprocessed: bool,
    /// Takes, writes and flushes the session's output.
    out: OutputWriter,
    read_eof: bool,
    /// Stop reading when this much output is queued (only control frames the peer provokes,
    /// such as Resets of refused streams, can get it there; stream writes stop at
    /// `write_buffer_limit`).
    read_pause: usize,
    finished: bool,
    /// The timer of the current stall (at the session's `poll_timeout`).
    stall_timer: Option<Pin<Box<Sleep>>>,
}

enum Step {
    Progress,
    Idle,
}

impl Driver {
    pub(crate) fn new(io: BoxStream, shared: SharedRef) -> Self {
        let (read_size, limit) = {
            let g = lock(&shared);
            let c = g.session.config();
            (c.read_buffer_size, c.write_buffer_limit)
        };
        Driver {
            io,
            shared,
            scratch: Vec::new(),
            read_size: read_size.max(1),
            read_buf: BytesMut::new(),
            unprocessed: false,
            // mplex counts bytes being written against `write_buffer_limit`.
            out: OutputWriter::new(WakePolicy::EachWrite),
            read_eof: false,
            read_pause: limit.saturating_mul(2).saturating_add(64 * 1024),
            finished: false,
            stall_timer: None,
        }
    }

    /// While input is blocked: keeps a timer at the session's deadline (which moves later
    /// when the blocking reader makes progress) and lets the session give up when it fires.
    fn poll_stall(&mut self, cx: &mut Context<'_>) -> Step {
        // Bounded: a fired timer either ends the stall or re-arms at a later deadline.
        for _ in 0..4 {
            let Some(deadline) = lock(&self.shared).session.poll_timeout() else {
                self.stall_timer = None;
                return Step::Idle;
            };
            let deadline = tokio::time::Instant::from_std(deadline);
            let timer = match &mut self.stall_timer {
                Some(t) => {
                    if t.deadline() != deadline {
                        t.as_mut().reset(deadline);
                    }
                    t
                }
                None => self
                    .stall_timer
                    .insert(Box::pin(tokio::time::sleep_until(deadline))),
            };
            if timer.as_mut().poll(cx).is_pending() {
                return Step::Idle;
            }
            self.stall_timer = None;
            let mut g = lock(&self.shared);
            if let Some(id) = g.session.handle_timeout(now()) {
                tracing::debug!(%id, "mplex: no reader progress within the reset timeout; stream reset");
                g.dispatch();
                return Step::Progress;
            }
        }
        cx.waker().wake_by_ref();
        Step::Idle
    }

    fn read_once(&mut self, cx: &mut Context<'_>) -> Step {
        if self.read_eof {
            return Step::Idle;
        }
        {
            let mut g = lock(&self.shared);
            if g.session.termination().is_some() {
                return Step::Idle;
            }
            if g.session.input_blocked() {
                drop(g);
                return self.poll_stall(cx);
            }
            self.stall_timer = None;
            if self.unprocessed {
                // Input resumed: decode what was held back before reading more.
                self.unprocessed = false;
                let _ = g.session.handle_bytes(&mut self.read_buf, now());
                self.unprocessed = g.session.input_blocked();
                g.dispatch();
                return Step::Progress;
            }
            if g.session.output_len() >= self.read_pause {
                return Step::Idle;
            }
        }
        if self.scratch.is_empty() {
            self.scratch = chainp2p_framing::pool::take(self.read_size);
        }
        match Pin::new(&mut self.io).poll_read(cx, &mut self.scratch) {
            Poll::Pending => {
                // Idle until the socket wakes us: hold no buffers meanwhile.
                chainp2p_framing::pool::give(std::mem::take(&mut self.scratch));
                if self.read_buf.is_empty() && !self.unprocessed {
                    self.read_buf = BytesMut::new();
                }
                Step::Idle
            }
            Poll::Ready(Ok(0)) => {
                self.read_eof = true;
                let mut g = lock(&self.shared);
                g.session.on_eof(&self.read_buf);
                g.dispatch();
                Step::Progress
            }
            Poll::Ready(Ok(n)) => {
                self.read_buf
                    .extend_from_slice(self.scratch.get(..n).unwrap_or_default());
                let mut g = lock(&self.shared);
                // A protocol error terminates the session; handled in `poll_drive`.
                let _ = g.session.handle_bytes(&mut self.read_buf, now());
                self.unprocessed = g.session.input_blocked();
                g.dispatch();
                Step::Progress
            }
            Poll::Ready(Err(e)) => {
                self.read_eof = true;
                let mut g = lock(&self.shared);
                g.session.on_io_error(MplexError::from(e));
                g.dispatch();
                Step::Progress
            }
        }
    }

    /// Ends the driver: marks it done, wakes everyone, returns the result.
    fn finish(&mut self, result: Result<(), MplexError>) -> Poll<Result<(), ChainError>> {
        self.finished = true;
        let result = lock(&self.shared).finish_driver(result);
        Poll::Ready(result.map_err(ChainError::from))
    }

    fn poll_drive(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ChainError>> {
        if self.finished {
            return Poll::Ready(Ok(()));
        }
        for _ in 0..ROUNDS_PER_POLL {
            let read = self.read_once(cx);
            let wrote = match self.out.poll_write_out(&mut self.io, cx, &self.shared) {
                Ok(true) => Step::Progress,
                Ok(false) => Step::Idle,
                Err(e) => {
                    let term = lock(&self.shared).session.termination().cloned();
                    return match term {
                        Some(Termination::Error(orig)) => self.finish(Err(orig)),
                        _ => self.finish(Err(e)),
                    };
                }
            };
            let (term, closing, pending_out) = {
                let g = lock(&self.shared);
                (
                    g.session.termination().cloned(),
                    g.session.is_closing(),
                    g.session.output_len(),
                )
            };
            match term {
                // A protocol violation or I/O failure: mplex has nothing to tell the peer;
                // close the socket at once.
                Some(Termination::Error(e)) => {
                    let _ = Pin::new(&mut self.io).poll_close(cx);
                    return self.finish(Err(e));
                }
                // Peer EOF: write what is queued (best effort, never wait on the peer), close.
                Some(Termination::Clean) => {
                    if pending_out == 0 && self.out.all_written() || matches!(wrote, Step::Idle) {
                        let _ = Pin::new(&mut self.io).poll_close(cx);
                        return self.finish(Ok(()));
                    }
                    continue;
                }
                // Our close: everything queued is written and flushed, then the socket closes.
                None if closing && pending_out == 0 && self.out.all_written() => {
                    return match Pin::new(&mut self.io).poll_close(cx) {
                        Poll::Pending => Poll::Pending,
                        Poll::Ready(_) => self.finish(Ok(())),
                    };
                }
                None => {}
            }
            if matches!((read, wrote), (Step::Idle, Step::Idle)) {
                let mut g = lock(&self.shared);
                g.driver = Some(cx.waker().clone());
                let more = g.session.output_len() > 0 && self.out.is_empty();
                let resumed = self.unprocessed && !g.session.input_blocked();
                let close_now =
                    g.session.is_closing() && self.out.all_written() && g.session.output_len() == 0;
                drop(g);
                if !(more || resumed || close_now) {
                    return Poll::Pending;
                }
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Future for Driver {
    type Output = Result<(), ChainError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().poll_drive(cx)
    }
}
