//! Test support for the security layers' integration tests (feature `test-support`):
//! in-memory pipes, contexts, raw length-prefixed frame I/O for hand-driven (malicious) peers,
//! a time bound, and the typed cause of a [`ChainError`]. Panics on failure, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chainp2p_core::identity::Keypair;
use chainp2p_core::{BoxStream, ChainError, HandlerContext, Role};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_util::compat::TokioAsyncReadCompatExt;

use crate::LengthPrefix;

/// Capacity of the in-memory pipes.
pub const PIPE_CAPACITY: usize = 256 * 1024;

/// Two ends of an in-memory pipe, each boxed as a chain stream.
pub fn boxed_pipe() -> (BoxStream, BoxStream) {
    let (a, b) = tokio::io::duplex(PIPE_CAPACITY);
    (Box::new(a.compat()), Box::new(b.compat()))
}

/// One boxed end and one raw tokio end (for a hand-driven peer).
pub fn raw_pipe() -> (BoxStream, DuplexStream) {
    let (a, b) = tokio::io::duplex(PIPE_CAPACITY);
    (Box::new(a.compat()), b)
}

/// A context for `role` with identity `key`.
pub fn ctx(role: Role, key: &Keypair) -> HandlerContext {
    HandlerContext::new(role, Arc::new(key.clone()))
}

/// Runs `f`, panicking if it takes longer than `bound`.
pub async fn bounded<T>(bound: Duration, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(bound, f)
        .await
        .expect("test exceeded its time bound")
}

/// The typed cause `E` of `err`, after checking that `err` names `layer`.
pub fn typed_cause<'a, E: std::error::Error + 'static>(err: &'a ChainError, layer: &str) -> &'a E {
    assert_eq!(err.layer().as_str(), layer, "{err}");
    err.downcast_ref::<E>()
        .unwrap_or_else(|| panic!("no typed cause in {err}"))
}

/// Writes one frame with an `N`-byte big-endian length header, and flushes.
pub async fn write_frame<const N: usize>(io: &mut DuplexStream, msg: &[u8]) {
    let mut header = [0u8; 4];
    LengthPrefix::<N>::write_header(&mut header, msg.len()).unwrap();
    io.write_all(&header[..N]).await.unwrap();
    io.write_all(msg).await.unwrap();
    io.flush().await.unwrap();
}

/// Reads one frame with an `N`-byte big-endian length header.
pub async fn read_frame<const N: usize>(io: &mut DuplexStream) -> Vec<u8> {
    let mut header = [0u8; 4];
    io.read_exact(&mut header[..N]).await.unwrap();
    let len = LengthPrefix::<N>::body_len(&header).unwrap();
    let mut msg = vec![0u8; len];
    io.read_exact(&mut msg).await.unwrap();
    msg
}

/// Checks the two I/O paths of a security layer's typed error `E` (made from an I/O error by
/// `from_io`): a plain I/O error becomes a `layer: closed: …` error said once, and an I/O error
/// carrying a lower layer's [`ChainError`] passes that error through unchanged.
pub fn assert_io_errors_said_once<E>(layer: &str, from_io: impl Fn(std::io::Error) -> E)
where
    ChainError: From<E>,
{
    let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset");
    let e = ChainError::from(from_io(reset));
    assert_eq!(
        chainp2p_core::report(&e),
        format!("{layer}: closed: peer reset")
    );
    let low = ChainError::new("tcp", chainp2p_core::ErrorKind::Closed, "reset by peer");
    let e = ChainError::from(from_io(low.into_io()));
    assert_eq!(chainp2p_core::report(&e), "tcp: closed: reset by peer");
}
