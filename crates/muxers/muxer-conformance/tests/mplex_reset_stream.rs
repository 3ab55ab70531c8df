//! The muxer conformance suite run against mplex with `OverflowBehaviour::ResetStream`: a
//! stream whose reader falls 1 MiB behind is reset at once, the connection never stalls. The
//! accept queue is raised to the inbound cap, since this mode refuses streams beyond it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use chainp2p_mplex::{MplexConfig, OverflowBehaviour};

fn config() -> MplexConfig {
    MplexConfig::default()
        .with_overflow(OverflowBehaviour::ResetStream)
        .with_max_pending_accept(1024)
}

chainp2p_muxer_conformance::conformance_tests!(
    config(),
    chainp2p_muxer_conformance::Expectations::reset_on_overflow(config().max_buffer_per_stream)
);
