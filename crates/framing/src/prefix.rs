//! Length-prefixed frames, sans-IO: `N`-byte big-endian length ‖ body (noise: `N = 2`, secio:
//! `N = 4`). The announced length is checked against the caller's limit as soon as the header
//! is in, before anything is allocated or waited for; a length over it is [`Oversize`].

use std::marker::PhantomData;

use bytes::{Buf, BufMut, BytesMut};

/// A frame (or header) longer than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("length {len} exceeds the limit of {max}")]
pub struct Oversize {
    /// The offending length.
    pub len: usize,
    /// The limit.
    pub max: usize,
}

/// Helpers for frames with an `N`-byte big-endian length header, `1 <= N <= 4`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LengthPrefix<const N: usize>(PhantomData<[u8; N]>);

impl<const N: usize> LengthPrefix<N> {
    /// Length of the header.
    pub const HEADER_LEN: usize = {
        assert!(N >= 1 && N <= 4, "length prefix of 1 to 4 bytes");
        N
    };
    /// Largest length the header can carry.
    pub const MAX_LEN: usize = ((1u64 << (8 * Self::HEADER_LEN)) - 1) as usize;

    /// The announced body length, once the header is in.
    #[inline]
    pub fn body_len(buf: &[u8]) -> Option<usize> {
        let header = buf.get(..Self::HEADER_LEN)?;
        Some(
            header
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b)),
        )
    }

    /// Looks for one complete frame at the start of `buf`.
    ///
    /// `Ok(None)` if more bytes are needed, else the frame's total length (header included);
    /// the body is `buf[HEADER_LEN..total]`. A length above `max` is [`Oversize`], reported
    /// as soon as the header is in.
    #[inline]
    pub fn parse_frame(buf: &[u8], max: usize) -> Result<Option<usize>, Oversize> {
        let Some(len) = Self::body_len(buf) else {
            return Ok(None);
        };
        if len > max {
            return Err(Oversize { len, max });
        }
        let total = Self::HEADER_LEN + len;
        Ok((buf.len() >= total).then_some(total))
    }

    /// How many bytes the frame at the start of `buf` needs in total (header included), or
    /// just the header if it is not in yet; used to report truncation and to size reads.
    #[inline]
    pub fn needed(buf: &[u8]) -> usize {
        Self::body_len(buf).map_or(Self::HEADER_LEN, |l| l.saturating_add(Self::HEADER_LEN))
    }

    /// Writes the header of a `len`-byte body into `out[..N]`. A `len` the header cannot
    /// carry is [`Oversize`] with `max` = [`Self::MAX_LEN`]; an `out` shorter than the header
    /// is [`Oversize`] with `len` = `N` and `max` = `out.len()`.
    #[inline]
    pub fn write_header(out: &mut [u8], len: usize) -> Result<(), Oversize> {
        if len > Self::MAX_LEN {
            return Err(Oversize {
                len,
                max: Self::MAX_LEN,
            });
        }
        let out_len = out.len();
        let header = out.get_mut(..Self::HEADER_LEN).ok_or(Oversize {
            len: Self::HEADER_LEN,
            max: out_len,
        })?;
        let be = (len as u64).to_be_bytes();
        header.copy_from_slice(be.get(8 - Self::HEADER_LEN..).unwrap_or_default());
        Ok(())
    }

    /// Splits one complete frame's body off the front of `src` (`Ok(None)`: more bytes are
    /// needed, and room for the rest of the frame is reserved).
    pub fn decode(src: &mut BytesMut, max: usize) -> Result<Option<BytesMut>, Oversize> {
        match Self::parse_frame(src, max)? {
            Some(total) => {
                src.advance(Self::HEADER_LEN);
                Ok(Some(src.split_to(total - Self::HEADER_LEN)))
            }
            None => {
                src.reserve(Self::needed(src).saturating_sub(src.len()));
                Ok(None)
            }
        }
    }

    /// Appends `header ‖ body` to `dst`; a body above `max` (or above [`Self::MAX_LEN`]) is
    /// [`Oversize`] and nothing is written.
    pub fn encode(body: &[u8], dst: &mut BytesMut, max: usize) -> Result<(), Oversize> {
        if body.len() > max {
            return Err(Oversize {
                len: body.len(),
                max,
            });
        }
        let mut header = [0u8; 4];
        Self::write_header(&mut header, body.len())?;
        dst.reserve(Self::HEADER_LEN + body.len());
        dst.put_slice(header.get(..Self::HEADER_LEN).unwrap_or_default());
        dst.put_slice(body);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type U16 = LengthPrefix<2>;
    type U32 = LengthPrefix<4>;

    #[test]
    fn header_limits() {
        assert_eq!(U16::MAX_LEN, 65535);
        assert_eq!(U32::MAX_LEN, u32::MAX as usize);
        let mut h = [0u8; 2];
        assert_eq!(
            U16::write_header(&mut h, 65536),
            Err(Oversize {
                len: 65536,
                max: 65535
            })
        );
        U16::write_header(&mut h, 65535).unwrap();
        assert_eq!(h, [0xff, 0xff]);
        let mut h4 = [0u8; 5];
        U32::write_header(&mut h4, 0x0102_0304).unwrap();
        assert_eq!(h4, [1, 2, 3, 4, 0]);
        assert_eq!(
            U32::write_header(&mut [0u8; 3], 1),
            Err(Oversize { len: 4, max: 3 })
        );
    }

    #[test]
    fn parse_and_needed() {
        assert_eq!(U16::parse_frame(&[0], 10), Ok(None));
        assert_eq!(U16::parse_frame(&[0, 2, 7], 10), Ok(None));
        assert_eq!(U16::parse_frame(&[0, 2, 7, 8, 9], 10), Ok(Some(4)));
        assert_eq!(
            U32::parse_frame(&[0x00, 0x80, 0x00, 0x01], 0x80_0000),
            Err(Oversize {
                len: 0x80_0001,
                max: 0x80_0000
            })
        );
        assert_eq!(
            U32::parse_frame(&[0x00, 0x80, 0x00, 0x00], 0x80_0000),
            Ok(None)
        );
        assert_eq!(U32::needed(&[0, 0, 1, 0, 9]), 260);
        assert_eq!(U32::needed(&[0, 0]), 4);
        assert_eq!(U16::needed(&[0x00, 0x10, 1]), 18);
    }

    #[test]
    fn round_trip_in_pieces_and_oversize() {
        let mut buf = BytesMut::new();
        U32::encode(b"hello", &mut buf, 100).unwrap();
        U32::encode(b"", &mut buf, 100).unwrap();
        assert_eq!(
            U32::encode(&[0u8; 101], &mut buf, 100),
            Err(Oversize { len: 101, max: 100 })
        );
        assert_eq!(
            &buf[..],
            &[0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o', 0, 0, 0, 0]
        );
        let mut src = BytesMut::new();
        let mut got = vec![];
        for b in buf.iter() {
            src.put_u8(*b);
            while let Some(f) = U32::decode(&mut src, 100).unwrap() {
                got.push(f.to_vec());
            }
        }
        assert_eq!(got, vec![b"hello".to_vec(), vec![]]);
        assert!(src.is_empty());
        let mut big = BytesMut::from(&[0x00, 0x65][..]);
        assert_eq!(
            U16::decode(&mut big, 100),
            Err(Oversize { len: 101, max: 100 })
        );
    }
}
