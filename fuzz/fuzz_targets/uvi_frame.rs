//! uvarint length-prefixed bytes -> `chainp2p_framing::UviFramed` (byte 0 picks the limit and the
//! early-limit / reserve options), `uvi::parse_prefix{,_early}` and `uvi::read`. Every frame
//! must be within the limit and re-encode to the bytes it came from.
#![no_main]

use bytes::BytesMut;
use chainp2p_framing::uvi;
use chainp2p_framing::UviFramed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let max = [0usize, 1, 127, 128, 16383, 16384, 1 << 22, usize::MAX][usize::from(sel & 7)];
    let _ = uvi::read(rest);
    let _ = uvi::parse_prefix(rest, max);
    let _ = uvi::parse_prefix_early(rest, max);
    let mut codec = UviFramed::new(max)
        .early_limit(sel & 8 != 0)
        .reserve_body(sel & 16 != 0);
    let mut buf = BytesMut::from(rest);
    let mut consumed = 0;
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        assert!(frame.len() <= max);
        let mut again = BytesMut::new();
        codec.encode(&frame, &mut again).expect("a decoded frame is within the limit");
        assert_eq!(rest.get(consumed..consumed + again.len()), Some(&again[..]));
        consumed += again.len();
    }
    let _ = codec.decode_eof(&mut buf);
});
