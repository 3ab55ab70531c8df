//! Noise handshake payload (the protobuf NoiseHandshakePayload the peer sends encrypted) ->
//! `chainp2p_noise::payload::verify_remote` (decode, identity key decode, signature check).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = chainp2p_noise::payload::verify_remote(data, &[7u8; 32]);
});
