//! Framing, sans-IO: `uvarint(len) ‖ protobuf Message`, as a `tokio_util` [`Decoder`] /
//! [`Encoder`] on `BytesMut` with a size limit, plus [`fit_response`], which cuts our own
//! answers down to the size default rust-libp2p peers accept.
//!
//! The limit is checked on the length prefix, before any byte of the body is read and before
//! any buffer is reserved for it: an announced 1 GiB message costs nothing.

use bytes::BytesMut;
use chainp2p_framing::uvi::{self, UviError, UviFramed};
use prost::Message as _;
use tokio_util::codec::{Decoder, Encoder};

use crate::error::KadError;
use crate::proto::{Message, Peer};

/// The longest uvarint length prefix accepted (9 bytes, 63 bits: [`uvi::MAX_HEADER_LEN`]); a
/// prefix still unfinished at that length is [`KadError::InvalidVarint`].
pub const MAX_PREFIX_LEN: usize = uvi::MAX_HEADER_LEN;

/// The kad error for a framing error of a received frame.
fn from_uvi(e: UviError) -> KadError {
    use unsigned_varint::decode::Error as Varint;
    match e {
        UviError::TooLong { len, max } => KadError::MessageTooLarge { len, max },
        UviError::NotMinimal => KadError::InvalidVarint(Varint::NotMinimal),
        UviError::Truncated { have, need } => KadError::Truncated {
            got: have,
            expected: need.unwrap_or(0),
        },
        // `Overlong` (the enum is non-exhaustive).
        _ => KadError::InvalidVarint(Varint::Overflow),
    }
}

/// The kad error for a frame of ours over the limit.
fn own_too_large(len: usize, max: usize) -> KadError {
    KadError::OwnMessageTooLarge { len, max }
}

/// Parses the uvarint length prefix at the start of `buf`: `Ok(None)` while incomplete,
/// `Ok(Some((len, prefix_len)))` once complete and `len <= max`.
pub fn decode_length_prefix(buf: &[u8], max: usize) -> Result<Option<(usize, usize)>, KadError> {
    uvi::parse_prefix(buf, max).map_err(from_uvi)
}

/// Splits a byte stream into length-delimited frames of at most `max_len` bytes, and writes
/// [`Message`]s in the same form.
#[derive(Debug, Clone)]
pub struct KadCodec {
    frames: UviFramed,
}

impl KadCodec {
    /// A codec refusing frames longer than `max_len` bytes (both ways).
    pub fn new(max_len: usize) -> Self {
        KadCodec {
            frames: UviFramed::new(max_len).reserve_body(false),
        }
    }

    /// The limit.
    pub fn max_len(&self) -> usize {
        self.frames.max_len()
    }
}

impl Decoder for KadCodec {
    type Item = BytesMut;
    type Error = KadError;

    /// Yields the next frame's body. Reserves nothing ahead of the bytes that arrive, so a
    /// peer announcing the maximum and sending nothing costs no memory.
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, KadError> {
        self.frames.decode(src).map_err(from_uvi)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, KadError> {
        self.frames.decode_eof(src).map_err(from_uvi)
    }
}

impl Encoder<&Message> for KadCodec {
    type Error = KadError;

    fn encode(&mut self, msg: &Message, dst: &mut BytesMut) -> Result<(), KadError> {
        let len = msg.encoded_len();
        let max = self.frames.max_len();
        self.frames
            .encode_header(len, dst)
            .map_err(|_| own_too_large(len, max))?;
        // Room for the body was reserved: prost cannot run out of it.
        msg.encode(dst).map_err(|_| own_too_large(len, max))
    }
}

/// Encodes `msg` as one frame (prefix and body) into a new buffer, refusing more than `max`
/// bytes of body.
pub fn encode_frame(msg: &Message, max: usize) -> Result<Vec<u8>, KadError> {
    let len = msg.encoded_len();
    let mut out = Vec::with_capacity(uvi::header_len(len) + len);
    uvi::put_header(len, max, &mut out).map_err(|_| own_too_large(len, max))?;
    msg.encode(&mut out).map_err(|_| own_too_large(len, max))?;
    Ok(out)
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
