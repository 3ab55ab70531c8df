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

use std::cmp::Ordering;

use chain_core::identity::{Keypair, PeerId, PublicKey};
use prost::Message;
use rand::RngCore;

use crate::algo::{join, select, Algorithm, Cipher, HashAlgo, KeyAgreement};
use crate::cipher::CipherState;
use crate::codec::{write_header, HEADER_LEN};
use crate::config::SecioConfig;
use crate::ecdh::EphemeralKey;
use crate::error::SecioError;
use crate::keysize::check_rsa_size;
use crate::proto::{Exchange, Propose};
use crate::stretch::stretch;

/// Length of the Propose nonce.
pub const NONCE_LEN: usize = 16;

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
}

impl Handshake {
    /// A handshake for `identity` with a fresh random nonce. `expected` is the peer a dialer
    /// must end up talking to, if known.
    pub fn new(cfg: &SecioConfig, identity: &Keypair, expected: Option<PeerId>) -> Self {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        Handshake::with_nonce(cfg, identity, expected, nonce)
    }

    /// As [`Handshake::new`] with a given nonce (tests, reproducible runs).
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
        }
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
        let ephemeral = EphemeralKey::generate(chosen.exchange);
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
        let secret = n.ephemeral.agree(&epubkey, self.cfg.secret_width)?;
        let (k1, k2) = stretch(n.chosen.hash, n.chosen.cipher, &secret);
        let (local, remote) = if n.order == Ordering::Greater {
            (k1, k2)
        } else {
            (k2, k1)
        };
        Ok(Session {
            encoder: CipherState::new(n.chosen.cipher, n.chosen.hash, &local)?,
            decoder: CipherState::new(n.chosen.cipher, n.chosen.hash, &remote)?,
            chosen: n.chosen,
            remote_peer: n.remote_key.to_peer_id(),
            remote_key: n.remote_key,
            local_nonce: self.nonce,
            remote_nonce: n.remote_nonce,
        })
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

/// A finished key exchange: both directions' cipher states and the authenticated remote.
#[derive(Debug)]
pub struct Session {
    /// Seals what we send.
    pub encoder: CipherState,
    /// Opens what we receive.
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
}

impl Session {
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
        Ok(frame)
    }

    /// Checks the remote's first frame body (decrypted in place): it must be exactly our nonce.
    pub fn check_nonce(&mut self, body: &mut [u8]) -> Result<(), SecioError> {
        let n = self.decoder.open_in_place(body)?;
        match body.get(..n) {
            Some(plain) if plain == self.local_nonce => Ok(()),
            _ => Err(SecioError::WrongNonce { len: n }),
        }
    }
}
