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
//!
//! // The store is sans-IO: time is passed in, so expiry is testable without waiting.
//! use chainp2p_kad::{Record, RecordStore};
//! use std::time::{Duration, SystemTime};
//! let now = SystemTime::now();
//! let record = Record {
//!     key: b"/v/colour".to_vec(),
//!     value: b"blue".to_vec(),
//!     publisher: None,
//!     expires: now + Duration::from_secs(60),
//! };
//! store.put(record, now).unwrap();
//! let found = store.get(b"/v/colour", now).unwrap().unwrap();
//! assert_eq!(found.value, b"blue");
//! assert!(store.get(b"/v/colour", now + Duration::from_secs(61)).unwrap().is_none());
//!
//! // Kademlia's metric: SHA-256 of the key, XOR distance.
//! use chainp2p_kad::key::Key;
//! let (a, b) = (Key::new(b"a"), Key::new(b"b"));
//! assert_eq!(a.distance(&b), b.distance(&a));
//! assert_eq!(a.distance(&a).leading_zeros(), 256);
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
