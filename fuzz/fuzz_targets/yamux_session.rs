//! yamux connection bytes -> the sans-IO `chainp2p_yamux::Session` (default config), as client or
//! server (first input byte), fed in chunks (second byte picks the chunk size) through both
//! `handle_bytes` and `handle_input`; inbound streams are accepted and read, events drained.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};
use chainp2p_yamux::{Mode, Session, YamuxConfig};

fn drain(session: &mut Session) {
    while session.poll_event().is_some() {}
    let mut out = [0u8; 4096];
    while let Some(id) = session.accept() {
        let _ = session.read(id, &mut out);
        let _ = session.write(id, b"pong", 4);
    }
    let _ = session.take_output();
}

fuzz_target!(|data: &[u8]| {
    let [mode, chunk, input @ ..] = data else {
        return;
    };
    let mode = if mode & 1 == 0 {
        Mode::Server
    } else {
        Mode::Client
    };
    let chunk = usize::from(*chunk).max(1) * 7;
    let start = Instant::now();

    // Path 1: handle_bytes over a BytesMut receive buffer.
    let mut session = Session::new(mode, YamuxConfig::default());
    if mode == Mode::Client {
        let _ = session.open_stream();
    }
    let mut buf = BytesMut::new();
    for (i, piece) in input.chunks(chunk).enumerate() {
        buf.extend_from_slice(piece);
        let now = start + Duration::from_millis(i as u64);
        if session.handle_bytes(&mut buf, now).is_err() {
            break;
        }
        drain(&mut session);
    }
    session.handle_eof(&buf);
    drain(&mut session);

    // Path 2: handle_input over a plain slice.
    let mut session = Session::new(mode, YamuxConfig::default());
    let mut pending: Vec<u8> = Vec::new();
    for (i, piece) in input.chunks(chunk).enumerate() {
        pending.extend_from_slice(piece);
        let now = start + Duration::from_millis(i as u64);
        match session.handle_input(&pending, now) {
            Ok(used) => {
                pending.drain(..used.min(pending.len()));
            }
            Err(_) => break,
        }
        drain(&mut session);
    }
    session.handle_eof(&pending);
    drain(&mut session);
});
