//! The muxer session trait: what a stream muxer (yamux, mplex) gives the layers above it.

use async_trait::async_trait;

use crate::{BoxStream, ChainError};

/// A multiplexed session over one connection, shared by everyone who opens or accepts
/// substreams on it (`Arc<dyn Muxer>`).
///
/// Implementations are thin shells over a sans-IO session; the I/O is done by the driver
/// future returned beside the muxer in [`crate::Next::Muxed`], which the owner of the
/// connection must run (spawn) until it completes.
#[async_trait]
pub trait Muxer: Send + Sync + 'static {
    /// The muxer's protocol id, e.g. `/yamux/1.0.0`.
    fn protocol(&self) -> &str;

    /// Opens an outbound substream. Waits while the muxer's limits (e.g. the ACK backlog) say so.
    async fn open_stream(&self) -> Result<BoxStream, ChainError>;

    /// Waits for the next inbound substream; `Ok(None)` once the session has ended cleanly.
    async fn accept_stream(&self) -> Result<Option<BoxStream>, ChainError>;

    /// Closes the session gracefully (e.g. yamux GoAway): no new substreams, then the
    /// connection is closed once pending frames are written.
    async fn close(&self) -> Result<(), ChainError>;

    /// Whether the session has ended (closed by either side or failed).
    fn is_closed(&self) -> bool;

    /// What the peer says it is (identify's `agentVersion`), so that the muxer can work around
    /// a known implementation's bugs from now on (yamux does for c-ipfs). Default: nothing.
    fn peer_agent(&self, agent_version: &str) {
        let _ = agent_version;
    }
}
