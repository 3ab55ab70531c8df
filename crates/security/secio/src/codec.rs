//! Secio framing, sans-IO: every message, plaintext (handshake) or encrypted, travels as
//! `u32 big-endian length ‖ body`; the length is checked against the limit before anything is
//! allocated.

use bytes::BytesMut;
use chainp2p_framing::{LengthPrefix, Oversize};
use tokio_util::codec::{Decoder, Encoder};

use crate::error::SecioError;

/// Length of the frame header.
pub const HEADER_LEN: usize = 4;
/// Default limit on a frame body: 8 MiB (go-msgio and rust-libp2p's default).
pub const MAX_FRAME_LEN: usize = 8 * 1024 * 1024;

/// The `u32` big-endian length prefix.
type Prefix = LengthPrefix<HEADER_LEN>;

fn oversize(Oversize { len, max }: Oversize) -> SecioError {
    SecioError::Oversize { len, max }
}

/// Looks for one complete frame at the start of `buf`.
///
/// Returns `Ok(None)` if more bytes are needed, else the frame's total length (header
/// included); the body is `buf[HEADER_LEN..total]`. A length above `max` is
/// [`SecioError::Oversize`], reported as soon as the header is in.
#[inline]
pub fn parse_frame(buf: &[u8], max: usize) -> Result<Option<usize>, SecioError> {
    Prefix::parse_frame(buf, max).map_err(oversize)
}

/// The announced body length, once the header is in.
pub fn body_len(buf: &[u8]) -> Option<usize> {
    Prefix::body_len(buf)
}

/// How many bytes the frame at the start of `buf` needs in total (header included), to
/// report truncation.
pub fn needed(buf: &[u8]) -> usize {
    Prefix::needed(buf)
}

/// Writes the header of a `len`-byte body into `out[..4]`.
#[inline]
pub fn write_header(out: &mut [u8], len: usize) -> Result<(), SecioError> {
    Prefix::write_header(out, len).map_err(oversize)
}

/// A length-prefixed frame codec (frame bodies, not decrypted) with a body limit.
#[derive(Debug, Clone, Copy)]
pub struct FrameCodec {
    max: usize,
}

impl FrameCodec {
    /// A codec accepting bodies up to `max` bytes.
    pub fn new(max: usize) -> Self {
        FrameCodec { max }
    }
}

impl Default for FrameCodec {
    fn default() -> Self {
        FrameCodec::new(MAX_FRAME_LEN)
    }
}

impl Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = SecioError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, SecioError> {
        Prefix::decode(src, self.max).map_err(oversize)
    }
}

impl<B: AsRef<[u8]>> Encoder<B> for FrameCodec {
    type Error = SecioError;

    fn encode(&mut self, body: B, dst: &mut BytesMut) -> Result<(), SecioError> {
        Prefix::encode(body.as_ref(), dst, self.max).map_err(oversize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;

    #[test]
    fn round_trip_in_pieces() {
        let mut c = FrameCodec::new(100);
        let mut buf = BytesMut::new();
        c.encode(b"hello", &mut buf).unwrap();
        c.encode(b"", &mut buf).unwrap();
        assert_eq!(&buf[..9], &[0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o']);
        let mut src = BytesMut::new();
        let mut got = vec![];
        for b in buf.iter() {
            src.put_u8(*b);
            while let Some(f) = c.decode(&mut src).unwrap() {
                got.push(f.to_vec());
            }
        }
        assert_eq!(got, vec![b"hello".to_vec(), vec![]]);
    }

    #[test]
    fn oversize_is_rejected_from_the_header_alone() {
        let err = parse_frame(&[0x00, 0x80, 0x00, 0x01], MAX_FRAME_LEN).unwrap_err();
        assert!(matches!(
            err,
            SecioError::Oversize {
                len: 0x800001,
                max: MAX_FRAME_LEN
            }
        ));
        assert_eq!(
            parse_frame(&[0x00, 0x80, 0x00, 0x00], MAX_FRAME_LEN).unwrap(),
            None
        );
        assert_eq!(needed(&[0, 0, 1, 0, 9]), 260);
        assert_eq!(needed(&[0, 0]), 4);
    }
}
