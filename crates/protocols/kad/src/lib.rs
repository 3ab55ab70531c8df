//! `kad`: the Kademlia DHT (`/ipfs/kad/1.0.0`), the handler at the top of the seed's chain
//! (`tcp -> multistream -> security -> multistream -> muxer -> multistream -> kad`).
//!
//! Sans-IO cores with thin async shells, like every layer crate:
//! - wire: [`proto`] (the `Message` protobuf, prost), [`codec`] (uvarint-delimited frames with
//!   a size limit), [`message`] (typed requests and responses), [`handler`] (the
//!   `StreamHandler` serving inbound requests and the client side of one request);
//! - core: [`key`] (SHA-256 key space, XOR distance), [`routing`] (k-buckets), [`query`] (the
//!   iterative lookup state machine, time passed in);
//! - [`store`]: the record store trait, in memory and persistent (redb, cargo feature `redb`,
//!   on by default);
//! - [`node`]: the async shell tying them together (serving requests, running lookups).
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod codec;
pub mod config;
pub mod error;
pub mod handler;
pub mod key;
pub mod message;
pub mod node;
pub mod proto;
pub mod query;
pub mod routing;
pub mod store;
