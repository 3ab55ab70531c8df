//! Framing of the handshake message, sans-IO: `uvarint(len) ‖ Exchange`, with a bounded
//! length (the framing itself is [`chainp2p_framing::uvi`]). [`parse_prefix`] is what the async
//! shell uses (it reads the prefix, then exactly the body, so nothing past the handshake is ever
//! read); [`ExchangeCodec`] is the same framing as a `tokio_util` codec.

use bytes::{Bytes, BytesMut};
use chainp2p_framing::uvi::{self, UviError, UviFramed};
use tokio_util::codec::{Decoder, Encoder};

use crate::error::PlaintextError;

/// The longest valid length prefix we read: 9 bytes, 63 bits ([`uvi::MAX_HEADER_LEN`]).
pub const MAX_PREFIX_LEN: usize = uvi::MAX_HEADER_LEN;

/// The plaintext error for a framing error.
fn from_uvi(e: UviError) -> PlaintextError {
    match e {
        UviError::TooLong { len, max } => PlaintextError::Oversize {
            len: usize::try_from(len).unwrap_or(usize::MAX),
            max,
        },
        UviError::Truncated { have, need } => PlaintextError::Truncated {
            have,
            need: need.unwrap_or(have + 1),
        },
        // `NotMinimal`, `Overlong` (the enum is non-exhaustive).
        _ => PlaintextError::BadLengthPrefix,
    }
}

/// Parses the uvarint length prefix at the start of `buf`.
///
/// `Ok(None)`: more bytes are needed. `Ok(Some((prefix_len, body_len)))` otherwise. A length
/// above `max` is [`PlaintextError::Oversize`], reported as soon as the prefix is complete; a
/// prefix longer than [`MAX_PREFIX_LEN`] or not minimally encoded is
/// [`PlaintextError::BadLengthPrefix`].
pub fn parse_prefix(buf: &[u8], max: usize) -> Result<Option<(usize, usize)>, PlaintextError> {
    Ok(uvi::parse_prefix(buf, max)
        .map_err(from_uvi)?
        .map(|(len, prefix)| (prefix, len)))
}

/// Appends `uvarint(body.len()) ‖ body` to `out`.
pub fn encode_frame(body: &[u8], out: &mut Vec<u8>) {
    out.reserve(uvi::header_len(body.len()) + body.len());
    uvi::put(body.len(), out);
    out.extend_from_slice(body);
}

/// A `tokio_util` codec for length-prefixed handshake messages (the body is not decoded).
#[derive(Debug, Clone, Copy)]
pub struct ExchangeCodec {
    frames: UviFramed,
}

impl ExchangeCodec {
    /// A codec accepting bodies up to `max` bytes.
    pub fn new(max: usize) -> Self {
        ExchangeCodec {
            frames: UviFramed::new(max),
        }
    }
}

impl Decoder for ExchangeCodec {
    type Item = Bytes;
    type Error = PlaintextError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, PlaintextError> {
        Ok(self
            .frames
            .decode(src)
            .map_err(from_uvi)?
            .map(BytesMut::freeze))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, PlaintextError> {
        Ok(self
            .frames
            .decode_eof(src)
            .map_err(from_uvi)?
            .map(BytesMut::freeze))
    }
}

impl Encoder<&[u8]> for ExchangeCodec {
    type Error = PlaintextError;

    fn encode(&mut self, body: &[u8], dst: &mut BytesMut) -> Result<(), PlaintextError> {
        self.frames.encode(body, dst).map_err(from_uvi)
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
