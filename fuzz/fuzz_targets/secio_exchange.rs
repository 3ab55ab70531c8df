//! secio Exchange message (the second handshake frame body) -> `chainp2p_secio::Handshake::on_exchange`
//! after a valid proposal from a fixed remote (protobuf decode, ephemeral point decode,
//! signature check, key stretching).
#![no_main]

use libfuzzer_sys::fuzz_target;
use libp2p_identity::Keypair;
use chainp2p_secio::{Handshake, SecioConfig, NONCE_LEN};
use std::sync::OnceLock;

fn keys() -> &'static (Keypair, Vec<u8>) {
    static KEYS: OnceLock<(Keypair, Vec<u8>)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let remote = Keypair::generate_ed25519();
        let proposal =
            Handshake::with_nonce(&SecioConfig::default(), &remote, None, [9u8; NONCE_LEN])
                .local_proposal()
                .to_vec();
        (Keypair::generate_ed25519(), proposal)
    })
}

fuzz_target!(|data: &[u8]| {
    let (local, remote_proposal) = keys();
    let cfg = SecioConfig::default();
    let mut hs = Handshake::with_nonce(&cfg, local, None, [3u8; NONCE_LEN]);
    if hs.on_proposal(remote_proposal).is_ok() {
        let _ = hs.on_exchange(data);
    }
});
