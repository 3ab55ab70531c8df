//! plaintext/2.0.0 handshake bytes -> `chainp2p_plaintext::codec::ExchangeCodec` / `parse_prefix`
//! (default max message length) and `chainp2p_plaintext::handshake::verify_exchange` on every frame
//! and on the raw input.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use chainp2p_plaintext::codec::{parse_prefix, ExchangeCodec};
use chainp2p_plaintext::handshake::verify_exchange;
use chainp2p_plaintext::DEFAULT_MAX_MESSAGE_LEN;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let _ = verify_exchange(data, None);
    let _ = parse_prefix(data, DEFAULT_MAX_MESSAGE_LEN);
    let mut codec = ExchangeCodec::new(DEFAULT_MAX_MESSAGE_LEN);
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        let _ = verify_exchange(&frame, None);
    }
});
