//! Unsigned-varint length-prefixed frames, sans-IO: `uvarint(len) ‖ body`, the framing of
//! multistream-select, identify, kad and plaintext.
//!
//! The varint is strict (multiformats `unsigned-varint`): minimal, at most
//! [`MAX_HEADER_LEN`] = 9 bytes (63 bits). The announced length is checked against the
//! caller's limit as soon as the header is complete, before anything is reserved for or waited
//! for the body; a length over it is [`UviError::TooLong`]. With
//! [`UviFramed::early_limit`] (and [`parse_prefix_early`]) an incomplete header is refused as
//! soon as its smallest possible completion is over the limit.
//!
//! [`UviFramed`] has `tokio_util`'s `Decoder` contract (`Ok(None)`: more bytes are needed)
//! without depending on tokio; the protocol crates wrap it in their own codecs and errors.

use bytes::{Buf, BufMut, BytesMut};

/// The longest header accepted: 9 bytes, 63 bits (multiformats `unsigned-varint`).
pub const MAX_HEADER_LEN: usize = 9;

/// The largest length a [`MAX_HEADER_LEN`]-byte header can carry.
pub const MAX_LEN: u64 = (1 << 63) - 1;

/// A bad header, a length over the limit, or a frame cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UviError {
    /// The announced (or, for an incomplete header with an early limit, the smallest possible)
    /// length exceeds the limit; or a body to send does.
    #[error("length {len} exceeds the limit of {max}")]
    TooLong {
        /// The offending length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// The varint is not minimally encoded (a trailing zero byte).
    #[error("length prefix not minimally encoded")]
    NotMinimal,
    /// The varint runs past [`MAX_HEADER_LEN`] bytes.
    #[error("length prefix longer than {MAX_HEADER_LEN} bytes")]
    Overlong,
    /// The input ended inside a frame ([`UviFramed::decode_eof`]).
    #[error("input ended inside a frame: {have} bytes buffered, {need:?} needed")]
    Truncated {
        /// Bytes buffered.
        have: usize,
        /// Bytes the whole frame takes (header included), if the header was complete.
        need: Option<usize>,
    },
}

/// Reads the varint at the start of `buf`, with no limit: `Ok(None)` if more bytes are needed,
/// else the value and the header's length.
pub fn read(buf: &[u8]) -> Result<Option<(u64, usize)>, UviError> {
    // At most 9 bytes: a 10th would make the varint overlong whatever it is.
    let head = buf.get(..MAX_HEADER_LEN).unwrap_or(buf);
    match unsigned_varint::decode::u64(head) {
        Ok((value, rest)) => Ok(Some((value, head.len() - rest.len()))),
        Err(unsigned_varint::decode::Error::Insufficient) if head.len() < MAX_HEADER_LEN => {
            Ok(None)
        }
        Err(unsigned_varint::decode::Error::NotMinimal) => Err(UviError::NotMinimal),
        Err(_) => Err(UviError::Overlong),
    }
}

/// Parses the header at the start of `buf`: `Ok(None)` if more bytes are needed, else the
/// body length and the header's length. A length above `max` is [`UviError::TooLong`], as
/// soon as the header is complete.
pub fn parse_prefix(buf: &[u8], max: usize) -> Result<Option<(usize, usize)>, UviError> {
    match read(buf)? {
        Some((len, header_len)) => Ok(Some((check(len, max)?, header_len))),
        None => Ok(None),
    }
}

/// [`parse_prefix`], which also refuses an incomplete header as soon as every minimal
/// completion of it is over `max` ([`UviError::TooLong`] with that smallest length).
pub fn parse_prefix_early(buf: &[u8], max: usize) -> Result<Option<(usize, usize)>, UviError> {
    if let Some(parsed) = parse_prefix(buf, max)? {
        return Ok(Some(parsed));
    }
    // Incomplete: `buf` holds n < 9 bytes, all with the continuation bit. The final byte to
    // come is not zero (minimal), so the value is at least `so_far + 2^(7 n)`.
    let so_far = buf
        .iter()
        .enumerate()
        .fold(0u64, |acc, (i, &b)| acc | u64::from(b & 0x7f) << (7 * i));
    check(so_far | 1 << (7 * buf.len()), max)?;
    Ok(None)
}

/// `len` as a `usize`, if it is within `max`.
fn check(len: u64, max: usize) -> Result<usize, UviError> {
    match usize::try_from(len) {
        Ok(n) if n <= max => Ok(n),
        _ => Err(UviError::TooLong { len, max }),
    }
}

/// How many bytes the header of a `len`-byte body takes.
pub fn header_len(len: usize) -> usize {
    let mut buf = unsigned_varint::encode::usize_buffer();
    unsigned_varint::encode::usize(len, &mut buf).len()
}

/// Appends `value` as an unsigned varint, with no limit (a value above [`MAX_LEN`] takes 10
/// bytes, which [`read`] refuses).
pub fn put<B: BufMut>(value: usize, dst: &mut B) {
    let mut buf = unsigned_varint::encode::usize_buffer();
    dst.put_slice(unsigned_varint::encode::usize(value, &mut buf));
}

/// Appends the header of a `len`-byte body; a `len` above `max` (or [`MAX_LEN`]) is
/// [`UviError::TooLong`] and nothing is written.
pub fn put_header<B: BufMut>(len: usize, max: usize, dst: &mut B) -> Result<(), UviError> {
    let max = max.min(usize::try_from(MAX_LEN).unwrap_or(usize::MAX));
    if len > max {
        return Err(UviError::TooLong {
            len: len as u64,
            max,
        });
    }
    put(len, dst);
    Ok(())
}

/// A uvarint length-prefix codec with a body limit, for both directions.
///
/// By default it reserves room for the rest of a frame once its header is in (never more than
/// the limit, which is checked first) and checks the limit once the header is complete;
/// [`reserve_body`](Self::reserve_body) and [`early_limit`](Self::early_limit) change that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UviFramed {
    max_len: usize,
    reserve: bool,
    early: bool,
}

impl UviFramed {
    /// A codec for bodies of up to `max_len` bytes.
    pub const fn new(max_len: usize) -> Self {
        UviFramed {
            max_len,
            reserve: true,
            early: false,
        }
    }

    /// Whether [`decode`](Self::decode) reserves room for the rest of a frame whose header is
    /// in (default `true`); without, memory grows only with the bytes that arrive.
    #[must_use]
    pub const fn reserve_body(mut self, reserve: bool) -> Self {
        self.reserve = reserve;
        self
    }

    /// Whether an incomplete header is refused as soon as it can only end over the limit
    /// (default `false`: refused once complete). See [`parse_prefix_early`].
    #[must_use]
    pub const fn early_limit(mut self, early: bool) -> Self {
        self.early = early;
        self
    }

    /// The body limit.
    pub const fn max_len(&self) -> usize {
        self.max_len
    }

    /// Parses the header at the start of `buf` under this codec's limit rule: the body length
    /// and the header's length, or `Ok(None)` if more bytes are needed.
    pub fn parse_prefix(&self, buf: &[u8]) -> Result<Option<(usize, usize)>, UviError> {
        if self.early {
            parse_prefix_early(buf, self.max_len)
        } else {
            parse_prefix(buf, self.max_len)
        }
    }

    /// Splits the next frame's body off the front of `src`, or `Ok(None)` until it has fully
    /// arrived (then, with [`reserve_body`](Self::reserve_body), room for the rest of it is
    /// reserved).
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, UviError> {
        let Some((len, header_len)) = self.parse_prefix(src)? else {
            return Ok(None);
        };
        let total = header_len + len; // len <= max_len, header_len <= 9
        if src.len() < total {
            if self.reserve {
                src.reserve(total - src.len());
            }
            return Ok(None);
        }
        src.advance(header_len);
        Ok(Some(src.split_to(len)))
    }

    /// [`decode`](Self::decode) at the end of the input: bytes left that make no whole frame
    /// are [`UviError::Truncated`].
    pub fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, UviError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(UviError::Truncated {
                have: src.len(),
                need: self
                    .parse_prefix(src)?
                    .map(|(len, header_len)| len + header_len),
            }),
        }
    }

    /// Reserves room for a `len`-byte frame and appends its header; the caller appends the
    /// body. A `len` over the limit is [`UviError::TooLong`] and nothing is written.
    pub fn encode_header(&self, len: usize, dst: &mut BytesMut) -> Result<(), UviError> {
        if len > self.max_len {
            return Err(UviError::TooLong {
                len: len as u64,
                max: self.max_len,
            });
        }
        dst.reserve(header_len(len) + len);
        put_header(len, self.max_len, dst)
    }

    /// Appends `uvarint(body.len()) ‖ body`; a body over the limit is [`UviError::TooLong`]
    /// and nothing is written.
    pub fn encode(&self, body: &[u8], dst: &mut BytesMut) -> Result<(), UviError> {
        self.encode_header(body.len(), dst)?;
        dst.put_slice(body);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(bodies: &[&[u8]]) -> BytesMut {
        let codec = UviFramed::new(1000);
        let mut out = BytesMut::new();
        for b in bodies {
            codec.encode(b, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn split_byte_by_byte() {
        let big = [7u8; 300];
        let bytes = wire(&[b"hello", &big, b""]);
        assert_eq!(&bytes[..7], &[5, b'h', b'e', b'l', b'l', b'o', 0xac]);
        let mut codec = UviFramed::new(1000);
        let mut src = BytesMut::new();
        let mut got = vec![];
        for &b in bytes.iter() {
            src.put_u8(b);
            while let Some(f) = codec.decode(&mut src).unwrap() {
                got.push(f.to_vec());
            }
        }
        assert_eq!(got, vec![b"hello".to_vec(), big.to_vec(), vec![]]);
        assert!(src.is_empty());
        assert_eq!(codec.decode_eof(&mut src), Ok(None));
    }

    #[test]
    fn several_frames_in_one_buffer() {
        let mut src = wire(&[b"a", b"bc", b"", b"def"]);
        src.extend_from_slice(&[4, b'x']);
        let mut codec = UviFramed::new(10);
        for want in [&b"a"[..], b"bc", b"", b"def"] {
            assert_eq!(codec.decode(&mut src).unwrap().unwrap(), want);
        }
        assert_eq!(codec.decode(&mut src), Ok(None));
        assert_eq!(&src[..], &[4, b'x']);
        assert_eq!(
            codec.decode_eof(&mut src),
            Err(UviError::Truncated {
                have: 2,
                need: Some(5)
            })
        );
        let mut partial = BytesMut::from(&[0x80u8][..]);
        assert_eq!(
            UviFramed::new(1000).decode_eof(&mut partial),
            Err(UviError::Truncated {
                have: 1,
                need: None
            })
        );
    }

    #[test]
    fn empty_body() {
        let mut src = BytesMut::from(&[0u8][..]);
        let f = UviFramed::new(0).decode(&mut src).unwrap().unwrap();
        assert!(f.is_empty() && src.is_empty());
        let mut out = BytesMut::new();
        UviFramed::new(0).encode(b"", &mut out).unwrap();
        assert_eq!(&out[..], &[0]);
    }

    #[test]
    fn exact_limit_accepted_limit_plus_one_refused_before_the_body() {
        let mut codec = UviFramed::new(300);
        let mut src = BytesMut::from(&[0xac, 0x02][..]); // 300
        assert_eq!(codec.decode(&mut src), Ok(None));
        assert!(src.capacity() >= 302, "room for the announced frame");
        src.extend_from_slice(&[1; 300]);
        assert_eq!(codec.decode(&mut src).unwrap().unwrap().len(), 300);

        let mut src = BytesMut::from(&[0xad, 0x02][..]); // 301, no body yet
        assert_eq!(
            codec.decode(&mut src),
            Err(UviError::TooLong { len: 301, max: 300 })
        );
        let mut out = BytesMut::new();
        codec.encode(&[0; 300], &mut out).unwrap();
        assert_eq!(out.len(), 302);
        let mut out = BytesMut::new();
        assert_eq!(
            codec.encode(&[0; 301], &mut out),
            Err(UviError::TooLong { len: 301, max: 300 })
        );
        assert!(out.is_empty());
    }

    #[test]
    fn announced_huge_length_reserves_nothing() {
        let mut src = BytesMut::from(&[0xff, 0xff, 0xff, 0xff, 0x0f][..]);
        let cap = src.capacity();
        assert!(matches!(
            UviFramed::new(1 << 20).decode(&mut src),
            Err(UviError::TooLong { .. })
        ));
        assert_eq!(src.capacity(), cap);
        let mut lazy = UviFramed::new(100).reserve_body(false);
        let mut src = BytesMut::from(&[0x64, 1, 2][..]);
        let cap = src.capacity();
        assert_eq!(lazy.decode(&mut src), Ok(None));
        assert_eq!(src.capacity(), cap);
    }

    #[test]
    fn bad_varints() {
        let mut codec = UviFramed::new(usize::MAX);
        for bad in [&[0x80u8, 0x00][..], &[0xff, 0x00], &[0x80, 0x80, 0x00]] {
            assert_eq!(
                codec.decode(&mut BytesMut::from(bad)),
                Err(UviError::NotMinimal)
            );
        }
        // Nine bytes with the continuation bit: a 10th would be overlong whatever it is.
        assert_eq!(
            codec.decode(&mut BytesMut::from(&[0xff; 9][..])),
            Err(UviError::Overlong)
        );
        assert_eq!(read(&[0xff; 8]), Ok(None));
        // A 10-byte varint (u64::MAX) is refused even though it fits a u64.
        let mut ten = vec![0xffu8; 9];
        ten.push(0x01);
        assert_eq!(read(&ten), Err(UviError::Overlong));
        let mut nine = vec![0xffu8; 8];
        nine.push(0x7f);
        assert_eq!(read(&nine), Ok(Some((MAX_LEN, 9))));
        assert_eq!(read(&[]), Ok(None));
    }

    #[test]
    fn early_limit_refuses_an_incomplete_header() {
        assert_eq!(parse_prefix(&[0x80, 0x80], 16383), Ok(None));
        assert_eq!(
            parse_prefix_early(&[0x80, 0x80], 16383),
            Err(UviError::TooLong {
                len: 16384,
                max: 16383
            })
        );
        assert_eq!(parse_prefix_early(&[0x80], 16383), Ok(None));
        assert_eq!(
            parse_prefix_early(&[0xff, 0x7f], 16383),
            Ok(Some((16383, 2)))
        );
        let mut codec = UviFramed::new(4).early_limit(true);
        assert_eq!(
            codec.decode(&mut BytesMut::from(&[0x80u8][..])),
            Err(UviError::TooLong { len: 128, max: 4 })
        );
    }

    #[test]
    fn headers() {
        assert_eq!(header_len(0), 1);
        assert_eq!(header_len(127), 1);
        assert_eq!(header_len(128), 2);
        let mut v = Vec::new();
        put_header(300, 300, &mut v).unwrap();
        assert_eq!(v, vec![0xac, 0x02]);
        assert_eq!(
            put_header(301, 300, &mut v),
            Err(UviError::TooLong { len: 301, max: 300 })
        );
        put(16384, &mut v);
        assert_eq!(v, vec![0xac, 0x02, 0x80, 0x80, 0x01]);
    }
}
