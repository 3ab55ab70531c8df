//! Transport configuration with documented defaults.

use std::time::Duration;

/// How the TCP transport sets up sockets.
///
/// Socket buffer sizes are deliberately left to the kernel: on Linux, setting `SO_SNDBUF` /
/// `SO_RCVBUF` explicitly turns off buffer auto-tuning, which grows buffers far beyond any
/// fixed size we would pick on high bandwidth-delay paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpConfig {
    /// Set `TCP_NODELAY` on every connection (default `true`): the layers above write whole
    /// frames, so Nagle's algorithm only adds latency to handshakes and pings.
    pub nodelay: bool,
    /// Deadline for one dial, name resolution and every connect attempt included (default 10 s).
    pub dial_timeout: Duration,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            nodelay: true,
            dial_timeout: Duration::from_secs(10),
        }
    }
}

/// Listen backlog: connections the kernel queues before we accept them.
pub(crate) const LISTEN_BACKLOG: i32 = 1024;
