//! The async shell of the handshake: sends our `Exchange`, reads exactly the remote's (the
//! prefix, then the body: nothing past it, so the raw stream can be handed on as is) under a
//! deadline. Also the [`SecurityHandler`] implementation the chain uses.

use async_trait::async_trait;
use chainp2p_core::identity::{PeerId, PublicKey};
use chainp2p_core::{
    BoxStream, ChainError, HandlerContext, PeerFraming, SecuredStream, SecurityHandler,
};
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::codec::{parse_prefix, MAX_PREFIX_LEN};
use crate::config::PlaintextConfig;
use crate::error::PlaintextError;
use crate::handshake::{local_frame, verify_exchange, RemoteIdentity};
use crate::PROTOCOL;

impl PlaintextConfig {
    /// Runs the handshake on any stream (both roles do the same), within the configured
    /// timeout. `expected` is the peer we must end up talking to, if known. Returns the
    /// stream unchanged, positioned just past the remote's message.
    pub async fn upgrade<T>(
        &self,
        io: T,
        local: &PublicKey,
        expected: Option<PeerId>,
    ) -> Result<(T, RemoteIdentity), PlaintextError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let run = exchange(io, local, expected, self.max_message_len);
        chainp2p_framing::within(self.handshake_timeout, run)
            .await
            .unwrap_or(Err(PlaintextError::HandshakeTimeout(
                self.handshake_timeout,
            )))
    }
}

async fn exchange<T>(
    mut io: T,
    local: &PublicKey,
    expected: Option<PeerId>,
    max: usize,
) -> Result<(T, RemoteIdentity), PlaintextError>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    io.write_all(&local_frame(local)).await?;
    io.flush().await?;
    let body = read_message(&mut io, max).await?;
    let remote = verify_exchange(&body, expected)?;
    Ok((io, remote))
}

/// Reads one length-prefixed message: the prefix a byte at a time (at most a few bytes, once
/// per connection), then exactly the body.
async fn read_message<T: AsyncRead + Unpin>(
    io: &mut T,
    max: usize,
) -> Result<Vec<u8>, PlaintextError> {
    let mut prefix = [0u8; MAX_PREFIX_LEN];
    let mut have = 0;
    let (prefix_len, len) = loop {
        if let Some(parsed) = parse_prefix(prefix.get(..have).unwrap_or_default(), max)? {
            break parsed;
        }
        let slot = prefix
            .get_mut(have..=have)
            .ok_or(PlaintextError::BadLengthPrefix)?;
        if io.read(slot).await? == 0 {
            return Err(match have {
                0 => PlaintextError::ClosedDuringHandshake,
                _ => PlaintextError::Truncated {
                    have,
                    need: have + 1,
                },
            });
        }
        have += 1;
    };
    let mut body = vec![0u8; len];
    let mut filled = 0;
    while let Some(rest) = body.get_mut(filled..).filter(|r| !r.is_empty()) {
        let n = io.read(rest).await?;
        if n == 0 {
            return Err(PlaintextError::Truncated {
                have: prefix_len + filled,
                need: prefix_len + len,
            });
        }
        filled += n;
    }
    Ok(body)
}

#[async_trait]
impl SecurityHandler for PlaintextConfig {
    fn protocol(&self) -> &str {
        PROTOCOL
    }

    async fn secure(
        &self,
        io: BoxStream,
        ctx: &HandlerContext,
    ) -> Result<SecuredStream, ChainError> {
        let (io, remote) = self
            .upgrade(io, &ctx.local_key.public(), ctx.remote_peer)
            .await?;
        tracing::debug!(peer = %remote.peer_id, role = %ctx.role, "plaintext handshake done");
        Ok(SecuredStream {
            io,
            remote_peer: remote.peer_id,
            remote_key: remote.public_key,
            details: vec![("encryption".to_owned(), "none".to_owned())],
            peer_framing: PeerFraming::Stream,
        })
    }
}
