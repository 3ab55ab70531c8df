//! The stream-handler traits: one handler per layer, chained by multistream-select.

use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;
use libp2p_identity::{PeerId, PublicKey};

use crate::{BoxStream, ChainError, HandlerContext, Muxer, PeerFraming};

/// A byte stream that a security layer authenticated and encrypted.
pub struct SecuredStream {
    /// The secured duplex stream; the next layer reads and writes plaintext here.
    pub io: BoxStream,
    /// The authenticated remote peer.
    pub remote_peer: PeerId,
    /// The remote's authenticated public key.
    pub remote_key: PublicKey,
    /// Layer-specific details for the chain record (e.g. secio's cipher), key/value pairs.
    pub details: Vec<(String, String)>,
    /// How the peer parses what the layers above write: [`PeerFraming::MessagePerFrame`] for
    /// protocols only c-libp2p-era peers speak (secio), so the muxer and multistream above keep
    /// every message in its own write.
    pub peer_framing: PeerFraming,
}

impl std::fmt::Debug for SecuredStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecuredStream")
            .field("remote_peer", &self.remote_peer)
            .field("details", &self.details)
            .finish_non_exhaustive()
    }
}

/// What the next layer works on, returned by [`StreamHandler::handle`].
// Returned once per layer per connection: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[non_exhaustive]
pub enum Next {
    /// A security layer ran: the next layer works on the secured stream.
    Secured(SecuredStream),
    /// A muxer ran: the next layer works on its substreams. The driver future does the
    /// session's I/O and must be run (spawned) until it completes; it ends when the connection
    /// does.
    Muxed {
        /// The session, shared by everyone opening or accepting substreams.
        muxer: Arc<dyn Muxer>,
        /// The session's I/O loop.
        driver: BoxFuture<'static, Result<(), ChainError>>,
    },
    /// An application protocol ran to completion: nothing further.
    Done,
}

impl std::fmt::Debug for Next {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Next::Secured(s) => f.debug_tuple("Secured").field(s).finish(),
            Next::Muxed { muxer, .. } => f.debug_tuple("Muxed").field(&muxer.protocol()).finish(),
            Next::Done => f.write_str("Done"),
        }
    }
}

/// One handler of the chain: it answers to one or more protocol ids, is given the duplex byte
/// stream that the layer below produced (multistream-select already agreed on `protocol`) and
/// the connection's context, and returns what the next layer works on.
///
/// Inbound bytes travel up through the handlers; what a handler writes travels back down.
#[async_trait]
pub trait StreamHandler: Send + Sync + 'static {
    /// The protocol ids this handler answers to, in our order of preference.
    fn protocols(&self) -> Vec<String>;

    /// Runs the protocol on `io` after `protocol` was agreed.
    async fn handle(
        &self,
        protocol: &str,
        io: BoxStream,
        ctx: HandlerContext,
    ) -> Result<Next, ChainError>;
}

/// A security layer (noise, secio, plaintext): turns a raw stream into an authenticated,
/// encrypted one. Wrap it in [`SecurityLayer`] to use it as a [`StreamHandler`].
#[async_trait]
pub trait SecurityHandler: Send + Sync + 'static {
    /// The protocol id, e.g. `/noise`.
    fn protocol(&self) -> &str;

    /// Runs the handshake as `ctx.role`. A dialer that knows whom it dials (`ctx.remote_peer`)
    /// must fail with [`crate::ErrorKind::Authentication`] if the authenticated peer differs.
    async fn secure(
        &self,
        io: BoxStream,
        ctx: &HandlerContext,
    ) -> Result<SecuredStream, ChainError>;
}

/// A stream muxer (yamux, mplex): turns a stream into a session of substreams. Wrap it in
/// [`MuxerLayer`] to use it as a [`StreamHandler`].
#[async_trait]
pub trait MuxerHandler: Send + Sync + 'static {
    /// The protocol id, e.g. `/yamux/1.0.0`.
    fn protocol(&self) -> &str;

    /// Starts a session on `io`; stream-id parity and the like come from `ctx.role`.
    async fn multiplex(
        &self,
        io: BoxStream,
        ctx: &HandlerContext,
    ) -> Result<(Arc<dyn Muxer>, BoxFuture<'static, Result<(), ChainError>>), ChainError>;
}

/// A shared security handler is one too, so lists of different handlers can be written as
/// `[Arc::new(noise) as Arc<dyn SecurityHandler>, Arc::new(secio)]`.
#[async_trait]
impl<T: SecurityHandler + ?Sized> SecurityHandler for Arc<T> {
    fn protocol(&self) -> &str {
        (**self).protocol()
    }

    async fn secure(
        &self,
        io: BoxStream,
        ctx: &HandlerContext,
    ) -> Result<SecuredStream, ChainError> {
        (**self).secure(io, ctx).await
    }
}

/// A shared muxer handler is one too (lists of different muxers, see the security impl).
#[async_trait]
impl<T: MuxerHandler + ?Sized> MuxerHandler for Arc<T> {
    fn protocol(&self) -> &str {
        (**self).protocol()
    }

    async fn multiplex(
        &self,
        io: BoxStream,
        ctx: &HandlerContext,
    ) -> Result<(Arc<dyn Muxer>, BoxFuture<'static, Result<(), ChainError>>), ChainError> {
        (**self).multiplex(io, ctx).await
    }
}

/// Adapts a [`SecurityHandler`] to the [`StreamHandler`] chain.
pub struct SecurityLayer<T>(pub T);

#[async_trait]
impl<T: SecurityHandler> StreamHandler for SecurityLayer<T> {
    fn protocols(&self) -> Vec<String> {
        vec![self.0.protocol().to_owned()]
    }

    async fn handle(
        &self,
        _protocol: &str,
        io: BoxStream,
        ctx: HandlerContext,
    ) -> Result<Next, ChainError> {
        self.0.secure(io, &ctx).await.map(Next::Secured)
    }
}

/// Adapts a [`MuxerHandler`] to the [`StreamHandler`] chain.
pub struct MuxerLayer<T>(pub T);

#[async_trait]
impl<T: MuxerHandler> StreamHandler for MuxerLayer<T> {
    fn protocols(&self) -> Vec<String> {
        vec![self.0.protocol().to_owned()]
    }

    async fn handle(
        &self,
        _protocol: &str,
        mut io: BoxStream,
        ctx: HandlerContext,
    ) -> Result<Next, ChainError> {
        // A lazy dialer below (multistream `V1Lazy`) holds its header and proposal until the
        // first write, and a muxer may write nothing until a substream opens: the peer would
        // wait for the proposal meanwhile. Flushed now, it goes out at once (a no-op when
        // nothing is pending).
        futures::AsyncWriteExt::flush(&mut io)
            .await
            .map_err(|e| ChainError::from_io("multistream", e))?;
        let (muxer, driver) = self.0.multiplex(io, &ctx).await?;
        Ok(Next::Muxed { muxer, driver })
    }
}
