//! The driver future: owns the socket, feeds what it reads into the session and writes what
//! the session queued, coalesced into large writes. It keeps reading while a write is pending
//! (two peers blocked on writes cannot deadlock), and ends with `Ok(())` on a clean close (EOF,
//! or our GoAway flushed) or the session's error.
//!
//! Waiters are woken after each input handled. Deferring those wakes to the end of the poll
//! (a reader woken once for several reads) was measured: no change in the CPU seconds of
//! `chain-node perf` (`scripts/cpu_ab.sh`, 1 GiB each way, noise, 10 rounds: new/old 0.997).
//!
//! Time: the driver calls `Session::handle_timeout` when it first runs (the first keep-alive /
//! RTT ping) and sleeps until `Session::poll_timeout` with a `futures_timer::Delay`, which
//! needs no runtime (its own timer thread wakes the task), so any executor drives keep-alive.
//! It runs on the wall clock: a paused tokio test clock does not move it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_timer::Delay;

use chainp2p_core::{BoxStream, ChainError};
use chainp2p_muxer_shell::{OutputWriter, WakePolicy};
use futures::io::{AsyncRead, AsyncWrite};

use crate::codec::encoded_frame_len;
use crate::error::YamuxError;
use crate::read_buffer::ReadBuffer;
use crate::session::Termination;
use crate::shared::{lock, SharedRef};

/// Rounds of read+write per poll before yielding to other tasks.
const ROUNDS_PER_POLL: usize = 16;

/// The session's I/O loop; see the module docs.
pub(crate) struct Driver {
    io: BoxStream,
    shared: SharedRef,
    /// Socket bytes, read in place and reused; bodies are copied out (see `read_buffer.rs`).
    read_buf: ReadBuffer,
    /// Takes, writes and flushes the session's output (its buffer is swapped with the
    /// session's emptied one, so the data path allocates nothing).
    out: OutputWriter,
    read_eof: bool,
    /// Stop reading when this much output is queued (only control frames the peer provokes
    /// can get it there; stream writes stop at `write_buffer_limit`).
    read_pause: usize,
    finished: bool,
    /// `handle_timeout` ran once.
    started: bool,
    /// Sleep until the session's next timeout, and that deadline.
    timer: Option<(Delay, Instant)>,
}

enum Step {
    Progress,
    Idle,
}

impl Driver {
    pub(crate) fn new(io: BoxStream, shared: SharedRef) -> Self {
        let (read_size, limit, split, dialect) = {
            let g = lock(&shared);
            let c = g.session.config();
            (
                c.read_buffer_size,
                c.write_buffer_limit,
                c.split_send_size,
                c.dialect,
            )
        };
        // Writers woken when the queue is taken: `write_buffer_limit / split_send_size + 1`.
        let out = OutputWriter::new(WakePolicy::OnTake((limit / split.max(1)).saturating_add(1)));
        // `Auto` was resolved by `multiplex`; started without a chain, it means standard.
        let out = match dialect.frame_per_write() {
            true => out.one_frame_per_write(encoded_frame_len),
            false => out,
        };
        Driver {
            io,
            shared,
            read_buf: ReadBuffer::new(read_size),
            out,
            read_eof: false,
            read_pause: limit.saturating_mul(2).saturating_add(64 * 1024),
            finished: false,
            started: false,
            timer: None,
        }
    }

    /// Runs the session's timeouts that are due and arms the timer for the next one.
    fn poll_timer(&mut self, cx: &mut Context<'_>) {
        if !self.started {
            self.started = true;
            let mut g = lock(&self.shared);
            g.session.handle_timeout(Instant::now());
            g.dispatch();
        }
        // Bounded: each round either fires a due timeout or arms the timer.
        for _ in 0..4 {
            let Some(deadline) = lock(&self.shared).session.poll_timeout() else {
                self.timer = None;
                return;
            };
            let fired = match &mut self.timer {
                // Armed for this deadline already (the common case, on every poll of the
                // driver): no clock read, just the timer.
                Some((delay, armed)) if *armed == deadline => Pin::new(delay).poll(cx).is_ready(),
                _ => {
                    let now = Instant::now();
                    if now >= deadline {
                        // Due already: no need to ask the timer thread.
                        true
                    } else {
                        let wait = deadline - now;
                        let delay = match &mut self.timer {
                            Some((delay, armed)) => {
                                delay.reset(wait);
                                *armed = deadline;
                                delay
                            }
                            None => &mut self.timer.insert((Delay::new(wait), deadline)).0,
                        };
                        Pin::new(delay).poll(cx).is_ready()
                    }
                }
            };
            if !fired {
                return;
            }
            let mut g = lock(&self.shared);
            g.session.handle_timeout(Instant::now());
            g.dispatch();
        }
    }

    fn read_once(&mut self, cx: &mut Context<'_>) -> Step {
        if self.read_eof {
            return Step::Idle;
        }
        let wanted = {
            let g = lock(&self.shared);
            if g.session.termination().is_some() || g.session.output_len() >= self.read_pause {
                return Step::Idle;
            }
            g.session.input_wanted()
        };
        // A partial frame is completed in the same buffer.
        let missing = wanted.saturating_sub(self.read_buf.pending().len());
        match Pin::new(&mut self.io).poll_read(cx, self.read_buf.room(missing)) {
            Poll::Pending => {
                // Idle until the socket wakes us: hold no read buffer meanwhile.
                self.read_buf.release_if_empty();
                Step::Idle
            }
            Poll::Ready(Ok(0)) => {
                self.read_eof = true;
                let mut g = lock(&self.shared);
                g.session.handle_eof(self.read_buf.pending());
                g.dispatch();
                Step::Progress
            }
            Poll::Ready(Ok(n)) => {
                self.read_buf.commit(n);
                let mut g = lock(&self.shared);
                // A protocol error terminates the session (GoAway queued); handled below.
                if let Ok(used) = g
                    .session
                    .handle_input(self.read_buf.pending(), Instant::now())
                {
                    self.read_buf.consume(used);
                }
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

    /// Ends the driver: marks it done, wakes everyone, returns the result.
    fn finish(&mut self, result: Result<(), YamuxError>) -> Poll<Result<(), ChainError>> {
        self.finished = true;
        let result = lock(&self.shared).finish_driver(result);
        Poll::Ready(result.map_err(ChainError::from))
    }

    fn poll_drive(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ChainError>> {
        if self.finished {
            return Poll::Ready(Ok(()));
        }
        self.poll_timer(cx);
        for _ in 0..ROUNDS_PER_POLL {
            let read = self.read_once(cx);
            let wrote = match self.out.poll_write_out(&mut self.io, cx, &self.shared) {
                Ok(true) => Step::Progress,
                Ok(false) => Step::Idle,
                Err(e) => {
                    // The peer may have closed after sending its last frames (GoAway, FIN) or
                    // in the middle of one: read what is left so the session ends the way the
                    // input says; a write failing after that (e.g. our keep-alive ping racing
                    // the close) does not change how it ended.
                    for _ in 0..ROUNDS_PER_POLL {
                        if matches!(self.read_once(cx), Step::Idle) {
                            break;
                        }
                    }
                    let term = lock(&self.shared).session.termination().cloned();
                    return match term {
                        Some(Termination::Error(orig)) => self.finish(Err(orig)),
                        Some(Termination::Clean) => self.finish(Ok(())),
                        None => self.finish(Err(e)),
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
                    if pending_out == 0 && self.out.all_written() || matches!(wrote, Step::Idle) {
                        let _ = Pin::new(&mut self.io).poll_close(cx);
                        return self.finish(Ok(()));
                    }
                    continue;
                }
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
                let wake =
                    more || (g.closing && self.out.all_written() && g.session.output_len() == 0);
                drop(g);
                if !wake {
                    // A pong or a new ping may have moved the next timeout.
                    self.poll_timer(cx);
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
