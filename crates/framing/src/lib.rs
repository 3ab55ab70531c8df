//! `framing`: the pieces the security layers of the chain (tcp -> multistream ->
//! **{noise|secio|plaintext}** -> multistream -> muxer) share below their protocol logic.
//!
//! - [`RecvBuf`]: one large receive buffer, filled in big reads from the stream below, in which
//!   frames are parsed (and decrypted) in place, with no allocation per frame.
//! - [`LengthPrefix`]: sans-IO helpers for `N`-byte big-endian length-prefixed frames (noise
//!   uses `N = 2`, secio `N = 4`); lengths are checked against the limit from the header alone,
//!   before anything is allocated, and a length over it is the typed [`Oversize`] error.
//! - [`uvi`]: sans-IO helpers and the [`UviFramed`] codec for unsigned-varint length-prefixed
//!   frames (multistream-select, identify, kad, plaintext), with the same rule: the limit is
//!   checked from the header, before the body is reserved or waited for ([`UviError`]).
//! - [`SendBuf`]: the reusable send buffer frames are sealed into and written out from.
//! - [`pool`]: the per-thread pool both buffers (and the muxers' read buffers) come from while
//!   bytes flow, and go back to when a connection is idle.
//! - [`within`]: a runtime-agnostic time limit for handshakes and bounded waits.
//! - [`FailLatch`]: the "once failed, always failed" rule of one direction of an encrypted
//!   stream shell.
//! - `testing` (feature `test-support`): in-memory pipes, raw frame I/O and typed-error helpers
//!   for the layers' integration tests.
//!
//! A uvarint-framed message and a 2-byte length-prefixed frame, encoded and decoded in memory;
//! a header announcing more than the limit is refused before its body is waited for:
//!
//! ```
//! use bytes::BytesMut;
//! use chainp2p_framing::{LengthPrefix, UviError, UviFramed};
//!
//! let mut codec = UviFramed::new(1024);
//! let mut wire = BytesMut::new();
//! codec.encode(b"/multistream/1.0.0\n", &mut wire).unwrap();
//! assert_eq!(wire[0], 19); // the uvarint length
//! let frame = codec.decode(&mut wire).unwrap().unwrap();
//! assert_eq!(&frame[..], b"/multistream/1.0.0\n");
//!
//! // A header of 1 MiB against a 1 KiB limit: an error from the header alone.
//! let mut hostile = BytesMut::from(&[0x80, 0x80, 0x40][..]);
//! assert!(matches!(codec.decode(&mut hostile), Err(UviError::TooLong { .. })));
//!
//! // noise's frames: a 2-byte big-endian length, then the body.
//! let mut header = [0u8; 2];
//! LengthPrefix::<2>::write_header(&mut header, 300).unwrap();
//! assert_eq!(header, [1, 44]);
//! assert_eq!(LengthPrefix::<2>::body_len(&header), Some(300));
//! ```
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod buffer;
mod deadline;
mod latch;
pub mod pool;
mod prefix;
mod send;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod uvi;

pub use buffer::{RecvBuf, MIN_READ};
pub use deadline::within;
pub use latch::FailLatch;
pub use prefix::{LengthPrefix, Oversize};
pub use send::SendBuf;
pub use uvi::{UviError, UviFramed};
