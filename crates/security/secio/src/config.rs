//! Configuration of the secio layer: the algorithm lists we propose, limits and timeouts with
//! their documented defaults.

use std::time::Duration;

use crate::algo::{Algorithm, Cipher, HashAlgo, KeyAgreement};
use crate::codec::MAX_FRAME_LEN;
use crate::ecdh::SharedSecretWidth;
use crate::keysize::MAX_RSA_BITS;

/// Default handshake deadline (propose, exchange and nonce check): 10 s.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default limit on a received handshake message: 64 KiB. Real ones are a key (an RSA-8192
/// key is ~1.1 KiB), a nonce, three short lists, or a point and a signature.
pub const DEFAULT_MAX_HANDSHAKE_MESSAGE: usize = 64 * 1024;
/// Default [`SecioConfig::with_ambiguous_width_wait`]: 1 s. It only matters in the ~1/256
/// handshakes whose shared secret starts with a zero byte, and it must cover the delay between
/// our Exchange arriving at the peer and the peer's nonce echo arriving here (about one
/// one-way trip plus the peer's key derivation).
pub const DEFAULT_AMBIGUOUS_WIDTH_WAIT: Duration = Duration::from_secs(1);
/// Default receive buffer per connection: 256 KiB (it grows, up to one maximal frame, when a
/// larger frame is announced).
pub const DEFAULT_READ_BUFFER: usize = 256 * 1024;

/// The `/secio/1.0.0` security layer's configuration; implements
/// [`chainp2p_core::SecurityHandler`].
///
/// Defaults: propose `P-256,P-384,P-521` / `AES-256,AES-128` / `SHA256,SHA512` (go-libp2p's
/// order), 10 s handshake timeout, 8 MiB frames, RSA keys up to 8192 bits, shared-secret width
/// learnt from the peer ([`SharedSecretWidth::Auto`]) with a 1 s ambiguous-width wait.
#[derive(Debug, Clone)]
pub struct SecioConfig {
    pub(crate) exchanges: Vec<KeyAgreement>,
    pub(crate) ciphers: Vec<Cipher>,
    pub(crate) hashes: Vec<HashAlgo>,
    pub(crate) handshake_timeout: Duration,
    pub(crate) max_handshake_message: usize,
    pub(crate) max_frame_len: usize,
    pub(crate) read_buffer: usize,
    pub(crate) max_rsa_bits: usize,
    pub(crate) secret_width: SharedSecretWidth,
    pub(crate) ambiguous_width_wait: Duration,
}

impl SecioConfig {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        SecioConfig {
            exchanges: KeyAgreement::ALL.to_vec(),
            ciphers: Cipher::ALL.to_vec(),
            hashes: HashAlgo::ALL.to_vec(),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_handshake_message: DEFAULT_MAX_HANDSHAKE_MESSAGE,
            max_frame_len: MAX_FRAME_LEN,
            read_buffer: DEFAULT_READ_BUFFER,
            max_rsa_bits: MAX_RSA_BITS,
            secret_width: SharedSecretWidth::Auto,
            ambiguous_width_wait: DEFAULT_AMBIGUOUS_WIDTH_WAIT,
        }
    }

    /// Sets the deadline for the whole handshake (including the nonce check).
    pub fn with_handshake_timeout(mut self, d: Duration) -> Self {
        self.handshake_timeout = d;
        self
    }

    /// Restricts the proposed curves, in order of preference (duplicates removed; an empty
    /// list makes every handshake fail with "no common algorithm").
    pub fn with_exchanges(mut self, list: &[KeyAgreement]) -> Self {
        self.exchanges = dedup(list);
        self
    }

    /// Restricts the proposed ciphers, in order of preference.
    pub fn with_ciphers(mut self, list: &[Cipher]) -> Self {
        self.ciphers = dedup(list);
        self
    }

    /// Restricts the proposed hashes, in order of preference.
    pub fn with_hashes(mut self, list: &[HashAlgo]) -> Self {
        self.hashes = dedup(list);
        self
    }

    /// Sets the limit on a received frame body (at most 8 MiB, the protocol's limit).
    pub fn with_max_frame_len(mut self, len: usize) -> Self {
        self.max_frame_len = len.min(MAX_FRAME_LEN);
        self
    }

    /// Sets the limit on a received handshake message.
    pub fn with_max_handshake_message(mut self, len: usize) -> Self {
        self.max_handshake_message = len;
        self
    }

    /// Sets the initial receive buffer size.
    pub fn with_read_buffer(mut self, len: usize) -> Self {
        self.read_buffer = len;
        self
    }

    /// Sets how the ECDH shared secret is encoded (see [`SharedSecretWidth`]).
    pub fn with_shared_secret_width(mut self, width: SharedSecretWidth) -> Self {
        self.secret_width = width;
        self
    }

    /// With [`SharedSecretWidth::Auto`], when the shared secret starts with a zero byte (and
    /// the peer is not known to be `Auto` too): how long to wait for the peer's nonce echo
    /// before sending ours fixed-width. go- and py-libp2p (stripping) send theirs at once; a
    /// fixed-width peer that waits for ours is answered after this delay. Too short a wait
    /// fails slow stripping peers with [`crate::SecioError::SecretWidthMismatch`].
    pub fn with_ambiguous_width_wait(mut self, d: Duration) -> Self {
        self.ambiguous_width_wait = d;
        self
    }

    /// The ambiguous-width wait (see [`SecioConfig::with_ambiguous_width_wait`]).
    pub fn ambiguous_width_wait(&self) -> Duration {
        self.ambiguous_width_wait
    }

    /// The shared-secret encoding (see [`SharedSecretWidth`]).
    pub fn shared_secret_width(&self) -> SharedSecretWidth {
        self.secret_width
    }

    /// The handshake deadline.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// The limit on received frame bodies.
    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }
}

fn dedup<A: Algorithm>(list: &[A]) -> Vec<A> {
    let mut out: Vec<A> = Vec::with_capacity(list.len());
    for a in list {
        if !out.contains(a) {
            out.push(*a);
        }
    }
    out
}

impl Default for SecioConfig {
    fn default() -> Self {
        SecioConfig::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::join;

    #[test]
    fn defaults_are_the_go_lists() {
        let c = SecioConfig::default();
        assert_eq!(join(&c.exchanges), "P-256,P-384,P-521");
        assert_eq!(join(&c.ciphers), "AES-256,AES-128");
        assert_eq!(join(&c.hashes), "SHA256,SHA512");
        assert_eq!(c.shared_secret_width(), SharedSecretWidth::Auto);
        assert_eq!(c.ambiguous_width_wait(), DEFAULT_AMBIGUOUS_WIDTH_WAIT);
        let c = c.with_ciphers(&[Cipher::Aes128, Cipher::Aes128]);
        assert_eq!(join(&c.ciphers), "AES-128");
        assert_eq!(
            c.with_max_frame_len(usize::MAX).max_frame_len(),
            MAX_FRAME_LEN
        );
    }
}
