//! The transport shell: [`MemoryTransport`] (listen and dial `/memory/N`), [`MemoryListener`]
//! (the accept side, a stream of inbound connections), [`MemoryConnection`], and the
//! [`chainp2p_core::Transport`] implementation.

use std::num::NonZeroU64;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use chainp2p_core::multiaddr::{Multiaddr, Protocol};
use chainp2p_core::{split_peer_id, ChainError};
use futures::Stream;

use crate::hub::{self, AcceptQueue};
use crate::{MemoryConfig, MemoryError, MemoryStream};

/// Whether `addr` is `/memory/N`, optionally followed by `/p2p/<id>`.
pub fn is_supported(addr: &Multiaddr) -> bool {
    let mut it = addr.iter();
    matches!(it.next(), Some(Protocol::Memory(_)))
        && match it.next() {
            None => true,
            Some(Protocol::P2p(_)) => it.next().is_none(),
            Some(_) => false,
        }
}

/// The multiaddr of memory port `port`: `/memory/<port>`.
pub fn memory_addr(port: u64) -> Multiaddr {
    Multiaddr::empty().with(Protocol::Memory(port))
}

/// The port of `addr` (`/memory/N`, optionally `/p2p/<id>`).
fn port_of(addr: &Multiaddr) -> Result<u64, ChainError> {
    let (transport, _peer) = split_peer_id(addr)?;
    let mut it = transport.iter();
    match (it.next(), it.next()) {
        (Some(Protocol::Memory(port)), None) => Ok(port),
        _ => Err(MemoryError::Unsupported {
            addr: addr.clone(),
            reason: "not /memory/N",
        }
        .into()),
    }
}

/// One end of a memory connection with its addresses.
#[derive(Debug)]
pub struct MemoryConnection {
    /// The byte stream.
    pub io: MemoryStream,
    /// Our address: the listener's port, or the dialer's ephemeral port.
    pub local_addr: Multiaddr,
    /// The other end's address.
    pub remote_addr: Multiaddr,
}

impl From<MemoryConnection> for chainp2p_core::TransportConnection {
    fn from(c: MemoryConnection) -> Self {
        chainp2p_core::TransportConnection {
            local_addr: c.local_addr,
            remote_addr: c.remote_addr,
            io: chainp2p_core::TransportIo::Raw(Box::new(c.io)),
        }
    }
}

/// The in-memory transport: listens on and dials `/memory/N` inside this process.
#[derive(Debug, Clone, Default)]
pub struct MemoryTransport {
    config: MemoryConfig,
}

impl MemoryTransport {
    /// A transport with `config`.
    pub fn new(config: MemoryConfig) -> Self {
        MemoryTransport { config }
    }

    /// The transport's settings.
    pub fn config(&self) -> &MemoryConfig {
        &self.config
    }

    /// Takes the port of `addr` (`/memory/0`: a free non-zero one) until the listener is
    /// dropped. Fails with [`MemoryError::AddrInUse`] if the port is taken.
    pub fn listen_on(&self, addr: &Multiaddr) -> Result<MemoryListener, ChainError> {
        let port = port_of(addr)?;
        let (port, queue) = hub::listen(port, self.config.backlog())?;
        tracing::debug!(port, "memory: listening");
        Ok(MemoryListener { port, queue })
    }

    /// Connects to the listener on the port of `addr`. Fails at once with
    /// [`MemoryError::Refused`] if nobody listens there, or [`MemoryError::BacklogFull`] if
    /// the listener has its backlog of connections not yet accepted. The connection's local
    /// address is a fresh ephemeral `/memory/M`, taken until the stream is dropped.
    pub fn connect(&self, addr: &Multiaddr) -> Result<MemoryConnection, ChainError> {
        let port = port_of(addr)?;
        let (io, local) = hub::dial(port, self.config.buffer_size())?;
        tracing::debug!(port, local, "memory: dialed");
        Ok(MemoryConnection {
            io,
            local_addr: memory_addr(local.get()),
            remote_addr: memory_addr(port),
        })
    }
}

/// A listening memory port and its inbound connections (a [`Stream`] that ends only when
/// the listener is dropped). Dropping it frees the port and closes the connections dialed
/// but not yet accepted: their dialers read EOF and their writes fail with `BrokenPipe`.
#[derive(Debug)]
pub struct MemoryListener {
    port: NonZeroU64,
    queue: Arc<AcceptQueue>,
}

impl MemoryListener {
    /// The port listened on.
    pub fn port(&self) -> u64 {
        self.port.get()
    }

    /// The address listened on: `/memory/<port>`.
    pub fn local_addr(&self) -> Multiaddr {
        memory_addr(self.port.get())
    }

    /// Waits for the next inbound connection.
    pub async fn accept(&mut self) -> MemoryConnection {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for the next inbound connection.
    pub fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<MemoryConnection> {
        let mut state = self.queue.lock();
        match state.pending.pop_front() {
            Some(p) => Poll::Ready(MemoryConnection {
                io: p.stream,
                local_addr: memory_addr(self.port.get()),
                remote_addr: memory_addr(p.remote_port.get()),
            }),
            None => {
                match &state.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => state.waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}

impl Stream for MemoryListener {
    type Item = Result<chainp2p_core::TransportConnection, ChainError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_accept(cx).map(|c| Some(Ok(c.into())))
    }
}

impl Drop for MemoryListener {
    fn drop(&mut self) {
        tracing::debug!(port = self.port.get(), "memory: listener closed");
        hub::close_listener(self.port, &self.queue);
    }
}

/// Memory as the chain's [`chainp2p_core::Transport`]: `/memory/N` (optionally `/p2p/<id>`)
/// to listen and dial; every connection is a raw byte stream.
#[async_trait::async_trait]
impl chainp2p_core::Transport for MemoryTransport {
    fn name(&self) -> &'static str {
        crate::LAYER
    }

    fn handles(&self, addr: &Multiaddr) -> bool {
        is_supported(addr)
    }

    async fn listen(&self, addr: &Multiaddr) -> Result<chainp2p_core::Listener, ChainError> {
        let listener = self.listen_on(addr)?;
        Ok(chainp2p_core::Listener {
            local_addr: listener.local_addr(),
            incoming: Box::pin(listener),
        })
    }

    async fn dial(
        &self,
        addr: &Multiaddr,
    ) -> Result<chainp2p_core::TransportConnection, ChainError> {
        self.connect(addr).map(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_memory_with_an_optional_peer_only() {
        let id = chainp2p_core::identity::Keypair::generate_ed25519()
            .public()
            .to_peer_id();
        let yes = [
            "/memory/0".to_owned(),
            "/memory/9".to_owned(),
            format!("/memory/9/p2p/{id}"),
        ];
        for a in yes {
            assert!(is_supported(&a.parse().unwrap()), "{a}");
        }
        let no = [
            "/ip4/127.0.0.1/tcp/1".to_owned(),
            "/memory/1/memory/2".to_owned(),
            format!("/p2p/{id}"),
            format!("/memory/1/p2p/{id}/memory/2"),
            "/ip4/127.0.0.1/tcp/1/memory/2".to_owned(),
        ];
        for a in no {
            assert!(!is_supported(&a.parse().unwrap()), "{a}");
        }
    }
}
