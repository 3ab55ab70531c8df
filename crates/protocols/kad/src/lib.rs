//! `kad`: the Kademlia DHT (`/ipfs/kad/1.0.0`), the handler at the top of the chain
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
//! - [`node`]: the async shell tying them together (serving requests, running lookups);
//! - [`config`]: [`Config`], every setting in one place (k, alpha, the timeouts, the wire, store
//!   and maintenance limits), from which the routing, lookup, store and maintenance settings
//!   are derived.
//!
//! The user API is re-exported here: [`KadNode`], [`NodeParams`], [`Config`], [`Mode`],
//! [`Record`], [`RecordStore`], [`MemoryStore`], `PersistentStore` (feature `redb`),
//! [`KadHandler`], [`KadError`].
//!
//! ```
//! let config = chainp2p_kad::Config::default()
//!     .with_protocol("/ipfs/lan/kad/1.0.0")
//!     .with_k(16);
//! config.validate().unwrap();
//! let store = chainp2p_kad::MemoryStore::new(None, config.store_config());
//! # let _ = store;
//! ```
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

pub use config::{Config, ALPHA_VALUE, DEFAULT_PROTOCOL, K_VALUE};
pub use error::KadError;
pub use handler::KadHandler;
pub use node::{KadNetwork, KadNode, Mode, NodeError, NodeParams};
#[cfg(feature = "redb")]
pub use store::PersistentStore;
pub use store::{
    DefaultValidator, IpfsValidator, MemoryStore, ProviderRecord, Record, RecordStore,
    RecordValidator, StoreConfig,
};
