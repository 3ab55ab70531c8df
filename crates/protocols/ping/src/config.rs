//! Ping limits with documented defaults.

use std::time::Duration;

/// How long [`crate::ping`] waits for the echo (rust-libp2p's ping timeout).
pub const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(20);

/// Listener-side settings of [`crate::PingHandler`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingConfig {
    /// How long the listener waits for the next ping (or EOF) before giving up on the stream
    /// (default 60 s; rust-libp2p pings every 15 s, go-libp2p allows 10 s per ping).
    pub idle_timeout: Duration,
}

impl Default for PingConfig {
    fn default() -> Self {
        PingConfig {
            idle_timeout: Duration::from_secs(60),
        }
    }
}
