//! secio Propose message (the first handshake frame body) -> `chainp2p_secio::Handshake::on_proposal`
//! (protobuf decode, remote key decode, algorithm negotiation, ephemeral key generation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use libp2p_identity::Keypair;
use chainp2p_secio::{Handshake, SecioConfig, NONCE_LEN};
use std::sync::OnceLock;

fn identity() -> &'static Keypair {
    static KEY: OnceLock<Keypair> = OnceLock::new();
    KEY.get_or_init(Keypair::generate_ed25519)
}

fuzz_target!(|data: &[u8]| {
    let cfg = SecioConfig::default();
    let mut hs = Handshake::with_nonce(&cfg, identity(), None, [3u8; NONCE_LEN]);
    let _ = hs.on_proposal(data);
});
