//! Configuration of the plaintext layer: the handshake deadline and the message limit, with
//! their documented defaults.

use std::time::Duration;

/// Default handshake deadline: 10 s.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default limit on the remote's `Exchange` message: 16 KiB. A real one is a PeerId and a
/// public key: under 100 bytes for Ed25519, about 1.1 KiB for RSA-8192.
pub const DEFAULT_MAX_MESSAGE_LEN: usize = 16 * 1024;

/// The `/plaintext/2.0.0` security layer's configuration; implements
/// [`chainp2p_core::SecurityHandler`]. Nothing is encrypted: use it for tests and trusted links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaintextConfig {
    pub(crate) handshake_timeout: Duration,
    pub(crate) max_message_len: usize,
}

impl PlaintextConfig {
    /// The defaults: 10 s handshake timeout, 16 KiB messages.
    pub fn new() -> Self {
        PlaintextConfig {
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_message_len: DEFAULT_MAX_MESSAGE_LEN,
        }
    }

    /// Sets the deadline for the whole handshake.
    pub fn with_handshake_timeout(mut self, d: Duration) -> Self {
        self.handshake_timeout = d;
        self
    }

    /// Sets the limit on the remote's `Exchange` message.
    pub fn with_max_message_len(mut self, len: usize) -> Self {
        self.max_message_len = len;
        self
    }

    /// The handshake deadline.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// The limit on the remote's `Exchange` message.
    pub fn max_message_len(&self) -> usize {
        self.max_message_len
    }
}

impl Default for PlaintextConfig {
    fn default() -> Self {
        PlaintextConfig::new()
    }
}
