//! The async shell of the handshake: moves [`Handshake`] messages over a stream under a
//! deadline, then hands the stream (and any bytes read past the handshake) to [`NoiseStream`].
//! Also the [`SecurityHandler`] implementation the chain uses.

use std::future::poll_fn;

use async_trait::async_trait;
use chainp2p_core::identity::{Keypair, PeerId};
use chainp2p_core::{
    BoxStream, ChainError, HandlerContext, PeerFraming, Role, SecuredStream, SecurityHandler,
};
use futures::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use chainp2p_framing::RecvBuf;

use crate::codec::{needed, parse_frame, HEADER_LEN, MAX_FRAME_LEN};
use crate::config::NoiseConfig;
use crate::error::NoiseError;
use crate::handshake::{Handshake, RemoteIdentity, NOISE_PARAMS};
use crate::stream::NoiseStream;
use crate::PROTOCOL;

impl NoiseConfig {
    /// Runs the handshake on any stream, as initiator or responder, within the configured
    /// timeout. `expected` is the peer we must end up talking to, if known.
    pub async fn upgrade<T>(
        &self,
        io: T,
        initiator: bool,
        identity: &Keypair,
        expected: Option<PeerId>,
    ) -> Result<(NoiseStream<T>, RemoteIdentity), NoiseError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let local = self.static_key(identity)?;
        let hs = Handshake::new(initiator, &local, expected, self.max_handshake_message)?;
        // at least two maximal frames, so one always fits after compaction
        let rb = RecvBuf::new(self.read_buffer.max(2 * MAX_FRAME_LEN));
        chainp2p_framing::within(self.handshake_timeout, run_handshake(io, hs, rb))
            .await
            .unwrap_or(Err(NoiseError::HandshakeTimeout(self.handshake_timeout)))
    }
}

async fn run_handshake<T>(
    mut io: T,
    mut hs: Handshake,
    mut rb: RecvBuf,
) -> Result<(NoiseStream<T>, RemoteIdentity), NoiseError>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let mut out = Vec::with_capacity(512);
    while !hs.is_finished() {
        if hs.is_my_turn() {
            out.clear();
            hs.write_message(&mut out)?;
            io.write_all(&out).await?;
            io.flush().await?;
        } else {
            let total = read_frame(&mut io, &mut rb, hs.max_message()).await?;
            hs.read_message(rb.data().get(HEADER_LEN..total).unwrap_or_default())?;
            rb.consume(total);
        }
    }
    let (transport, remote) = hs.finish()?;
    Ok((NoiseStream::new(io, transport, rb), remote))
}

/// Reads until one whole frame is buffered; returns its total length.
async fn read_frame<T: AsyncRead + Unpin>(
    io: &mut T,
    rb: &mut RecvBuf,
    max: usize,
) -> Result<usize, NoiseError> {
    loop {
        if let Some(total) = parse_frame(rb.data(), max)? {
            return Ok(total);
        }
        if poll_fn(|cx| rb.poll_fill(io, cx, MAX_FRAME_LEN)).await? == 0 {
            return Err(match rb.len() {
                0 => NoiseError::ClosedDuringHandshake,
                have => NoiseError::FrameTruncated {
                    have,
                    need: needed(rb.data()),
                },
            });
        }
    }
}

#[async_trait]
impl SecurityHandler for NoiseConfig {
    fn protocol(&self) -> &str {
        PROTOCOL
    }

    async fn secure(
        &self,
        io: BoxStream,
        ctx: &HandlerContext,
    ) -> Result<SecuredStream, ChainError> {
        let initiator = ctx.role == Role::Dialer;
        let (stream, remote) = self
            .upgrade(io, initiator, &ctx.local_key, ctx.remote_peer)
            .await?;
        tracing::debug!(peer = %remote.peer_id, initiator, "noise handshake done");
        Ok(SecuredStream {
            io: Box::new(stream),
            remote_peer: remote.peer_id,
            remote_key: remote.public_key,
            details: vec![("handshake".to_owned(), NOISE_PARAMS.to_owned())],
            peer_framing: PeerFraming::Stream,
        })
    }
}
