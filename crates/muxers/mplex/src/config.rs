//! Session limits and tuning knobs, with their documented defaults.

use std::time::Duration;

use crate::error::MplexError;

/// The largest frame body the protocol allows (1 MiB; go `MaxMessageSize`, rust
/// `MAX_FRAME_SIZE`).
pub const MAX_FRAME_BODY: usize = 1024 * 1024;

/// go-mplex's `ReceiveTimeout`: the default stall allowed to a reader that makes no progress.
pub const DEFAULT_RESET_TIMEOUT: Duration = Duration::from_secs(5);

/// What to do when a stream's received-but-unread data would exceed
/// [`MplexConfig::max_buffer_per_stream`], or when an inbound stream arrives while
/// [`MplexConfig::max_pending_accept`] streams already wait for `accept` (mplex has no flow
/// control and no ACK: the peer cannot be slowed per stream).
///
/// "Progress" of a stream is measured from the later of: the last read that returned bytes
/// to the application, the moment it was accepted, and the moment data arrived into its
/// empty buffer while the reader was waiting for it (its last read found nothing; before
/// anything counted, such as for a stream not yet accepted, its first data). Data arriving
/// into the empty buffer of a stream whose reader is not waiting (accepted, never read) is
/// not progress: it may arrive late only because another stream stalled the connection.
/// "Progress" of the accept queue is the later of the last `accept` and the moment the queue
/// went from empty to non-empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverflowBehaviour {
    /// The default, `BlockThenReset(`[`DEFAULT_RESET_TIMEOUT`]`)` (5 s): backpressure for a
    /// reader that is alive, reset for one that is stuck. On overflow the session stops
    /// reading the socket (TCP backpressure on the peer) until the reader makes room; but once
    /// the overflowing stream has made no progress for this long, it is reset (the peer gets
    /// a Reset; our reader gets the bytes buffered before, then [`MplexError::BufferOverflow`];
    /// the held frame is dropped and counted) and reading resumes. A stream that has
    /// *already* made no progress for this long when it overflows is reset at once, without
    /// stalling the connection: N never-read streams cost at most about one timeout of stall
    /// in total, not N. A reader that reads at least once per timeout never loses data.
    ///
    /// Same for the accept queue: when it is full, reading stops until the application
    /// accepts; once it accepted nothing for this long, the new inbound stream is refused
    /// with a Reset (and so is every further one while the queue stays full and idle), and
    /// reading resumes.
    BlockThenReset(Duration),
    /// Reset the overflowing stream at once (the peer gets a Reset; our reader gets the bytes
    /// buffered before the overflow, then [`MplexError::BufferOverflow`]); other streams are
    /// unaffected, the connection is never stalled. A bulk transfer whose reader falls more
    /// than `max_buffer_per_stream` behind the network is reset. An inbound stream beyond a
    /// full accept queue is refused with a Reset.
    ResetStream,
    /// Stop reading the whole connection until the reader drains below the limit, or the
    /// application accepts (rust-libp2p's default). Nothing is ever reset for being slow, but
    /// one stuck stream stalls every stream of the connection forever, and a reader that
    /// waits for another stream of the same connection can deadlock.
    Block,
}

impl Default for OverflowBehaviour {
    /// `BlockThenReset(`[`DEFAULT_RESET_TIMEOUT`]`)`.
    fn default() -> Self {
        OverflowBehaviour::BlockThenReset(DEFAULT_RESET_TIMEOUT)
    }
}

impl OverflowBehaviour {
    /// Whether overflow blocks input (possibly until a timeout).
    pub fn blocks(self) -> bool {
        matches!(
            self,
            OverflowBehaviour::Block | OverflowBehaviour::BlockThenReset(_)
        )
    }

    /// The no-progress timeout after which a blocking overflow resets, if any.
    pub fn reset_timeout(self) -> Option<Duration> {
        match self {
            OverflowBehaviour::BlockThenReset(t) => Some(t),
            _ => None,
        }
    }
}

/// Configuration of an mplex session. Every field is public and documented;
/// [`MplexConfig::new`] (= [`Default`]) gives the defaults and the `with_*` methods are a
/// builder over the same fields. [`MplexConfig::validate`] checks the invariants; `start` and
/// `multiplex` call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MplexConfig {
    /// Largest frame body accepted from the peer (also bounds NewStream names); a larger
    /// announced length ends the session before anything is allocated. Default and maximum
    /// 1 MiB (the protocol's limit).
    pub max_frame_body: usize,
    /// Largest frame body we send: writes are split into frames of at most this size.
    /// Default 64 KiB (rust-libp2p uses 8 KiB; larger frames cost fewer headers and fewer
    /// wakeups, and every implementation accepts up to 1 MiB). Must be in `1..=1 MiB`.
    pub split_send_size: usize,
    /// Most inbound streams tracked at once (open or not yet accepted): the hard cap; a
    /// NewStream beyond it is answered with a Reset and the connection lives. Default 1024:
    /// mplex openers cannot be slowed by the protocol (no ACK), so a peer that opens 1,000
    /// request/response streams at once (a normal burst) must fit; an idle stream costs about
    /// 160 bytes (the session's 64-byte state and the shell's wakers, with their map
    /// entries), so the cap bounds idle streams to about 160 KiB per connection. Their
    /// unread data is bounded separately by `max_buffer_per_stream` and the overflow policy.
    pub max_inbound_streams: usize,
    /// Most inbound streams waiting for `accept` (go-yamux's `AcceptBacklog`, 256). When a
    /// NewStream arrives with the queue full, [`MplexConfig::overflow`] applies: by default
    /// the session stops reading the socket until the application accepts (as go-mplex does),
    /// and refuses new streams with a Reset once the application accepted nothing for the
    /// reset timeout. Default 256; must be at least 1.
    pub max_pending_accept: usize,
    /// Bytes of received-but-unread data kept per stream; crossing it triggers
    /// [`MplexConfig::overflow`]. Default 1 MiB; must be at least 1.
    pub max_buffer_per_stream: usize,
    /// What crossing `max_buffer_per_stream` or `max_pending_accept` does. Default
    /// [`OverflowBehaviour::BlockThenReset`] with [`DEFAULT_RESET_TIMEOUT`] (5 s): an alive
    /// reader is backpressured and gets every byte; a stuck one is reset after 5 s without
    /// progress. The timeout must be non-zero.
    pub overflow: OverflowBehaviour,
    /// Bytes of encoded frames queued for the socket (including what the driver is writing)
    /// above which stream writes wait for the driver to drain the queue (backpressure).
    /// Default 128 KiB; must be at least 1. (Buffers above glibc's 128 KiB mmap threshold
    /// made every batch an mmap + page faults: 512 KiB measured 3-4x slower.)
    pub write_buffer_limit: usize,
    /// Size of one socket read by the driver. Default 64 KiB (a noise frame is at most
    /// 64 KiB; 256 KiB measured 3-4x slower, see `write_buffer_limit`); must be at least 1.
    pub read_buffer_size: usize,
}

impl Default for MplexConfig {
    fn default() -> Self {
        MplexConfig {
            max_frame_body: MAX_FRAME_BODY,
            split_send_size: 64 * 1024,
            max_inbound_streams: 1024,
            max_pending_accept: 256,
            max_buffer_per_stream: 1024 * 1024,
            overflow: OverflowBehaviour::default(),
            write_buffer_limit: 128 * 1024,
            read_buffer_size: 64 * 1024,
        }
    }
}

impl MplexConfig {
    /// The defaults (see each field).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`MplexConfig::max_frame_body`].
    pub fn with_max_frame_body(mut self, bytes: usize) -> Self {
        self.max_frame_body = bytes;
        self
    }

    /// Sets [`MplexConfig::split_send_size`].
    pub fn with_split_send_size(mut self, bytes: usize) -> Self {
        self.split_send_size = bytes;
        self
    }

    /// Sets [`MplexConfig::max_inbound_streams`].
    pub fn with_max_inbound_streams(mut self, n: usize) -> Self {
        self.max_inbound_streams = n;
        self
    }

    /// Sets [`MplexConfig::max_pending_accept`].
    pub fn with_max_pending_accept(mut self, n: usize) -> Self {
        self.max_pending_accept = n;
        self
    }

    /// Sets [`MplexConfig::max_buffer_per_stream`].
    pub fn with_max_buffer_per_stream(mut self, bytes: usize) -> Self {
        self.max_buffer_per_stream = bytes;
        self
    }

    /// Sets [`MplexConfig::overflow`].
    pub fn with_overflow(mut self, behaviour: OverflowBehaviour) -> Self {
        self.overflow = behaviour;
        self
    }

    /// Sets [`MplexConfig::write_buffer_limit`].
    pub fn with_write_buffer_limit(mut self, bytes: usize) -> Self {
        self.write_buffer_limit = bytes;
        self
    }

    /// Sets [`MplexConfig::read_buffer_size`].
    pub fn with_read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes;
        self
    }

    /// Checks the invariants documented on each field.
    pub fn validate(&self) -> Result<(), MplexError> {
        let bad = |what: &'static str| Err(MplexError::InvalidConfig(what));
        if self.max_frame_body == 0 || self.max_frame_body > MAX_FRAME_BODY {
            return bad("max_frame_body must be in 1..=1 MiB");
        }
        if self.split_send_size == 0 || self.split_send_size > MAX_FRAME_BODY {
            return bad("split_send_size must be in 1..=1 MiB");
        }
        if self.max_buffer_per_stream == 0 {
            return bad("max_buffer_per_stream must be at least 1");
        }
        if self.max_pending_accept == 0 {
            return bad("max_pending_accept must be at least 1");
        }
        if self.overflow == OverflowBehaviour::BlockThenReset(Duration::ZERO) {
            return bad("the BlockThenReset timeout must be non-zero");
        }
        if self.write_buffer_limit == 0 || self.read_buffer_size == 0 {
            return bad("write_buffer_limit and read_buffer_size must be non-zero");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let c = MplexConfig::new();
        c.validate().unwrap();
        assert_eq!(c.max_frame_body, 1 << 20);
        assert_eq!(c.split_send_size, 64 * 1024);
        assert_eq!(c.max_inbound_streams, 1024);
        assert_eq!(c.max_pending_accept, 256);
        assert_eq!(c.max_buffer_per_stream, 1 << 20);
        assert_eq!(
            c.overflow,
            OverflowBehaviour::BlockThenReset(Duration::from_secs(5))
        );
        assert_eq!(c.overflow.reset_timeout(), Some(Duration::from_secs(5)));
        assert_eq!(c.write_buffer_limit, 128 * 1024);
        assert_eq!(c.read_buffer_size, 64 * 1024);
    }

    #[test]
    fn invalid_values_are_refused() {
        let bad = [
            MplexConfig::new().with_split_send_size(0),
            MplexConfig::new().with_split_send_size((1 << 20) + 1),
            MplexConfig::new().with_max_frame_body(0),
            MplexConfig::new().with_max_frame_body(2 << 20),
            MplexConfig::new().with_max_buffer_per_stream(0),
            MplexConfig::new().with_write_buffer_limit(0),
            MplexConfig::new().with_read_buffer_size(0),
            MplexConfig::new().with_max_pending_accept(0),
            MplexConfig::new().with_overflow(OverflowBehaviour::BlockThenReset(Duration::ZERO)),
        ];
        for c in bad {
            assert!(
                matches!(c.validate(), Err(MplexError::InvalidConfig(_))),
                "{c:?}"
            );
        }
        assert!(MplexConfig::new()
            .with_split_send_size(1 << 20)
            .with_overflow(OverflowBehaviour::Block)
            .validate()
            .is_ok());
    }
}
