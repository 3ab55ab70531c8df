//! The muxer conformance suite run against mplex with its default configuration (no flow
//! control: a stream whose reader falls 1 MiB behind is reset).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

muxer_conformance::conformance_tests!(
    mplex::MplexConfig::default(),
    muxer_conformance::Expectations::reset_on_overflow(1024 * 1024)
);
