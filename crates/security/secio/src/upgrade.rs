//! The async shell of the handshake: moves [`Handshake`] messages over a stream under a
//! deadline (Propose, Exchange, then the nonce-check frames), then hands the stream and any
//! bytes read past the handshake to [`SecioStream`]. It owns the one timer the core needs: the
//! bounded wait for the peer's nonce echo when the shared-secret width is open (see
//! [`crate::SharedSecretWidth::Auto`]). Also the [`SecurityHandler`] implementation the chain
//! uses.

use std::future::poll_fn;

use async_trait::async_trait;
use chainp2p_core::identity::{Keypair, PeerId};
use chainp2p_core::{
    BoxStream, ChainError, HandlerContext, PeerFraming, Role, SecuredStream, SecurityHandler,
};
use chainp2p_framing::RecvBuf;
use futures::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::codec::{needed, parse_frame, write_header, HEADER_LEN};
use crate::config::SecioConfig;
use crate::ecdh::SharedSecretWidth;
use crate::error::SecioError;
use crate::handshake::{Chosen, Handshake};
use crate::stream::SecioStream;
use crate::PROTOCOL;

/// The receive buffer is at least this large (64 KiB), whatever the configuration says.
const MIN_RECV_BUF: usize = 64 * 1024;

/// What the handshake learnt about the remote.
#[derive(Debug, Clone)]
pub struct RemoteInfo {
    /// The authenticated peer.
    pub peer_id: PeerId,
    /// Its identity key.
    pub public_key: chainp2p_core::identity::PublicKey,
    /// The negotiated algorithms.
    pub chosen: Chosen,
    /// The shared-secret encoding the session settled on (`Fixed` or `StripLeadingZeros`).
    pub secret_width: SharedSecretWidth,
}

impl SecioConfig {
    /// Runs the handshake on any stream within the configured timeout. Secio is symmetric, so
    /// there is no role; `expected` is the peer we must end up talking to, if known.
    pub async fn upgrade<T>(
        &self,
        io: T,
        identity: &Keypair,
        expected: Option<PeerId>,
    ) -> Result<(SecioStream<T>, RemoteInfo), SecioError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send,
    {
        self.upgrade_with(io, Handshake::new(self, identity, expected))
            .await
    }

    /// [`SecioConfig::upgrade`] with a prepared handshake.
    pub(crate) async fn upgrade_with<T>(
        &self,
        io: T,
        hs: Handshake,
    ) -> Result<(SecioStream<T>, RemoteInfo), SecioError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send,
    {
        chainp2p_framing::within(self.handshake_timeout, run_handshake(io, hs, self))
            .await
            .unwrap_or(Err(SecioError::HandshakeTimeout(self.handshake_timeout)))
    }
}

async fn run_handshake<T>(
    mut io: T,
    mut hs: Handshake,
    cfg: &SecioConfig,
) -> Result<(SecioStream<T>, RemoteInfo), SecioError>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let mut rb = RecvBuf::new(cfg.read_buffer.max(MIN_RECV_BUF));
    let max = cfg.max_handshake_message;
    write_frame(&mut io, hs.local_proposal()).await?;
    let total = read_frame(&mut io, &mut rb, max).await?;
    let exchange = hs.on_proposal(rb.data().get(HEADER_LEN..total).unwrap_or_default())?;
    rb.consume(total);
    write_frame(&mut io, &exchange).await?;
    let total = read_frame(&mut io, &mut rb, max).await?;
    let mut session = hs.on_exchange(rb.data().get(HEADER_LEN..total).unwrap_or_default())?;
    rb.consume(total);
    // Width open (rare): give the peer a bounded time to send its nonce echo first.
    let early = if session.awaits_remote_first() {
        let wait = cfg.ambiguous_width_wait;
        tracing::debug!(
            ?wait,
            "secio: leading zero byte in the shared secret, peer first"
        );
        match chainp2p_framing::within(wait, read_frame(&mut io, &mut rb, max)).await {
            Some(total) => Some(total?),
            None => {
                tracing::debug!(
                    ?wait,
                    "secio: no nonce echo within the wait, ours goes first"
                );
                None
            }
        }
    } else {
        None
    };
    if let Some(total) = early {
        session.check_nonce(rb.data_mut().get_mut(HEADER_LEN..total).unwrap_or_default())?;
        rb.consume(total);
    }
    // Our nonce echo goes out alone, before we wait for theirs (no extra round trip).
    let nonce_frame = session.nonce_frame()?;
    io.write_all(&nonce_frame).await?;
    io.flush().await?;
    if early.is_none() {
        let total = read_frame(&mut io, &mut rb, max).await?;
        session.check_nonce(rb.data_mut().get_mut(HEADER_LEN..total).unwrap_or_default())?;
        rb.consume(total);
    }
    let info = RemoteInfo {
        secret_width: session.secret_width(),
        peer_id: session.remote_peer,
        public_key: session.remote_key,
        chosen: session.chosen,
    };
    let stream = SecioStream::new(io, session.encoder, session.decoder, rb, cfg.max_frame_len);
    Ok((stream, info))
}

/// Writes one plaintext handshake frame and flushes.
async fn write_frame<T: AsyncWrite + Unpin>(io: &mut T, body: &[u8]) -> Result<(), SecioError> {
    let mut frame = vec![0u8; HEADER_LEN + body.len()];
    write_header(&mut frame, body.len())?;
    if let Some(dst) = frame.get_mut(HEADER_LEN..) {
        dst.copy_from_slice(body);
    }
    io.write_all(&frame).await?;
    io.flush().await?;
    Ok(())
}

/// Reads until one whole frame is buffered; returns its total length.
async fn read_frame<T: AsyncRead + Unpin>(
    io: &mut T,
    rb: &mut RecvBuf,
    max: usize,
) -> Result<usize, SecioError> {
    loop {
        if let Some(total) = parse_frame(rb.data(), max)? {
            return Ok(total);
        }
        let need = needed(rb.data());
        if poll_fn(|cx| rb.poll_fill(io, cx, need)).await? == 0 {
            return Err(match rb.len() {
                0 => SecioError::ClosedDuringHandshake,
                have => SecioError::FrameTruncated { have, need },
            });
        }
    }
}

#[async_trait]
impl SecurityHandler for SecioConfig {
    fn protocol(&self) -> &str {
        PROTOCOL
    }

    async fn secure(
        &self,
        io: BoxStream,
        ctx: &HandlerContext,
    ) -> Result<SecuredStream, ChainError> {
        // Only a dialer holds an expectation; a listener's ctx.remote_peer is always None.
        let expected = match ctx.role {
            Role::Dialer => ctx.remote_peer,
            Role::Listener => None,
        };
        let (stream, remote) = self.upgrade(io, &ctx.local_key, expected).await?;
        tracing::debug!(
            peer = %remote.peer_id,
            chosen = ?remote.chosen,
            secret_width = ?remote.secret_width,
            "secio handshake done"
        );
        Ok(SecuredStream {
            io: Box::new(stream),
            remote_peer: remote.peer_id,
            remote_key: remote.public_key,
            details: remote.chosen.details(),
            peer_framing: PeerFraming::MessagePerFrame,
        })
    }
}
