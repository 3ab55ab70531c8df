//! `ping`: /ipfs/ping/1.0.0: 32-byte echo.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]
