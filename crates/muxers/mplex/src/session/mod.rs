//! The sans-IO mplex session: bytes in, encoded frames and events out, no sockets, no clock.
//!
//! Run loop (what the async shell in `driver.rs` does):
//! 1. feed the socket's bytes with [`Session::handle_bytes`] (or decoded frames with
//!    [`Session::handle_frame`]) — unless [`Session::input_blocked`] says to stop reading;
//!    while blocked, call [`Session::handle_timeout`] at [`Session::poll_timeout`];
//! 2. drain [`Session::poll_event`] and wake whoever waits on the named stream;
//! 3. write [`Session::take_output`] to the socket.
//!
//! Time is passed in (`now`) to every call that may start or end a stall; the session never
//! reads a clock.
//!
//! Application operations ([`Session::open_stream`], [`Session::accept`], [`Session::read`],
//! [`Session::write`], [`Session::close_write`], [`Session::reset`], [`Session::release`]) may
//! queue output too. Written data is encoded straight into the output buffer (one copy);
//! received bodies are kept as the `Bytes` split off the read buffer (no copy until `read`).
//!
//! Choices where the protocol leaves room:
//! - NewStream carries the decimal stream number as its name (like go-mplex and js; rust sends
//!   an empty name). Received names are ignored (bounded by `max_frame_body`).
//! - mplex has no flow control: per-stream unread data is bounded by
//!   `max_buffer_per_stream`, inbound streams waiting for `accept` by `max_pending_accept`;
//!   see [`OverflowBehaviour`] for what crossing them does (input stalls, resets).
//! - Data for unknown, reset or remote-closed streams is skipped and counted in [`Stats`].
//! - mplex has no GoAway: closing the session means no new streams, flush, close the socket.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use tokio_util::codec::Decoder;

use crate::codec::{
    encode_header, Flag, Frame, FrameCodec, FrameKind, MAX_HEADER_LEN, MAX_STREAM_NUM,
};
use crate::config::{MplexConfig, OverflowBehaviour};
use crate::error::MplexError;
use crate::stream_state::{ResetCause, StreamState};

/// Who opened a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// We sent the NewStream.
    Local,
    /// The peer sent the NewStream.
    Remote,
}

/// A stream's identity: its number and who opened it (both sides count from 0
/// independently, so the same number can name two streams).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamId {
    /// The stream number on the wire.
    pub num: u64,
    /// Who opened it.
    pub opener: Endpoint,
}

impl StreamId {
    /// A stream id of the given fields.
    pub fn new(num: u64, opener: Endpoint) -> Self {
        StreamId { num, opener }
    }

    /// Whether we opened it (we send the `*Initiator` flags on it).
    pub fn is_local(&self) -> bool {
        self.opener == Endpoint::Local
    }
}

impl fmt::Display for StreamId {
    /// `3/local` or `3/remote`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = match self.opener {
            Endpoint::Local => "local",
            Endpoint::Remote => "remote",
        };
        write!(f, "{}/{who}", self.num)
    }
}

/// What happened, for the shell to wake the right waiters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The peer opened a stream; take it with [`Session::accept`].
    InboundStream(StreamId),
    /// Data or EOF is readable on the stream.
    Readable(StreamId),
    /// Both sides sent Close.
    StreamClosed(StreamId),
    /// The stream was reset (by the peer, or by us on buffer overflow).
    StreamReset(StreamId),
    /// Input was blocked (a blocking [`OverflowBehaviour`]) and may be fed again.
    InputResumed,
    /// The session ended; see [`Session::termination`].
    Terminated,
}

/// Result of [`Session::read`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This many bytes were copied.
    Data(usize),
    /// The peer half-closed and everything was read.
    Eof,
    /// Nothing to read yet; wait for [`Event::Readable`].
    Blocked,
}

/// How the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Termination {
    /// EOF from the peer at a frame boundary, or our own close.
    Clean,
    /// A protocol violation or an I/O failure.
    Error(MplexError),
}

/// Counters of things the session tolerated without failing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames for unknown streams (skipped).
    pub ignored_frames: u64,
    /// Data bytes discarded (unknown, reset, released or remote-closed streams).
    pub discarded_bytes: u64,
    /// Inbound streams refused with Reset (limit reached, accept queue stuck, or closing).
    pub refused_streams: u64,
    /// Streams reset because the peer overflowed `max_buffer_per_stream`.
    pub overflow_resets: u64,
    /// Times input was blocked (a stream's buffer or the accept queue was full).
    pub input_stalls: u64,
}

/// What holds input back.
#[derive(Debug)]
enum Stall {
    /// A data frame that does not fit its stream's buffer.
    Data(StreamId, Bytes),
    /// A NewStream that arrived with the accept queue full.
    Open(StreamId),
}

/// An mplex session.
#[derive(Debug)]
pub struct Session {
    config: MplexConfig,
    codec: FrameCodec,
    next_num: u64,
    streams: HashMap<StreamId, StreamState>,
    inbound: usize,
    accept_queue: VecDeque<StreamId>,
    /// Last progress of the accept queue: the later of the last `accept` and the moment the
    /// queue went from empty to non-empty.
    accept_progress_at: Option<Instant>,
    events: VecDeque<Event>,
    out: BytesMut,
    queued_total: u64,
    /// The frame held back by a blocking [`OverflowBehaviour`]; input stops meanwhile.
    stalled: Option<Stall>,
    closing: bool,
    termination: Option<Termination>,
    stats: Stats,
}

impl Session {
    /// A new session. `config` should have passed [`MplexConfig::validate`]. mplex ids do not
    /// depend on the connection's role: both sides count from 0.
    pub fn new(config: MplexConfig) -> Self {
        Session {
            codec: FrameCodec::new(config.max_frame_body),
            config,
            next_num: 0,
            streams: HashMap::new(),
            inbound: 0,
            accept_queue: VecDeque::new(),
            accept_progress_at: None,
            events: VecDeque::new(),
            out: BytesMut::new(),
            queued_total: 0,
            stalled: None,
            closing: false,
            termination: None,
            stats: Stats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MplexConfig {
        &self.config
    }

    // ----- input -----

    /// Decodes and handles every complete frame in `buf` (partial frames stay in `buf`), until
    /// input blocks ([`Session::input_blocked`]; the rest stays in `buf`). On a protocol
    /// violation the session terminates and returns the error; input after termination is
    /// discarded. `now` is the current time (stalls and resets are measured with it).
    pub fn handle_bytes(&mut self, buf: &mut BytesMut, now: Instant) -> Result<(), MplexError> {
        loop {
            if self.termination.is_some() {
                buf.clear();
                return Ok(());
            }
            if self.stalled.is_some() {
                return Ok(());
            }
            match self.codec.decode(buf) {
                Ok(Some(frame)) => self.handle_frame(frame, now)?,
                Ok(None) => return Ok(()),
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Handles one decoded frame (see [`Session::handle_bytes`] for errors). Must not be
    /// called while [`Session::input_blocked`].
    pub fn handle_frame(&mut self, frame: Frame, now: Instant) -> Result<(), MplexError> {
        if self.termination.is_some() {
            return Ok(());
        }
        let id = frame.received_stream_id();
        let result = match frame.flag.kind() {
            FrameKind::Open => self.on_open(id, now),
            FrameKind::Message => {
                self.on_message(id, frame.body, now);
                Ok(())
            }
            FrameKind::Close => {
                self.on_close(id);
                Ok(())
            }
            FrameKind::Reset => {
                self.on_reset(id);
                Ok(())
            }
        };
        result.map_err(|e| self.fail(e))
    }

    /// Whether the session holds back a frame (a stream's buffer or the accept queue is full
    /// under a blocking [`OverflowBehaviour`]): stop reading the socket until
    /// [`Event::InputResumed`], then feed the retained bytes again.
    pub fn input_blocked(&self) -> bool {
        self.stalled.is_some()
    }

    /// When [`Session::handle_timeout`] must be called: while input is blocked under
    /// [`OverflowBehaviour::BlockThenReset`], the moment the blocking stream (or the accept
    /// queue) will have made no progress for the timeout. It moves later when the reader
    /// makes progress. `None`: no timer needed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let timeout = self.config.overflow.reset_timeout()?;
        let since = match self.stalled.as_ref()? {
            Stall::Data(id, _) => self.streams.get(id)?.progress_at?,
            Stall::Open(_) => self.accept_progress_at?,
        };
        since.checked_add(timeout)
    }

    /// Gives up on the held frame if its deadline ([`Session::poll_timeout`]) has passed: a
    /// stream that overflowed is reset (its reader gets the buffered bytes, then
    /// [`MplexError::BufferOverflow`]); a NewStream that found the accept queue full is
    /// refused with a Reset. Input resumes. Returns the stream reset or refused, if any.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<StreamId> {
        let deadline = self.poll_timeout()?;
        if now < deadline {
            return None;
        }
        let id = match self.stalled.take()? {
            Stall::Data(id, body) => {
                self.stats.discarded_bytes += body.len() as u64;
                self.overflow_reset(id);
                id
            }
            Stall::Open(id) => {
                self.refuse(id);
                id
            }
        };
        self.events.push_back(Event::InputResumed);
        Some(id)
    }

    /// The socket reached EOF; `rest` is the undecoded input. At a frame boundary the session
    /// ends cleanly (streams the peer did not close fail with [`MplexError::SessionClosed`]
    /// once their buffered data is read); mid-frame it fails with
    /// [`MplexError::EofMidFrame`].
    pub fn on_eof(&mut self, rest: &BytesMut) {
        if self.termination.is_none() && self.codec.is_mid_frame(rest) {
            self.terminate(Termination::Error(MplexError::EofMidFrame));
        } else {
            self.terminate(Termination::Clean);
        }
    }

    /// The socket failed.
    pub fn on_io_error(&mut self, err: MplexError) {
        self.terminate(Termination::Error(err));
    }

    /// The shell closed the socket after our close.
    pub fn on_closed(&mut self) {
        self.terminate(Termination::Clean);
    }

    fn terminate(&mut self, t: Termination) {
        if self.termination.is_none() {
            self.termination = Some(t);
            self.events.push_back(Event::Terminated);
        }
    }

    fn fail(&mut self, e: MplexError) -> MplexError {
        self.terminate(Termination::Error(e.clone()));
        e
    }

    fn on_open(&mut self, id: StreamId, now: Instant) -> Result<(), MplexError> {
        if self.streams.contains_key(&id) {
            return Err(MplexError::DuplicateStream(id.num));
        }
        if self.closing || self.inbound >= self.config.max_inbound_streams {
            self.refuse(id);
            return Ok(());
        }
        if self.accept_queue.len() >= self.config.max_pending_accept {
            let idle = self
                .accept_progress_at
                .map_or(std::time::Duration::ZERO, |p| {
                    now.saturating_duration_since(p)
                });
            match self.config.overflow {
                OverflowBehaviour::ResetStream => self.refuse(id),
                OverflowBehaviour::BlockThenReset(t) if idle >= t => self.refuse(id),
                OverflowBehaviour::Block | OverflowBehaviour::BlockThenReset(_) => {
                    self.stats.input_stalls += 1;
                    self.stalled = Some(Stall::Open(id));
                }
            }
            return Ok(());
        }
        self.admit(id, now);
        Ok(())
    }

    /// Answers a NewStream with Reset.
    fn refuse(&mut self, id: StreamId) {
        self.stats.refused_streams += 1;
        self.push_frame(id, FrameKind::Reset);
    }

    /// Tracks a new inbound stream and queues it for `accept`.
    fn admit(&mut self, id: StreamId, now: Instant) {
        self.streams.insert(id, StreamState::default());
        self.inbound += 1;
        if self.accept_queue.is_empty() {
            self.accept_progress_at = Some(now);
        }
        self.accept_queue.push_back(id);
        self.events.push_back(Event::InboundStream(id));
    }

    /// Resets stream `id` because its reader fell too far behind: the reader keeps the
    /// buffered bytes, then gets `BufferOverflow`; the peer gets a Reset.
    fn overflow_reset(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        if s.reset.is_some() {
            return;
        }
        s.reset = Some(ResetCause::Overflow);
        self.stats.overflow_resets += 1;
        self.events.push_back(Event::StreamReset(id));
        if self.termination.is_none() {
            self.push_frame(id, FrameKind::Reset);
        }
        self.remove_if_done(id);
    }

    fn on_message(&mut self, id: StreamId, body: Bytes, now: Instant) {
        let len = body.len();
        let limit = self.config.max_buffer_per_stream;
        let Some(s) = self.streams.get_mut(&id) else {
            self.stats.ignored_frames += 1;
            self.stats.discarded_bytes += len as u64;
            return;
        };
        if !s.accepts_data() {
            self.stats.discarded_bytes += len as u64;
            return;
        }
        if len == 0 {
            return;
        }
        if s.buffered.saturating_add(len) > limit {
            // Blocking modes admit a single frame larger than the limit into an empty buffer.
            let reset_now = match self.config.overflow {
                OverflowBehaviour::ResetStream => true,
                _ if s.buffered == 0 => false,
                // Already stuck for the whole timeout: reset without stalling the connection.
                OverflowBehaviour::BlockThenReset(t) if s.idle(now) >= t => true,
                OverflowBehaviour::Block | OverflowBehaviour::BlockThenReset(_) => {
                    self.stats.input_stalls += 1;
                    self.stalled = Some(Stall::Data(id, body));
                    return;
                }
            };
            if reset_now {
                self.stats.discarded_bytes += len as u64;
                self.overflow_reset(id);
                return;
            }
        }
        s.push(body, now);
        self.events.push_back(Event::Readable(id));
    }

    fn on_close(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(&id) else {
            self.stats.ignored_frames += 1;
            return;
        };
        if s.reset.is_some() || s.remote_closed {
            return;
        }
        s.remote_closed = true;
        self.events.push_back(Event::Readable(id));
        if s.local_closed {
            self.events.push_back(Event::StreamClosed(id));
        }
        self.remove_if_done(id);
    }

    fn on_reset(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(&id) else {
            self.stats.ignored_frames += 1;
            return;
        };
        if s.wire_closed() {
            return;
        }
        s.reset = Some(ResetCause::Remote);
        self.stats.discarded_bytes += s.discard_buffer() as u64;
        self.events.push_back(Event::StreamReset(id));
        self.remove_if_done(id);
    }

    // ----- application operations -----

    /// Opens an outbound stream: queues its NewStream (named by the decimal number). Data may
    /// follow at once (mplex has no ACK).
    pub fn open_stream(&mut self) -> Result<StreamId, MplexError> {
        self.check_alive()?;
        if self.closing {
            return Err(MplexError::SessionClosed);
        }
        let num = self.next_num;
        if num > MAX_STREAM_NUM {
            return Err(MplexError::StreamIdsExhausted);
        }
        self.next_num = num + 1;
        let id = StreamId::new(num, Endpoint::Local);
        self.streams.insert(id, StreamState::default());
        let name = num.to_string();
        self.out.reserve(MAX_HEADER_LEN + name.len());
        let before = self.out.len();
        encode_header(num, Flag::NewStream, name.len(), &mut self.out);
        self.out.extend_from_slice(name.as_bytes());
        self.queued_total += (self.out.len() - before) as u64;
        Ok(id)
    }

    /// Takes the next inbound stream (at time `now`: accepting is progress of the accept
    /// queue and of the stream). Streams the peer reset before they were accepted are
    /// skipped (streams reset for overflowing their buffer are not: see [`Session::read`]).
    pub fn accept(&mut self, now: Instant) -> Option<StreamId> {
        let id = self.next_accept(now);
        // Room in the queue: a NewStream held back for it may go in.
        self.try_unstall(now);
        id
    }

    fn next_accept(&mut self, now: Instant) -> Option<StreamId> {
        while let Some(id) = self.accept_queue.pop_front() {
            let Some(s) = self.streams.get_mut(&id) else {
                continue;
            };
            // A stream reset by overflow is still handed out: its reader gets the buffered
            // bytes, then the error. One the peer reset has nothing left to read.
            if matches!(s.reset, Some(ResetCause::Local | ResetCause::Remote)) {
                s.released = true;
                self.remove_if_done(id);
                continue;
            }
            s.progress_at = Some(now);
            self.accept_progress_at = Some(now);
            return Some(id);
        }
        None
    }

    /// Inbound streams waiting for [`Session::accept`].
    pub fn pending_inbound(&self) -> usize {
        self.accept_queue.len()
    }

    /// Reads buffered data of stream `id` into `buf` at time `now` (a read of bytes is the
    /// reader's progress). After an overflow reset the buffered bytes are still returned,
    /// then [`MplexError::BufferOverflow`].
    pub fn read(
        &mut self,
        id: StreamId,
        buf: &mut [u8],
        now: Instant,
    ) -> Result<ReadOutcome, MplexError> {
        let limit = self.config.max_buffer_per_stream;
        let s = self
            .streams
            .get_mut(&id)
            .ok_or(MplexError::UnknownStream(id))?;
        if matches!(s.reset, Some(ResetCause::Local | ResetCause::Remote)) {
            return Err(MplexError::StreamReset(id));
        }
        if buf.is_empty() {
            return Ok(ReadOutcome::Data(0));
        }
        if s.buffered > 0 {
            let n = s.copy_out(buf);
            s.progress_at = Some(now);
            s.reader_waiting = false;
            self.try_unstall(now);
            return Ok(ReadOutcome::Data(n));
        }
        if s.reset == Some(ResetCause::Overflow) {
            return Err(MplexError::BufferOverflow { id, limit });
        }
        if s.remote_closed {
            return Ok(ReadOutcome::Eof);
        }
        // The reader waits for data: what arrives into the empty buffer is its progress.
        s.reader_waiting = true;
        self.check_alive()?;
        Ok(ReadOutcome::Blocked)
    }

    /// Bytes received and not yet read on stream `id`.
    pub fn buffered(&self, id: StreamId) -> usize {
        self.streams.get(&id).map_or(0, |s| s.buffered)
    }

    /// Sends up to `max` bytes of `data` on stream `id`, split into frames of at most
    /// `split_send_size`. Returns the bytes taken (all of `data` up to `max`).
    pub fn write(&mut self, id: StreamId, data: &[u8], max: usize) -> Result<usize, MplexError> {
        self.check_alive()?;
        let limit = self.config.max_buffer_per_stream;
        let split = self.config.split_send_size.max(1);
        let s = self
            .streams
            .get_mut(&id)
            .ok_or(MplexError::UnknownStream(id))?;
        match s.reset {
            Some(ResetCause::Overflow) => return Err(MplexError::BufferOverflow { id, limit }),
            Some(_) => return Err(MplexError::StreamReset(id)),
            None => {}
        }
        if s.local_closed {
            return Err(MplexError::WriteAfterClose(id));
        }
        let n = data.len().min(max);
        let (head, _) = data.split_at(n);
        let flag = Flag::for_sender(FrameKind::Message, id.is_local());
        let before = self.out.len();
        self.out.reserve(n + n.div_ceil(split) * MAX_HEADER_LEN);
        for chunk in head.chunks(split) {
            encode_header(id.num, flag, chunk.len(), &mut self.out);
            self.out.extend_from_slice(chunk);
        }
        self.queued_total += (self.out.len() - before) as u64;
        Ok(n)
    }

    /// Whether stream `id` can take writes now (`Err`: the error a write would return).
    /// Lets a writer waiting for room in the output queue learn of a reset at once.
    pub fn check_writable(&self, id: StreamId) -> Result<(), MplexError> {
        self.check_alive()?;
        let s = self.streams.get(&id).ok_or(MplexError::UnknownStream(id))?;
        match s.reset {
            Some(ResetCause::Overflow) => Err(MplexError::BufferOverflow {
                id,
                limit: self.config.max_buffer_per_stream,
            }),
            Some(_) => Err(MplexError::StreamReset(id)),
            None if s.local_closed => Err(MplexError::WriteAfterClose(id)),
            None => Ok(()),
        }
    }

    /// Half-closes stream `id` (queues Close). Idempotent.
    pub fn close_write(&mut self, id: StreamId) -> Result<(), MplexError> {
        let limit = self.config.max_buffer_per_stream;
        let s = self
            .streams
            .get_mut(&id)
            .ok_or(MplexError::UnknownStream(id))?;
        match s.reset {
            Some(ResetCause::Overflow) => return Err(MplexError::BufferOverflow { id, limit }),
            Some(_) => return Err(MplexError::StreamReset(id)),
            None => {}
        }
        if s.local_closed {
            return Ok(());
        }
        self.check_alive()?;
        let Some(s) = self.streams.get_mut(&id) else {
            return Err(MplexError::UnknownStream(id));
        };
        s.local_closed = true;
        if s.remote_closed {
            self.events.push_back(Event::StreamClosed(id));
        }
        self.push_frame(id, FrameKind::Close);
        self.remove_if_done(id);
        Ok(())
    }

    /// Resets stream `id` (queues Reset); pending data both ways is dropped.
    pub fn reset(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        if s.wire_closed() {
            return;
        }
        s.reset = Some(ResetCause::Local);
        self.stats.discarded_bytes += s.discard_buffer() as u64;
        if self.termination.is_none() {
            self.push_frame(id, FrameKind::Reset);
        }
        self.unstall_if_gone();
        self.remove_if_done(id);
    }

    /// The application dropped its handle of stream `id` (like rust-yamux / our yamux): an
    /// open stream is reset; a stream the peer already half-closed gets our Close; a stream we
    /// half-closed stays as a sink (arriving data discarded) until the peer's Close/Reset.
    pub fn release(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        s.released = true;
        if !s.wire_closed() {
            if !s.local_closed && !s.remote_closed {
                self.reset(id);
            } else if !s.local_closed {
                let _ = self.close_write(id);
            } else {
                self.stats.discarded_bytes += s.discard_buffer() as u64;
            }
        } else {
            s.discard_buffer();
        }
        self.unstall_if_gone();
        self.remove_if_done(id);
    }

    /// Closes the session: no new streams either way (inbound ones are refused with Reset);
    /// the shell then flushes the output and closes the socket (mplex has no GoAway).
    pub fn close(&mut self) {
        self.closing = true;
        // A NewStream held for room in the accept queue is refused now.
        if let Some(Stall::Open(id)) = self.stalled {
            self.stalled = None;
            self.refuse(id);
            self.events.push_back(Event::InputResumed);
        }
    }

    /// Whether [`Session::close`] was called.
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    /// How the session ended, once it has.
    pub fn termination(&self) -> Option<&Termination> {
        self.termination.as_ref()
    }

    /// Counters of tolerated anomalies.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Streams the session tracks.
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Whether stream `id` is tracked.
    pub fn has_stream(&self, id: StreamId) -> bool {
        self.streams.contains_key(&id)
    }

    // ----- output -----

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Bytes of encoded frames waiting to be written.
    pub fn output_len(&self) -> usize {
        self.out.len()
    }

    /// Total bytes ever queued for writing (a flush mark for streams).
    pub fn queued_total(&self) -> u64 {
        self.queued_total
    }

    /// Takes the encoded frames to write to the socket.
    pub fn take_output(&mut self) -> BytesMut {
        self.out.split()
    }

    /// Like [`Session::take_output`], but swaps in `buf` (cleared) as the new output buffer,
    /// so two buffers can alternate between the session and the writer without allocating.
    pub fn swap_output(&mut self, buf: &mut BytesMut) {
        buf.clear();
        std::mem::swap(&mut self.out, buf);
    }

    // ----- helpers -----

    fn check_alive(&self) -> Result<(), MplexError> {
        match &self.termination {
            None => Ok(()),
            Some(Termination::Clean) => Err(MplexError::SessionClosed),
            Some(Termination::Error(e)) => Err(e.clone()),
        }
    }

    /// Queues a body-less frame of `kind` on `id`, with the flag for our side.
    fn push_frame(&mut self, id: StreamId, kind: FrameKind) {
        let before = self.out.len();
        encode_header(
            id.num,
            Flag::for_sender(kind, id.is_local()),
            0,
            &mut self.out,
        );
        self.queued_total += (self.out.len() - before) as u64;
    }

    /// Delivers or drops the frame held back by a blocking overflow once there is room for it
    /// (or its stream went away), and signals that input may resume.
    fn try_unstall(&mut self, now: Instant) {
        let Some(stall) = self.stalled.take() else {
            return;
        };
        match stall {
            Stall::Data(id, body) => {
                let limit = self.config.max_buffer_per_stream;
                match self.streams.get_mut(&id) {
                    Some(s) if s.accepts_data() => {
                        if s.buffered > 0 && s.buffered.saturating_add(body.len()) > limit {
                            self.stalled = Some(Stall::Data(id, body));
                            return;
                        }
                        s.push(body, now);
                        self.events.push_back(Event::Readable(id));
                    }
                    _ => self.stats.discarded_bytes += body.len() as u64,
                }
            }
            Stall::Open(id) => {
                if self.closing || self.inbound >= self.config.max_inbound_streams {
                    self.refuse(id);
                } else if self.accept_queue.len() >= self.config.max_pending_accept {
                    self.stalled = Some(Stall::Open(id));
                    return;
                } else {
                    self.admit(id, now);
                }
            }
        }
        self.events.push_back(Event::InputResumed);
    }

    /// Drops the held data frame if its stream no longer takes data (reset or released), and
    /// signals that input may resume.
    fn unstall_if_gone(&mut self) {
        let Some(Stall::Data(id, body)) = &self.stalled else {
            return;
        };
        if self.streams.get(id).is_some_and(StreamState::accepts_data) {
            return;
        }
        self.stats.discarded_bytes += body.len() as u64;
        self.stalled = None;
        self.events.push_back(Event::InputResumed);
    }

    fn remove_if_done(&mut self, id: StreamId) {
        if self.streams.get(&id).is_some_and(StreamState::removable) {
            self.streams.remove(&id);
            if id.opener == Endpoint::Remote {
                self.inbound = self.inbound.saturating_sub(1);
            }
        }
    }
}

/// Size in bytes of the per-stream state the session keeps (excluding the hash map's own
/// per-entry overhead, which adds the 16-byte key).
pub const STREAM_STATE_SIZE: usize = std::mem::size_of::<StreamState>();

// An idle stream must stay a few words: no per-stream buffers are preallocated.
const _: () = assert!(STREAM_STATE_SIZE <= 64);

#[cfg(test)]
mod tests;
