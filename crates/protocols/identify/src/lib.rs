//! `identify`: `/ipfs/id/1.0.0` and `/ipfs/id/push/1.0.0`, application protocols on muxed
//! substreams.
//!
//! On `/ipfs/id/1.0.0` the *listener* (the peer being identified) writes one
//! `uvarint(len) ‖ Identify protobuf` message and closes; the dialer only reads. On
//! `/ipfs/id/push/1.0.0` the dialer writes its (partial) info and closes. Readers accept
//! several messages until EOF and merge them.
//!
//! - [`IdentifyHandler`]: the listener side of both ids, with our updatable [`LocalInfo`] and
//!   a channel of received pushes ([`IdentifyHandler::subscribe`]).
//! - [`request`] / [`push`]: the dialer side.
//! - [`record`]: our signed peer record (RFC 0002/0003) and checking a peer's.
//! - [`proto`] (hand-written prost mirror of `src/identify.proto`), [`codec`] (framing),
//!   [`info`] (decoded views, address parsing, trimming): no I/O.
//! - Errors are [`chainp2p_core::ChainError`]s of layer [`LAYER`] whose source is an
//!   [`IdentifyError`].
//!
//! The listener side answering one request, and the client checking the answer's key:
//!
//! ```
//! use std::sync::Arc;
//! use chainp2p_core::{identity::Keypair, BoxStream, HandlerContext, Role, StreamHandler};
//! use tokio_util::compat::TokioAsyncReadCompatExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // An in-memory pipe stands in for a negotiated substream.
//! let (a, b) = tokio::io::duplex(64 * 1024);
//! let (mut client, server): (BoxStream, BoxStream) = (Box::new(a.compat()), Box::new(b.compat()));
//! let ctx = HandlerContext::new(Role::Listener, Arc::new(Keypair::generate_ed25519()));
//! let server_peer = ctx.local_key.public().to_peer_id();
//! let handler = chainp2p_identify::IdentifyHandler::default();
//! handler.set_protocols(vec!["/ipfs/ping/1.0.0".into()]);
//! let serve = handler.handle(chainp2p_identify::PROTOCOL, server, ctx);
//! let ask = chainp2p_identify::request(&mut client, Some(&server_peer));
//! let (served, info) = tokio::join!(serve, ask);
//! let info = info.unwrap();
//! assert_eq!(info.public_key.to_peer_id(), server_peer); // checked against the expected peer
//! assert_eq!(info.protocols, ["/ipfs/ping/1.0.0"]);
//! assert!(served.is_ok());
//! # }
//! ```
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod client;
pub mod codec;
mod config;
mod error;
mod handler;
pub mod info;
pub mod proto;
pub mod record;

pub use client::{push, read_answer, read_merged, request, request_with_config, write_and_close};
pub use config::{IdentifyConfig, LocalInfo};
pub use error::IdentifyError;
pub use handler::{IdentifyHandler, PushEvent};
pub use info::{IdentifyInfo, PushInfo};

/// The identify protocol id.
pub const PROTOCOL: &str = "/ipfs/id/1.0.0";

/// The identify-push protocol id.
pub const PUSH_PROTOCOL: &str = "/ipfs/id/push/1.0.0";

/// The layer name used in [`chainp2p_core::ChainError`]s of this crate.
pub const LAYER: &str = "identify";
