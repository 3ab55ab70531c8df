//! The muxer conformance suite run against mplex with its default configuration: no flow
//! control; a full stream buffer stops the connection's input (backpressure) and a stream
//! whose reader made no progress for 5 s is reset (`OverflowBehaviour::BlockThenReset`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use chainp2p_mplex::{MplexConfig, OverflowBehaviour};
use chainp2p_muxer_conformance::Expectations;

/// What default mplex promises: a writer gets at most the reader's buffer, the frame held
/// back while input is stalled, the driver's undecoded input (one read plus a partial
/// frame) and the writer's own output queue ahead of its reader; stuck streams are reset
/// after the default timeout.
fn expectations() -> Expectations {
    let c = MplexConfig::default();
    let OverflowBehaviour::BlockThenReset(timeout) = c.overflow else {
        panic!("the default overflow behaviour is BlockThenReset");
    };
    Expectations::reset_after(
        c.max_buffer_per_stream + c.split_send_size + 2 * c.read_buffer_size + c.write_buffer_limit,
        timeout,
    )
}

chainp2p_muxer_conformance::conformance_tests!(MplexConfig::default(), expectations());
