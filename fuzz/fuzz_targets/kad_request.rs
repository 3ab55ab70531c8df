//! Kademlia request body (the bytes after the length prefix) -> `chainp2p_kad::message::Request::decode`
//! with the default `DecodeLimits`.
#![no_main]

use chainp2p_kad::message::{DecodeLimits, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Request::decode(data, &DecodeLimits::default());
});
