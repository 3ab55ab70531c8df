//! plaintext/2.0.0 handshake bytes -> `plaintext::codec::ExchangeCodec` / `parse_prefix`
//! (default max message length) and `plaintext::handshake::verify_exchange` on every frame
//! and on the raw input.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use plaintext::codec::{parse_prefix, ExchangeCodec};
use plaintext::handshake::verify_exchange;
use plaintext::DEFAULT_MAX_MESSAGE_LEN;
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
