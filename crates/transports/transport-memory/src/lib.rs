//! `transport-memory`: the in-memory transport, the bottom of the chain for tests and for
//! nodes living in one process. It listens on and dials `/memory/N` multiaddrs (optionally
//! followed by `/p2p/<id>`, which it ignores, see [`chainp2p_core::split_peer_id`]) and hands
//! every connection up as a [`chainp2p_core::BoxStream`] plus its local and remote address;
//! multistream-select runs on top of it exactly as on TCP.
//!
//! - A process-wide hub maps ports to listeners. [`MemoryTransport::listen_on`] `/memory/0`
//!   takes a free random non-zero port; a taken port is [`MemoryError::AddrInUse`]; dropping
//!   the [`MemoryListener`] frees the port and closes the connections it had not accepted.
//! - [`MemoryTransport::connect`] to a port nobody listens on fails at once with
//!   [`MemoryError::Refused`]; to a listener whose accept queue holds its backlog (default
//!   [`DEFAULT_BACKLOG`]) with [`MemoryError::BacklogFull`]. The dialer's local address is a
//!   fresh ephemeral `/memory/M`, held until its stream is dropped; the listener sees it as
//!   the remote address.
//! - A connection is a [`MemoryStream`] pair: a duplex byte pipe (futures `AsyncRead +
//!   AsyncWrite`), in order and lossless, bounded per direction (default
//!   [`DEFAULT_BUFFER_SIZE`]; writers wait when it is full). `poll_close` is a half-close;
//!   dropping an end shows the other EOF on read and `BrokenPipe` on write.
//! - Errors are [`chainp2p_core::ChainError`]s of layer [`LAYER`] whose source is a
//!   [`MemoryError`].
//!
//! The crate is runtime-agnostic: it uses no executor, timer or I/O driver.
//!
//! # What an idle connection costs
//!
//! Buffers are allocated on the first write and released as soon as the reader drains them,
//! so an idle connection holds no buffer. On a 64-bit target one idle connection costs:
//!
//! - the state both ends share: 176 bytes (an `Arc<Mutex<_>>` around two directions, each a
//!   buffer header, two flags and two waker slots);
//! - the two ends: 24 bytes each, boxed once as [`chainp2p_core::BoxStream`]s (48 bytes);
//! - the dialer's ephemeral port in the hub's map: about 18 bytes;
//!
//! roughly **240 bytes** in all (a stored waker is a reference to a task, not an allocation),
//! plus whatever the layers above keep.
//!
//! # Example
//!
//! ```
//! use chainp2p_transport_memory::{MemoryConfig, MemoryTransport};
//! use futures::{AsyncReadExt, AsyncWriteExt};
//!
//! # fn main() -> Result<(), chainp2p_core::ChainError> {
//! futures::executor::block_on(async {
//!     let transport = MemoryTransport::new(MemoryConfig::new().with_buffer_size(4096));
//!     let mut listener = transport.listen_on(&"/memory/0".parse().expect("valid"))?;
//!     let addr = listener.local_addr(); // e.g. /memory/8236541029134
//!
//!     let mut dialer = transport.connect(&addr)?;
//!     let mut accepted = listener.accept().await;
//!     assert_eq!(accepted.remote_addr, dialer.local_addr);
//!
//!     dialer.io.write_all(b"ping").await.map_err(|e| chainp2p_core::ChainError::from_io("example", e))?;
//!     let mut buf = [0u8; 4];
//!     accepted.io.read_exact(&mut buf).await.map_err(|e| chainp2p_core::ChainError::from_io("example", e))?;
//!     assert_eq!(&buf, b"ping");
//!     Ok(())
//! })
//! # }
//! ```
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod config;
mod error;
mod hub;
mod pipe;
mod transport;

pub use config::{MemoryConfig, DEFAULT_BACKLOG, DEFAULT_BUFFER_SIZE};
pub use error::MemoryError;
pub use pipe::{pipe, MemoryStream};
pub use transport::{is_supported, memory_addr, MemoryConnection, MemoryListener, MemoryTransport};

/// The layer name used in [`chainp2p_core::ChainError`]s of this crate.
pub const LAYER: &str = "memory";
