//! Kademlia response body -> `chainp2p_kad::message::Response::decode`, validated against a request of
//! each type (the first input byte picks which request it answers).
#![no_main]

use chainp2p_kad::message::{DecodeLimits, Request, Response, WireRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let key = b"fuzz-key".to_vec();
    let request = match pick % 6 {
        0 => Request::FindNode { key },
        1 => Request::GetValue { key },
        2 => Request::PutValue {
            record: WireRecord::new(key, b"value".to_vec()),
        },
        3 => Request::AddProvider {
            key,
            providers: Vec::new(),
        },
        4 => Request::GetProviders { key },
        _ => Request::Ping,
    };
    let _ = Response::decode(body, &request, &DecodeLimits::default());
});
