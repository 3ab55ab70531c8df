//! `yamux`: yamux stream muxer: sans-IO session and the Muxer shell.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]
