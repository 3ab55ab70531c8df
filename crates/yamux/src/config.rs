//! Session limits and tuning knobs, with their documented defaults.

use crate::error::YamuxError;

/// The protocol's initial stream window (256 KiB), fixed by the yamux spec: every stream starts
/// with this much credit in each direction.
pub const DEFAULT_WINDOW: u32 = 256 * 1024;

/// The largest data frame body accepted from the network by default (1 MiB, like rust-yamux).
pub const DEFAULT_MAX_FRAME_BODY: usize = 1024 * 1024;

/// Configuration of a yamux session. Every field is public and documented; [`YamuxConfig::new`]
/// (= [`Default`]) gives the defaults, and the `with_*` methods are a builder over the same
/// fields. [`YamuxConfig::validate`] checks the invariants; `multiplex` calls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamuxConfig {
    /// Receive window per stream, i.e. how many unread bytes a peer may send before it must
    /// wait for a window update. This is also the bound on buffered-but-unread data per stream.
    /// Default 256 KiB; must be at least 256 KiB (the spec's initial window). A larger value is
    /// announced to the peer in the SYN / ACK window update. (Future auto-tuning grows windows
    /// from here.)
    pub receive_window: u32,
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
    /// driver to drain the queue (backpressure). Default 512 KiB.
    pub write_buffer_limit: usize,
    /// Size of one socket read by the driver. Default 256 KiB.
    pub read_buffer_size: usize,
    /// Most pings awaiting their answer; the oldest is forgotten beyond it. Default 16.
    pub max_outstanding_pings: usize,
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
    }
}
