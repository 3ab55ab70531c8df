//! The async shell around the codec: read every delimited message until EOF (merging them),
//! and write one. [`request`] and [`push`] are the two client operations.

use bytes::BytesMut;
use chainp2p_core::identity::PeerId;
use chainp2p_core::ChainError;
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use prost::Message;
use tokio_util::codec::{Decoder, Encoder};

use crate::codec::DelimitedCodec;
use crate::error::io_err;
use crate::proto::Identify;
use crate::{IdentifyConfig, IdentifyError, IdentifyInfo};

/// Reads delimited Identify messages until EOF (or only the first, with
/// [`IdentifyConfig::first_message_only`]) and merges them (repeated fields concatenated,
/// last scalar wins), within `config`'s size, count and time limits.
pub async fn read_merged<S>(io: &mut S, config: &IdentifyConfig) -> Result<Identify, ChainError>
where
    S: AsyncRead + Unpin + ?Sized,
{
    let work = async {
        let mut codec = DelimitedCodec::new(config.max_message_size);
        let mut buf = BytesMut::with_capacity(4096);
        let mut chunk = [0u8; 4096];
        let mut merged = Identify::default();
        let mut count = 0usize;
        loop {
            while let Some(frame) = codec.decode(&mut buf)? {
                count += 1;
                if count > config.max_messages {
                    return Err(IdentifyError::TooManyMessages {
                        max: config.max_messages,
                    }
                    .into());
                }
                merged.merge(frame).map_err(IdentifyError::Malformed)?;
                if config.first_message_only {
                    return Ok(merged);
                }
            }
            let n = io.read(&mut chunk).await.map_err(io_err)?;
            match chunk.get(..n) {
                Some([]) | None => break,
                Some(read) => buf.extend_from_slice(read),
            }
        }
        if !buf.is_empty() {
            return Err(IdentifyError::Truncated {
                buffered: buf.len(),
            }
            .into());
        }
        if count == 0 {
            return Err(IdentifyError::NoMessage.into());
        }
        Ok(merged)
    };
    tokio::time::timeout(config.timeout, work)
        .await
        .map_err(|_| IdentifyError::Timeout(config.timeout))?
}

/// Writes `msg` (at most `config.max_own_message_size` bytes) and closes our write side.
pub async fn write_and_close<S>(
    io: &mut S,
    msg: &Identify,
    config: &IdentifyConfig,
) -> Result<(), ChainError>
where
    S: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = BytesMut::with_capacity(msg.encoded_len() + 10);
    DelimitedCodec::new(config.max_own_message_size).encode(msg, &mut buf)?;
    let work = async {
        io.write_all(&buf).await.map_err(io_err)?;
        io.close().await.map_err(io_err)
    };
    tokio::time::timeout(config.timeout, work)
        .await
        .map_err(|_| IdentifyError::Timeout(config.timeout))?
}

/// Asks for the peer's info on a stream negotiated for [`crate::PROTOCOL`]: reads the
/// messages until EOF (default [`IdentifyConfig`] limits), merges them, and checks that the
/// public key is `expected_peer`'s ([`chainp2p_core::ErrorKind::Authentication`] otherwise).
/// Unparseable addresses are skipped. Closes our side of the stream afterwards.
pub async fn request<S>(
    io: &mut S,
    expected_peer: Option<&PeerId>,
) -> Result<IdentifyInfo, ChainError>
where
    S: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    request_with_config(io, expected_peer, &IdentifyConfig::default()).await
}

/// [`request`] with explicit limits.
pub async fn request_with_config<S>(
    io: &mut S,
    expected_peer: Option<&PeerId>,
    config: &IdentifyConfig,
) -> Result<IdentifyInfo, ChainError>
where
    S: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let info = read_answer(io, expected_peer, config).await?;
    if let Err(e) = io.close().await {
        tracing::debug!(error = %e, "identify: closing the request stream failed after a complete answer");
    }
    Ok(info)
}

/// [`request_with_config`] without closing the stream afterwards: the caller closes it (after
/// telling the muxer who the peer is, say: c-ipfs must not see a FIN).
pub async fn read_answer<S>(
    io: &mut S,
    expected_peer: Option<&PeerId>,
    config: &IdentifyConfig,
) -> Result<IdentifyInfo, ChainError>
where
    S: AsyncRead + Unpin + ?Sized,
{
    let mut msg = read_merged(io, config).await?;
    if let Some(peer) = expected_peer {
        if msg.public_key.as_deref() == Some(peer.to_base58().as_bytes()) {
            // c-libp2p sends its peer id's text, not its key: take the authenticated one.
            msg.public_key = config.remote_key.as_ref().map(|k| k.encode_protobuf());
        }
    }
    Ok(IdentifyInfo::from_proto(msg, expected_peer)?)
}

/// Pushes `info` on a stream negotiated for [`crate::PUSH_PROTOCOL`] and closes it. The
/// message is trimmed to 4096 bytes if needed (see [`IdentifyInfo::to_proto`]).
pub async fn push<S>(io: &mut S, info: &IdentifyInfo) -> Result<(), ChainError>
where
    S: AsyncWrite + Unpin + ?Sized,
{
    let config = IdentifyConfig::default();
    let msg = info.to_proto(config.max_own_message_size)?;
    write_and_close(io, &msg, &config).await
}
