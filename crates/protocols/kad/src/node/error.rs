//! [`NodeError`]: what the node's async operations fail with.

use crate::error::KadError;
use crate::store::StoreError;

/// An operation of [`KadNode`](super::KadNode) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// A wire or stream error (also the configuration being invalid).
    #[error(transparent)]
    Kad(#[from] KadError),
    /// The local record store refused the record (invalid, too large, full…).
    #[error("record store: {0}")]
    Store(#[from] StoreError),
    /// [`bootstrap`](super::KadNode::bootstrap) reached nobody: no seed nor any peer of the
    /// routing table answered (dead, unreachable, or not serving our kad protocol).
    #[error("bootstrap reached nobody ({tried} peers tried)")]
    BootstrapReachedNobody {
        /// Peers the lookup sent a request to.
        tried: usize,
    },
    /// [`put_value`](super::KadNode::put_value) stored the record nowhere but locally: no peer
    /// acknowledged the PUT_VALUE (none known, or every one failed or refused it).
    #[error("record {key:?} stored at no peer ({tried} tried)", key = String::from_utf8_lossy(key))]
    StoredNowhere {
        /// The record's key.
        key: Vec<u8>,
        /// Peers a PUT_VALUE was sent to.
        tried: usize,
    },
    /// [`provide`](super::KadNode::provide) announced us to no peer: the ADD_PROVIDER reached
    /// nobody (none known, or every send failed).
    #[error("provider record of {key:?} taken by no peer ({tried} tried)", key = String::from_utf8_lossy(key))]
    ProvidedNowhere {
        /// The provided key.
        key: Vec<u8>,
        /// Peers an ADD_PROVIDER was sent to.
        tried: usize,
    },
}
