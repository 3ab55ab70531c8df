//! secio connection bytes -> `chainp2p_secio::codec::FrameCodec` (4-byte length frames, default max)
//! and `parse_frame` / `body_len` / `needed`.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use chainp2p_secio::codec::{body_len, needed, parse_frame, FrameCodec, MAX_FRAME_LEN};
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let _ = parse_frame(data, MAX_FRAME_LEN);
    let _ = body_len(data);
    let _ = needed(data);
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::from(data);
    while let Ok(Some(_frame)) = codec.decode(&mut buf) {}
    let _ = codec.decode_eof(&mut buf);
});
