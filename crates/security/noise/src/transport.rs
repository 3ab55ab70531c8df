//! The transport phase, sans-IO: encrypts plaintext into frames and decrypts frames, with the
//! per-direction nonces kept by snow. No buffering of its own: callers pass the buffers.

use crate::codec::{write_header, HEADER_LEN, MAX_FRAME_PLAINTEXT, MAX_NOISE_MSG_LEN, TAG_LEN};
use crate::error::NoiseError;

/// The cipher states of a finished handshake.
pub struct Transport {
    state: snow::TransportState,
}

impl Transport {
    pub(crate) fn new(state: snow::TransportState) -> Self {
        Transport { state }
    }

    /// Encrypts `plaintext` (at most [`MAX_FRAME_PLAINTEXT`] bytes) into `out`, which needs
    /// `plaintext.len() + 16` bytes; returns the ciphertext length.
    pub fn encrypt(&mut self, plaintext: &[u8], out: &mut [u8]) -> Result<usize, NoiseError> {
        if plaintext.len() > MAX_FRAME_PLAINTEXT {
            return Err(NoiseError::Oversize {
                len: plaintext.len() + TAG_LEN,
                max: MAX_NOISE_MSG_LEN,
            });
        }
        Ok(self.state.write_message(plaintext, out)?)
    }

    /// Encrypts `plaintext` as one whole frame (header + ciphertext) into `out`, which needs
    /// `2 + plaintext.len() + 16` bytes; returns the frame length.
    pub fn encrypt_frame(&mut self, plaintext: &[u8], out: &mut [u8]) -> Result<usize, NoiseError> {
        let body = out.get_mut(HEADER_LEN..).ok_or(NoiseError::Oversize {
            len: HEADER_LEN,
            max: 0,
        })?;
        let n = self.encrypt(plaintext, body)?;
        write_header(out, n)?;
        Ok(HEADER_LEN + n)
    }

    /// Decrypts one noise message into `out` (which must hold `ciphertext.len()` bytes, so no
    /// temporary is needed); returns the plaintext length. A message shorter than the tag or
    /// failing authentication is [`NoiseError::Decrypt`].
    pub fn decrypt(&mut self, ciphertext: &[u8], out: &mut [u8]) -> Result<usize, NoiseError> {
        if ciphertext.len() < TAG_LEN {
            return Err(NoiseError::Decrypt);
        }
        Ok(self.state.read_message(ciphertext, out)?)
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("initiator", &self.state.is_initiator())
            .field("sending_nonce", &self.state.sending_nonce())
            .field("receiving_nonce", &self.state.receiving_nonce())
            .finish()
    }
}
