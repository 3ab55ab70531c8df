//! `swarm`: The thin composition of the chain: transports, security and muxer lists, application protocols.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]
