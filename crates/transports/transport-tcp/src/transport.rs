//! The tokio shell: listeners, dials and accepted connections as [`chainp2p_core::BoxStream`]s.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::{BoxStream, ChainError};
use socket2::{Domain, Socket, Type};
use tokio::net::TcpStream;
use tokio_util::compat::TokioAsyncReadCompatExt;

use crate::addr::{dial_target, listen_target, split_peer_id, to_multiaddr, DialTarget};
use crate::config::LISTEN_BACKLOG;
use crate::{TcpConfig, TcpError};

/// An established TCP connection, ready for the first layer of the chain.
pub struct TcpConnection {
    /// The socket as a `futures` duplex stream; closing it shuts down our write side (FIN).
    pub io: BoxStream,
    /// Our address on this connection.
    pub local_addr: Multiaddr,
    /// The remote's address on this connection.
    pub remote_addr: Multiaddr,
}

impl std::fmt::Debug for TcpConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpConnection")
            .field("local_addr", &self.local_addr)
            .field("remote_addr", &self.remote_addr)
            .finish_non_exhaustive()
    }
}

/// Dials and listens on TCP multiaddrs. Cheap; holds only its configuration.
#[derive(Debug, Clone, Default)]
pub struct TcpTransport {
    config: TcpConfig,
}

impl TcpTransport {
    /// A transport with the given configuration.
    pub fn new(config: TcpConfig) -> Self {
        TcpTransport { config }
    }

    /// Listens on `/ip4|/ip6/<ip>/tcp/<port>`; port 0 picks a free port, reported by
    /// [`TcpListener::local_addr`]. IPv6 listeners are IPv6-only, so `/ip4/0.0.0.0` and `/ip6/::`
    /// can listen on the same port side by side. `SO_REUSEADDR` is set, so a restarted node can
    /// listen again at once on its old port.
    pub async fn listen(&self, addr: &Multiaddr) -> Result<TcpListener, ChainError> {
        let (addr, _peer) = split_peer_id(addr)?;
        let sa = listen_target(&addr)?;
        let listener = bind(sa).map_err(|e| TcpError::io("listen on", &addr, e))?;
        let local = listener
            .local_addr()
            .map_err(|e| TcpError::io("listen on", &addr, e))?;
        tracing::debug!(%addr, local = %local, "tcp listening");
        Ok(TcpListener {
            inner: listener,
            local_addr: to_multiaddr(local),
            nodelay: self.config.nodelay,
        })
    }

    /// Dials `addr` (`/ip4|/ip6|/dns|/dns4|/dns6/<host>/tcp/<port>`, a trailing `/p2p/<id>` is
    /// ignored here: checking the peer is the security layer's job). Host names are resolved
    /// with the system resolver and the results tried in order. The whole dial is bounded by
    /// [`TcpConfig::dial_timeout`] ([`chainp2p_core::ErrorKind::Timeout`]).
    pub async fn dial(&self, addr: &Multiaddr) -> Result<TcpConnection, ChainError> {
        let (addr, _peer) = split_peer_id(addr)?;
        let target = dial_target(&addr)?;
        let stream =
            with_deadline(connect(&addr, target), self.config.dial_timeout, &addr).await??;
        Ok(wrap(stream, self.config.nodelay, &addr)?)
    }
}

/// A bound TCP listener.
#[derive(Debug)]
pub struct TcpListener {
    inner: tokio::net::TcpListener,
    local_addr: Multiaddr,
    nodelay: bool,
}

impl TcpListener {
    /// The address we listen on, with the real port if 0 was asked for.
    pub fn local_addr(&self) -> Multiaddr {
        self.local_addr.clone()
    }

    /// Waits for the next inbound connection. An error concerns one accept (e.g. out of file
    /// descriptors); the listener stays usable.
    pub async fn accept(&self) -> Result<TcpConnection, ChainError> {
        let (stream, _) = self
            .inner
            .accept()
            .await
            .map_err(|e| TcpError::io("accept on", &self.local_addr, e))?;
        Ok(wrap(stream, self.nodelay, &self.local_addr)?)
    }
}

/// Runs `fut` with a deadline; a passed deadline is [`TcpError::DialTimeout`] for `addr`.
pub(crate) async fn with_deadline<T>(
    fut: impl Future<Output = T>,
    timeout: Duration,
    addr: &Multiaddr,
) -> Result<T, TcpError> {
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| TcpError::DialTimeout {
            addr: addr.clone(),
            timeout,
        })
}

/// Connects to the target, trying every resolved address in order; the last error wins.
async fn connect(addr: &Multiaddr, target: DialTarget) -> Result<TcpStream, TcpError> {
    let candidates: Vec<SocketAddr> = match target {
        DialTarget::Socket(sa) => vec![sa],
        DialTarget::Dns { host, port, family } => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| TcpError::io("resolve", addr, e))?
            .filter(|sa| family.accepts(&sa.ip()))
            .collect(),
    };
    let mut last = TcpError::NoAddresses(addr.clone());
    for sa in candidates {
        match TcpStream::connect(sa).await {
            Ok(stream) => return Ok(stream),
            Err(e) => {
                tracing::debug!(%addr, %sa, error = %e, "tcp connect attempt failed");
                last = TcpError::io("dial", addr, e);
            }
        }
    }
    Err(last)
}

/// A non-blocking listening socket: reuse-address, IPv6-only for IPv6.
fn bind(sa: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = Socket::new(
        Domain::for_address(sa),
        Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    if sa.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&sa.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    tokio::net::TcpListener::from_std(socket.into())
}

/// Sets socket options and boxes the stream with its addresses.
fn wrap(stream: TcpStream, nodelay: bool, addr: &Multiaddr) -> Result<TcpConnection, TcpError> {
    let io_err = |e| TcpError::io("set up connection on", addr, e);
    stream.set_nodelay(nodelay).map_err(io_err)?;
    let local_addr = to_multiaddr(stream.local_addr().map_err(io_err)?);
    let remote_addr = to_multiaddr(stream.peer_addr().map_err(io_err)?);
    Ok(TcpConnection {
        io: Box::new(stream.compat()),
        local_addr,
        remote_addr,
    })
}

impl From<TcpConnection> for chainp2p_core::TransportConnection {
    fn from(c: TcpConnection) -> Self {
        chainp2p_core::TransportConnection {
            local_addr: c.local_addr,
            remote_addr: c.remote_addr,
            io: chainp2p_core::TransportIo::Raw(c.io),
        }
    }
}

/// TCP as the chain's [`chainp2p_core::Transport`]: `/ip4|/ip6/…/tcp/N` to listen,
/// `/ip4|/ip6|/dns|/dns4|/dns6/…/tcp/N` to dial; every connection is a raw byte stream.
#[async_trait::async_trait]
impl chainp2p_core::Transport for TcpTransport {
    fn name(&self) -> &'static str {
        crate::LAYER
    }

    fn handles(&self, addr: &Multiaddr) -> bool {
        crate::is_supported(addr)
    }

    async fn listen(&self, addr: &Multiaddr) -> Result<chainp2p_core::Listener, ChainError> {
        let listener = TcpTransport::listen(self, addr).await?;
        let local_addr = listener.local_addr();
        let incoming = futures::stream::unfold(listener, |l| async move {
            let next = l.accept().await.map(Into::into);
            Some((next, l))
        });
        Ok(chainp2p_core::Listener {
            local_addr,
            incoming: Box::pin(incoming),
        })
    }

    async fn dial(
        &self,
        addr: &Multiaddr,
    ) -> Result<chainp2p_core::TransportConnection, ChainError> {
        TcpTransport::dial(self, addr).await.map(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn deadline_turns_into_a_dial_timeout() {
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/9".parse().unwrap();
        let err = with_deadline(std::future::pending::<()>(), Duration::from_secs(10), &addr)
            .await
            .unwrap_err();
        assert!(
            matches!(err, TcpError::DialTimeout { timeout, .. } if timeout == Duration::from_secs(10))
        );
        let chain: ChainError = err.into();
        assert_eq!(chain.kind(), chainp2p_core::ErrorKind::Timeout);
        assert!(
            chain.to_string().contains("/ip4/127.0.0.1/tcp/9"),
            "{chain}"
        );
        assert_eq!(
            with_deadline(async { 5 }, Duration::from_secs(1), &addr)
                .await
                .unwrap(),
            5
        );
    }
}
