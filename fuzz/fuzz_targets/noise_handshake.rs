//! Noise XX handshake messages (without length header) -> `chainp2p_noise::Handshake::read_message`:
//! as responder reading message 1 (first input byte even), or as initiator reading message 2
//! after writing message 1 (odd). Then tries to continue / finish.
#![no_main]

use libfuzzer_sys::fuzz_target;
use libp2p_identity::Keypair;
use chainp2p_noise::codec::MAX_NOISE_MSG_LEN;
use chainp2p_noise::{AuthenticStatic, Handshake};
use std::sync::OnceLock;

fn local() -> Option<&'static AuthenticStatic> {
    static KEY: OnceLock<Option<AuthenticStatic>> = OnceLock::new();
    KEY.get_or_init(|| AuthenticStatic::generate(&Keypair::generate_ed25519()).ok())
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let (Some(local), Some((&role, msg))) = (local(), data.split_first()) else {
        return;
    };
    let initiator = role & 1 == 1;
    let Ok(mut hs) = Handshake::new(initiator, local, None, MAX_NOISE_MSG_LEN) else {
        return;
    };
    let mut out = Vec::new();
    if initiator && hs.write_message(&mut out).is_err() {
        return;
    }
    if hs.read_message(msg).is_ok() {
        out.clear();
        let _ = hs.write_message(&mut out);
        let _ = hs.finish();
    }
});
