//! What an application needs in one `use`: `use chainp2p_swarm::prelude::*;`.
//!
//! The swarm and its builder, a connection and its events, the [`Protocol`] trait with
//! [`async_trait`], addresses, identities, the error type, the stream type and the `futures`
//! I/O traits its streams are read and written with. The security and muxer configurations of
//! the enabled features are here too, so swapping a layer is one line:
//! `.muxers([MplexConfig::default()])` (feature `mplex`), `.security([SecioConfig::new()])`
//! (feature `secio`).
//!
//! ```
//! use chainp2p_swarm::prelude::*;
//!
//! let node = SwarmBuilder::new(Keypair::generate_ed25519())
//!     .serve_fn("/echo/1.0.0", |mut stream, _peer| async move {
//!         let mut buf = Vec::new();
//!         stream.read_to_end(&mut buf).await?;
//!         stream.write_all(&buf).await?;
//!         stream.close().await
//!     });
//! ```

pub use async_trait::async_trait;
pub use futures::{AsyncReadExt, AsyncWriteExt};

pub use chainp2p_core::identity::{self, Keypair, PeerId};
pub use chainp2p_core::multiaddr::{self, Multiaddr, Protocol as AddrProtocol};
pub use chainp2p_core::{BoxStream, ChainError, ErrorKind, NegotiatedChain};

pub use crate::protocol::Protocol;
pub use crate::{Connection, Direction, Swarm, SwarmBuilder, SwarmEvent};

#[cfg(feature = "mplex")]
pub use chainp2p_mplex::MplexConfig;
#[cfg(feature = "noise")]
pub use chainp2p_noise::NoiseConfig;
#[cfg(feature = "ping")]
pub use chainp2p_ping as ping;
#[cfg(feature = "plaintext")]
pub use chainp2p_plaintext::PlaintextConfig;
#[cfg(feature = "secio")]
pub use chainp2p_secio::SecioConfig;
#[cfg(feature = "tcp")]
pub use chainp2p_transport_tcp::TcpConfig;
#[cfg(feature = "yamux")]
pub use chainp2p_yamux::YamuxConfig;
