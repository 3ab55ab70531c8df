//! [`Session`]: the keys of a finished secio key exchange, sans-IO. It seals our nonce-echo frame,
//! checks the remote's, and, while the shared secret's encoding is open (see
//! [`SharedSecretWidth::Auto`]), holds both candidate key sets until the remote's first frame
//! verifies under one of them.

use std::cmp::Ordering;

use chainp2p_core::identity::{PeerId, PublicKey};

use crate::cipher::CipherState;
use crate::codec::{write_header, HEADER_LEN};
use crate::ecdh::{encode_secret, SharedSecretWidth};
use crate::error::SecioError;
use crate::handshake::{Chosen, NONCE_LEN};
use crate::stretch::stretch;

/// What the handshake hands over besides the secret.
pub(crate) struct SessionParams {
    pub(crate) chosen: Chosen,
    pub(crate) order: Ordering,
    pub(crate) remote_peer: PeerId,
    pub(crate) remote_key: PublicKey,
    pub(crate) local_nonce: [u8; NONCE_LEN],
    pub(crate) remote_nonce: [u8; NONCE_LEN],
}

/// Our (sending) and the remote's (receiving) cipher states for one encoding of the secret.
fn directions(
    chosen: Chosen,
    order: Ordering,
    secret: &[u8],
) -> Result<(CipherState, CipherState), SecioError> {
    let (k1, k2) = stretch(chosen.hash, chosen.cipher, secret);
    let (local, remote) = if order == Ordering::Greater {
        (k1, k2)
    } else {
        (k2, k1)
    };
    Ok((
        CipherState::new(chosen.cipher, chosen.hash, &local)?,
        CipherState::new(chosen.cipher, chosen.hash, &remote)?,
    ))
}

/// The stripped-secret candidates while the encoding is open (the fixed-width ones are the
/// session's `encoder`/`decoder`).
struct OpenWidth {
    strip_encoder: CipherState,
    strip_decoder: CipherState,
    /// Our nonce echo went out (fixed-width) before the remote's first frame came.
    sent: bool,
}

/// A finished key exchange: both directions' cipher states and the authenticated remote.
pub struct Session {
    /// Seals what we send (while the encoding is open: the fixed-width candidate).
    pub encoder: CipherState,
    /// Opens what we receive (while the encoding is open: the fixed-width candidate).
    pub decoder: CipherState,
    /// The negotiated algorithms.
    pub chosen: Chosen,
    /// The authenticated remote.
    pub remote_peer: PeerId,
    /// The remote's identity key.
    pub remote_key: PublicKey,
    /// Our nonce: the remote's first frame must be exactly this.
    pub local_nonce: [u8; NONCE_LEN],
    /// The remote's nonce: our first frame echoes it.
    pub remote_nonce: [u8; NONCE_LEN],
    width: SharedSecretWidth,
    open: Option<Box<OpenWidth>>,
}

impl Session {
    /// Stretches the fixed-width secret `x` per `width`; [`SharedSecretWidth::Auto`] here
    /// means "open": both candidate key sets are kept (the fixed-width one in front).
    pub(crate) fn derive(
        p: SessionParams,
        x: Vec<u8>,
        width: SharedSecretWidth,
    ) -> Result<Session, SecioError> {
        let keys = |w| directions(p.chosen, p.order, &encode_secret(x.clone(), w));
        let (encoder, decoder) = keys(width)?;
        let open = match width {
            SharedSecretWidth::Auto => {
                let (strip_encoder, strip_decoder) = keys(SharedSecretWidth::StripLeadingZeros)?;
                Some(Box::new(OpenWidth {
                    strip_encoder,
                    strip_decoder,
                    sent: false,
                }))
            }
            _ => None,
        };
        Ok(Session {
            encoder,
            decoder,
            chosen: p.chosen,
            remote_peer: p.remote_peer,
            remote_key: p.remote_key,
            local_nonce: p.local_nonce,
            remote_nonce: p.remote_nonce,
            width,
            open,
        })
    }

    /// The shared-secret encoding in use: [`SharedSecretWidth::Fixed`] or
    /// [`SharedSecretWidth::StripLeadingZeros`], or [`SharedSecretWidth::Auto`] while it is
    /// still open (until [`Session::check_nonce`] has accepted the remote's first frame).
    pub fn secret_width(&self) -> SharedSecretWidth {
        self.width
    }

    /// True when the encoding is open and our nonce echo has not gone out: the driver should
    /// give the remote a bounded time to send its first frame ([`Session::check_nonce`]) and
    /// only then send ours ([`Session::nonce_frame`], then in the remote's width). When the
    /// wait ends without a frame, sending first is allowed: it goes out fixed-width.
    pub fn awaits_remote_first(&self) -> bool {
        self.open.as_ref().is_some_and(|o| !o.sent)
    }

    /// Our first encrypted frame, header included: the remote's nonce, alone.
    pub fn nonce_frame(&mut self) -> Result<Vec<u8>, SecioError> {
        let body_len = NONCE_LEN + self.encoder.mac_len();
        let mut frame = vec![0u8; HEADER_LEN + body_len];
        write_header(&mut frame, body_len)?;
        let body = frame.get_mut(HEADER_LEN..).unwrap_or_default();
        if let Some(dst) = body.get_mut(..NONCE_LEN) {
            dst.copy_from_slice(&self.remote_nonce);
        }
        self.encoder.seal_in_place(body)?;
        if let Some(open) = self.open.as_mut() {
            open.sent = true;
        }
        Ok(frame)
    }

    /// Checks the remote's first frame body (decrypted in place): it must be exactly our nonce.
    /// While the encoding is open, the MAC is tried with each candidate and the one that
    /// verifies settles the encoding of both directions.
    pub fn check_nonce(&mut self, body: &mut [u8]) -> Result<(), SecioError> {
        let n = match self.open.take() {
            None => self.decoder.open_in_place(body)?,
            Some(mut open) => match self.decoder.open_in_place(body) {
                Ok(n) => {
                    self.width = SharedSecretWidth::Fixed;
                    n
                }
                Err(SecioError::MacFailure) => {
                    let n = open.strip_decoder.open_in_place(body)?;
                    if open.sent {
                        return Err(SecioError::SecretWidthMismatch);
                    }
                    let OpenWidth {
                        strip_encoder,
                        strip_decoder,
                        ..
                    } = *open;
                    self.encoder = strip_encoder;
                    self.decoder = strip_decoder;
                    self.width = SharedSecretWidth::StripLeadingZeros;
                    n
                }
                Err(e) => return Err(e),
            },
        };
        match body.get(..n) {
            Some(plain) if plain == self.local_nonce => Ok(()),
            _ => Err(SecioError::WrongNonce { len: n }),
        }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("chosen", &self.chosen)
            .field("remote_peer", &self.remote_peer)
            .field("width", &self.width)
            .finish_non_exhaustive()
    }
}
