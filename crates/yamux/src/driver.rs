//! The driver future: owns the socket, feeds what it reads into the session and writes what
//! the session queued, coalesced into large writes. It keeps reading while a write is pending
//! (two peers blocked on writes cannot deadlock), and ends with `Ok(())` on a clean close (EOF,
//! or our GoAway flushed) or the session's error.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Buf, BytesMut};
use chain_core::{BoxStream, ChainError};
use futures::io::{AsyncRead, AsyncWrite};

use crate::error::YamuxError;
use crate::session::Termination;
use crate::shared::{lock, wake_all, SharedRef};

/// Rounds of read+write per poll before yielding to other tasks.
const ROUNDS_PER_POLL: usize = 16;

/// The session's I/O loop; see the module docs.
pub(crate) struct Driver {
    io: BoxStream,
    shared: SharedRef,
    scratch: Vec<u8>,
    read_buf: BytesMut,
    write_buf: BytesMut,
    /// `queued_total` of the session when `write_buf` was taken.
    taken_total: u64,
    need_flush: bool,
    read_eof: bool,
    /// Stop reading when this much output is queued (only control frames the peer provokes
    /// can get it there; stream writes stop at `write_buffer_limit`).
    read_pause: usize,
    finished: bool,
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
            scratch: vec![0; read_size],
            read_buf: BytesMut::with_capacity(read_size),
            write_buf: BytesMut::new(),
            taken_total: 0,
            need_flush: false,
            read_eof: false,
            read_pause: limit.saturating_mul(2).saturating_add(64 * 1024),
            finished: false,
        }
    }

    fn read_once(&mut self, cx: &mut Context<'_>) -> Step {
        if self.read_eof {
            return Step::Idle;
        }
        {
            let g = lock(&self.shared);
            if g.session.termination().is_some() || g.session.output_len() >= self.read_pause {
                return Step::Idle;
            }
        }
        match Pin::new(&mut self.io).poll_read(cx, &mut self.scratch) {
            Poll::Pending => Step::Idle,
            Poll::Ready(Ok(0)) => {
                self.read_eof = true;
                let mut g = lock(&self.shared);
                g.session.on_eof();
                g.dispatch();
                Step::Progress
            }
            Poll::Ready(Ok(n)) => {
                self.read_buf
                    .extend_from_slice(self.scratch.get(..n).unwrap_or_default());
                let mut g = lock(&self.shared);
                // A protocol error terminates the session (GoAway queued); handled below.
                let _ = g.session.handle_bytes(&mut self.read_buf, Instant::now());
                g.dispatch();
                Step::Progress
            }
            Poll::Ready(Err(e)) => {
                self.read_eof = true;
                let mut g = lock(&self.shared);
                g.session.on_io_error(YamuxError::from(e));
                g.dispatch();
                Step::Progress
            }
        }
    }

    /// Writes queued output; `Err` if the socket failed.
    fn write_some(&mut self, cx: &mut Context<'_>) -> Result<Step, YamuxError> {
        let mut progress = false;
        loop {
            if self.write_buf.is_empty() {
                let mut g = lock(&self.shared);
                if g.session.output_len() == 0 {
                    break;
                }
                self.write_buf = g.session.take_output();
                self.taken_total = g.session.queued_total();
                wake_all(&mut g.drained);
            }
            match Pin::new(&mut self.io).poll_write(cx, &self.write_buf) {
                Poll::Pending => return Ok(if progress { Step::Progress } else { Step::Idle }),
                Poll::Ready(Ok(0)) => {
                    return Err(YamuxError::Io("socket accepted no bytes".into()))
                }
                Poll::Ready(Ok(n)) => {
                    self.write_buf.advance(n.min(self.write_buf.len()));
                    self.need_flush = true;
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Err(e.into()),
            }
        }
        if self.need_flush {
            match Pin::new(&mut self.io).poll_flush(cx) {
                Poll::Pending => {}
                Poll::Ready(Ok(())) => {
                    self.need_flush = false;
                    progress = true;
                    let mut g = lock(&self.shared);
                    g.flushed_total = self.taken_total;
                    wake_all(&mut g.drained);
                }
                Poll::Ready(Err(e)) => return Err(e.into()),
            }
        }
        Ok(if progress { Step::Progress } else { Step::Idle })
    }

    fn all_written(&self) -> bool {
        self.write_buf.is_empty() && !self.need_flush
    }

    /// Ends the driver: marks it done, wakes everyone, returns the result.
    fn finish(&mut self, result: Result<(), YamuxError>) -> Poll<Result<(), ChainError>> {
        self.finished = true;
        let mut g = lock(&self.shared);
        if let Err(e) = &result {
            g.session.on_io_error(e.clone());
        } else {
            g.session.on_closed();
        }
        g.driver_done = true;
        g.dispatch();
        g.wake_everyone();
        Poll::Ready(result.map_err(YamuxError::into_chain))
    }

    fn poll_drive(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ChainError>> {
        if self.finished {
            return Poll::Ready(Ok(()));
        }
        for _ in 0..ROUNDS_PER_POLL {
            let read = self.read_once(cx);
            let wrote = match self.write_some(cx) {
                Ok(step) => step,
                Err(e) => {
                    let term = lock(&self.shared).session.termination().cloned();
                    return match term {
                        Some(Termination::Error(orig)) => self.finish(Err(orig)),
                        _ => self.finish(Err(e)),
                    };
                }
            };
            // Termination: once the session ended (error, EOF) or a local close was asked for,
            // flush what is queued (the GoAway) and stop.
            let (term, closing, pending_out) = {
                let g = lock(&self.shared);
                (
                    g.session.termination().cloned(),
                    g.closing,
                    g.session.output_len(),
                )
            };
            match term {
                Some(Termination::Error(e)) => {
                    // Best effort: one write attempt of the GoAway, never wait for the peer.
                    if pending_out == 0 || matches!(wrote, Step::Idle) {
                        let _ = Pin::new(&mut self.io).poll_close(cx);
                        return self.finish(Err(e));
                    }
                    continue;
                }
                Some(Termination::Clean) => {
                    if pending_out == 0 && self.all_written() || matches!(wrote, Step::Idle) {
                        let _ = Pin::new(&mut self.io).poll_close(cx);
                        return self.finish(Ok(()));
                    }
                    continue;
                }
                None if closing && pending_out == 0 && self.all_written() => {
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
                let more = g.session.output_len() > 0 && self.write_buf.is_empty();
                let wake = more || (g.closing && self.all_written() && g.session.output_len() == 0);
                drop(g);
                if !wake {
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
