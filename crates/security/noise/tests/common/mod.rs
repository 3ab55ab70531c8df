//! Shared helpers of the noise integration tests: in-memory pipes, contexts, raw frame I/O and
//! a hand-driven snow peer for building malicious counterparts.
#![allow(dead_code, unused_imports)]

use std::future::Future;
use std::time::Duration;

use chainp2p_core::identity::Keypair;
use chainp2p_core::ChainError;
pub use chainp2p_framing::testing::{boxed_pipe, ctx, raw_pipe};
use chainp2p_noise::NoiseError;
use snow::resolvers::{DefaultResolver, FallbackResolver, RingResolver};
use tokio::io::DuplexStream;

/// Upper bound for every test.
pub const BOUND: Duration = Duration::from_secs(10);

/// Runs `f` and checks it ended within [`BOUND`].
pub async fn bounded<T>(f: impl Future<Output = T>) -> T {
    chainp2p_framing::testing::bounded(BOUND, f).await
}

/// The typed noise cause of `e` (which must name the noise layer).
pub fn noise_err(e: &ChainError) -> &NoiseError {
    chainp2p_framing::testing::typed_cause(e, chainp2p_noise::LAYER)
}

/// Writes one `u16`-length-prefixed frame.
pub async fn write_frame(io: &mut DuplexStream, msg: &[u8]) {
    chainp2p_framing::testing::write_frame::<2>(io, msg).await
}

/// Reads one `u16`-length-prefixed frame.
pub async fn read_frame(io: &mut DuplexStream) -> Vec<u8> {
    chainp2p_framing::testing::read_frame::<2>(io).await
}

/// A snow builder for the libp2p noise suite with a fresh static key; returns the builder's
/// static key pair too.
pub fn snow_state(initiator: bool) -> (snow::HandshakeState, snow::Keypair) {
    let params: snow::params::NoiseParams = chainp2p_noise::NOISE_PARAMS.parse().unwrap();
    let resolver = || {
        Box::new(FallbackResolver::new(
            Box::new(RingResolver),
            Box::new(DefaultResolver),
        ))
    };
    let kp = snow::Builder::with_resolver(params.clone(), resolver())
        .generate_keypair()
        .unwrap();
    let b = snow::Builder::with_resolver(params, resolver())
        .local_private_key(&kp.private)
        .unwrap();
    let state = if initiator {
        b.build_initiator()
    } else {
        b.build_responder()
    }
    .unwrap();
    (state, kp)
}

/// The protobuf handshake payload for `identity` with signature `sig`.
pub fn payload(identity: &Keypair, sig: Vec<u8>) -> Vec<u8> {
    use prost::Message;
    chainp2p_noise::payload::NoiseHandshakePayload {
        identity_key: Some(identity.public().encode_protobuf()),
        identity_sig: Some(sig),
        extensions: None,
    }
    .encode_to_vec()
}

/// A correct responder payload for static key `static_pub`.
pub fn honest_payload(identity: &Keypair, static_pub: &[u8]) -> Vec<u8> {
    let sig = identity
        .sign(&chainp2p_noise::payload::signed_bytes(static_pub))
        .unwrap();
    payload(identity, sig)
}

/// Drives a snow responder by hand over `raw` through msg1..msg3 with an honest payload;
/// returns its transport state.
pub async fn manual_responder(raw: &mut DuplexStream, identity: &Keypair) -> snow::TransportState {
    let (mut hs, kp) = snow_state(false);
    let msg1 = read_frame(raw).await;
    let mut buf = vec![0u8; 65535];
    hs.read_message(&msg1, &mut buf).unwrap();
    let n = hs
        .write_message(&honest_payload(identity, &kp.public), &mut buf)
        .unwrap();
    write_frame(raw, &buf[..n]).await;
    let msg3 = read_frame(raw).await;
    let mut pl = vec![0u8; 65535];
    hs.read_message(&msg3, &mut pl).unwrap();
    hs.into_transport_mode().unwrap()
}
