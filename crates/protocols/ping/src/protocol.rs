//! The ping exchange without I/O: the protocol id, the payload and the echo check, and a
//! read helper that tells a clean end of stream from a cut-off ping.

use futures::{AsyncRead, AsyncReadExt};

use crate::PingError;

/// The protocol id.
pub const PROTOCOL: &str = "/ipfs/ping/1.0.0";

/// Bytes per ping (and per echo).
pub const PING_SIZE: usize = 32;

/// A fresh random ping payload.
pub fn new_payload() -> [u8; PING_SIZE] {
    rand::random()
}

/// Checks that the peer echoed exactly what we sent.
pub fn check_echo(sent: &[u8; PING_SIZE], echoed: &[u8; PING_SIZE]) -> Result<(), PingError> {
    if sent == echoed {
        Ok(())
    } else {
        Err(PingError::Mismatch)
    }
}

/// Reads until `buf` is full or the stream ends; returns how many bytes were read (less than
/// `buf.len()` only at end of stream).
pub async fn read_full<S: AsyncRead + Unpin + ?Sized>(
    io: &mut S,
    buf: &mut [u8],
) -> std::io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
        match io.read(rest).await? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_check() {
        let a = new_payload();
        let b = new_payload();
        assert_ne!(a, b, "payloads are random");
        assert!(check_echo(&a, &a).is_ok());
        assert!(matches!(check_echo(&a, &b), Err(PingError::Mismatch)));
    }

    #[test]
    fn read_full_stops_at_eof() {
        futures::executor::block_on(async {
            let mut src: &[u8] = &[1, 2, 3];
            let mut buf = [0u8; 8];
            assert_eq!(read_full(&mut src, &mut buf).await.unwrap(), 3);
            assert_eq!(&buf[..3], &[1, 2, 3]);
            let mut src: &[u8] = &[9; 10];
            assert_eq!(read_full(&mut src, &mut buf).await.unwrap(), 8);
        });
    }
}
