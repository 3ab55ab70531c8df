//! `multistream`: multistream-select 1.0.0, the step between the layers of the chain that
//! agrees on which protocol runs next (security on TCP, muxer on the secured stream, the
//! application protocol on each substream).
//!
//! - [`codec`]: framing (`uvarint(len) ‖ text ‖ \n`) as sans-IO codecs, [`Message`].
//! - [`Dialer`] / [`Listener`]: sans-IO state machines (bytes in, writes and [`Event`]s out).
//! - [`dialer_select`] / [`listener_select`]: the async shell over a [`chainp2p_core::BoxStream`],
//!   handing on any bytes read past the negotiation; [`Multistream`] is the
//!   [`chainp2p_core::StreamHandler`] that negotiates and runs the chosen handler.
//!
//! Limits ([`MultistreamConfig`]): messages up to 16383 bytes accepted, none over 1024 sent,
//! at most 32 rounds, 10 s for the whole negotiation. Errors are [`MultistreamError`]s inside
//! a [`chainp2p_core::ChainError`] of layer `multistream`.
//!
//! Runtime-agnostic: no tokio in the dependency tree; the negotiation timeout is a
//! `futures-timer` delay. Feature `tokio-codec` (off by default) adds `tokio_util`'s
//! `Decoder`/`Encoder` impls to the codecs.
//!
//! Both sides of a negotiation over an in-memory pipe: the dialer prefers secio, the listener
//! knows only noise, they agree on noise:
//!
//! ```
//! use chainp2p_core::BoxStream;
//! use chainp2p_multistream::{dialer_select, listener_select, MultistreamConfig};
//! use tokio_util::compat::TokioAsyncReadCompatExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (a, b) = tokio::io::duplex(4096);
//! let (a, b): (BoxStream, BoxStream) = (Box::new(a.compat()), Box::new(b.compat()));
//! let config = MultistreamConfig::default();
//! let dialer = ["/secio/1.0.0".to_string(), "/noise".to_string()];
//! let listener = ["/noise".to_string()];
//! let (d, l) = tokio::join!(
//!     dialer_select(a, &dialer, &config),
//!     listener_select(b, &listener, &config),
//! );
//! assert_eq!(d.unwrap().protocol, "/noise"); // `.io` carries the chosen protocol from here
//! assert_eq!(l.unwrap().protocol, "/noise");
//! # }
//! ```
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod codec;
mod config;
mod dialer;
mod error;
mod handler;
mod listener;
mod message;
mod state;
mod stream;

pub use codec::{FrameCodec, MessageCodec};
pub use config::{MultistreamConfig, DEFAULT_MAX_MESSAGE_LEN, MAX_LS_PROTOCOLS, MAX_SEND_LEN};
pub use dialer::Dialer;
pub use error::{MultistreamError, LAYER};
pub use handler::{
    dialer_select, list_protocols, listener_select, Dispatched, Multistream, Negotiated, PROTOCOL,
};
pub use listener::Listener;
pub use message::{parse_ls_response, Message};
pub use state::Event;
pub use stream::{LazyDialerStream, Prefixed};
