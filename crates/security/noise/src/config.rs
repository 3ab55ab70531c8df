//! Configuration of the noise layer: timeouts and limits with their documented defaults, and
//! the per-config cache of our signed static key.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chainp2p_core::identity::Keypair;

use crate::codec::MAX_NOISE_MSG_LEN;
use crate::error::NoiseError;
use crate::handshake::AuthenticStatic;

/// Default handshake deadline: 10 s.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default limit on a received handshake message: 8 KiB. Real payloads are an identity key and
/// a signature (an RSA-8192 key and signature are ~2.1 KiB), plus a few extension entries.
pub const DEFAULT_MAX_HANDSHAKE_MESSAGE: usize = 8 * 1024;
/// Default receive buffer per connection: 256 KiB (about four maximal frames per read).
pub const DEFAULT_READ_BUFFER: usize = 256 * 1024;

/// The `/noise` security layer's configuration; implements [`chainp2p_core::SecurityHandler`].
///
/// A static X25519 key is generated on first use, signed with the identity of the handshake,
/// and reused for later handshakes with the same identity (a different identity replaces it).
/// Clones share that key.
#[derive(Clone)]
pub struct NoiseConfig {
    pub(crate) handshake_timeout: Duration,
    pub(crate) max_handshake_message: usize,
    pub(crate) read_buffer: usize,
    static_key: Arc<Mutex<Option<Arc<AuthenticStatic>>>>,
}

impl NoiseConfig {
    /// The defaults: 10 s handshake timeout, 8 KiB handshake messages, 256 KiB read buffer.
    pub fn new() -> Self {
        NoiseConfig {
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_handshake_message: DEFAULT_MAX_HANDSHAKE_MESSAGE,
            read_buffer: DEFAULT_READ_BUFFER,
            static_key: Arc::new(Mutex::new(None)),
        }
    }

    /// Sets the deadline for the whole handshake.
    pub fn with_handshake_timeout(mut self, d: Duration) -> Self {
        self.handshake_timeout = d;
        self
    }

    /// Sets the limit on a received handshake message (clamped to 65535).
    pub fn with_max_handshake_message(mut self, len: usize) -> Self {
        self.max_handshake_message = len.min(MAX_NOISE_MSG_LEN);
        self
    }

    /// Sets the receive buffer size (at least two maximal frames, ~128 KiB, are used).
    pub fn with_read_buffer(mut self, len: usize) -> Self {
        self.read_buffer = len;
        self
    }

    /// The handshake deadline.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// Our static key signed by `identity`, from the cache or freshly generated.
    pub fn static_key(&self, identity: &Keypair) -> Result<Arc<AuthenticStatic>, NoiseError> {
        let peer = identity.public().to_peer_id();
        let mut slot = self.static_key.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = slot.as_ref().filter(|k| k.identity() == peer) {
            return Ok(k.clone());
        }
        let fresh = Arc::new(AuthenticStatic::generate(identity)?);
        *slot = Some(fresh.clone());
        Ok(fresh)
    }
}

impl Default for NoiseConfig {
    fn default() -> Self {
        NoiseConfig::new()
    }
}

impl std::fmt::Debug for NoiseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoiseConfig")
            .field("handshake_timeout", &self.handshake_timeout)
            .field("max_handshake_message", &self.max_handshake_message)
            .field("read_buffer", &self.read_buffer)
            .finish_non_exhaustive()
    }
}
