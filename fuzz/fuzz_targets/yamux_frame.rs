//! yamux connection bytes -> `chainp2p_yamux::FrameCodec` (`decode` and `decode_slice`) and
//! `Header::decode`, default max frame body.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use chainp2p_yamux::{FrameCodec, Header, SliceFrame, DEFAULT_MAX_FRAME_BODY};

fuzz_target!(|data: &[u8]| {
    if let Some(raw) = data.first_chunk::<{ chainp2p_yamux::codec::HEADER_LEN }>() {
        let _ = Header::decode(raw);
    }

    let mut codec = FrameCodec::new(DEFAULT_MAX_FRAME_BODY);
    let mut buf = BytesMut::from(data);
    while let Ok(Some(_frame)) = codec.decode(&mut buf) {}

    let codec = FrameCodec::new(DEFAULT_MAX_FRAME_BODY);
    let mut rest = data;
    while let Ok(SliceFrame::Frame { len, .. }) = codec.decode_slice(rest) {
        match rest.get(len..) {
            Some(r) if len > 0 => rest = r,
            _ => break,
        }
    }
});
