//! Yamux framing (sans-IO): the 12-byte header, frames, and [`FrameCodec`] with inherent
//! `decode`/`encode` methods on `BytesMut` (data bodies split off without copying), and
//! [`FrameCodec::decode_slice`] for a reusable plain buffer (the driver's; the caller copies
//! bodies out). With the `tokio-codec` feature `FrameCodec` also implements `tokio_util`'s
//! `Decoder`/`Encoder`, delegating to the inherent methods.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::YamuxError;

/// Length of a frame header.
pub const HEADER_LEN: usize = 12;
/// The only protocol version.
pub const VERSION: u8 = 0;

/// The four frame types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// Stream data; the only type with a body.
    Data,
    /// Window credit (delta) for a stream.
    WindowUpdate,
    /// Session ping (length = opaque value).
    Ping,
    /// Session termination (length = code).
    GoAway,
}

impl FrameType {
    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            FrameType::Data => 0,
            FrameType::WindowUpdate => 1,
            FrameType::Ping => 2,
            FrameType::GoAway => 3,
        }
    }

    /// Parses a wire value.
    pub fn from_u8(v: u8) -> Result<Self, YamuxError> {
        Ok(match v {
            0 => FrameType::Data,
            1 => FrameType::WindowUpdate,
            2 => FrameType::Ping,
            3 => FrameType::GoAway,
            other => return Err(YamuxError::UnknownType(other)),
        })
    }
}

/// Frame flags (a bitmask). Unknown bits are kept but ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u16);

impl Flags {
    /// No flag.
    pub const NONE: Flags = Flags(0);
    /// Opens a stream / a ping request.
    pub const SYN: Flags = Flags(0x1);
    /// Acknowledges a stream / a ping answer.
    pub const ACK: Flags = Flags(0x2);
    /// Half-closes a stream.
    pub const FIN: Flags = Flags(0x4);
    /// Resets a stream.
    pub const RST: Flags = Flags(0x8);

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// GoAway codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoAwayCode {
    /// 0: normal termination.
    Normal,
    /// 1: the peer broke the protocol.
    ProtocolError,
    /// 2: internal error.
    InternalError,
    /// Any other value.
    Other(u32),
}

impl GoAwayCode {
    /// The wire value.
    pub fn as_u32(self) -> u32 {
        match self {
            GoAwayCode::Normal => 0,
            GoAwayCode::ProtocolError => 1,
            GoAwayCode::InternalError => 2,
            GoAwayCode::Other(v) => v,
        }
    }

    /// From the wire value.
    pub fn from_u32(v: u32) -> Self {
        match v {
            0 => GoAwayCode::Normal,
            1 => GoAwayCode::ProtocolError,
            2 => GoAwayCode::InternalError,
            other => GoAwayCode::Other(other),
        }
    }
}

/// A frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The frame type.
    pub frame_type: FrameType,
    /// The flags.
    pub flags: Flags,
    /// The stream id (0 = session).
    pub stream_id: u32,
    /// Body length (Data), window delta (WindowUpdate), opaque value (Ping) or code (GoAway).
    pub length: u32,
}

impl Header {
    /// A header of the given fields.
    pub fn new(frame_type: FrameType, flags: Flags, stream_id: u32, length: u32) -> Self {
        Header {
            frame_type,
            flags,
            stream_id,
            length,
        }
    }

    /// Appends the 12 encoded bytes to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        let mut raw = [0u8; HEADER_LEN];
        let mut w: &mut [u8] = &mut raw;
        w.put_u8(VERSION);
        w.put_u8(self.frame_type.as_u8());
        w.put_u16(self.flags.0);
        w.put_u32(self.stream_id);
        w.put_u32(self.length);
        dst.extend_from_slice(&raw);
    }

    /// Parses 12 header bytes.
    pub fn decode(raw: &[u8; HEADER_LEN]) -> Result<Header, YamuxError> {
        let mut src: &[u8] = raw;
        let version = src.get_u8();
        if version != VERSION {
            return Err(YamuxError::UnknownVersion(version));
        }
        let frame_type = FrameType::from_u8(src.get_u8())?;
        Ok(Header {
            frame_type,
            flags: Flags(src.get_u16()),
            stream_id: src.get_u32(),
            length: src.get_u32(),
        })
    }

    /// Length of the body that follows this header (only Data frames have one).
    pub fn body_len(&self) -> usize {
        match self.frame_type {
            FrameType::Data => self.length as usize,
            _ => 0,
        }
    }
}

/// Length (header and body) of the encoded frame `src` starts with; `src.len()` if it does not
/// start with a whole valid header. Used to cut our own output into one frame per write.
pub fn encoded_frame_len(src: &[u8]) -> usize {
    let header = src
        .first_chunk::<HEADER_LEN>()
        .and_then(|raw| Header::decode(raw).ok());
    match header {
        Some(h) => HEADER_LEN.saturating_add(h.body_len()),
        None => src.len(),
    }
}

/// A frame: header and (for Data) body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The header; for Data frames `header.length == body.len()` once decoded.
    pub header: Header,
    /// The body (empty for non-Data frames).
    pub body: Bytes,
}

impl Frame {
    /// A header-only frame.
    pub fn control(frame_type: FrameType, flags: Flags, stream_id: u32, length: u32) -> Self {
        Frame {
            header: Header::new(frame_type, flags, stream_id, length),
            body: Bytes::new(),
        }
    }

    /// A data frame; the header's length is taken from the body.
    pub fn data(flags: Flags, stream_id: u32, body: Bytes) -> Self {
        let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
        Frame {
            header: Header::new(FrameType::Data, flags, stream_id, len),
            body,
        }
    }
}

/// Decoder/encoder of frames with a bound on data bodies.
#[derive(Debug, Clone)]
pub struct FrameCodec {
    max_body: usize,
    pending: Option<Header>,
}

impl FrameCodec {
    /// A codec refusing data bodies above `max_body` bytes.
    pub fn new(max_body: usize) -> Self {
        FrameCodec {
            max_body,
            pending: None,
        }
    }
}

impl FrameCodec {
    /// Bytes of a frame already taken from the input but not yet complete (the header of a
    /// data frame whose body is still missing), for telling EOF mid-frame from a clean end.
    pub fn partial_frame_len(&self) -> usize {
        if self.pending.is_some() {
            HEADER_LEN
        } else {
            0
        }
    }
}

/// What [`FrameCodec::decode_slice`] found at the front of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SliceFrame {
    /// A complete frame of `len` bytes: `header`, then (for Data) the body
    /// `src[HEADER_LEN..len]`.
    Frame {
        /// The decoded header.
        header: Header,
        /// Encoded length of the whole frame.
        len: usize,
    },
    /// The frame is incomplete: this many bytes make the whole frame (header included;
    /// `HEADER_LEN` while the header itself is incomplete).
    Incomplete(usize),
}

impl FrameCodec {
    /// Decodes the frame at the front of `src` without consuming or copying anything (the
    /// caller copies the body out, so its buffer can be reused at once). A data body above
    /// the limit is refused as soon as its header is complete.
    pub fn decode_slice(&self, src: &[u8]) -> Result<SliceFrame, YamuxError> {
        let Some(raw) = src.first_chunk::<HEADER_LEN>() else {
            return Ok(SliceFrame::Incomplete(HEADER_LEN));
        };
        let header = Header::decode(raw)?;
        if header.frame_type == FrameType::Data && header.length as usize > self.max_body {
            return Err(YamuxError::FrameTooLarge {
                len: header.length,
                max: self.max_body,
            });
        }
        let len = HEADER_LEN + header.body_len();
        if src.len() < len {
            return Ok(SliceFrame::Incomplete(len));
        }
        Ok(SliceFrame::Frame { header, len })
    }
}

impl FrameCodec {
    /// Takes the next frame off the front of `src`, or `None` until it has fully arrived (a
    /// data frame's header is kept while its body is missing; room for the body is reserved).
    /// A data body above the limit is refused as soon as its header is complete.
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, YamuxError> {
        let header = match self.pending.take() {
            Some(h) => h,
            None => {
                let Some(raw) = src.get(..HEADER_LEN) else {
                    return Ok(None);
                };
                let mut bytes = [0u8; HEADER_LEN];
                bytes.copy_from_slice(raw);
                let h = Header::decode(&bytes)?;
                if h.frame_type == FrameType::Data && h.length as usize > self.max_body {
                    return Err(YamuxError::FrameTooLarge {
                        len: h.length,
                        max: self.max_body,
                    });
                }
                src.advance(HEADER_LEN);
                h
            }
        };
        let body_len = header.body_len();
        if src.len() < body_len {
            src.reserve(body_len - src.len());
            self.pending = Some(header);
            return Ok(None);
        }
        let body = src.split_to(body_len).freeze();
        Ok(Some(Frame { header, body }))
    }
}

impl FrameCodec {
    /// Appends `frame` (a data frame's length field is set from its body), refusing a data body
    /// above the limit.
    pub fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), YamuxError> {
        if frame.header.frame_type == FrameType::Data && frame.body.len() > self.max_body {
            return Err(YamuxError::FrameTooLarge {
                len: frame.header.length,
                max: self.max_body,
            });
        }
        let mut header = frame.header;
        if header.frame_type == FrameType::Data {
            header.length = u32::try_from(frame.body.len()).unwrap_or(u32::MAX);
        }
        header.encode(dst);
        dst.extend_from_slice(&frame.body);
        Ok(())
    }
}

#[cfg(feature = "tokio-codec")]
impl tokio_util::codec::Decoder for FrameCodec {
    type Item = Frame;
    type Error = YamuxError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, YamuxError> {
        FrameCodec::decode(self, src)
    }
}

#[cfg(feature = "tokio-codec")]
impl tokio_util::codec::Encoder<Frame> for FrameCodec {
    type Error = YamuxError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), YamuxError> {
        FrameCodec::encode(self, frame, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> BytesMut {
        let s: String = s.split_whitespace().collect();
        BytesMut::from(
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect::<Vec<_>>()
                .as_slice(),
        )
    }

    #[test]
    fn spec_examples_decode() {
        let mut c = FrameCodec::new(1 << 20);
        let mut b = hex("00 01 0001 00000001 00000000  00 02 0001 00000000 0000002a  00 03 0000 00000000 00000000");
        let f = c.decode(&mut b).unwrap().unwrap();
        assert_eq!(
            f.header,
            Header::new(FrameType::WindowUpdate, Flags::SYN, 1, 0)
        );
        let f = c.decode(&mut b).unwrap().unwrap();
        assert_eq!(f.header, Header::new(FrameType::Ping, Flags::SYN, 0, 42));
        let f = c.decode(&mut b).unwrap().unwrap();
        assert_eq!(f.header.frame_type, FrameType::GoAway);
        assert!(c.decode(&mut b).unwrap().is_none());
    }

    #[test]
    fn data_round_trip_in_pieces() {
        let mut c = FrameCodec::new(1 << 20);
        let mut out = BytesMut::new();
        c.encode(
            Frame::data(Flags::SYN | Flags::FIN, 3, Bytes::from_static(b"hello")),
            &mut out,
        )
        .unwrap();
        assert_eq!(&out[..12], &hex("00 00 0005 00000003 00000005")[..]);
        let mut inp = BytesMut::new();
        let mut got = None;
        for byte in out.iter() {
            inp.extend_from_slice(&[*byte]);
            if let Some(f) = c.decode(&mut inp).unwrap() {
                got = Some(f);
            }
        }
        let f = got.unwrap();
        assert_eq!(&f.body[..], b"hello");
        assert!(f.header.flags.contains(Flags::FIN));
    }

    #[test]
    fn unknown_version_is_refused() {
        let mut b = hex("01 00 0000 00000001 00000000");
        assert_eq!(
            FrameCodec::new(10).decode(&mut b),
            Err(YamuxError::UnknownVersion(1))
        );
    }

    #[test]
    fn unknown_type_is_refused() {
        let mut b = hex("00 07 0000 00000001 00000000");
        assert_eq!(
            FrameCodec::new(10).decode(&mut b),
            Err(YamuxError::UnknownType(7))
        );
    }

    #[test]
    fn oversize_body_is_refused_before_it_arrives() {
        let mut b = hex("00 00 0000 00000001 00100001");
        let cap_before = b.capacity();
        let err = FrameCodec::new(1 << 20).decode(&mut b).unwrap_err();
        assert_eq!(
            err,
            YamuxError::FrameTooLarge {
                len: 0x100001,
                max: 1 << 20
            }
        );
        assert_eq!(b.capacity(), cap_before);
    }

    #[test]
    fn window_update_length_is_not_a_body() {
        let mut b = hex("00 01 0000 00000001 ffffffff");
        let f = FrameCodec::new(10).decode(&mut b).unwrap().unwrap();
        assert_eq!(f.header.length, u32::MAX);
        assert!(f.body.is_empty());
    }

    #[test]
    fn encoded_frame_len_counts_data_bodies_only() {
        let mut out = BytesMut::new();
        let mut c = FrameCodec::new(1 << 20);
        c.encode(
            Frame::data(Flags::SYN, 3, Bytes::from_static(b"hello")),
            &mut out,
        )
        .unwrap();
        c.encode(Frame::control(FrameType::Ping, Flags::SYN, 0, 7), &mut out)
            .unwrap();
        assert_eq!(encoded_frame_len(&out), 17, "data: header and body");
        assert_eq!(
            encoded_frame_len(&out[17..]),
            12,
            "ping: the opaque is no body"
        );
        // Control frames' length field is a window, opaque or code, never a body.
        for ty in [FrameType::WindowUpdate, FrameType::Ping, FrameType::GoAway] {
            let mut b = BytesMut::new();
            Header::new(ty, Flags::NONE, 1, 0xffff_ffff).encode(&mut b);
            b.extend_from_slice(b"next frame");
            assert_eq!(encoded_frame_len(&b), HEADER_LEN, "{ty:?}");
        }
        // A data header whose body has not all been queued: still the whole frame's length.
        assert_eq!(encoded_frame_len(&out[..14]), 17);
    }

    #[test]
    fn encoded_frame_len_of_garbage_is_the_slice_length() {
        assert_eq!(encoded_frame_len(&[]), 0);
        assert_eq!(
            encoded_frame_len(&hex("00 00 0000 0000")),
            6,
            "short header"
        );
        let bad_version = hex("01 00 0000 00000001 00000005 0102030405");
        assert_eq!(encoded_frame_len(&bad_version), bad_version.len());
        let bad_type = hex("00 07 0000 00000001 00000000 ffff");
        assert_eq!(encoded_frame_len(&bad_type), bad_type.len());
    }

    #[cfg(feature = "tokio-codec")]
    #[test]
    fn tokio_codec_traits_delegate() {
        use tokio_util::codec::{Decoder, Encoder};
        let mut codec = FrameCodec::new(1024);
        let mut buf = BytesMut::new();
        let frame = Frame::data(Flags::NONE, 1, Bytes::from_static(b"hi"));
        Encoder::encode(&mut codec, frame.clone(), &mut buf).unwrap();
        assert_eq!(Decoder::decode(&mut codec, &mut buf).unwrap(), Some(frame));
        assert!(buf.is_empty());
    }
}
