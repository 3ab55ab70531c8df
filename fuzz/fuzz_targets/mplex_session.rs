//! mplex connection bytes -> the sans-IO `chainp2p_mplex::Session` (default config; first byte picks
//! the overflow behaviour via small buffers), fed in chunks (second byte picks the size);
//! inbound streams are accepted and read, timeouts fired, events drained.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use chainp2p_mplex::{MplexConfig, Session};
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let [cfg, chunk, input @ ..] = data else {
        return;
    };
    let config = if cfg & 1 == 0 {
        MplexConfig::default()
    } else {
        MplexConfig::default().with_max_buffer_per_stream(64)
    };
    let chunk = usize::from(*chunk).max(1) * 7;
    let start = Instant::now();
    let mut session = Session::new(config);
    if cfg & 2 != 0 {
        let _ = session.open_stream();
    }
    let mut buf = BytesMut::new();
    let mut out = [0u8; 4096];
    for (i, piece) in input.chunks(chunk).enumerate() {
        buf.extend_from_slice(piece);
        let now = start + Duration::from_millis(100 * i as u64);
        if session.handle_bytes(&mut buf, now).is_err() {
            break;
        }
        while session.poll_event().is_some() {}
        while let Some(id) = session.accept(now) {
            let _ = session.read(id, &mut out, now);
            let _ = session.write(id, b"pong", 4);
        }
        if let Some(t) = session.poll_timeout() {
            let _ = session.handle_timeout(t);
        }
        let _ = session.take_output();
    }
    session.on_eof(&buf);
    while session.poll_event().is_some() {}
});
