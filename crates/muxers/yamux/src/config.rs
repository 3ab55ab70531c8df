//! Session limits and tuning knobs, with their documented defaults.
//!
//! Flow control: every stream starts with the spec's 256 KiB window ([`DEFAULT_WINDOW`], or
//! [`YamuxConfig::receive_window`] if larger). Receive windows then grow by auto-tuning (as in
//! rust-yamux ≥ 0.13): when a window update is due and the previous one was sent less than
//! 2×RTT ago (the peer used half its credit within two round trips), the stream's window
//! doubles, up to [`YamuxConfig::max_stream_receive_window`], while the growth summed over all
//! streams of the connection stays within [`YamuxConfig::max_connection_receive_window`].
//! Windows never shrink. The RTT comes from keep-alive pings ([`YamuxConfig::ping_interval`]).

use std::time::Duration;

use crate::error::YamuxError;

/// The protocol's initial stream window (256 KiB), fixed by the yamux spec: every stream starts
/// with this much credit in each direction.
pub const DEFAULT_WINDOW: u32 = 256 * 1024;

/// The largest data frame body accepted from the network by default (1 MiB, like rust-yamux).
pub const DEFAULT_MAX_FRAME_BODY: usize = 1024 * 1024;

/// Default cap of one stream's auto-tuned receive window (16 MiB, like go- and rust-yamux).
pub const DEFAULT_MAX_STREAM_WINDOW: u32 = 16 * 1024 * 1024;

/// Default connection budget for window growth beyond 256 KiB per stream (256 MiB).
pub const DEFAULT_MAX_CONNECTION_WINDOW: u64 = 256 * 1024 * 1024;

/// Largest accepted `max_stream_receive_window` (1 GiB; window arithmetic stays far from
/// `u32::MAX`).
const MAX_STREAM_WINDOW_LIMIT: u32 = 1 << 30;

/// Which peers' conventions the session follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dialect {
    /// [`Dialect::FramePerWrite`] when the security layer says the peer parses one message
    /// per security frame (`chainp2p_core::PeerFraming::MessagePerFrame`: secio, which only
    /// c-ipfs and other old peers still speak), [`Dialect::Standard`] otherwise; then
    /// [`Dialect::CLibp2p`] once the peer's identify says it is c-ipfs
    /// (`chainp2p_core::Muxer::peer_agent`). The default; a session started without a chain
    /// ([`crate::start`]) is standard.
    #[default]
    Auto,
    /// The yamux spec as go-, rust- and js-yamux speak it, frames coalesced into large writes.
    Standard,
    /// The spec, with every frame in its own write, so that each is its own security frame:
    /// c-libp2p decodes one yamux frame per secio frame and takes whatever follows a
    /// WindowUpdate for its payload (c-ipfs crashes on a WindowUpdate batched with more
    /// frames). Valid yamux for every peer; only the write pattern differs.
    FramePerWrite,
    /// [`Dialect::FramePerWrite`] plus what else c-ipfs needs, found on the wire against the
    /// real binary (see `docs/c-ipfs.md`): no FIN on its streams (its FIN handler frees a
    /// stream its reader thread is still using: c-ipfs crashes on about half of them; it
    /// never half-closes itself), no keep-alive pings (it answers a ping from another thread
    /// than its stream writes, without a lock on its secio state: a pong racing an answer
    /// corrupts its stream, seen as a MAC mismatch; it never pings itself), and our stream
    /// ids stay below 256 (it indexes a 256-entry array by id; the 128th stream fails with
    /// [`crate::YamuxError::StreamIdsExhausted`]). [`Dialect::FramePerWrite`] sends its first
    /// keep-alive ping after one interval rather than at once, for the same reason.
    CLibp2p,
}

impl Dialect {
    /// Whether frames go out one per write.
    pub fn frame_per_write(self) -> bool {
        matches!(self, Dialect::FramePerWrite | Dialect::CLibp2p)
    }
}

/// Configuration of a yamux session. Every field is public and documented; [`YamuxConfig::new`]
/// (= [`Default`]) gives the defaults, and the `with_*` methods are a builder over the same
/// fields. [`YamuxConfig::validate`] checks the invariants; `multiplex` calls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamuxConfig {
    /// Receive window per stream, i.e. how many unread bytes a peer may send before it must
    /// wait for a window update. This is also the bound on buffered-but-unread data per stream.
    /// Default 256 KiB; must be at least 256 KiB (the spec's initial window). A larger value is
    /// announced to the peer in the SYN / ACK window update (as far as the connection budget
    /// [`YamuxConfig::max_connection_receive_window`] allows). Auto-tuning grows windows from
    /// here.
    pub receive_window: u32,
    /// Cap of one stream's auto-tuned receive window, i.e. of unread data buffered per stream.
    /// Default 16 MiB (go- and rust-yamux use the same); must be in
    /// `receive_window..=1 GiB`. Setting it to `receive_window` disables auto-tuning.
    pub max_stream_receive_window: u32,
    /// Connection-wide memory budget for window growth: the sum over all streams of
    /// `(receive window − 256 KiB)` never exceeds it, so it bounds the buffered-but-unread data
    /// of a connection at `256 KiB × streams + this`. Default 256 MiB: enough for 16 streams at
    /// the full 16 MiB window (16 MiB per RTT is 160 MiB/s per stream at 100 ms), while
    /// rust-yamux's 1 GiB would let a single peer pin a gigabyte per connection. Must be at
    /// least `max_stream_receive_window − 256 KiB` (so one stream can reach the cap).
    pub max_connection_receive_window: u64,
    /// Largest data frame body accepted from the peer; larger frames are refused before any
    /// allocation and end the session. Default 1 MiB.
    pub max_frame_body: usize,
    /// Largest data frame body we send; writes are split into frames of at most this size (and
    /// never beyond the peer's window). Default 64 KiB; must be in `1..=max_frame_body` and at
    /// most 1 MiB (what rust-yamux accepts).
    pub split_send_size: usize,
    /// Most inbound streams open at once; a SYN beyond it is answered with RST (the connection
    /// lives). Default 512.
    pub max_inbound_streams: usize,
    /// Most outbound streams opened but not yet acknowledged by the peer; `open_stream` waits
    /// beyond it (libp2p spec: at most 256). Default 256.
    pub ack_backlog: usize,
    /// Bytes of encoded frames queued for the socket above which stream writes wait for the
    /// driver to drain the queue (backpressure). Default 512 KiB. The queue and the buffer the
    /// driver is writing are two allocations swapped back and forth (never reallocated), so
    /// a large limit costs no allocation churn; measured (single stream, 64 KiB writes, same
    /// run): 512 KiB ≈ 1.7-2.0× rust-yamux, 128 KiB ≈ 1.1-1.5× (more writer wake-ups, smaller
    /// socket writes). Memory: about twice this per connection while sending.
    pub write_buffer_limit: usize,
    /// Size of the driver's read buffer, allocated once per connection and reused (grown only
    /// for a frame larger than it); reads go into its free tail, at least a quarter of it.
    /// Default 256 KiB: several 64 KiB frames per read, and the partial frame moved to the
    /// front when the tail runs low is a small part of it.
    pub read_buffer_size: usize,
    /// Most pings awaiting their answer; the oldest is forgotten beyond it. Default 16.
    pub max_outstanding_pings: usize,
    /// Interval of keep-alive / RTT pings. The first one goes out when the session starts, so
    /// the RTT is known early for auto-tuning; then one every interval (never more than one
    /// outstanding). Default `Some(10 s)` (rust-yamux's RTT ping interval); `None` disables
    /// them (no RTT, hence no auto-tuning, unless [`crate::Session::ping`] is used).
    pub ping_interval: Option<Duration>,
    /// A keep-alive ping unanswered this long ends the session with
    /// [`YamuxError::KeepAliveTimeout`] (the peer or the path is dead; the time includes
    /// waiting behind queued data, so it also bounds a stalled socket). Default `Some(30 s)`:
    /// go-yamux's keep-alive interval, far above any sane RTT, and every implementation
    /// answers pings. `None`: never time out. Must be non-zero.
    pub keepalive_timeout: Option<Duration>,
    /// Whose conventions the session follows (see [`Dialect`]). Default [`Dialect::Auto`]:
    /// one frame per write for peers whose security layer says so (secio), c-ipfs's
    /// workarounds once identify says the peer is c-ipfs, the spec with coalesced writes for
    /// every other peer.
    pub dialect: Dialect,
}

impl Default for YamuxConfig {
    fn default() -> Self {
        YamuxConfig {
            receive_window: DEFAULT_WINDOW,
            max_frame_body: DEFAULT_MAX_FRAME_BODY,
            split_send_size: 64 * 1024,
            max_inbound_streams: 512,
            ack_backlog: 256,
            write_buffer_limit: 512 * 1024,
            read_buffer_size: 256 * 1024,
            max_outstanding_pings: 16,
            max_stream_receive_window: DEFAULT_MAX_STREAM_WINDOW,
            max_connection_receive_window: DEFAULT_MAX_CONNECTION_WINDOW,
            ping_interval: Some(Duration::from_secs(10)),
            keepalive_timeout: Some(Duration::from_secs(30)),
            dialect: Dialect::Auto,
        }
    }
}

impl YamuxConfig {
    /// The defaults (see each field).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`YamuxConfig::receive_window`].
    pub fn with_receive_window(mut self, bytes: u32) -> Self {
        self.receive_window = bytes;
        self
    }

    /// Sets [`YamuxConfig::max_frame_body`].
    pub fn with_max_frame_body(mut self, bytes: usize) -> Self {
        self.max_frame_body = bytes;
        self
    }

    /// Sets [`YamuxConfig::split_send_size`].
    pub fn with_split_send_size(mut self, bytes: usize) -> Self {
        self.split_send_size = bytes;
        self
    }

    /// Sets [`YamuxConfig::max_inbound_streams`].
    pub fn with_max_inbound_streams(mut self, n: usize) -> Self {
        self.max_inbound_streams = n;
        self
    }

    /// Sets [`YamuxConfig::ack_backlog`].
    pub fn with_ack_backlog(mut self, n: usize) -> Self {
        self.ack_backlog = n;
        self
    }

    /// Sets [`YamuxConfig::write_buffer_limit`].
    pub fn with_write_buffer_limit(mut self, bytes: usize) -> Self {
        self.write_buffer_limit = bytes;
        self
    }

    /// Sets [`YamuxConfig::read_buffer_size`].
    pub fn with_read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes;
        self
    }

    /// Sets [`YamuxConfig::max_stream_receive_window`].
    pub fn with_max_stream_receive_window(mut self, bytes: u32) -> Self {
        self.max_stream_receive_window = bytes;
        self
    }

    /// Sets [`YamuxConfig::max_connection_receive_window`].
    pub fn with_max_connection_receive_window(mut self, bytes: u64) -> Self {
        self.max_connection_receive_window = bytes;
        self
    }

    /// Sets [`YamuxConfig::ping_interval`].
    pub fn with_ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval;
        self
    }

    /// Sets [`YamuxConfig::keepalive_timeout`].
    pub fn with_keepalive_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.keepalive_timeout = timeout;
        self
    }

    /// Sets [`YamuxConfig::dialect`].
    pub fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Sets [`YamuxConfig::max_outstanding_pings`].
    pub fn with_max_outstanding_pings(mut self, n: usize) -> Self {
        self.max_outstanding_pings = n;
        self
    }

    /// Checks the invariants documented on each field.
    pub fn validate(&self) -> Result<(), YamuxError> {
        let bad = |what: &'static str| Err(YamuxError::InvalidConfig(what));
        if self.receive_window < DEFAULT_WINDOW {
            return bad("receive_window must be at least 256 KiB");
        }
        if self.max_frame_body == 0 || self.max_frame_body > u32::MAX as usize {
            return bad("max_frame_body must be in 1..=u32::MAX");
        }
        if self.split_send_size == 0
            || self.split_send_size > self.max_frame_body
            || self.split_send_size > DEFAULT_MAX_FRAME_BODY
        {
            return bad("split_send_size must be in 1..=min(max_frame_body, 1 MiB)");
        }
        if self.ack_backlog == 0 {
            return bad("ack_backlog must be at least 1");
        }
        if self.write_buffer_limit == 0 || self.read_buffer_size == 0 {
            return bad("write_buffer_limit and read_buffer_size must be non-zero");
        }
        if self.max_stream_receive_window < self.receive_window
            || self.max_stream_receive_window > MAX_STREAM_WINDOW_LIMIT
        {
            return bad("max_stream_receive_window must be in receive_window..=1 GiB");
        }
        let one_stream = u64::from(self.max_stream_receive_window - DEFAULT_WINDOW);
        if self.max_connection_receive_window < one_stream {
            return bad(
                "max_connection_receive_window must be >= max_stream_receive_window - 256 KiB",
            );
        }
        if self.ping_interval.is_some_and(|d| d.is_zero())
            || self.keepalive_timeout.is_some_and(|d| d.is_zero())
        {
            return bad("ping_interval and keepalive_timeout must be non-zero");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let c = YamuxConfig::new();
        c.validate().unwrap();
        assert_eq!(c.receive_window, 256 * 1024);
        assert_eq!(c.max_frame_body, 1 << 20);
        assert_eq!(c.max_inbound_streams, 512);
        assert_eq!(c.ack_backlog, 256);
        assert_eq!(c.max_stream_receive_window, 16 << 20);
        assert_eq!(c.max_connection_receive_window, 256 << 20);
        assert_eq!(c.ping_interval, Some(Duration::from_secs(10)));
        assert_eq!(c.keepalive_timeout, Some(Duration::from_secs(30)));
    }

    #[test]
    fn invalid_values_are_refused() {
        assert!(YamuxConfig::new()
            .with_receive_window(1000)
            .validate()
            .is_err());
        assert!(YamuxConfig::new()
            .with_split_send_size(0)
            .validate()
            .is_err());
        assert!(YamuxConfig::new()
            .with_split_send_size(2 << 20)
            .validate()
            .is_err());
        assert!(YamuxConfig::new().with_ack_backlog(0).validate().is_err());
        // The stream cap below the initial window, or above 1 GiB.
        assert!(YamuxConfig::new()
            .with_receive_window(1 << 20)
            .with_max_stream_receive_window(512 << 10)
            .validate()
            .is_err());
        assert!(YamuxConfig::new()
            .with_max_stream_receive_window(u32::MAX)
            .validate()
            .is_err());
        // A connection budget that cannot let one stream reach its cap.
        assert!(YamuxConfig::new()
            .with_max_connection_receive_window(1 << 20)
            .validate()
            .is_err());
        // Auto-tuning off: cap = initial window, any budget.
        YamuxConfig::new()
            .with_max_stream_receive_window(DEFAULT_WINDOW)
            .with_max_connection_receive_window(0)
            .validate()
            .unwrap();
        assert!(YamuxConfig::new()
            .with_ping_interval(Some(Duration::ZERO))
            .validate()
            .is_err());
        assert!(YamuxConfig::new()
            .with_keepalive_timeout(Some(Duration::ZERO))
            .validate()
            .is_err());
    }
}
