//! The two data-path loops both sides share: send `n` zero bytes, and read-and-count until EOF.
//! Whole [`CHUNK`]s at a time, no per-byte work.

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::protocol::{CHUNK, ZEROS};

/// Writes `n` zero bytes from the shared static buffer.
pub(crate) async fn write_zeros<S>(io: &mut S, mut n: u64) -> std::io::Result<()>
where
    S: AsyncWrite + Unpin + ?Sized,
{
    while n > 0 {
        let len = usize::try_from(n).map_or(CHUNK, |n| n.min(CHUNK));
        let chunk = ZEROS.get(..len).unwrap_or(&ZEROS);
        io.write_all(chunk).await?;
        n -= chunk.len() as u64;
    }
    Ok(())
}

/// Reads and discards until EOF; returns the byte count, or stops early with `Ok(Err(count))`
/// as soon as more than `limit` bytes arrived.
pub(crate) async fn drain<S>(io: &mut S, limit: u64) -> std::io::Result<Result<u64, u64>>
where
    S: AsyncRead + Unpin + ?Sized,
{
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        match io.read(&mut buf).await? {
            0 => return Ok(Ok(total)),
            n => {
                total = total.saturating_add(n as u64);
                if total > limit {
                    return Ok(Err(total));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_round_trip_through_drain() {
        futures::executor::block_on(async {
            for n in [0u64, 1, CHUNK as u64, CHUNK as u64 * 2 + 17] {
                let mut out = Vec::new();
                write_zeros(&mut out, n).await.unwrap();
                assert_eq!(out.len() as u64, n);
                assert!(out.iter().all(|&b| b == 0));
                assert_eq!(drain(&mut out.as_slice(), u64::MAX).await.unwrap(), Ok(n));
                if n > 0 {
                    assert!(drain(&mut out.as_slice(), n - 1).await.unwrap().is_err());
                }
            }
        });
    }
}
