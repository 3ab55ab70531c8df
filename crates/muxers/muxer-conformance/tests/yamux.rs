//! The muxer conformance suite run against yamux with its default configuration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

chainp2p_muxer_conformance::conformance_tests!(
    chainp2p_yamux::YamuxConfig::default(),
    chainp2p_muxer_conformance::Expectations::flow_controlled(1024 * 1024)
);
