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
}
