//! Noise framing, sans-IO: every handshake and transport message travels as
//! `u16 big-endian length ‖ noise message`, the message being at most 65535 bytes.

use bytes::BytesMut;
use chainp2p_framing::{LengthPrefix, Oversize};
use tokio_util::codec::{Decoder, Encoder};

use crate::error::NoiseError;

/// Length of the frame header.
pub const HEADER_LEN: usize = 2;
/// Largest noise message (the u16 length limit).
pub const MAX_NOISE_MSG_LEN: usize = 65535;
/// The ChaCha20-Poly1305 tag appended to every transport message.
pub const TAG_LEN: usize = 16;
/// Most plaintext one transport frame carries.
pub const MAX_FRAME_PLAINTEXT: usize = MAX_NOISE_MSG_LEN - TAG_LEN;
/// Largest frame on the wire, header included.
pub const MAX_FRAME_LEN: usize = HEADER_LEN + MAX_NOISE_MSG_LEN;

/// The `u16` big-endian length prefix.
type Prefix = LengthPrefix<HEADER_LEN>;

fn oversize(Oversize { len, max }: Oversize) -> NoiseError {
    NoiseError::Oversize { len, max }
}

/// The total length (header included) of the frame at the start of `buf` once it is all in
/// (the message is `buf[HEADER_LEN..total]`); see [`LengthPrefix::parse_frame`]. A message
/// above `max` is [`NoiseError::Oversize`], reported from the header alone.
#[inline]
pub fn parse_frame(buf: &[u8], max: usize) -> Result<Option<usize>, NoiseError> {
    Prefix::parse_frame(buf, max).map_err(oversize)
}

/// Bytes the frame at the start of `buf` needs, header included (to report truncation).
pub fn needed(buf: &[u8]) -> usize {
    Prefix::needed(buf)
}

/// Writes the `u16` header of a `len`-byte message into `out[..2]`; a `len` above 65535 is
/// [`NoiseError::Oversize`].
#[inline]
pub fn write_header(out: &mut [u8], len: usize) -> Result<(), NoiseError> {
    Prefix::write_header(out, len).map_err(oversize)
}

/// A length-delimited frame codec for noise messages (not encrypted), with a configurable
/// message limit (at most 65535).
#[derive(Debug, Clone, Copy)]
pub struct FrameCodec {
    max: usize,
}

impl FrameCodec {
    /// A codec accepting messages up to `max` bytes (clamped to 65535).
    pub fn new(max: usize) -> Self {
        FrameCodec {
            max: max.min(MAX_NOISE_MSG_LEN),
        }
    }
}

impl Default for FrameCodec {
    fn default() -> Self {
        FrameCodec::new(MAX_NOISE_MSG_LEN)
    }
}

impl Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = NoiseError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, NoiseError> {
        Prefix::decode(src, self.max).map_err(oversize)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, NoiseError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(NoiseError::FrameTruncated {
                have: src.len(),
                need: needed(src),
            }),
        }
    }
}

impl Encoder<&[u8]> for FrameCodec {
    type Error = NoiseError;

    fn encode(&mut self, msg: &[u8], dst: &mut BytesMut) -> Result<(), NoiseError> {
        Prefix::encode(msg, dst, self.max).map_err(oversize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_partial_input() {
        let mut codec = FrameCodec::default();
        let mut buf = BytesMut::new();
        codec.encode(b"hello", &mut buf).unwrap();
        codec.encode(b"", &mut buf).unwrap();
        assert_eq!(&buf[..], &[0, 5, b'h', b'e', b'l', b'l', b'o', 0, 0]);
        let mut partial = BytesMut::from(&buf[..4]);
        assert!(codec.decode(&mut partial).unwrap().is_none());
        assert_eq!(&codec.decode(&mut buf).unwrap().unwrap()[..], b"hello");
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap().len(), 0);
        assert!(buf.is_empty());
    }

    #[test]
    fn length_above_the_limit_is_rejected_from_the_header_alone() {
        let mut codec = FrameCodec::new(100);
        let mut buf = BytesMut::from(&[0x00, 0x65][..]);
        let err = codec.decode(&mut buf).unwrap_err();
        assert!(
            matches!(err, NoiseError::Oversize { len: 101, max: 100 }),
            "{err}"
        );
        assert!(matches!(
            codec.encode(&[0u8; 101][..], &mut BytesMut::new()),
            Err(NoiseError::Oversize { len: 101, .. })
        ));
    }

    #[test]
    fn eof_mid_frame_is_truncation() {
        let mut codec = FrameCodec::default();
        let mut buf = BytesMut::from(&[0x00, 0x10, 1, 2][..]);
        let err = codec.decode_eof(&mut buf).unwrap_err();
        assert!(
            matches!(err, NoiseError::FrameTruncated { have: 4, need: 18 }),
            "{err}"
        );
        let mut half_header = BytesMut::from(&[0x00][..]);
        assert!(matches!(
            codec.decode_eof(&mut half_header),
            Err(NoiseError::FrameTruncated { have: 1, need: 2 })
        ));
    }

    #[test]
    fn header_cannot_exceed_u16() {
        let mut h = [0u8; 2];
        assert!(write_header(&mut h, 65536).is_err());
        write_header(&mut h, 65535).unwrap();
        assert_eq!(h, [0xff, 0xff]);
    }
}
