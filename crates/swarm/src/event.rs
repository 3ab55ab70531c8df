//! What the swarm tells its user: listeners, connections opened and closed (with their chain).

use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::{ChainError, NegotiatedChain};

use crate::connection::Direction;

/// An event of the swarm, delivered to every [`crate::Swarm::subscribe`]r (and, losslessly,
/// to every [`crate::Swarm::observe`]r).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SwarmEvent {
    /// A listener is bound to this address (without `/p2p/`).
    Listening {
        /// The bound address, with the real port.
        addr: Multiaddr,
    },
    /// A connection completed its chain.
    ConnectionEstablished {
        /// The authenticated remote peer.
        peer_id: PeerId,
        /// Who dialed.
        direction: Direction,
        /// The remote transport address.
        remote_addr: Multiaddr,
        /// Which protocol each layer picked.
        chain: NegotiatedChain,
    },
    /// A connection ended.
    ConnectionClosed {
        /// The remote peer.
        peer_id: PeerId,
        /// Who dialed.
        direction: Direction,
        /// Why, if it ended with an error (naming the layer that failed).
        error: Option<ChainError>,
    },
    /// An inbound connection failed before its chain completed (the listener goes on).
    IncomingConnectionError {
        /// The remote transport address.
        remote_addr: Multiaddr,
        /// What failed, naming the layer.
        error: ChainError,
    },
}
