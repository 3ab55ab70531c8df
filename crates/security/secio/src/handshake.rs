//! The secio handshake as a sans-IO state machine: bytes of the remote's messages in, bytes of
//! ours out, no I/O and no clock. Both sides run the same steps at the same time (secio has no
//! initiator/responder asymmetry):
//!
//! 1. [`Handshake::new`] builds our Propose ([`Handshake::local_proposal`], sent at once);
//! 2. [`Handshake::on_proposal`] takes the remote's Propose, checks the expected peer, orders
//!    the two sides, selects the algorithms and returns our signed Exchange;
//! 3. [`Handshake::on_exchange`] checks the remote's Exchange (RSA size, then signature, then
//!    curve point), derives and stretches the shared secret, and yields a [`Session`];
//! 4. the [`Session`] seals our nonce-echo frame and checks the remote's first frame.
//!
//! With [`SharedSecretWidth::Auto`] and a shared secret whose first byte is zero, step 3
//! stretches two key sets (fixed width and leading zeros stripped) and the [`Session`] stays
//! open between them until the remote's first frame verifies under one; see
//! [`Session::awaits_remote_first`]. Our nonce carries a tag (last 4 bytes = a hash of the
//! first 12) that tells another `Auto` peer to skip that and use the fixed width.

use std::cmp::Ordering;

use chainp2p_core::identity::{Keypair, PeerId, PublicKey};
use prost::Message;
use rand::RngCore;

use crate::algo::{join, select, Algorithm, Cipher, HashAlgo, KeyAgreement};
use crate::config::SecioConfig;
use crate::ecdh::{EphemeralKey, SharedSecretWidth};
use crate::error::SecioError;
use crate::keysize::check_rsa_size;
use crate::proto::{Exchange, Propose};
pub use crate::session::Session;
use crate::session::SessionParams;

/// Length of the Propose nonce.
pub const NONCE_LEN: usize = 16;
/// Bytes of an `Auto` nonce that carry the tag (the rest, 96 bits, stay random).
const TAG_LEN: usize = 4;
/// Domain separation of the `Auto` tag hash.
const TAG_DOMAIN: &[u8] = b"chain secio auto-width v1";

/// The tag of a nonce whose first `NONCE_LEN - TAG_LEN` bytes are `head`.
fn auto_tag(head: &[u8]) -> [u8; TAG_LEN] {
    use sha2::{Digest, Sha256};
    let d = Sha256::new()
        .chain_update(TAG_DOMAIN)
        .chain_update(head)
        .finalize();
    let mut tag = [0u8; TAG_LEN];
    if let Some(src) = d.get(..TAG_LEN) {
        tag.copy_from_slice(src);
    }
    tag
}

/// Overwrites the last bytes of `nonce` with the `Auto` tag.
pub(crate) fn tag_nonce(nonce: &mut [u8; NONCE_LEN]) {
    let (head, tail) = nonce.split_at_mut(NONCE_LEN - TAG_LEN);
    tail.copy_from_slice(&auto_tag(head));
}

/// Whether `nonce` carries the `Auto` tag (a random nonce does with probability 2^-32).
pub(crate) fn has_auto_tag(nonce: &[u8; NONCE_LEN]) -> bool {
    let (head, tail) = nonce.split_at(NONCE_LEN - TAG_LEN);
    tail == auto_tag(head)
}

/// The algorithms both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chosen {
    /// The ECDH curve.
    pub exchange: KeyAgreement,
    /// The cipher.
    pub cipher: Cipher,
    /// The MAC hash.
    pub hash: HashAlgo,
}

impl Chosen {
    /// The `(key, value)` details for the chain record: exchange, cipher, hash.
    pub fn details(&self) -> Vec<(String, String)> {
        vec![
            ("exchange".to_owned(), self.exchange.name().to_owned()),
            ("cipher".to_owned(), self.cipher.name().to_owned()),
            ("hash".to_owned(), self.hash.name().to_owned()),
        ]
    }
}

/// State kept between our Propose and the remote's Exchange.
struct Negotiated {
    remote_proposal: Vec<u8>,
    remote_key: PublicKey,
    remote_nonce: [u8; NONCE_LEN],
    order: Ordering,
    chosen: Chosen,
    ephemeral: EphemeralKey,
}

/// The handshake of one connection.
pub struct Handshake {
    cfg: SecioConfig,
    identity: Keypair,
    expected: Option<PeerId>,
    nonce: [u8; NONCE_LEN],
    local_pubkey: Vec<u8>,
    local_proposal: Vec<u8>,
    negotiated: Option<Negotiated>,
    /// Test hook: draw the ephemeral key from this seed instead of the OS RNG.
    #[cfg(test)]
    ephemeral_seed: Option<u64>,
}

impl Handshake {
    /// A handshake for `identity` with a fresh random nonce (tagged when the width is
    /// [`SharedSecretWidth::Auto`]). `expected` is the peer a dialer must end up talking to,
    /// if known.
    pub fn new(cfg: &SecioConfig, identity: &Keypair, expected: Option<PeerId>) -> Self {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        if cfg.secret_width == SharedSecretWidth::Auto {
            tag_nonce(&mut nonce);
        }
        Handshake::with_nonce(cfg, identity, expected, nonce)
    }

    /// As [`Handshake::new`] with a given nonce, used as it is (tests, reproducible runs).
    pub fn with_nonce(
        cfg: &SecioConfig,
        identity: &Keypair,
        expected: Option<PeerId>,
        nonce: [u8; NONCE_LEN],
    ) -> Self {
        let local_pubkey = identity.public().encode_protobuf();
        let local_proposal = Propose {
            rand: Some(nonce.to_vec()),
            pubkey: Some(local_pubkey.clone()),
            exchanges: Some(join(&cfg.exchanges)),
            ciphers: Some(join(&cfg.ciphers)),
            hashes: Some(join(&cfg.hashes)),
        }
        .encode_to_vec();
        Handshake {
            cfg: cfg.clone(),
            identity: identity.clone(),
            expected,
            nonce,
            local_pubkey,
            local_proposal,
            negotiated: None,
            #[cfg(test)]
            ephemeral_seed: None,
        }
    }

    /// Test hook: the ephemeral key is drawn from a RNG seeded with `seed`.
    #[cfg(test)]
    pub(crate) fn with_ephemeral_seed(mut self, seed: u64) -> Self {
        self.ephemeral_seed = Some(seed);
        self
    }

    fn ephemeral_key(&self, curve: KeyAgreement) -> EphemeralKey {
        #[cfg(test)]
        if let Some(seed) = self.ephemeral_seed {
            use rand::SeedableRng;
            return EphemeralKey::generate_with(
                curve,
                &mut rand::rngs::StdRng::seed_from_u64(seed),
            );
        }
        EphemeralKey::generate(curve)
    }

    /// The exact bytes of our Propose (sent as the first frame, and signed later).
    pub fn local_proposal(&self) -> &[u8] {
        &self.local_proposal
    }

    /// Our nonce.
    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// Takes the remote's Propose body; returns our Exchange body to send.
    pub fn on_proposal(&mut self, remote_proposal: &[u8]) -> Result<Vec<u8>, SecioError> {
        let p = Propose::decode(remote_proposal)?;
        let remote_nonce: [u8; NONCE_LEN] = p
            .rand
            .as_deref()
            .and_then(|r| r.try_into().ok())
            .ok_or(SecioError::BadField("rand"))?;
        let remote_pubkey = p.pubkey.ok_or(SecioError::BadField("pubkey"))?;
        check_rsa_size(&remote_pubkey, self.cfg.max_rsa_bits)?;
        let remote_key = PublicKey::try_decode_protobuf(&remote_pubkey)?;
        if let Some(expected) = self.expected {
            let actual = remote_key.to_peer_id();
            if actual != expected {
                return Err(SecioError::PeerIdMismatch {
                    expected: Box::new(expected),
                    actual: Box::new(actual),
                });
            }
        }
        let order = crate::algo::order(
            &self.local_pubkey,
            &self.nonce,
            &remote_pubkey,
            &remote_nonce,
        );
        if order == Ordering::Equal {
            return Err(SecioError::TalkingToSelf);
        }
        let chosen = Chosen {
            exchange: select(
                order,
                &self.cfg.exchanges,
                p.exchanges.as_deref().unwrap_or(""),
            )?,
            cipher: select(order, &self.cfg.ciphers, p.ciphers.as_deref().unwrap_or(""))?,
            hash: select(order, &self.cfg.hashes, p.hashes.as_deref().unwrap_or(""))?,
        };
        let ephemeral = self.ephemeral_key(chosen.exchange);
        let mut corpus = Vec::with_capacity(
            self.local_proposal.len() + remote_proposal.len() + ephemeral.public().len(),
        );
        corpus.extend_from_slice(&self.local_proposal);
        corpus.extend_from_slice(remote_proposal);
        corpus.extend_from_slice(ephemeral.public());
        let signature = self
            .identity
            .sign(&corpus)
            .map_err(|e| SecioError::Signing(e.to_string()))?;
        let exchange = Exchange {
            epubkey: Some(ephemeral.public().to_vec()),
            signature: Some(signature),
        }
        .encode_to_vec();
        self.negotiated = Some(Negotiated {
            remote_proposal: remote_proposal.to_vec(),
            remote_key,
            remote_nonce,
            order,
            chosen,
            ephemeral,
        });
        Ok(exchange)
    }

    /// Takes the remote's Exchange body: verifies its signature over
    /// `remote proposal ‖ our proposal ‖ remote ephemeral key`, derives the shared secret and
    /// the two directions' keys.
    pub fn on_exchange(self, remote_exchange: &[u8]) -> Result<Session, SecioError> {
        let n = self
            .negotiated
            .ok_or(SecioError::BadField("exchange before proposal"))?;
        let e = Exchange::decode(remote_exchange)?;
        let epubkey = e.epubkey.ok_or(SecioError::BadField("epubkey"))?;
        let signature = e.signature.ok_or(SecioError::BadField("signature"))?;
        let mut corpus =
            Vec::with_capacity(n.remote_proposal.len() + self.local_proposal.len() + epubkey.len());
        corpus.extend_from_slice(&n.remote_proposal);
        corpus.extend_from_slice(&self.local_proposal);
        corpus.extend_from_slice(&epubkey);
        if !n.remote_key.verify(&corpus, &signature) {
            return Err(SecioError::BadSignature {
                peer: Box::new(n.remote_key.to_peer_id()),
            });
        }
        let x = n.ephemeral.agree_fixed(&epubkey)?;
        // The encodings differ only when the X coordinate starts with a zero byte.
        let leading_zero = x.first() == Some(&0);
        let both_auto = has_auto_tag(&self.nonce) && has_auto_tag(&n.remote_nonce);
        let width = match self.cfg.secret_width {
            SharedSecretWidth::Auto if leading_zero && !both_auto => SharedSecretWidth::Auto,
            SharedSecretWidth::Auto => SharedSecretWidth::Fixed,
            forced => forced,
        };
        Session::derive(
            SessionParams {
                chosen: n.chosen,
                order: n.order,
                remote_peer: n.remote_key.to_peer_id(),
                remote_key: n.remote_key,
                local_nonce: self.nonce,
                remote_nonce: n.remote_nonce,
            },
            x,
            width,
        )
    }
}

impl std::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handshake")
            .field("expected", &self.expected)
            .field("negotiated", &self.negotiated.as_ref().map(|n| n.chosen))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_tag_round_trip_and_random_nonces_lack_it() {
        let mut nonce = [7u8; NONCE_LEN];
        assert!(!has_auto_tag(&nonce));
        tag_nonce(&mut nonce);
        assert!(has_auto_tag(&nonce));
        assert_eq!(nonce[..12], [7u8; 12]);
        nonce[0] ^= 1;
        assert!(!has_auto_tag(&nonce));
    }
}
