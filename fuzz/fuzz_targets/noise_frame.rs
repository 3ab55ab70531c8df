//! Noise transport bytes -> `chainp2p_noise::codec::FrameCodec` (2-byte length frames) and
//! `parse_frame` / `needed`.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use chainp2p_noise::codec::{needed, parse_frame, FrameCodec, MAX_NOISE_MSG_LEN};
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let _ = parse_frame(data, MAX_NOISE_MSG_LEN);
    let _ = needed(data);
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::from(data);
    while let Ok(Some(_frame)) = codec.decode(&mut buf) {}
    let _ = codec.decode_eof(&mut buf);
});
