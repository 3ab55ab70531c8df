//! multistream-select stream bytes -> `FrameCodec` and `MessageCodec` (default max message
//! length), plus `Message::decode` and `parse_ls_response` on the raw input.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use chainp2p_multistream::{parse_ls_response, FrameCodec, Message, MessageCodec, DEFAULT_MAX_MESSAGE_LEN};

fuzz_target!(|data: &[u8]| {
    let _ = Message::decode(data);
    let _ = parse_ls_response(data);

    let mut frames = FrameCodec::new(DEFAULT_MAX_MESSAGE_LEN);
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = frames.decode(&mut buf) {
        let _ = parse_ls_response(&frame);
    }

    let mut messages = MessageCodec::new(DEFAULT_MAX_MESSAGE_LEN);
    let mut buf = BytesMut::from(data);
    while let Ok(Some(_msg)) = messages.decode(&mut buf) {}
    let _ = messages.decode_eof(&mut buf);
});
