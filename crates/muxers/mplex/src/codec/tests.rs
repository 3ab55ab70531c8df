//! Codec tests: the spec's hex examples byte-exact, varint edge cases, limits.

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

fn encode(frame: Frame) -> BytesMut {
    let mut out = BytesMut::new();
    FrameCodec::new(1 << 20).encode(frame, &mut out).unwrap();
    out
}

/// One frame of every message type of the mplex spec
/// (<https://github.com/libp2p/specs/tree/master/mplex>), in order, with its hex.
fn spec_examples() -> Vec<(&'static str, Frame)> {
    vec![
        ("00 01 30", Frame::new(0, Flag::NewStream, &b"0"[..])),
        (
            "02 02 6869",
            Frame::new(0, Flag::MessageInitiator, &b"hi"[..]),
        ),
        (
            "01 02 796f",
            Frame::new(0, Flag::MessageReceiver, &b"yo"[..]),
        ),
        ("04 00", Frame::new(0, Flag::CloseInitiator, Bytes::new())),
        ("03 00", Frame::new(0, Flag::CloseReceiver, Bytes::new())),
        (
            "8e01 00",
            Frame::new(17, Flag::ResetInitiator, Bytes::new()),
        ),
        (
            "c23e 01 78",
            Frame::new(1000, Flag::MessageInitiator, &b"x"[..]),
        ),
    ]
}

#[test]
fn spec_examples_encode_byte_exact() {
    for (h, frame) in spec_examples() {
        assert_eq!(encode(frame.clone()), hex(h), "{frame:?}");
    }
}

#[test]
fn spec_examples_decode_from_one_buffer() {
    let mut all = BytesMut::new();
    for (h, _) in spec_examples() {
        all.extend_from_slice(&hex(h));
    }
    let mut c = FrameCodec::new(1 << 20);
    for (_, frame) in spec_examples() {
        assert_eq!(c.decode(&mut all).unwrap(), Some(frame));
    }
    assert_eq!(c.decode(&mut all).unwrap(), None);
    assert!(!c.is_mid_frame(&all));
}

#[test]
fn stream_identity_follows_flag_parity() {
    // Even flags: the sender opened the stream, so the receiver sees a remote stream.
    let f = Frame::new(0, Flag::MessageInitiator, Bytes::new());
    assert_eq!(f.received_stream_id(), StreamId::new(0, Endpoint::Remote));
    let f = Frame::new(0, Flag::NewStream, Bytes::new());
    assert_eq!(f.received_stream_id().opener, Endpoint::Remote);
    // Odd flags: the receiver opened it.
    let f = Frame::new(5, Flag::ResetReceiver, Bytes::new());
    assert_eq!(f.received_stream_id(), StreamId::new(5, Endpoint::Local));
    for kind in [FrameKind::Message, FrameKind::Close, FrameKind::Reset] {
        assert!(Flag::for_sender(kind, true).sent_by_opener());
        assert!(!Flag::for_sender(kind, false).sent_by_opener());
        assert_eq!(Flag::for_sender(kind, true).kind(), kind);
    }
    for v in 0..7u8 {
        assert_eq!(Flag::from_u8(v).unwrap().as_u8(), v);
    }
}

#[test]
fn decodes_byte_by_byte() {
    let body = vec![7u8; 300];
    let bytes = encode(Frame::new(1000, Flag::MessageReceiver, body.clone()));
    let mut c = FrameCodec::new(1 << 20);
    let mut inp = BytesMut::new();
    let mut got = None;
    for (i, b) in bytes.iter().enumerate() {
        inp.extend_from_slice(&[*b]);
        let f = c.decode(&mut inp).unwrap();
        if i + 1 < bytes.len() {
            assert!(f.is_none());
            assert!(c.is_mid_frame(&inp));
        } else {
            got = f;
        }
    }
    let f = got.unwrap();
    assert_eq!(
        (f.num, f.flag, &f.body[..]),
        (1000, Flag::MessageReceiver, &body[..])
    );
}

#[test]
fn zero_length_message_is_a_frame() {
    let mut b = hex("0a 00");
    let f = FrameCodec::new(10).decode(&mut b).unwrap().unwrap();
    assert_eq!(f, Frame::new(1, Flag::MessageInitiator, Bytes::new()));
}

#[test]
fn varint_edge_cases() {
    let enc = |v: u64| {
        let mut b = BytesMut::new();
        encode_varint(v, &mut b);
        b
    };
    assert_eq!(enc(0), hex("00"));
    assert_eq!(enc(127), hex("7f"));
    assert_eq!(enc(128), hex("8001"));
    assert_eq!(enc(300), hex("ac02"));
    let max = (1u64 << 63) - 1;
    assert_eq!(enc(max), hex("ffffffffffffffff7f"));
    for v in [0, 1, 127, 128, 16383, 16384, 1 << 35, max] {
        let b = enc(v);
        assert_eq!(decode_varint(&b).unwrap(), Some((v, b.len())));
    }
    // Incomplete: need more bytes.
    assert_eq!(decode_varint(&[]).unwrap(), None);
    assert_eq!(decode_varint(&hex("80")).unwrap(), None);
    assert_eq!(decode_varint(&hex("ffffffffffffffff")).unwrap(), None);
    // Nine continuation bytes: a tenth would be needed.
    assert!(matches!(
        decode_varint(&hex("ffffffffffffffff80")),
        Err(MplexError::InvalidVarint(_))
    ));
    assert!(matches!(
        decode_varint(&hex("ffffffffffffffffff01")),
        Err(MplexError::InvalidVarint(_))
    ));
    // Non-minimal encodings are refused.
    assert!(matches!(
        decode_varint(&hex("8000")),
        Err(MplexError::InvalidVarint(_))
    ));
}

#[test]
fn overlong_header_varint_is_a_typed_error() {
    let mut b = hex("82 80 80 80 80 80 80 80 80 80 00");
    assert!(matches!(
        FrameCodec::new(10).decode(&mut b),
        Err(MplexError::InvalidVarint(_))
    ));
    // Also in the length varint.
    let mut b = hex("02 ff ff ff ff ff ff ff ff ff");
    assert!(matches!(
        FrameCodec::new(10).decode(&mut b),
        Err(MplexError::InvalidVarint(_))
    ));
}

#[test]
fn largest_stream_number_round_trips() {
    let bytes = encode(Frame::new(
        MAX_STREAM_NUM,
        Flag::ResetInitiator,
        Bytes::new(),
    ));
    assert_eq!(bytes.len(), MAX_VARINT_LEN + 1);
    let mut b = bytes.clone();
    let f = FrameCodec::new(10).decode(&mut b).unwrap().unwrap();
    assert_eq!((f.num, f.flag), (MAX_STREAM_NUM, Flag::ResetInitiator));
    let mut out = BytesMut::new();
    assert_eq!(
        FrameCodec::new(10).encode(
            Frame::new(MAX_STREAM_NUM + 1, Flag::NewStream, Bytes::new()),
            &mut out
        ),
        Err(MplexError::StreamIdsExhausted)
    );
}

#[test]
fn flag_7_is_refused() {
    let mut b = hex("07 00");
    assert_eq!(
        FrameCodec::new(10).decode(&mut b),
        Err(MplexError::UnknownFlag(7))
    );
    let mut b = hex("0f 00");
    assert_eq!(
        FrameCodec::new(10).decode(&mut b),
        Err(MplexError::UnknownFlag(7))
    );
}

#[test]
fn oversize_body_is_refused_before_it_arrives() {
    // 1 MiB + 1 = 0x100001 = varint 81 80 40.
    let mut b = hex("02 81 80 40");
    let cap_before = b.capacity();
    assert_eq!(
        FrameCodec::new(1 << 20).decode(&mut b),
        Err(MplexError::FrameTooLarge {
            len: (1 << 20) + 1,
            max: 1 << 20
        })
    );
    assert_eq!(b.capacity(), cap_before);
    // Exactly 1 MiB is fine (waits for the body).
    let mut b = hex("02 80 80 40");
    assert_eq!(FrameCodec::new(1 << 20).decode(&mut b), Ok(None));
    // A NewStream name is bounded too.
    let mut b = hex("00 0b");
    assert!(matches!(
        FrameCodec::new(10).decode(&mut b),
        Err(MplexError::FrameTooLarge { len: 11, .. })
    ));
    // The encoder refuses what the limit forbids.
    let mut out = BytesMut::new();
    assert!(FrameCodec::new(2)
        .encode(Frame::new(0, Flag::MessageInitiator, &b"abc"[..]), &mut out)
        .is_err());
}

#[test]
fn eof_mid_frame_is_a_typed_error() {
    let mut c = FrameCodec::new(100);
    // Mid body.
    let mut b = hex("02 05 6869");
    assert_eq!(c.decode_eof(&mut b), Err(MplexError::EofMidFrame));
    // Mid header.
    let mut c = FrameCodec::new(100);
    let mut b = hex("8e");
    assert_eq!(c.decode_eof(&mut b), Err(MplexError::EofMidFrame));
    // At a boundary: clean end.
    let mut c = FrameCodec::new(100);
    let mut b = hex("04 00");
    assert!(c.decode_eof(&mut b).unwrap().is_some());
    assert_eq!(c.decode_eof(&mut b), Ok(None));
}
