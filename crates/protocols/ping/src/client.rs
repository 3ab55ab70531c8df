//! The dialer side: one ping on an already-negotiated stream.

use std::time::{Duration, Instant};

use chainp2p_core::ChainError;
use futures::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::error::io_err;
use crate::protocol::{check_echo, new_payload, read_full, PING_SIZE};
use crate::{PingError, DEFAULT_PING_TIMEOUT};

/// Sends one 32-byte random ping on `io` and waits for the echo (at most
/// [`DEFAULT_PING_TIMEOUT`]); returns the round-trip time. Call it again on the same stream
/// for the next ping; close the stream when done.
pub async fn ping<S>(io: &mut S) -> Result<Duration, ChainError>
where
    S: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    ping_with_timeout(io, DEFAULT_PING_TIMEOUT).await
}

/// [`ping`] with an explicit deadline for the echo.
pub async fn ping_with_timeout<S>(io: &mut S, timeout: Duration) -> Result<Duration, ChainError>
where
    S: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let payload = new_payload();
    let started = Instant::now();
    let exchange = async {
        io.write_all(&payload).await.map_err(io_err)?;
        io.flush().await.map_err(io_err)?;
        let mut echo = [0u8; PING_SIZE];
        let got = read_full(io, &mut echo).await.map_err(io_err)?;
        if got < PING_SIZE {
            return Err(PingError::Truncated { got }.into());
        }
        check_echo(&payload, &echo)?;
        Ok::<_, ChainError>(())
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result.map(|()| started.elapsed()),
        Err(_) => Err(PingError::Timeout {
            what: "echo",
            after: timeout,
        }
        .into()),
    }
}
