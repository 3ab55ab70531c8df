//! The bottom of the chain: transports. A [`Transport`] listens on a [`Multiaddr`] (giving a
//! stream of inbound connections) and dials one (giving a connection with its local and remote
//! address).
//!
//! Most transports (TCP, memory) hand over a raw byte stream, and the swarm runs the whole chain
//! on it: multistream, security, multistream, muxer. A transport whose connections arrive
//! already secured and multiplexed (QUIC) hands over a [`MuxedConnection`] instead, and the swarm
//! takes it straight to the substream stage.

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;
use futures::Stream;
use libp2p_identity::{PeerId, PublicKey};
use multiaddr::{Multiaddr, Protocol};

use crate::{BoxStream, ChainError, ChainStep, ErrorKind, Muxer};

/// A connection as a transport hands it over.
pub struct TransportConnection {
    /// Our address on this connection.
    pub local_addr: Multiaddr,
    /// The remote's address on this connection.
    pub remote_addr: Multiaddr,
    /// What the connection carries.
    pub io: TransportIo,
}

/// What a transport connection carries.
// One per connection: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[non_exhaustive]
pub enum TransportIo {
    /// A raw duplex byte stream: the swarm runs security and muxer negotiation on it.
    Raw(BoxStream),
    /// A connection the transport already secured and multiplexed (QUIC): the swarm goes
    /// straight to the substream stage.
    Muxed(MuxedConnection),
}

/// A connection secured and multiplexed by its transport.
pub struct MuxedConnection {
    /// The authenticated remote peer.
    pub remote_peer: PeerId,
    /// The remote's authenticated public key.
    pub remote_key: PublicKey,
    /// The session, shared by everyone opening or accepting substreams.
    pub muxer: Arc<dyn Muxer>,
    /// The session's I/O loop; it must be run (spawned) until it completes.
    pub driver: BoxFuture<'static, Result<(), ChainError>>,
    /// What the transport negotiated, for the chain record (e.g. the QUIC version and the TLS
    /// cipher suite), in order.
    pub steps: Vec<ChainStep>,
}

impl std::fmt::Debug for TransportConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.io {
            TransportIo::Raw(_) => "raw",
            TransportIo::Muxed(_) => "muxed",
        };
        f.debug_struct("TransportConnection")
            .field("local_addr", &self.local_addr)
            .field("remote_addr", &self.remote_addr)
            .field("io", &kind)
            .finish()
    }
}

/// The inbound connections of a listener. An `Err` item concerns one connection (an accept
/// that failed); the listener goes on. The stream ends when the listener is closed.
pub type Incoming = Pin<Box<dyn Stream<Item = Result<TransportConnection, ChainError>> + Send>>;

/// A bound listener: its address (with the real port if 0 was asked for) and its inbound
/// connections. Dropping it stops listening.
pub struct Listener {
    /// The address we listen on.
    pub local_addr: Multiaddr,
    /// The inbound connections.
    pub incoming: Incoming,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

/// A transport: the first link of the chain.
///
/// Addresses given to [`Transport::listen`] and [`Transport::dial`] may end in `/p2p/<id>`; a
/// transport ignores it (checking the peer is the security layer's job, or a muxed transport's
/// handshake).
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// A short name, the layer of this transport's errors: `"tcp"`, `"memory"`, `"quic"`.
    fn name(&self) -> &'static str;

    /// Whether `addr` is an address of this transport (the swarm picks the transport of a dial
    /// or a listen with it).
    fn handles(&self, addr: &Multiaddr) -> bool;

    /// Starts listening on `addr`.
    async fn listen(&self, addr: &Multiaddr) -> Result<Listener, ChainError>;

    /// Dials `addr`.
    async fn dial(&self, addr: &Multiaddr) -> Result<TransportConnection, ChainError>;
}

/// A shared transport is one too, so a list can mix transports as `Arc<dyn Transport>`.
#[async_trait]
impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn handles(&self, addr: &Multiaddr) -> bool {
        (**self).handles(addr)
    }

    async fn listen(&self, addr: &Multiaddr) -> Result<Listener, ChainError> {
        (**self).listen(addr).await
    }

    async fn dial(&self, addr: &Multiaddr) -> Result<TransportConnection, ChainError> {
        (**self).dial(addr).await
    }
}

/// Splits a trailing `/p2p/<id>` off `addr`: the transport address and the expected peer.
/// Fails with [`ErrorKind::InvalidInput`] if nothing but the peer id is left.
pub fn split_peer_id(addr: &Multiaddr) -> Result<(Multiaddr, Option<PeerId>), ChainError> {
    let mut rest = addr.clone();
    let peer = match rest.iter().last() {
        Some(Protocol::P2p(peer)) => Some(peer),
        _ => None,
    };
    if peer.is_some() {
        rest.pop();
    }
    if rest.is_empty() {
        return Err(ChainError::new(
            "multiaddr",
            ErrorKind::InvalidInput,
            format!("{addr} has no transport address"),
        ));
    }
    Ok((rest, peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_peer_id_takes_a_trailing_p2p_and_needs_a_transport() {
        let id = libp2p_identity::Keypair::generate_ed25519()
            .public()
            .to_peer_id();
        let addr: Multiaddr = format!("/memory/7/p2p/{id}").parse().unwrap();
        let (t, p) = split_peer_id(&addr).unwrap();
        assert_eq!(t, "/memory/7".parse::<Multiaddr>().unwrap());
        assert_eq!(p, Some(id));
        let bad: Multiaddr = format!("/p2p/{id}").parse().unwrap();
        let e = split_peer_id(&bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let (t, p) = split_peer_id(&"/memory/7".parse().unwrap()).unwrap();
        assert_eq!((t.to_string(), p), ("/memory/7".to_owned(), None));
    }
}
