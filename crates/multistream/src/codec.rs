//! Framing of multistream-select messages: `uvarint(len) ‖ body`, where `body` ends with `\n`
//! and `len` counts it. Sans-IO: inherent `decode`/`decode_eof`/`encode` methods on `BytesMut`
//! (no runtime needed); with the `tokio-codec` feature also `tokio_util`'s `Decoder`/`Encoder`
//! traits, which delegate to them.
//!
//! The decoder is strict: the varint must be minimal, its value is checked against the limit
//! as soon as its bytes arrive (before anything is buffered for the body), and the body must
//! end with `\n`.

use bytes::{BufMut, Bytes, BytesMut};
use chainp2p_framing::uvi::{self, UviError, UviFramed};

use crate::config::MAX_SEND_LEN;
use crate::error::MultistreamError;
use crate::message::Message;

/// Outcome of reading a varint from the front of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Varint {
    /// The value and how many bytes it took.
    Value(u64, usize),
    /// More bytes are needed.
    Incomplete,
}

/// The multistream error for a framing error of [`chainp2p_framing::uvi`].
fn from_uvi(e: UviError) -> MultistreamError {
    match e {
        UviError::TooLong { len, max } => MultistreamError::MessageTooLong { len, max },
        UviError::NotMinimal => MultistreamError::InvalidVarint("not minimally encoded"),
        UviError::Truncated { have, .. } => MultistreamError::EofMidMessage { buffered: have },
        // `UviError::Overlong` (the enum is non-exhaustive).
        _ => MultistreamError::InvalidVarint("longer than 9 bytes"),
    }
}

/// Reads a strict, minimal unsigned varint from the front of `src`. `limit`, if given, fails
/// with [`MultistreamError::MessageTooLong`] as soon as the value is known to exceed it.
pub(crate) fn read_varint(src: &[u8], limit: Option<usize>) -> Result<Varint, MultistreamError> {
    let parsed = match limit {
        Some(max) => uvi::parse_prefix_early(src, max).map(|p| p.map(|(v, n)| (v as u64, n))),
        None => uvi::read(src),
    };
    Ok(match parsed.map_err(from_uvi)? {
        Some((value, used)) => Varint::Value(value, used),
        None => Varint::Incomplete,
    })
}

/// Frames raw multistream messages.
///
/// Decodes to the message body *including* its trailing `\n` (checked); encodes a payload
/// *without* `\n` (added), refusing anything longer than [`MAX_SEND_LEN`].
#[derive(Debug, Clone)]
pub struct FrameCodec {
    frames: UviFramed,
}

impl FrameCodec {
    /// A codec accepting messages of up to `max_len` bytes (`\n` included).
    pub fn new(max_len: usize) -> Self {
        FrameCodec {
            frames: UviFramed::new(max_len).early_limit(true),
        }
    }
}

impl FrameCodec {
    /// Cuts the next frame off the front of `src`: its body with the trailing `\n`, or `None`
    /// until it has fully arrived (room for the rest is reserved).
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, MultistreamError> {
        self.frames
            .decode(src)
            .map_err(from_uvi)?
            .map(with_newline)
            .transpose()
    }

    /// [`FrameCodec::decode`] without the `\n` check (for c-libp2p's echo glued to a payload).
    pub(crate) fn decode_unchecked(
        &mut self,
        src: &mut BytesMut,
    ) -> Result<Option<Bytes>, MultistreamError> {
        Ok(self
            .frames
            .decode(src)
            .map_err(from_uvi)?
            .map(BytesMut::freeze))
    }

    /// [`FrameCodec::decode`] at the end of the input: bytes left that make no whole frame are
    /// [`MultistreamError::EofMidMessage`].
    pub fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, MultistreamError> {
        self.frames
            .decode_eof(src)
            .map_err(from_uvi)?
            .map(with_newline)
            .transpose()
    }

    /// Appends `uvarint(len + 1) ‖ payload ‖ \n`, refusing a message over [`MAX_SEND_LEN`].
    pub fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), MultistreamError> {
        put_frame(dst, payload)
    }
}

/// A frame body, checked to end with `\n`.
fn with_newline(body: BytesMut) -> Result<Bytes, MultistreamError> {
    if body.last() != Some(&b'\n') {
        return Err(MultistreamError::MissingNewline);
    }
    Ok(body.freeze())
}

#[cfg(feature = "tokio-codec")]
impl tokio_util::codec::Decoder for FrameCodec {
    type Item = Bytes;
    type Error = MultistreamError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, MultistreamError> {
        FrameCodec::decode(self, src)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, MultistreamError> {
        FrameCodec::decode_eof(self, src)
    }
}

#[cfg(feature = "tokio-codec")]
impl tokio_util::codec::Encoder<&[u8]> for FrameCodec {
    type Error = MultistreamError;

    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), MultistreamError> {
        FrameCodec::encode(self, payload, dst)
    }
}

/// Appends `uvarint(len + 1) ‖ payload ‖ \n`, refusing a message over [`MAX_SEND_LEN`].
pub(crate) fn put_frame(dst: &mut BytesMut, payload: &[u8]) -> Result<(), MultistreamError> {
    UviFramed::new(MAX_SEND_LEN)
        .encode_header(payload.len() + 1, dst)
        .map_err(from_uvi)?;
    dst.put_slice(payload);
    dst.put_u8(b'\n');
    Ok(())
}

/// Frames and parses [`Message`]s (context-free: a body with an inner `\n` is an `ls` response).
#[derive(Debug, Clone)]
pub struct MessageCodec {
    frames: FrameCodec,
}

impl MessageCodec {
    /// A codec accepting messages of up to `max_len` bytes (`\n` included).
    pub fn new(max_len: usize) -> Self {
        MessageCodec {
            frames: FrameCodec::new(max_len),
        }
    }
}

impl MessageCodec {
    /// Cuts and parses the next message off the front of `src`, or `None` until it has fully
    /// arrived.
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Message>, MultistreamError> {
        match self.frames.decode(src)? {
            Some(body) => Message::decode(&body).map(Some),
            None => Ok(None),
        }
    }

    /// [`MessageCodec::decode`] at the end of the input (see [`FrameCodec::decode_eof`]).
    pub fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Message>, MultistreamError> {
        match self.frames.decode_eof(src)? {
            Some(body) => Message::decode(&body).map(Some),
            None => Ok(None),
        }
    }

    /// Appends the framed `msg`.
    pub fn encode(&mut self, msg: &Message, dst: &mut BytesMut) -> Result<(), MultistreamError> {
        msg.encode(dst)
    }
}

#[cfg(feature = "tokio-codec")]
impl tokio_util::codec::Decoder for MessageCodec {
    type Item = Message;
    type Error = MultistreamError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Message>, MultistreamError> {
        MessageCodec::decode(self, src)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Message>, MultistreamError> {
        MessageCodec::decode_eof(self, src)
    }
}

#[cfg(feature = "tokio-codec")]
impl tokio_util::codec::Encoder<&Message> for MessageCodec {
    type Error = MultistreamError;

    fn encode(&mut self, msg: &Message, dst: &mut BytesMut) -> Result<(), MultistreamError> {
        MessageCodec::encode(self, msg, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(src: &[u8]) -> Result<Option<Bytes>, MultistreamError> {
        FrameCodec::new(16383).decode(&mut BytesMut::from(src))
    }

    #[test]
    fn varints() {
        assert_eq!(read_varint(&[0x13], None).unwrap(), Varint::Value(0x13, 1));
        assert_eq!(
            read_varint(&[0xff, 0x7f], None).unwrap(),
            Varint::Value(16383, 2)
        );
        assert_eq!(read_varint(&[0x80], None).unwrap(), Varint::Incomplete);
        assert!(matches!(
            read_varint(&[0x81, 0x00], None),
            Err(MultistreamError::InvalidVarint(_))
        ));
        assert!(matches!(
            read_varint(&[0xff; 9], None),
            Err(MultistreamError::InvalidVarint(_))
        ));
        // the limit trips on the first byte that proves the value too large
        assert!(matches!(
            read_varint(&[0x80, 0x80], Some(16383)),
            Err(MultistreamError::MessageTooLong { len: 16384, .. })
        ));
        assert_eq!(
            read_varint(&[0x80], Some(16383)).unwrap(),
            Varint::Incomplete
        );
        assert!(matches!(
            read_varint(&[0x80, 0x80, 0x01], Some(16383)),
            Err(MultistreamError::MessageTooLong { len: 16384, .. })
        ));
    }

    #[test]
    fn decodes_split_input_and_leaves_the_rest() {
        let mut codec = FrameCodec::new(16383);
        let mut buf = BytesMut::from(&b"\x07/noi"[..]);
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"se\nrest");
        assert_eq!(&codec.decode(&mut buf).unwrap().unwrap()[..], b"/noise\n");
        assert_eq!(&buf[..], b"rest");
    }

    #[test]
    fn rejects_bad_frames() {
        assert!(matches!(
            frame(b"\x03abc"),
            Err(MultistreamError::MissingNewline)
        ));
        assert!(matches!(
            frame(b"\x00"),
            Err(MultistreamError::MissingNewline)
        ));
        assert!(matches!(
            frame(b"\x80\x80\x01"),
            Err(MultistreamError::MessageTooLong { .. })
        ));
        let mut small = FrameCodec::new(4);
        assert!(matches!(
            small.decode(&mut BytesMut::from(&b"\x05"[..])),
            Err(MultistreamError::MessageTooLong { len: 5, max: 4 })
        ));
        let mut partial = BytesMut::from(&b"\x05ab"[..]);
        assert!(matches!(
            FrameCodec::new(10).decode_eof(&mut partial),
            Err(MultistreamError::EofMidMessage { buffered: 3 })
        ));
    }

    #[test]
    fn encoder_refuses_to_send_more_than_1024() {
        let mut dst = BytesMut::new();
        assert!(FrameCodec::new(16383)
            .encode(&[b'a'; 1023][..], &mut dst)
            .is_ok());
        assert_eq!(&dst[..2], &[0x80, 0x08]);
        assert!(matches!(
            FrameCodec::new(16383).encode(&[b'a'; 1024][..], &mut BytesMut::new()),
            Err(MultistreamError::MessageTooLong {
                len: 1025,
                max: 1024
            })
        ));
    }

    #[cfg(feature = "tokio-codec")]
    #[test]
    fn tokio_codec_traits_delegate() {
        use tokio_util::codec::{Decoder, Encoder};
        let mut codec = MessageCodec::new(16383);
        let mut buf = BytesMut::new();
        Encoder::encode(&mut codec, &Message::Na, &mut buf).unwrap();
        Encoder::encode(&mut FrameCodec::new(16383), &b"ls"[..], &mut buf).unwrap();
        buf.extend_from_slice(b"\x05ab");
        assert_eq!(
            Decoder::decode(&mut codec, &mut buf).unwrap(),
            Some(Message::Na)
        );
        assert_eq!(
            Decoder::decode_eof(&mut codec, &mut buf).unwrap(),
            Some(Message::Ls)
        );
        assert!(matches!(
            Decoder::decode_eof(&mut FrameCodec::new(16383), &mut buf),
            Err(MultistreamError::EofMidMessage { buffered: 3 })
        ));
    }
}
