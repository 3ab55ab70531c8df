//! mplex framing (sans-IO): `uvarint(id << 3 | flag) uvarint(len) body`, the seven flags, and
//! a tokio-util [`Decoder`]/[`Encoder`] pair. Bodies are split off the read buffer without
//! copying; an announced length above the limit is refused before anything is allocated.

use bytes::{Buf, Bytes, BytesMut};
use chainp2p_framing::uvi::{self, UviError};
use tokio_util::codec::{Decoder, Encoder};

use crate::error::MplexError;
use crate::session::{Endpoint, StreamId};

/// Longest varint accepted (multiformats unsigned-varint: at most 9 bytes, 63 bits).
pub const MAX_VARINT_LEN: usize = uvi::MAX_HEADER_LEN;

/// Largest stream number: the header `num << 3 | flag` must fit a 9-byte varint (63 bits).
pub const MAX_STREAM_NUM: u64 = (1 << 60) - 1;

/// Longest encoded header (two 9-byte varints).
pub const MAX_HEADER_LEN: usize = 2 * MAX_VARINT_LEN;

/// The seven mplex flags (the low 3 bits of the header). Even flags are sent by the side that
/// opened the stream, odd flags by the other side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    /// 0: opens a stream (sent by the opener); body = name.
    NewStream,
    /// 1: data from the side that did not open the stream.
    MessageReceiver,
    /// 2: data from the opener.
    MessageInitiator,
    /// 3: the non-opener half-closes.
    CloseReceiver,
    /// 4: the opener half-closes.
    CloseInitiator,
    /// 5: the non-opener resets.
    ResetReceiver,
    /// 6: the opener resets.
    ResetInitiator,
}

/// What a frame does, independent of who sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// NewStream.
    Open,
    /// Data.
    Message,
    /// Half-close.
    Close,
    /// Reset.
    Reset,
}

impl Flag {
    /// The wire value (0..=6).
    pub fn as_u8(self) -> u8 {
        match self {
            Flag::NewStream => 0,
            Flag::MessageReceiver => 1,
            Flag::MessageInitiator => 2,
            Flag::CloseReceiver => 3,
            Flag::CloseInitiator => 4,
            Flag::ResetReceiver => 5,
            Flag::ResetInitiator => 6,
        }
    }

    /// Parses a wire value; 7 (and anything larger) is [`MplexError::UnknownFlag`].
    pub fn from_u8(v: u8) -> Result<Self, MplexError> {
        Ok(match v {
            0 => Flag::NewStream,
            1 => Flag::MessageReceiver,
            2 => Flag::MessageInitiator,
            3 => Flag::CloseReceiver,
            4 => Flag::CloseInitiator,
            5 => Flag::ResetReceiver,
            6 => Flag::ResetInitiator,
            other => return Err(MplexError::UnknownFlag(other)),
        })
    }

    /// What the frame does.
    pub fn kind(self) -> FrameKind {
        match self {
            Flag::NewStream => FrameKind::Open,
            Flag::MessageReceiver | Flag::MessageInitiator => FrameKind::Message,
            Flag::CloseReceiver | Flag::CloseInitiator => FrameKind::Close,
            Flag::ResetReceiver | Flag::ResetInitiator => FrameKind::Reset,
        }
    }

    /// Whether the sender of this flag opened the stream (even flags).
    pub fn sent_by_opener(self) -> bool {
        self.as_u8() & 1 == 0
    }

    /// The flag to send for `kind` on a stream; `we_opened` picks the initiator/receiver
    /// variant.
    pub fn for_sender(kind: FrameKind, we_opened: bool) -> Flag {
        match (kind, we_opened) {
            (FrameKind::Open, _) => Flag::NewStream,
            (FrameKind::Message, true) => Flag::MessageInitiator,
            (FrameKind::Message, false) => Flag::MessageReceiver,
            (FrameKind::Close, true) => Flag::CloseInitiator,
            (FrameKind::Close, false) => Flag::CloseReceiver,
            (FrameKind::Reset, true) => Flag::ResetInitiator,
            (FrameKind::Reset, false) => Flag::ResetReceiver,
        }
    }
}

/// One frame as on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The stream number (the same number may exist twice: once opened by each side).
    pub num: u64,
    /// The flag.
    pub flag: Flag,
    /// The body: the name for NewStream, data for Message, empty otherwise.
    pub body: Bytes,
}

impl Frame {
    /// A frame of the given fields.
    pub fn new(num: u64, flag: Flag, body: impl Into<Bytes>) -> Self {
        Frame {
            num,
            flag,
            body: body.into(),
        }
    }

    /// The stream this frame names, as seen by its *receiver*: an even flag means the sender
    /// (the remote) opened it, an odd flag means the receiver (we) did.
    pub fn received_stream_id(&self) -> StreamId {
        let opener = if self.flag.sent_by_opener() {
            Endpoint::Remote
        } else {
            Endpoint::Local
        };
        StreamId::new(self.num, opener)
    }
}

/// Decodes a varint at the start of `src`: `Ok(None)` if incomplete, `(value, length)`
/// otherwise. Longer than 9 bytes or non-minimal encodings are refused.
pub fn decode_varint(src: &[u8]) -> Result<Option<(u64, usize)>, MplexError> {
    // framing's reader (unsigned-varint, at most 9 bytes looked at) with mplex's error.
    uvi::read(src).map_err(|e| match e {
        UviError::NotMinimal => MplexError::InvalidVarint("not minimally encoded"),
        // Overlong (the enum is non-exhaustive; `read` returns nothing else).
        _ => MplexError::InvalidVarint("longer than 9 bytes"),
    })
}

/// Appends the varint encoding of `v` to `dst`.
pub fn encode_varint(v: u64, dst: &mut BytesMut) {
    let mut buf = unsigned_varint::encode::u64_buffer();
    dst.extend_from_slice(unsigned_varint::encode::u64(v, &mut buf));
}

/// Appends a frame header (`num << 3 | flag`, `len`) to `dst`. `num` must be at most
/// [`MAX_STREAM_NUM`] (the session never allocates more).
pub fn encode_header(num: u64, flag: Flag, len: usize, dst: &mut BytesMut) {
    encode_varint((num << 3) | u64::from(flag.as_u8()), dst);
    encode_varint(len as u64, dst);
}

/// Decoder/encoder of frames with a bound on bodies.
#[derive(Debug, Clone)]
pub struct FrameCodec {
    max_body: usize,
    /// A header already consumed whose body has not fully arrived.
    pending: Option<(u64, Flag, usize)>,
}

impl FrameCodec {
    /// A codec refusing bodies above `max_body` bytes.
    pub fn new(max_body: usize) -> Self {
        FrameCodec {
            max_body,
            pending: None,
        }
    }

    /// Whether `src` (with what this codec consumed) ends in the middle of a frame.
    pub fn is_mid_frame(&self, src: &BytesMut) -> bool {
        self.pending.is_some() || !src.is_empty()
    }
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = MplexError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, MplexError> {
        let (num, flag, len) = match self.pending.take() {
            Some(p) => p,
            None => {
                let Some((header, h_len)) = decode_varint(src)? else {
                    return Ok(None);
                };
                // `header` < 2^63, so the flag fits a u8 and the number is < 2^60.
                let flag = Flag::from_u8((header & 7) as u8)?;
                let rest = src.get(h_len..).unwrap_or_default();
                let Some((len, l_len)) = decode_varint(rest)? else {
                    return Ok(None);
                };
                if len > self.max_body as u64 {
                    return Err(MplexError::FrameTooLarge {
                        len,
                        max: self.max_body,
                    });
                }
                src.advance(h_len + l_len);
                // len <= max_body, a usize.
                (header >> 3, flag, len as usize)
            }
        };
        if src.len() < len {
            src.reserve(len - src.len());
            self.pending = Some((num, flag, len));
            return Ok(None);
        }
        let body = src.split_to(len).freeze();
        Ok(Some(Frame { num, flag, body }))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, MplexError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if self.is_mid_frame(src) => Err(MplexError::EofMidFrame),
            None => Ok(None),
        }
    }
}

impl Encoder<Frame> for FrameCodec {
    type Error = MplexError;

    /// Refuses bodies above the codec's limit and stream numbers above [`MAX_STREAM_NUM`].
    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), MplexError> {
        if frame.body.len() > self.max_body {
            return Err(MplexError::FrameTooLarge {
                len: frame.body.len() as u64,
                max: self.max_body,
            });
        }
        if frame.num > MAX_STREAM_NUM {
            return Err(MplexError::StreamIdsExhausted);
        }
        dst.reserve(MAX_HEADER_LEN + frame.body.len());
        encode_header(frame.num, frame.flag, frame.body.len(), dst);
        dst.extend_from_slice(&frame.body);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
