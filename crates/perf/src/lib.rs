//! `perf`: /perf/1.0.0 benchmark protocol.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]
