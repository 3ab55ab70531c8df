//! Shared helpers of the noise integration tests: in-memory pipes, contexts, raw frame I/O and
//! a hand-driven snow peer for building malicious counterparts.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use chain_core::identity::Keypair;
use chain_core::{BoxStream, HandlerContext, Role};
use snow::resolvers::{DefaultResolver, FallbackResolver, RingResolver};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_util::compat::TokioAsyncReadCompatExt;

/// Upper bound for every test.
pub const BOUND: Duration = Duration::from_secs(10);

/// Two ends of an in-memory pipe, each boxed as a chain stream.
pub fn boxed_pipe() -> (BoxStream, BoxStream) {
    let (a, b) = tokio::io::duplex(256 * 1024);
    (Box::new(a.compat()), Box::new(b.compat()))
}

/// One boxed end and one raw tokio end.
pub fn raw_pipe() -> (BoxStream, DuplexStream) {
    let (a, b) = tokio::io::duplex(256 * 1024);
    (Box::new(a.compat()), b)
}

/// A context for `role` with identity `key`.
pub fn ctx(role: Role, key: &Keypair) -> HandlerContext {
    HandlerContext::new(role, Arc::new(key.clone()))
}

/// Writes one `u16`-length-prefixed frame.
pub async fn write_frame(io: &mut DuplexStream, msg: &[u8]) {
    let len = u16::try_from(msg.len()).unwrap();
    io.write_all(&len.to_be_bytes()).await.unwrap();
    io.write_all(msg).await.unwrap();
    io.flush().await.unwrap();
}

/// Reads one `u16`-length-prefixed frame.
pub async fn read_frame(io: &mut DuplexStream) -> Vec<u8> {
    let mut h = [0u8; 2];
    io.read_exact(&mut h).await.unwrap();
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(h))];
    io.read_exact(&mut msg).await.unwrap();
    msg
}

/// A snow builder for the libp2p noise suite with a fresh static key; returns the builder's
/// static key pair too.
pub fn snow_state(initiator: bool) -> (snow::HandshakeState, snow::Keypair) {
    let params: snow::params::NoiseParams = noise::NOISE_PARAMS.parse().unwrap();
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
    noise::payload::NoiseHandshakePayload {
        identity_key: Some(identity.public().encode_protobuf()),
        identity_sig: Some(sig),
        extensions: None,
    }
    .encode_to_vec()
}

/// A correct responder payload for static key `static_pub`.
pub fn honest_payload(identity: &Keypair, static_pub: &[u8]) -> Vec<u8> {
    let sig = identity
        .sign(&noise::payload::signed_bytes(static_pub))
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
