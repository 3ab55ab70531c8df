//! The sans-IO yamux session: frames in, encoded frames and events out, no sockets, no clock
//! (time is passed in).
//!
//! Run loop (what the async shell in `driver.rs` does):
//! 1. call [`Session::handle_timeout`] once at start (first keep-alive / RTT ping), then
//!    whenever [`Session::poll_timeout`] is reached;
//! 2. feed the socket's bytes with [`Session::handle_input`] (a reusable slice; the driver's
//!    way) or [`Session::handle_bytes`] (a `BytesMut`), or decoded frames with
//!    [`Session::handle_frame`]; at EOF call [`Session::handle_eof`] with what is left;
//! 3. drain [`Session::poll_event`] and wake whoever waits on the named stream;
//! 4. write [`Session::take_output`] (or [`Session::swap_output`]) to the socket.
//!
//! Application operations ([`Session::open_stream`], [`Session::accept`], [`Session::read`],
//! [`Session::write`], [`Session::close_write`], [`Session::reset`], [`Session::release`]) may
//! queue output too. Data written is encoded straight into the output buffer (one copy), and
//! received bodies are kept as `Bytes` until `read`: split off the `BytesMut` given to
//! `handle_bytes`, or copied out of the slice given to `handle_input` (into buffers recycled
//! from bodies already read, see `body_pool.rs`, so the caller's read buffer is reused).
//!
//! Stream state machine: open (SYN sent / received) → acknowledged (any frame from the peer
//! answers our SYN, ACK flag or not, for old c-ipfs peers) → half-closed by FIN each way →
//! forgotten once both FINs passed (or an RST) and the application released its handle.
//! Protocol violations end the session with GoAway(protocol error) and a specific
//! [`YamuxError`]; frames for unknown streams are ignored and counted in [`Stats`].
//! Flow control and window auto-tuning live in `session/flow_control.rs`, keep-alive in
//! `session/keepalive.rs`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use chainp2p_core::MemoryBudget;

use crate::body_pool::BodyPool;
use crate::codec::{
    Flags, Frame, FrameCodec, FrameType, GoAwayCode, Header, SliceFrame, HEADER_LEN,
};
use crate::config::{Dialect, YamuxConfig, DEFAULT_WINDOW};
use crate::error::YamuxError;
use crate::stream_state::{Origin, StreamState};

mod flow_control;
mod held_fins;
mod keepalive;

pub use held_fins::{FIN_HOLD, MAX_HELD_FINS};

/// A stream id.
pub type StreamId = u32;

/// Stream ids toward a c-libp2p peer stay below this (it indexes a 256-entry array by id).
const C_LIBP2P_MAX_STREAM_ID: StreamId = 256;

/// The flags of c-libp2p's pong as they arrive: ACK (0x0002) in little-endian byte order.
const C_LIBP2P_PONG_FLAGS: Flags = Flags(0x0200);

/// Which end of the connection we are: the client (the dialer) uses odd stream ids, the server
/// even ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The dialer: odd ids.
    Client,
    /// The listener: even ids.
    Server,
}

/// What happened, for the shell to wake the right waiters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The peer opened a stream; take it with [`Session::accept`].
    InboundStream(StreamId),
    /// The peer answered the SYN of one of our streams (an ACK backlog slot is free).
    StreamAcked(StreamId),
    /// Data or EOF is readable on the stream.
    Readable(StreamId),
    /// The stream's send window grew.
    Writable(StreamId),
    /// Both sides sent FIN.
    StreamClosed(StreamId),
    /// The stream was reset by the peer.
    StreamReset(StreamId),
    /// The answer to one of our pings.
    Pong {
        /// The ping's opaque value.
        nonce: u32,
        /// Round-trip time.
        rtt: Duration,
    },
    /// The peer sent GoAway: no new streams.
    GoAwayReceived(GoAwayCode),
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
    /// EOF from the peer or our own close after GoAway.
    Clean,
    /// A protocol violation or an I/O failure.
    Error(YamuxError),
}

/// Counters of frames the session dropped without failing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames for unknown streams (ignored).
    pub ignored_frames: u64,
    /// Data bytes discarded (unknown, released or half-closed streams).
    pub discarded_bytes: u64,
    /// Inbound streams refused with RST (limit reached or after our GoAway).
    pub refused_streams: u64,
}

/// A yamux session.
#[derive(Debug)]
pub struct Session {
    mode: Mode,
    config: YamuxConfig,
    codec: FrameCodec,
    next_id: u32,
    streams: HashMap<StreamId, StreamState>,
    accept_queue: VecDeque<StreamId>,
    events: VecDeque<Event>,
    out: BytesMut,
    queued_total: u64,
    unacked_outbound: usize,
    goaway_sent: bool,
    goaway_received: Option<GoAwayCode>,
    termination: Option<Termination>,
    pings: VecDeque<(u32, Instant)>,
    next_nonce: u32,
    rtt: Option<Duration>,
    stats: Stats,
    /// The last time passed in (the session's clock).
    now: Option<Instant>,
    keepalive: keepalive::KeepAlive,
    /// FINs waiting for the peer's agent (see `session/held_fins.rs`).
    held_fins: held_fins::HeldFins,
    /// Sum over streams of `recv_window - 256 KiB` (the connection budget in use).
    window_growth: u64,
    /// See [`Session::input_wanted`].
    input_wanted: usize,
    /// Recycled buffers for data bodies (see `body_pool.rs`).
    pool: BodyPool,
    /// The connection's memory scope: window growth is reserved here as well (see
    /// `flow_control.rs`).
    memory: Option<Arc<dyn MemoryBudget>>,
}

impl Session {
    /// A new session. `config` should have passed [`YamuxConfig::validate`].
    pub fn new(mode: Mode, config: YamuxConfig) -> Self {
        Session {
            mode,
            codec: FrameCodec::new(config.max_frame_body),
            next_id: match mode {
                Mode::Client => 1,
                Mode::Server => 2,
            },
            config,
            streams: HashMap::new(),
            accept_queue: VecDeque::new(),
            events: VecDeque::new(),
            out: BytesMut::new(),
            queued_total: 0,
            unacked_outbound: 0,
            goaway_sent: false,
            goaway_received: None,
            termination: None,
            pings: VecDeque::new(),
            next_nonce: 1,
            rtt: None,
            stats: Stats::default(),
            now: None,
            keepalive: keepalive::KeepAlive::default(),
            held_fins: held_fins::HeldFins::default(),
            window_growth: 0,
            input_wanted: 0,
            pool: BodyPool::default(),
            memory: None,
        }
    }

    /// Reserves window growth from `budget` too (the owner's memory scope for this
    /// connection); a refusal means a smaller window, never an error.
    pub fn set_memory_budget(&mut self, budget: Arc<dyn MemoryBudget>) {
        self.memory = Some(budget);
    }

    /// Switches to `dialect` from now on (the shell does so when identify names the peer;
    /// how writes are cut is fixed when the driver starts).
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.config.dialect = dialect;
        if dialect == Dialect::CLibp2p {
            // No more keep-alive pings (see `Dialect::CLibp2p`); one outstanding still counts.
            self.config.ping_interval = None;
            self.keepalive.next_ping = None;
            self.drop_held_fins();
        }
    }

    /// Our mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The configuration.
    pub fn config(&self) -> &YamuxConfig {
        &self.config
    }

    // ----- input -----

    /// Decodes and handles every complete frame in `buf` (partial frames stay in `buf`). On a
    /// protocol violation the session queues GoAway(protocol error), terminates and returns
    /// the error; input after termination is discarded.
    pub fn handle_bytes(&mut self, buf: &mut BytesMut, now: Instant) -> Result<(), YamuxError> {
        self.now = Some(now);
        loop {
            if self.termination.is_some() {
                buf.clear();
                return Ok(());
            }
            match self.codec.decode(buf) {
                Ok(Some(frame)) => self.handle_frame(frame, now)?,
                Ok(None) => return Ok(()),
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Like [`Session::handle_bytes`] over a plain slice, which is not modified: returns how
    /// many bytes (whole frames) were consumed; the rest, a partial frame of
    /// [`Session::input_wanted`] bytes, must be passed again with more input. Bodies are
    /// copied out (into buffers the application gave back by reading, else exact-size
    /// allocations), so the caller can reuse its buffer at once. After
    /// termination all input is consumed and discarded.
    pub fn handle_input(&mut self, input: &[u8], now: Instant) -> Result<usize, YamuxError> {
        self.now = Some(now);
        let mut used = 0;
        loop {
            if self.termination.is_some() {
                self.input_wanted = 0;
                return Ok(input.len());
            }
            let rest = input.get(used..).unwrap_or_default();
            match self.codec.decode_slice(rest) {
                Ok(SliceFrame::Frame { header, len }) => {
                    let body = rest.get(HEADER_LEN..len).unwrap_or_default();
                    let frame = Frame {
                        header,
                        body: self.pool.body(body),
                    };
                    used += len;
                    self.handle_frame(frame, now)?;
                }
                Ok(SliceFrame::Incomplete(total)) => {
                    self.input_wanted = total;
                    return Ok(used);
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Handles one decoded frame (see [`Session::handle_bytes`] for errors).
    pub fn handle_frame(&mut self, frame: Frame, now: Instant) -> Result<(), YamuxError> {
        self.now = Some(now);
        if self.termination.is_some() {
            return Ok(());
        }
        tracing::trace!(header = ?frame.header, body = frame.body.len(), "yamux frame in");
        let result = match frame.header.frame_type {
            FrameType::Data | FrameType::WindowUpdate => self.on_stream_frame(frame, now),
            FrameType::Ping => {
                self.on_ping(frame.header, now);
                Ok(())
            }
            FrameType::GoAway => {
                let code = GoAwayCode::from_u32(frame.header.length);
                self.goaway_received = Some(code);
                self.events.push_back(Event::GoAwayReceived(code));
                Ok(())
            }
        };
        result.map_err(|e| self.fail(e))
    }

    /// The socket reached EOF with nothing unconsumed: like [`Session::handle_eof`] with an
    /// empty buffer.
    pub fn on_eof(&mut self) {
        self.handle_eof(&[]);
    }

    /// The socket reached EOF; `unconsumed` is what is left of the read buffer after
    /// [`Session::handle_bytes`]. Between frames the session ends cleanly (streams without the
    /// peer's FIN fail with [`YamuxError::ConnectionClosed`] once their buffered data is
    /// read); in the middle of a frame it ends with [`YamuxError::UnexpectedEof`].
    pub fn handle_eof(&mut self, unconsumed: &[u8]) {
        let partial = self.codec.partial_frame_len() + unconsumed.len();
        if partial > 0 {
            self.terminate(Termination::Error(YamuxError::UnexpectedEof {
                buffered: partial,
            }));
        } else {
            self.terminate(Termination::Clean);
        }
    }

    /// The socket failed.
    pub fn on_io_error(&mut self, err: YamuxError) {
        self.terminate(Termination::Error(err));
    }

    /// The shell closed the socket after our GoAway was written.
    pub fn on_closed(&mut self) {
        self.terminate(Termination::Clean);
    }

    fn terminate(&mut self, t: Termination) {
        if self.termination.is_none() {
            self.termination = Some(t);
            self.events.push_back(Event::Terminated);
        }
    }

    /// Terminates with `e`, queueing GoAway(protocol error) if the peer broke the protocol.
    fn fail(&mut self, e: YamuxError) -> YamuxError {
        if self.termination.is_none() && e.is_protocol_violation() && !self.goaway_sent {
            self.send_goaway(GoAwayCode::ProtocolError);
        }
        self.terminate(Termination::Error(e.clone()));
        e
    }

    fn on_stream_frame(&mut self, frame: Frame, now: Instant) -> Result<(), YamuxError> {
        let h = frame.header;
        let id = h.stream_id;
        if h.flags.contains(Flags::SYN) {
            return self.on_syn(frame, now);
        }
        let Some(s) = self.streams.get_mut(&id) else {
            self.stats.ignored_frames += 1;
            self.stats.discarded_bytes += frame.body.len() as u64;
            return Ok(());
        };
        // Any frame from the peer on our stream answers the SYN: old peers (c-ipfs) answer
        // with a WindowUpdate that lacks the ACK flag.
        if s.origin == Origin::Local && !s.acked {
            s.acked = true;
            self.unacked_outbound = self.unacked_outbound.saturating_sub(1);
            self.events.push_back(Event::StreamAcked(id));
        }
        self.apply_stream_frame(id, frame)
    }

    fn on_syn(&mut self, frame: Frame, now: Instant) -> Result<(), YamuxError> {
        let id = frame.header.stream_id;
        let remote_parity = match self.mode {
            Mode::Client => 0,
            Mode::Server => 1,
        };
        if id == 0 || id % 2 != remote_parity {
            return Err(YamuxError::WrongParity(id));
        }
        if self.streams.contains_key(&id) {
            return Err(YamuxError::DuplicateStream(id));
        }
        let live_inbound = self
            .streams
            .values()
            .filter(|s| s.origin == Origin::Remote && !s.wire_closed())
            .count();
        if self.goaway_sent || live_inbound >= self.config.max_inbound_streams {
            self.stats.refused_streams += 1;
            self.stats.discarded_bytes += frame.body.len() as u64;
            self.push_header(FrameType::WindowUpdate, Flags::RST, id, 0);
            return Ok(());
        }
        let window = self.initial_window();
        let stream = StreamState::new(Origin::Remote, DEFAULT_WINDOW, window, Some(now));
        self.streams.insert(id, stream);
        self.accept_queue.push_back(id);
        self.events.push_back(Event::InboundStream(id));
        self.apply_stream_frame(id, frame)
    }

    /// Window, body and FIN/RST of a frame for a known stream.
    fn apply_stream_frame(&mut self, id: StreamId, frame: Frame) -> Result<(), YamuxError> {
        let h = frame.header;
        let Some(s) = self.streams.get_mut(&id) else {
            return Ok(());
        };
        if h.flags.contains(Flags::RST) {
            if !s.reset {
                s.reset = true;
                s.discard_buffer();
                self.events.push_back(Event::StreamReset(id));
            }
            self.remove_if_done(id);
            return Ok(());
        }
        match h.frame_type {
            FrameType::WindowUpdate => {
                if h.length > 0 {
                    s.send_window =
                        s.send_window
                            .checked_add(h.length)
                            .ok_or(YamuxError::WindowOverflow {
                                id,
                                window: s.send_window,
                                delta: h.length,
                            })?;
                    self.events.push_back(Event::Writable(id));
                }
            }
            _ => {
                let len = h.length;
                if len > s.recv_credit {
                    return Err(YamuxError::WindowExceeded {
                        id,
                        len,
                        credit: s.recv_credit,
                    });
                }
                s.recv_credit -= len;
                if len > 0 {
                    if s.released || s.remote_fin || s.reset {
                        self.stats.discarded_bytes += u64::from(len);
                        self.maybe_grant(id, None);
                    } else {
                        s.buffered += len;
                        s.recv_buf.push_back(frame.body);
                        self.events.push_back(Event::Readable(id));
                    }
                }
            }
        }
        if h.flags.contains(Flags::FIN) {
            if let Some(s) = self.streams.get_mut(&id) {
                if !s.remote_fin && !s.reset {
                    s.remote_fin = true;
                    self.events.push_back(Event::Readable(id));
                    if s.local_fin {
                        self.events.push_back(Event::StreamClosed(id));
                    }
                }
            }
        }
        self.remove_if_done(id);
        Ok(())
    }

    fn on_ping(&mut self, h: Header, now: Instant) {
        if h.flags.contains(Flags::SYN) {
            self.push_header(FrameType::Ping, Flags::ACK, 0, h.length);
        } else if h.flags.contains(Flags::ACK) {
            self.on_pong(h.length, now);
        } else if h.flags == C_LIBP2P_PONG_FLAGS {
            // c-libp2p answers pings without encoding the header: flags and opaque in
            // little-endian byte order.
            self.on_pong(h.length.swap_bytes(), now);
        }
    }

    // ----- application operations -----

    /// Opens an outbound stream (a WindowUpdate with SYN is queued at once, announcing any
    /// window beyond 256 KiB). `Ok(None)`: the ACK backlog is full; retry after
    /// [`Event::StreamAcked`].
    pub fn open_stream(&mut self) -> Result<Option<StreamId>, YamuxError> {
        self.check_alive()?;
        if self.goaway_sent || self.goaway_received.is_some() {
            return Err(YamuxError::GoingAway);
        }
        if self.unacked_outbound >= self.config.ack_backlog {
            return Ok(None);
        }
        let id = self.next_id;
        if self.config.dialect == Dialect::CLibp2p && id >= C_LIBP2P_MAX_STREAM_ID {
            // c-libp2p indexes a 256-entry array by stream id.
            return Err(YamuxError::StreamIdsExhausted);
        }
        self.next_id = id.checked_add(2).ok_or(YamuxError::StreamIdsExhausted)?;
        let window = self.initial_window();
        let mut s = StreamState::new(Origin::Local, DEFAULT_WINDOW, window, self.now);
        let extra = window - DEFAULT_WINDOW;
        s.recv_credit = s.recv_credit.saturating_add(extra);
        self.streams.insert(id, s);
        self.unacked_outbound += 1;
        self.push_header(FrameType::WindowUpdate, Flags::SYN, id, extra);
        Ok(Some(id))
    }

    /// Takes the next inbound stream and queues its ACK (announcing any window beyond 256
    /// KiB). Streams the peer reset before they were accepted are skipped; after the session
    /// failed nothing is accepted.
    pub fn accept(&mut self) -> Option<StreamId> {
        if matches!(self.termination, Some(Termination::Error(_))) {
            return None;
        }
        while let Some(id) = self.accept_queue.pop_front() {
            let Some(s) = self.streams.get_mut(&id) else {
                continue;
            };
            if s.reset {
                s.released = true;
                self.remove_if_done(id);
                continue;
            }
            s.acked = true;
            let extra = s.recv_window.saturating_sub(DEFAULT_WINDOW);
            s.recv_credit = s.recv_credit.saturating_add(extra);
            if self.termination.is_none() {
                self.push_header(FrameType::WindowUpdate, Flags::ACK, id, extra);
            }
            return Some(id);
        }
        None
    }

    /// Inbound streams waiting for [`Session::accept`].
    pub fn pending_inbound(&self) -> usize {
        self.accept_queue.len()
    }

    /// Reads buffered data of stream `id` into `buf`, granting window credit back to the peer
    /// once at least half the window can be granted. Window auto-tuning uses the session's
    /// clock (the last time passed in); [`Session::read_at`] passes the time of the read.
    pub fn read(&mut self, id: StreamId, buf: &mut [u8]) -> Result<ReadOutcome, YamuxError> {
        let now = self.now;
        self.read_with(id, buf, || now)
    }

    /// [`Session::read`] at time `now` (the session's clock advances to it).
    pub fn read_at(
        &mut self,
        id: StreamId,
        buf: &mut [u8],
        now: Instant,
    ) -> Result<ReadOutcome, YamuxError> {
        self.now = Some(now);
        self.read_with(id, buf, || Some(now))
    }

    /// [`Session::read`] with the time read from `clock` only if a window update is due.
    pub(crate) fn read_with(
        &mut self,
        id: StreamId,
        buf: &mut [u8],
        clock: impl FnOnce() -> Option<Instant>,
    ) -> Result<ReadOutcome, YamuxError> {
        let s = self
            .streams
            .get_mut(&id)
            .ok_or(YamuxError::UnknownStream(id))?;
        if s.reset {
            return Err(YamuxError::StreamReset(id));
        }
        if buf.is_empty() {
            return Ok(ReadOutcome::Data(0));
        }
        if s.buffered > 0 {
            let n = s.copy_out(buf, &mut self.pool);
            if self.grant_due(id) {
                let now = clock();
                if now.is_some() {
                    self.now = now;
                }
                self.maybe_grant(id, now);
            }
            return Ok(ReadOutcome::Data(n));
        }
        if s.remote_fin {
            return Ok(ReadOutcome::Eof);
        }
        self.check_alive()?;
        Ok(ReadOutcome::Blocked)
    }

    /// Sends up to `max` bytes of `data` on stream `id`, within its send window, split into
    /// frames of at most `split_send_size`. Returns the bytes taken; `0` (for non-empty
    /// `data`) means the window is exhausted: wait for [`Event::Writable`].
    pub fn write(&mut self, id: StreamId, data: &[u8], max: usize) -> Result<usize, YamuxError> {
        self.check_alive()?;
        let split = self.config.split_send_size;
        let s = self
            .streams
            .get_mut(&id)
            .ok_or(YamuxError::UnknownStream(id))?;
        if s.reset {
            return Err(YamuxError::StreamReset(id));
        }
        if s.local_fin {
            return Err(YamuxError::WriteAfterClose(id));
        }
        let n = data.len().min(s.send_window as usize).min(max);
        // n <= send_window, which is a u32.
        s.send_window -= u32::try_from(n).unwrap_or(u32::MAX).min(s.send_window);
        let (head, _) = data.split_at(n);
        let frames = n.div_ceil(split.max(1));
        self.out.reserve(n + frames * HEADER_LEN);
        for chunk in head.chunks(split.max(1)) {
            let len = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
            let header = Header::new(FrameType::Data, Flags::NONE, id, len);
            tracing::trace!(?header, "yamux frame out");
            header.encode(&mut self.out);
            self.out.extend_from_slice(chunk);
            self.queued_total += (HEADER_LEN + chunk.len()) as u64;
        }
        Ok(n)
    }

    /// Current send window of stream `id` (0 if unknown).
    pub fn send_window(&self, id: StreamId) -> u32 {
        self.streams.get(&id).map_or(0, |s| s.send_window)
    }

    /// Half-closes stream `id` (queues FIN; not in [`Dialect::CLibp2p`], see there, and held
    /// back on streams a [`Dialect::FramePerWrite`] peer opened, see [`FIN_HOLD`]). Idempotent.
    pub fn close_write(&mut self, id: StreamId) -> Result<(), YamuxError> {
        let s = self
            .streams
            .get_mut(&id)
            .ok_or(YamuxError::UnknownStream(id))?;
        if s.reset {
            return Err(YamuxError::StreamReset(id));
        }
        if s.local_fin {
            return Ok(());
        }
        self.check_alive()?;
        let s = self
            .streams
            .get_mut(&id)
            .ok_or(YamuxError::UnknownStream(id))?;
        s.local_fin = true;
        if s.remote_fin {
            self.events.push_back(Event::StreamClosed(id));
        }
        if self.config.dialect != Dialect::CLibp2p && !self.hold_fin(id) {
            self.push_header(FrameType::Data, Flags::FIN, id, 0);
        }
        self.remove_if_done(id);
        Ok(())
    }

    /// Resets stream `id` (queues RST); pending data both ways is dropped.
    pub fn reset(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        if s.wire_closed() {
            return;
        }
        s.reset = true;
        s.discard_buffer();
        if s.origin == Origin::Local && !s.acked {
            s.acked = true;
            self.unacked_outbound = self.unacked_outbound.saturating_sub(1);
        }
        if self.termination.is_none() {
            self.push_header(FrameType::Data, Flags::RST, id, 0);
        }
        self.remove_if_done(id);
    }

    /// The application dropped its handle of stream `id`. Like rust-yamux: an open stream is
    /// reset; a stream the peer already half-closed gets our FIN; a stream we half-closed
    /// stays as a sink (arriving data discarded and re-credited) until the peer's FIN/RST.
    pub fn release(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        s.released = true;
        if !s.wire_closed() {
            if !s.local_fin && !s.remote_fin {
                self.reset(id);
            } else if !s.local_fin {
                let _ = self.close_write(id);
            } else {
                s.discard_buffer();
                self.maybe_grant(id, None);
            }
        }
        self.remove_if_done(id);
    }

    /// Sends GoAway (once): no new streams either way; existing streams continue.
    pub fn go_away(&mut self, code: GoAwayCode) {
        if !self.goaway_sent && self.termination.is_none() {
            self.send_goaway(code);
        }
    }

    fn send_goaway(&mut self, code: GoAwayCode) {
        self.goaway_sent = true;
        self.push_header(FrameType::GoAway, Flags::NONE, 0, code.as_u32());
    }

    /// Whether we sent GoAway.
    pub fn goaway_sent(&self) -> bool {
        self.goaway_sent
    }

    /// The GoAway code the peer sent, if any.
    pub fn goaway_received(&self) -> Option<GoAwayCode> {
        self.goaway_received
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
    /// so two buffers alternate between the session and the writer without allocating (the
    /// driver's way: allocation churn of large buffers costs page faults).
    pub fn swap_output(&mut self, buf: &mut BytesMut) {
        buf.clear();
        std::mem::swap(&mut self.out, buf);
    }

    /// Size of the incomplete frame at the front of the input [`Session::handle_input`] left
    /// unconsumed (header included; 0 before any input): the caller's buffer should be able
    /// to hold that many bytes contiguously.
    pub fn input_wanted(&self) -> usize {
        self.input_wanted
    }

    // ----- helpers -----

    fn check_alive(&self) -> Result<(), YamuxError> {
        match &self.termination {
            None => Ok(()),
            Some(Termination::Clean) => Err(YamuxError::ConnectionClosed),
            Some(Termination::Error(e)) => Err(e.clone()),
        }
    }

    fn push_header(&mut self, ty: FrameType, flags: Flags, id: StreamId, length: u32) {
        let header = Header::new(ty, flags, id, length);
        tracing::trace!(?header, "yamux frame out");
        header.encode(&mut self.out);
        self.queued_total += HEADER_LEN as u64;
    }

    fn remove_if_done(&mut self, id: StreamId) {
        if self.streams.get(&id).is_some_and(|s| s.removable()) {
            if let Some(s) = self.streams.remove(&id) {
                self.release_window(s.recv_window);
            }
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tuning_tests;
