//! `transport-tcp`: TCP transport: listen and dial /ip4|ip6/.../tcp/N multiaddrs.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]
