//! Session limits and tuning knobs, with their documented defaults.

use std::time::Duration;

use crate::error::MplexError;

/// The largest frame body the protocol allows (1 MiB; go `MaxMessageSize`, rust
/// `MAX_FRAME_SIZE`).
pub const MAX_FRAME_BODY: usize = 1024 * 1024;

/// What to do when a stream's received-but-unread data would exceed
/// [`MplexConfig::max_buffer_per_stream`] (mplex has no flow control).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OverflowBehaviour {
    /// Reset that stream (the peer gets a Reset; our reader gets the bytes buffered before the
    /// overflow, then [`MplexError::BufferOverflow`]). Other streams are unaffected. The
    /// default (go-mplex resets slow streams too).
    #[default]
    ResetStream,
    /// Stop reading the whole connection until the reader drains below the limit (rust-libp2p's
    /// default). Nothing is ever reset for being slow, but one slow stream stalls every stream
    /// of the connection, and a reader that waits for another stream of the same connection
    /// can deadlock. A single frame larger than the limit is admitted into an empty buffer.
    Block,
    /// Like [`OverflowBehaviour::Block`], but if the connection stays blocked on one stream
    /// for this long, that stream is reset (as with [`OverflowBehaviour::ResetStream`]) and
    /// reading resumes: go-mplex's behaviour (its `ReceiveTimeout` is 5 s). Slow readers lose
    /// nothing; a stuck reader stalls the connection at most this long.
    BlockThenReset(Duration),
}

impl OverflowBehaviour {
    /// Whether overflow blocks input (possibly until a timeout).
    pub fn blocks(self) -> bool {
        matches!(
            self,
            OverflowBehaviour::Block | OverflowBehaviour::BlockThenReset(_)
        )
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
    /// Most inbound streams tracked at once (open or not yet accepted); a NewStream beyond it
    /// is answered with a Reset and the connection lives. Default 512.
    pub max_inbound_streams: usize,
    /// Bytes of received-but-unread data kept per stream; crossing it triggers
    /// [`MplexConfig::overflow`]. Default 1 MiB; must be at least 1.
    pub max_buffer_per_stream: usize,
    /// What crossing `max_buffer_per_stream` does. Default [`OverflowBehaviour::ResetStream`].
    /// mplex has no flow control: with `ResetStream`, a bulk transfer whose reader falls more
    /// than `max_buffer_per_stream` behind the network is reset (a single-stream 512 MiB
    /// transfer over an in-memory pipe hits this within a second). For bulk transfers use
    /// [`OverflowBehaviour::BlockThenReset`] (go-like) or [`OverflowBehaviour::Block`].
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
            max_inbound_streams: 512,
            max_buffer_per_stream: 1024 * 1024,
            overflow: OverflowBehaviour::ResetStream,
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
        assert_eq!(c.max_inbound_streams, 512);
        assert_eq!(c.max_buffer_per_stream, 1 << 20);
        assert_eq!(c.overflow, OverflowBehaviour::ResetStream);
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
