//! The XX handshake as a sans-IO state machine: it takes received noise messages and produces
//! the messages to send, with no I/O and no clock. The async shell (`upgrade.rs`) moves the
//! bytes and enforces the timeout.
//!
//! ```text
//! msg1  I→R  e                    payload empty (a non-empty one is rejected)
//! msg2  R→I  e, ee, s, es         payload = responder's identity key + signature
//! msg3  I→R  s, se                payload = initiator's identity key + signature
//! ```

use chainp2p_core::identity::{Keypair, PeerId, PublicKey};
use snow::resolvers::{DefaultResolver, FallbackResolver, RingResolver};

use crate::codec::{write_header, HEADER_LEN, MAX_NOISE_MSG_LEN};
use crate::error::NoiseError;
use crate::payload;
use crate::transport::Transport;

/// The one noise protocol libp2p speaks.
pub const NOISE_PARAMS: &str = "Noise_XX_25519_ChaChaPoly_SHA256";

/// Length of an X25519 public key (and of the `e` token of message 1).
const DH_LEN: usize = 32;

fn builder(secret: &[u8]) -> Result<snow::Builder<'_>, NoiseError> {
    let params: snow::params::NoiseParams = NOISE_PARAMS.parse()?;
    // ring for the cipher, hash and RNG; snow's default resolver for curve25519. ring's
    // ChaCha20-Poly1305 is the fastest snow can use without aws-lc-rs (whose C build is too slow
    // for CI); see benches/benches/ciphers.rs.
    let resolver = FallbackResolver::new(Box::new(RingResolver), Box::new(DefaultResolver));
    Ok(snow::Builder::with_resolver(params, Box::new(resolver))
        .prologue(&[])?
        .local_private_key(secret)?)
}

/// Our static X25519 key together with the handshake payload that binds it to an identity
/// (identity key + signature). Generated fresh (never the identity key, never persisted) and
/// reusable for many handshakes of that identity.
pub struct AuthenticStatic {
    secret: Vec<u8>,
    public: Vec<u8>,
    payload: Vec<u8>,
    identity: PeerId,
}

impl AuthenticStatic {
    /// Generates a fresh static key and signs it with `identity`.
    pub fn generate(identity: &Keypair) -> Result<Self, NoiseError> {
        let params: snow::params::NoiseParams = NOISE_PARAMS.parse()?;
        let resolver = FallbackResolver::new(Box::new(RingResolver), Box::new(DefaultResolver));
        let kp = snow::Builder::with_resolver(params, Box::new(resolver)).generate_keypair()?;
        let payload = payload::encode_local(identity, &kp.public)?;
        Ok(AuthenticStatic {
            secret: kp.private,
            public: kp.public,
            payload,
            identity: identity.public().to_peer_id(),
        })
    }

    /// The static X25519 public key.
    pub fn public(&self) -> &[u8] {
        &self.public
    }

    /// The identity this key is signed by.
    pub fn identity(&self) -> PeerId {
        self.identity
    }
}

impl std::fmt::Debug for AuthenticStatic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthenticStatic")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// What the handshake learned about the remote.
#[derive(Debug, Clone)]
pub struct RemoteIdentity {
    /// The remote's authenticated identity key.
    pub public_key: PublicKey,
    /// Its PeerId.
    pub peer_id: PeerId,
}

/// One XX handshake in progress.
pub struct Handshake {
    state: snow::HandshakeState,
    payload: Vec<u8>,
    expected: Option<PeerId>,
    max_message: usize,
    received: usize,
    remote: Option<RemoteIdentity>,
}

impl Handshake {
    /// Starts a handshake as initiator or responder with our authenticated static key.
    /// `expected` is the peer we must end up talking to, if known. Received messages longer than
    /// `max_message` (at most 65535) are rejected.
    pub fn new(
        initiator: bool,
        local: &AuthenticStatic,
        expected: Option<PeerId>,
        max_message: usize,
    ) -> Result<Self, NoiseError> {
        let b = builder(&local.secret)?;
        let state = if initiator {
            b.build_initiator()?
        } else {
            b.build_responder()?
        };
        Ok(Handshake {
            state,
            payload: local.payload.clone(),
            expected,
            max_message: max_message.min(MAX_NOISE_MSG_LEN),
            received: 0,
            remote: None,
        })
    }

    /// Whether we are the initiator.
    pub fn is_initiator(&self) -> bool {
        self.state.is_initiator()
    }

    /// Whether the next step is ours to send (else we wait for a message).
    pub fn is_my_turn(&self) -> bool {
        self.state.is_my_turn()
    }

    /// Whether all three messages have been exchanged.
    pub fn is_finished(&self) -> bool {
        self.state.is_handshake_finished()
    }

    /// The message limit this handshake enforces on received messages.
    pub fn max_message(&self) -> usize {
        self.max_message
    }

    /// Appends our next message, framed (`u16` length header), to `out`.
    pub fn write_message(&mut self, out: &mut Vec<u8>) -> Result<(), NoiseError> {
        // msg1 (initiator, nothing received yet) carries no payload.
        let payload: &[u8] = if self.is_initiator() && self.received == 0 {
            &[]
        } else {
            &self.payload
        };
        let start = out.len();
        // e + (s + tag) + payload + tag bounds every XX message.
        let room =
            (HEADER_LEN + 3 * DH_LEN + 32 + payload.len()).min(HEADER_LEN + MAX_NOISE_MSG_LEN);
        out.resize(start + room, 0);
        let body = out
            .get_mut(start + HEADER_LEN..)
            .ok_or(NoiseError::Failed)?;
        let n = self.state.write_message(payload, body)?;
        write_header(out.get_mut(start..).ok_or(NoiseError::Failed)?, n)?;
        out.truncate(start + HEADER_LEN + n);
        Ok(())
    }

    /// Processes one received noise message (without its length header).
    pub fn read_message(&mut self, msg: &[u8]) -> Result<(), NoiseError> {
        if msg.len() > self.max_message {
            return Err(NoiseError::Oversize {
                len: msg.len(),
                max: self.max_message,
            });
        }
        let first_to_responder = !self.is_initiator() && self.received == 0;
        if first_to_responder && msg.len() > DH_LEN {
            return Err(NoiseError::NonEmptyMsg1Payload {
                len: msg.len() - DH_LEN,
            });
        }
        let mut plain = vec![0u8; msg.len()];
        let n = self.state.read_message(msg, &mut plain)?;
        self.received += 1;
        if first_to_responder {
            if n != 0 {
                return Err(NoiseError::NonEmptyMsg1Payload { len: n });
            }
            return Ok(());
        }
        let remote_static = self
            .state
            .get_remote_static()
            .ok_or_else(|| NoiseError::Snow("remote static key missing after s token".into()))?;
        let key = payload::verify_remote(plain.get(..n).unwrap_or_default(), remote_static)?;
        let peer_id = key.to_peer_id();
        if let Some(expected) = self.expected {
            if expected != peer_id {
                return Err(NoiseError::PeerIdMismatch {
                    expected: Box::new(expected),
                    actual: Box::new(peer_id),
                });
            }
        }
        self.remote = Some(RemoteIdentity {
            public_key: key,
            peer_id,
        });
        Ok(())
    }

    /// Ends the handshake: the transport cipher states and the authenticated remote.
    pub fn finish(self) -> Result<(Transport, RemoteIdentity), NoiseError> {
        let remote = match (self.state.is_handshake_finished(), self.remote) {
            (true, Some(r)) => r,
            _ => return Err(NoiseError::Snow("handshake not finished".into())),
        };
        Ok((Transport::new(self.state.into_transport_mode()?), remote))
    }
}

impl std::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handshake")
            .field("initiator", &self.is_initiator())
            .field("received", &self.received)
            .field("remote", &self.remote)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::parse_frame;

    fn strip(frame: &[u8]) -> &[u8] {
        let total = parse_frame(frame, MAX_NOISE_MSG_LEN).unwrap().unwrap();
        assert_eq!(total, frame.len());
        &frame[HEADER_LEN..]
    }

    type Side = (Transport, RemoteIdentity);

    /// Runs both sides in memory, returning the two results.
    fn run(
        i_id: &Keypair,
        r_id: &Keypair,
        i_expect: Option<PeerId>,
    ) -> Result<(Side, Side), NoiseError> {
        let mut i = Handshake::new(true, &AuthenticStatic::generate(i_id)?, i_expect, 8192)?;
        let mut r = Handshake::new(false, &AuthenticStatic::generate(r_id)?, None, 8192)?;
        let mut buf = Vec::new();
        for _ in 0..3 {
            let (from, to) = if i.is_my_turn() {
                (&mut i, &mut r)
            } else {
                (&mut r, &mut i)
            };
            buf.clear();
            from.write_message(&mut buf)?;
            to.read_message(strip(&buf))?;
        }
        assert!(i.is_finished() && r.is_finished());
        Ok((i.finish()?, r.finish()?))
    }

    #[test]
    fn message_sizes_follow_the_xx_pattern() {
        let id = Keypair::generate_ed25519();
        let local = AuthenticStatic::generate(&id).unwrap();
        let mut i = Handshake::new(true, &local, None, 8192).unwrap();
        let mut out = Vec::new();
        i.write_message(&mut out).unwrap();
        assert_eq!(out.len(), 2 + 32, "msg1 = e only");
        assert_eq!(&out[..2], &[0, 32]);
    }

    #[test]
    fn both_sides_authenticate_each_other_and_talk() {
        let (a, b) = (Keypair::generate_ed25519(), Keypair::generate_secp256k1());
        let ((mut ti, ri), (mut tr, rr)) = run(&a, &b, Some(b.public().to_peer_id())).unwrap();
        assert_eq!(ri.peer_id, b.public().to_peer_id());
        assert_eq!(rr.peer_id, a.public().to_peer_id());
        let mut ct = [0u8; 64];
        let n = ti.encrypt(b"ping", &mut ct).unwrap();
        let mut pt = [0u8; 64];
        let m = tr.decrypt(&ct[..n], &mut pt).unwrap();
        assert_eq!(&pt[..m], b"ping");
    }

    #[test]
    fn expected_peer_mismatch_names_both() {
        let (a, b, c) = (
            Keypair::generate_ed25519(),
            Keypair::generate_ed25519(),
            Keypair::generate_ed25519(),
        );
        let err = run(&a, &b, Some(c.public().to_peer_id())).err().unwrap();
        let (exp, act) = (c.public().to_peer_id(), b.public().to_peer_id());
        assert!(
            matches!(&err, NoiseError::PeerIdMismatch { expected, actual } if **expected == exp && **actual == act)
        );
        let shown = err.to_string();
        assert!(
            shown.contains(&exp.to_string()) && shown.contains(&act.to_string()),
            "{shown}"
        );
    }

    #[test]
    fn non_empty_first_payload_is_rejected() {
        let id = Keypair::generate_ed25519();
        let mut r =
            Handshake::new(false, &AuthenticStatic::generate(&id).unwrap(), None, 8192).unwrap();
        let err = r.read_message(&[1u8; 40]).unwrap_err();
        assert!(
            matches!(err, NoiseError::NonEmptyMsg1Payload { len: 8 }),
            "{err}"
        );
    }

    #[test]
    fn message_over_the_limit_is_rejected() {
        let id = Keypair::generate_ed25519();
        let mut i =
            Handshake::new(true, &AuthenticStatic::generate(&id).unwrap(), None, 100).unwrap();
        i.write_message(&mut Vec::new()).unwrap();
        let err = i.read_message(&[0u8; 101]).unwrap_err();
        assert!(
            matches!(err, NoiseError::Oversize { len: 101, max: 100 }),
            "{err}"
        );
    }
}
