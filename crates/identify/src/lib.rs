//! `identify`: /ipfs/id/1.0.0 and /ipfs/id/push/1.0.0.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]
