//! What a handler is told about the connection it works on.

use std::sync::Arc;

use libp2p_identity::{Keypair, PeerId, PublicKey};
use multiaddr::Multiaddr;

use crate::chain::NegotiatedChain;
use crate::memory::MemoryBudget;

/// Which side of the connection we are. For TCP the side that dialed the socket is the
/// [`Role::Dialer`] for every layer above it (multistream initiator, noise initiator, odd yamux
/// stream ids), and the same role is kept on every substream of the connection's muxer for the
/// purposes of who proposes a protocol: the side that *opened the substream* proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// We initiated (dialed the connection, or opened the substream).
    Dialer,
    /// We accepted.
    Listener,
}

impl Role {
    /// `"dialer"` or `"listener"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Dialer => "dialer",
            Role::Listener => "listener",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the peer parses what the layers above the security layer write.
///
/// Modern peers read a byte stream: a muxer may coalesce many frames into one write. Peers of
/// the c-libp2p era (c-ipfs) parse **one message per security frame**: c-libp2p decodes one
/// yamux frame per decrypted secio frame and treats the rest as that frame's payload, and its
/// multistream reads one message per frame. For them every muxer frame and every multistream
/// message must be its own write (a security layer such as secio seals each write as one
/// frame). The security layer that authenticated the peer says which ([`SecuredStream`]'s
/// field); the layers above read it from [`HandlerContext::peer_framing`].
///
/// [`SecuredStream`]: crate::SecuredStream
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PeerFraming {
    /// The peer parses a byte stream; writes may be coalesced.
    #[default]
    Stream,
    /// The peer parses one message (muxer frame, multistream message) per security frame.
    MessagePerFrame,
}

/// Everything a [`crate::StreamHandler`] may need to know besides the bytes.
#[derive(Clone)]
pub struct HandlerContext {
    /// Our side of the connection (or of the substream, for application protocols).
    pub role: Role,
    /// Our identity.
    pub local_key: Arc<Keypair>,
    /// The remote peer, once a security layer has authenticated it; before that, the peer the
    /// dialer expects (from a `/p2p/` address), if any.
    pub remote_peer: Option<PeerId>,
    /// The remote's authenticated public key, once known.
    pub remote_key: Option<PublicKey>,
    /// The remote's transport address, when the transport knows it.
    pub remote_addr: Option<Multiaddr>,
    /// Our transport address for this connection, when the transport knows it.
    pub local_addr: Option<Multiaddr>,
    /// The layers negotiated so far on this connection.
    pub chain: NegotiatedChain,
    /// How the peer parses our writes, as the security layer found (see [`PeerFraming`]).
    pub peer_framing: PeerFraming,
    /// The connection's memory scope, if its owner keeps one: layers reserve from it before
    /// they grow windows or buffers (see [`MemoryBudget`]). `None`: no budget but the
    /// layers' own limits.
    pub memory: Option<Arc<dyn MemoryBudget>>,
}

impl HandlerContext {
    /// A context for a fresh connection: nothing negotiated, nothing known about the remote.
    pub fn new(role: Role, local_key: Arc<Keypair>) -> Self {
        HandlerContext {
            role,
            local_key,
            remote_peer: None,
            remote_key: None,
            remote_addr: None,
            local_addr: None,
            chain: NegotiatedChain::default(),
            peer_framing: PeerFraming::Stream,
            memory: None,
        }
    }

    /// Our PeerId.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_key.public().to_peer_id()
    }

    /// The same context with another role (e.g. for a substream we accepted on a connection we
    /// dialed).
    pub fn with_role(&self, role: Role) -> Self {
        HandlerContext {
            role,
            ..self.clone()
        }
    }
}

impl std::fmt::Debug for HandlerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerContext")
            .field("role", &self.role)
            .field("local_peer", &self.local_peer_id())
            .field("remote_peer", &self.remote_peer)
            .field("remote_addr", &self.remote_addr)
            .field("chain", &self.chain)
            .field("peer_framing", &self.peer_framing)
            .finish()
    }
}
