//! Application protocols as a user writes them: a [`Protocol`] gets one inbound substream and
//! the remote peer, returns `std::io::Result<()>`, and knows nothing of the chain's
//! [`Next`](chainp2p_core::Next) or [`HandlerContext`]. [`ProtocolHandler`] adapts it onto the
//! chain's [`StreamHandler`], which is what [`SwarmBuilder::serve`](crate::SwarmBuilder::serve)
//! and [`SwarmBuilder::serve_fn`](crate::SwarmBuilder::serve_fn) register.
//!
//! An error the protocol returns becomes a [`ChainError`] whose layer is the protocol id (the
//! swarm logs it as a failed substream); an I/O error that carries a lower layer's
//! `ChainError` (a muxer reset, say) keeps naming that layer.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use chainp2p_core::identity::PeerId;
use chainp2p_core::{BoxStream, ChainError, ErrorKind, HandlerContext, Layer, Next, StreamHandler};

/// An application protocol served on inbound substreams: one call per substream the remote
/// opened to it. `stream` is the negotiated substream (read and write it with
/// `futures`' [`AsyncReadExt`](futures::AsyncReadExt) / [`AsyncWriteExt`](futures::AsyncWriteExt));
/// `peer` is the authenticated remote.
///
/// ```
/// use chainp2p_swarm::prelude::*;
///
/// /// Echoes every byte back until the remote closes its side.
/// struct Echo;
///
/// #[async_trait]
/// impl Protocol for Echo {
///     async fn handle(&self, mut stream: BoxStream, _peer: PeerId) -> std::io::Result<()> {
///         let (mut reader, mut writer) = stream.split();
///         futures::io::copy(&mut reader, &mut writer).await?;
///         writer.close().await
///     }
/// }
///
/// let builder = SwarmBuilder::new(Keypair::generate_ed25519()).serve("/echo/1.0.0", Echo);
/// ```
#[async_trait]
pub trait Protocol: Send + Sync + 'static {
    /// Serves one inbound substream from `peer`.
    async fn handle(&self, stream: BoxStream, peer: PeerId) -> std::io::Result<()>;
}

/// A closure `|stream, peer| async move { … Ok(()) }` as a [`Protocol`] (what
/// [`SwarmBuilder::serve_fn`](crate::SwarmBuilder::serve_fn) wraps).
pub struct ProtocolFn<F>(pub F);

#[async_trait]
impl<F, Fut> Protocol for ProtocolFn<F>
where
    F: Fn(BoxStream, PeerId) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::io::Result<()>> + Send + 'static,
{
    async fn handle(&self, stream: BoxStream, peer: PeerId) -> std::io::Result<()> {
        (self.0)(stream, peer).await
    }
}

#[async_trait]
impl<P: Protocol + ?Sized> Protocol for Arc<P> {
    async fn handle(&self, stream: BoxStream, peer: PeerId) -> std::io::Result<()> {
        (**self).handle(stream, peer).await
    }
}

/// A [`Protocol`] under one protocol id, as the chain's [`StreamHandler`].
pub struct ProtocolHandler {
    id: String,
    protocol: Arc<dyn Protocol>,
}

impl ProtocolHandler {
    /// Serves `protocol` under the id `id` (e.g. `"/echo/1.0.0"`).
    pub fn new(id: impl Into<String>, protocol: impl Protocol) -> Self {
        ProtocolHandler {
            id: id.into(),
            protocol: Arc::new(protocol),
        }
    }

    /// The protocol id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

#[async_trait]
impl StreamHandler for ProtocolHandler {
    fn protocols(&self) -> Vec<String> {
        vec![self.id.clone()]
    }

    async fn handle(
        &self,
        _protocol: &str,
        io: BoxStream,
        ctx: HandlerContext,
    ) -> Result<Next, ChainError> {
        // The swarm runs application handlers only above a security layer, so the peer is
        // known; a chain without one (a test harness) has no peer to hand over.
        let peer = ctx.remote_peer.ok_or_else(|| {
            ChainError::new(
                Layer::owned(self.id.clone()),
                ErrorKind::Authentication,
                "no authenticated remote peer for an application protocol",
            )
        })?;
        self.protocol
            .handle(io, peer)
            .await
            .map_err(|e| ChainError::from_io(Layer::owned(self.id.clone()), e))?;
        Ok(Next::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chainp2p_core::identity::Keypair;
    use chainp2p_core::Role;
    use futures::{AsyncReadExt, AsyncWriteExt};

    fn context(peer: Option<PeerId>) -> HandlerContext {
        let mut ctx = HandlerContext::new(Role::Listener, Arc::new(Keypair::generate_ed25519()));
        ctx.remote_peer = peer;
        ctx
    }

    fn pipe() -> (BoxStream, BoxStream) {
        let (a, b) = chainp2p_transport_memory::pipe(1024);
        (Box::new(a), Box::new(b))
    }

    #[tokio::test]
    async fn a_closure_protocol_gets_the_stream_and_the_peer() {
        let peer = Keypair::generate_ed25519().public().to_peer_id();
        let (seen_tx, seen_rx) = futures::channel::oneshot::channel();
        let seen_tx = std::sync::Mutex::new(Some(seen_tx));
        let handler = ProtocolHandler::new(
            "/echo/1.0.0",
            ProtocolFn(move |mut stream: BoxStream, peer: PeerId| {
                let tx = seen_tx.lock().ok().and_then(|mut t| t.take());
                async move {
                    let mut buf = [0u8; 5];
                    stream.read_exact(&mut buf).await?;
                    stream.write_all(&buf).await?;
                    stream.close().await?;
                    if let Some(tx) = tx {
                        let _ = tx.send(peer);
                    }
                    Ok(())
                }
            }),
        );
        assert_eq!(handler.protocols(), vec!["/echo/1.0.0"]);
        let (ours, mut theirs) = pipe();
        let serve = handler.handle("/echo/1.0.0", ours, context(Some(peer)));
        let client = async {
            theirs.write_all(b"hello").await.unwrap();
            let mut back = Vec::new();
            theirs.read_to_end(&mut back).await.unwrap();
            back
        };
        let (next, back) = futures::join!(serve, client);
        assert!(matches!(next.unwrap(), Next::Done));
        assert_eq!(back, b"hello");
        assert_eq!(seen_rx.await.unwrap(), peer);
    }

    #[tokio::test]
    async fn an_io_error_names_the_protocol() {
        let peer = Keypair::generate_ed25519().public().to_peer_id();
        let handler = ProtocolHandler::new(
            "/fails/1.0.0",
            ProtocolFn(|_stream: BoxStream, _peer: PeerId| async {
                Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "bad request",
                ))
            }),
        );
        let (ours, _theirs) = pipe();
        let err = handler
            .handle("/fails/1.0.0", ours, context(Some(peer)))
            .await
            .unwrap_err();
        assert_eq!(err.layer().as_str(), "/fails/1.0.0");
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(err.to_string().contains("bad request"), "{err}");
    }

    #[tokio::test]
    async fn no_peer_no_call() {
        let handler = ProtocolHandler::new(
            "/p/1.0.0",
            ProtocolFn(|_stream: BoxStream, _peer: PeerId| async {
                panic!("called without a peer")
            }),
        );
        let (ours, _theirs) = pipe();
        let err = handler
            .handle("/p/1.0.0", ours, context(None))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
    }
}
