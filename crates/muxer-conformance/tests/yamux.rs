//! The muxer conformance suite run against yamux with its default configuration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

muxer_conformance::conformance_tests!(
    yamux::YamuxConfig::default(),
    muxer_conformance::Expectations::flow_controlled(1024 * 1024)
);
