//! Framing, sans-IO: `uvarint(len) ‖ protobuf Message`, as a `tokio_util` [`Decoder`] /
//! [`Encoder`] on `BytesMut` with a size limit, plus [`fit_response`], which cuts our own
//! answers down to the size default rust-libp2p peers accept.
//!
//! The limit is checked on the length prefix, before any byte of the body is read and before
//! any buffer is reserved for it: an announced 1 GiB message costs nothing.

use bytes::{Buf, BytesMut};
use prost::Message as _;
use tokio_util::codec::{Decoder, Encoder};

use crate::error::KadError;
use crate::proto::{Message, Peer};

/// The longest uvarint a u64 length can take; more bytes without an end is an error.
pub const MAX_PREFIX_LEN: usize = 10;

/// Parses the uvarint length prefix at the start of `buf`: `Ok(None)` while incomplete,
/// `Ok(Some((len, prefix_len)))` once complete and `len <= max`.
pub fn decode_length_prefix(buf: &[u8], max: usize) -> Result<Option<(usize, usize)>, KadError> {
    let (len, rest) = match unsigned_varint::decode::u64(buf) {
        Ok(parsed) => parsed,
        Err(unsigned_varint::decode::Error::Insufficient) if buf.len() < MAX_PREFIX_LEN => {
            return Ok(None)
        }
        Err(e) => return Err(KadError::InvalidVarint(e)),
    };
    match usize::try_from(len) {
        Ok(n) if n <= max => Ok(Some((n, buf.len() - rest.len()))),
        _ => Err(KadError::MessageTooLarge { len, max }),
    }
}

/// Splits a byte stream into length-delimited frames of at most `max_len` bytes, and writes
/// [`Message`]s in the same form.
#[derive(Debug, Clone)]
pub struct KadCodec {
    max_len: usize,
}

impl KadCodec {
    /// A codec refusing frames longer than `max_len` bytes (both ways).
    pub fn new(max_len: usize) -> Self {
        KadCodec { max_len }
    }

    /// The limit.
    pub fn max_len(&self) -> usize {
        self.max_len
    }
}

impl Decoder for KadCodec {
    type Item = BytesMut;
    type Error = KadError;

    /// Yields the next frame's body. Reserves nothing ahead of the bytes that arrive, so a
    /// peer announcing the maximum and sending nothing costs no memory.
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, KadError> {
        let Some((len, prefix)) = decode_length_prefix(src, self.max_len)? else {
            return Ok(None);
        };
        if src.len() < prefix + len {
            return Ok(None);
        }
        src.advance(prefix);
        Ok(Some(src.split_to(len)))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, KadError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => {
                let expected = decode_length_prefix(src, self.max_len)?
                    .map_or(0, |(len, prefix)| len + prefix);
                Err(KadError::Truncated {
                    got: src.len(),
                    expected,
                })
            }
        }
    }
}

impl Encoder<&Message> for KadCodec {
    type Error = KadError;

    fn encode(&mut self, msg: &Message, dst: &mut BytesMut) -> Result<(), KadError> {
        let len = msg.encoded_len();
        if len > self.max_len {
            return Err(KadError::OwnMessageTooLarge {
                len,
                max: self.max_len,
            });
        }
        msg.encode_length_delimited(dst)
            .map_err(|_| KadError::OwnMessageTooLarge {
                len,
                max: self.max_len,
            })
    }
}

/// Encodes `msg` as one frame (prefix and body) into a new buffer, refusing more than `max`
/// bytes of body.
pub fn encode_frame(msg: &Message, max: usize) -> Result<Vec<u8>, KadError> {
    let len = msg.encoded_len();
    if len > max {
        return Err(KadError::OwnMessageTooLarge { len, max });
    }
    Ok(msg.encode_length_delimited_to_vec())
}

/// Bytes a peer takes inside a message: key byte, length prefix, body.
fn peer_cost(peer: &Peer) -> usize {
    let len = peer.encoded_len();
    1 + prost::length_delimiter_len(len) + len
}

/// Drops peers from the end of `closer_peers` (the farthest, since lists are sorted closest
/// first), then of `provider_peers`, until `msg` encodes in at most `max` bytes. Returns how
/// many peers were dropped. A message still larger without any peer (a big record) is left
/// as is; the caller decides with its hard limit.
pub fn fit_response(msg: &mut Message, max: usize) -> usize {
    let mut len = msg.encoded_len();
    let mut dropped = 0;
    for list in [0, 1] {
        while len > max {
            let peers = if list == 0 {
                &mut msg.closer_peers
            } else {
                &mut msg.provider_peers
            };
            let Some(peer) = peers.pop() else { break };
            len -= peer_cost(&peer);
            dropped += 1;
        }
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_across_reads() {
        let mut codec = KadCodec::new(300);
        let msg = Message {
            r#type: 1,
            key: vec![7; 200],
            ..Default::default()
        };
        let mut wire = BytesMut::new();
        codec.encode(&msg, &mut wire).unwrap();
        codec.encode(&msg, &mut wire).unwrap();
        assert_eq!(&wire[..2], &[0xcd, 0x01], "205-byte body: two-byte prefix");

        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for chunk in wire.chunks(7) {
            buf.extend_from_slice(chunk);
            while let Some(frame) = codec.decode(&mut buf).unwrap() {
                frames.push(Message::decode(frame).unwrap());
            }
        }
        assert_eq!(frames, vec![msg.clone(), msg]);
        assert!(buf.is_empty());
    }

    #[test]
    fn oversize_and_bad_prefixes_are_typed_errors() {
        let mut codec = KadCodec::new(100);
        // 101 announced, no body: refused at once, nothing reserved.
        let mut buf = BytesMut::from(&[0x65u8][..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(KadError::MessageTooLarge { len: 101, max: 100 })
        ));
        let mut buf = BytesMut::from(&[0x81u8, 0x00][..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(KadError::InvalidVarint(_))
        ));
        let mut buf = BytesMut::from(&[0xffu8; 11][..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(KadError::InvalidVarint(_))
        ));
        let mut buf = BytesMut::from(&[0x80u8][..]);
        assert!(
            codec.decode(&mut buf).unwrap().is_none(),
            "incomplete prefix waits"
        );
        // Waiting for a 100-byte body does not reserve it.
        let mut buf = BytesMut::from(&[0x64u8, 1, 2][..]);
        let cap = buf.capacity();
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert_eq!(buf.capacity(), cap);
        assert!(matches!(
            codec.decode_eof(&mut buf),
            Err(KadError::Truncated {
                got: 3,
                expected: 101
            })
        ));
        let big = Message {
            key: vec![0; 100],
            ..Default::default()
        };
        assert!(matches!(
            codec.encode(&big, &mut BytesMut::new()),
            Err(KadError::OwnMessageTooLarge { .. })
        ));
    }

    #[test]
    fn fit_response_drops_farthest_closer_peers_first() {
        let peer = |i: u8| Peer {
            id: vec![i; 38],
            addrs: vec![vec![4, 10, 0, 0, i, 6, 0x10, 0x01]],
            connection: 0,
        };
        let mut msg = Message {
            r#type: 3,
            closer_peers: (0..20).map(peer).collect(),
            provider_peers: (100..110).map(peer).collect(),
            ..Default::default()
        };
        let full = msg.encoded_len();
        assert_eq!(fit_response(&mut msg.clone(), full), 0);
        let dropped = fit_response(&mut msg, full - 1);
        assert_eq!(dropped, 1);
        assert_eq!(msg.closer_peers.len(), 19);
        assert_eq!(msg.closer_peers.last(), Some(&peer(18)));
        let dropped = fit_response(&mut msg, 100);
        assert_eq!(dropped, 19 + 9);
        assert!(msg.encoded_len() <= 100);
        assert_eq!(msg.provider_peers, vec![peer(100)]);
    }
}
