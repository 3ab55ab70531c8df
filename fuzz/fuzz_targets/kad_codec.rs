//! Kademlia stream bytes -> `chainp2p_kad::codec::KadCodec` (varint length-prefixed frames, default max
//! message size) and `decode_length_prefix`; every frame is then decoded as a `Request`.
#![no_main]

use bytes::BytesMut;
use chainp2p_kad::codec::{decode_length_prefix, KadCodec};
use chainp2p_kad::config::DEFAULT_MAX_MESSAGE_SIZE;
use chainp2p_kad::message::{DecodeLimits, Request};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let _ = decode_length_prefix(data, DEFAULT_MAX_MESSAGE_SIZE);
    let mut codec = KadCodec::new(DEFAULT_MAX_MESSAGE_SIZE);
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        let _ = Request::decode(&frame, &DecodeLimits::default());
    }
    let _ = codec.decode_eof(&mut buf);
});
