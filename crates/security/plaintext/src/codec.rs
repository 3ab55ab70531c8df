//! Framing of the handshake message, sans-IO: `uvarint(len) ‖ Exchange`, with a bounded
//! length. [`parse_prefix`] is what the async shell uses (it reads the prefix, then exactly the
//! body, so nothing past the handshake is ever read); [`ExchangeCodec`] is the same framing as a
//! `tokio_util` codec.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::error::PlaintextError;

/// The longest valid length prefix we read: a `u64` uvarint takes at most 10 bytes.
pub const MAX_PREFIX_LEN: usize = 10;

/// Parses the uvarint length prefix at the start of `buf`.
///
/// `Ok(None)`: more bytes are needed. `Ok(Some((prefix_len, body_len)))` otherwise. A length
/// above `max` is [`PlaintextError::Oversize`], reported as soon as the prefix is complete; a
/// prefix longer than [`MAX_PREFIX_LEN`] or not minimally encoded is
/// [`PlaintextError::BadLengthPrefix`].
pub fn parse_prefix(buf: &[u8], max: usize) -> Result<Option<(usize, usize)>, PlaintextError> {
    match unsigned_varint::decode::u64(buf) {
        Ok((len, rest)) => {
            let prefix = buf.len() - rest.len();
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            if len > max {
                return Err(PlaintextError::Oversize { len, max });
            }
            Ok(Some((prefix, len)))
        }
        Err(unsigned_varint::decode::Error::Insufficient) if buf.len() < MAX_PREFIX_LEN => Ok(None),
        Err(_) => Err(PlaintextError::BadLengthPrefix),
    }
}

/// Appends `uvarint(body.len()) ‖ body` to `out`.
pub fn encode_frame(body: &[u8], out: &mut Vec<u8>) {
    let mut buf = unsigned_varint::encode::usize_buffer();
    out.extend_from_slice(unsigned_varint::encode::usize(body.len(), &mut buf));
    out.extend_from_slice(body);
}

/// A `tokio_util` codec for length-prefixed handshake messages (the body is not decoded).
#[derive(Debug, Clone, Copy)]
pub struct ExchangeCodec {
    max: usize,
}

impl ExchangeCodec {
    /// A codec accepting bodies up to `max` bytes.
    pub fn new(max: usize) -> Self {
        ExchangeCodec { max }
    }
}

impl Decoder for ExchangeCodec {
    type Item = Bytes;
    type Error = PlaintextError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, PlaintextError> {
        let Some((prefix, len)) = parse_prefix(src, self.max)? else {
            return Ok(None);
        };
        if src.len() < prefix + len {
            src.reserve(prefix + len - src.len());
            return Ok(None);
        }
        src.advance(prefix);
        Ok(Some(src.split_to(len).freeze()))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, PlaintextError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => {
                let need = parse_prefix(src, self.max)?
                    .map_or(src.len() + 1, |(prefix, len)| prefix + len);
                Err(PlaintextError::Truncated {
                    have: src.len(),
                    need,
                })
            }
        }
    }
}

impl Encoder<&[u8]> for ExchangeCodec {
    type Error = PlaintextError;

    fn encode(&mut self, body: &[u8], dst: &mut BytesMut) -> Result<(), PlaintextError> {
        if body.len() > self.max {
            return Err(PlaintextError::Oversize {
                len: body.len(),
                max: self.max,
            });
        }
        let mut buf = unsigned_varint::encode::usize_buffer();
        dst.put_slice(unsigned_varint::encode::usize(body.len(), &mut buf));
        dst.put_slice(body);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_needs_more_then_parses() {
        assert!(parse_prefix(&[], 100).unwrap().is_none());
        assert!(parse_prefix(&[0x80], 1000).unwrap().is_none());
        assert_eq!(parse_prefix(&[0x05, 1, 2], 100).unwrap(), Some((1, 5)));
        assert_eq!(parse_prefix(&[0xac, 0x02], 1000).unwrap(), Some((2, 300)));
    }

    #[test]
    fn oversize_is_reported_from_the_prefix_alone() {
        let err = parse_prefix(&[0xac, 0x02], 100).unwrap_err();
        assert!(matches!(
            err,
            PlaintextError::Oversize { len: 300, max: 100 }
        ));
    }

    #[test]
    fn endless_or_non_minimal_prefix_is_refused() {
        assert!(matches!(
            parse_prefix(&[0xff; 11], usize::MAX),
            Err(PlaintextError::BadLengthPrefix)
        ));
        // 0x80 0x00 encodes 0 in two bytes: not minimal.
        assert!(matches!(
            parse_prefix(&[0x80, 0x00], 100),
            Err(PlaintextError::BadLengthPrefix)
        ));
    }

    #[test]
    fn codec_round_trip_and_truncation() {
        let mut codec = ExchangeCodec::new(64);
        let mut buf = BytesMut::new();
        codec.encode(&b"hello"[..], &mut buf).unwrap();
        buf.extend_from_slice(&[0x03, b'a']);
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"hello"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        let err = codec.decode_eof(&mut buf).unwrap_err();
        assert!(matches!(
            err,
            PlaintextError::Truncated { have: 2, need: 4 }
        ));
        assert!(codec.encode(&[0u8; 65][..], &mut BytesMut::new()).is_err());
        let mut framed = Vec::new();
        encode_frame(b"xy", &mut framed);
        assert_eq!(framed, vec![2, b'x', b'y']);
    }
}
