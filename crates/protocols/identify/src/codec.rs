//! Framing: `uvarint(len) ‖ protobuf`, as a `tokio_util` [`Decoder`]/[`Encoder`] on `BytesMut`
//! with a per-message size limit (the framing itself is [`chainp2p_framing::uvi`]). No I/O.

use bytes::BytesMut;
use chainp2p_framing::{UviError, UviFramed};
use prost::Message;
use tokio_util::codec::{Decoder, Encoder};

use crate::proto::Identify;
use crate::IdentifyError;

/// Splits a byte stream into length-delimited messages of at most `max_len` bytes each, and
/// writes [`Identify`] messages in the same form.
#[derive(Debug, Clone)]
pub struct DelimitedCodec {
    frames: UviFramed,
}

impl DelimitedCodec {
    /// A codec refusing messages longer than `max_len` bytes.
    pub fn new(max_len: usize) -> Self {
        DelimitedCodec {
            frames: UviFramed::new(max_len),
        }
    }
}

/// The identify error for a framing error.
fn from_uvi(e: UviError) -> IdentifyError {
    use unsigned_varint::decode::Error as Varint;
    match e {
        UviError::TooLong { len, max } => IdentifyError::MessageTooLarge { len, max },
        UviError::NotMinimal => IdentifyError::BadLengthPrefix(Varint::NotMinimal),
        // `Overlong` (`Truncated` does not come from `decode`; the enum is non-exhaustive).
        _ => IdentifyError::BadLengthPrefix(Varint::Overflow),
    }
}

impl Decoder for DelimitedCodec {
    type Item = BytesMut;
    type Error = IdentifyError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, IdentifyError> {
        self.frames.decode(src).map_err(from_uvi)
    }
}

impl Encoder<&Identify> for DelimitedCodec {
    type Error = IdentifyError;

    fn encode(&mut self, msg: &Identify, dst: &mut BytesMut) -> Result<(), IdentifyError> {
        let len = msg.encoded_len();
        self.frames.encode_header(len, dst).map_err(from_uvi)?;
        // Room for the body was reserved: prost cannot run out of it.
        msg.encode(dst).map_err(|_| IdentifyError::MessageTooLarge {
            len: len as u64,
            max: self.frames.max_len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_across_reads() {
        let mut codec = DelimitedCodec::new(300);
        let msg = Identify {
            agent_version: Some("a".repeat(200)),
            ..Default::default()
        };
        let mut wire = BytesMut::new();
        codec.encode(&msg, &mut wire).unwrap();
        codec.encode(&msg, &mut wire).unwrap();
        assert_eq!(
            &wire[..2],
            &[0xcb, 0x01],
            "203-byte body: two-byte uvarint prefix"
        );

        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for chunk in wire.chunks(7) {
            buf.extend_from_slice(chunk);
            while let Some(frame) = codec.decode(&mut buf).unwrap() {
                frames.push(Identify::decode(frame).unwrap());
            }
        }
        assert_eq!(frames, vec![msg.clone(), msg]);
        assert!(buf.is_empty());
    }

    #[test]
    fn limits_and_bad_prefixes() {
        let mut codec = DelimitedCodec::new(100);
        let mut buf = BytesMut::from(&[0x65u8][..]); // 101
        assert!(matches!(
            codec.decode(&mut buf),
            Err(IdentifyError::MessageTooLarge { len: 101, max: 100 })
        ));
        let mut buf = BytesMut::from(&[0x81u8, 0x00][..]); // non-minimal
        assert!(matches!(
            codec.decode(&mut buf),
            Err(IdentifyError::BadLengthPrefix(_))
        ));
        let mut buf = BytesMut::from(&[0xffu8; 11][..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(IdentifyError::BadLengthPrefix(_))
        ));
        let mut buf = BytesMut::from(&[0x80u8][..]);
        assert!(
            codec.decode(&mut buf).unwrap().is_none(),
            "incomplete prefix waits"
        );
        let big = Identify {
            agent_version: Some("a".repeat(100)),
            ..Default::default()
        };
        assert!(matches!(
            codec.encode(&big, &mut BytesMut::new()),
            Err(IdentifyError::MessageTooLarge { .. })
        ));
    }
}
