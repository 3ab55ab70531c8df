//! mplex connection bytes -> `chainp2p_mplex::FrameCodec` (max frame body) and `decode_varint`.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use chainp2p_mplex::codec::decode_varint;
use chainp2p_mplex::{FrameCodec, MAX_FRAME_BODY};
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let _ = decode_varint(data);
    let mut codec = FrameCodec::new(MAX_FRAME_BODY);
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        let _ = frame.received_stream_id();
        let _ = codec.is_mid_frame(&buf);
    }
    let _ = codec.decode_eof(&mut buf);
});
