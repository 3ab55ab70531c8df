//! `muxer-conformance`: one suite of behaviour tests that runs unchanged against every stream
//! muxer implementing [`chainp2p_core::MuxerHandler`] / [`chainp2p_core::Muxer`] (yamux, mplex), in
//! the spirit of rust-libp2p's `muxers/test-harness`.
//!
//! - [`connected_pair`] starts two sessions (dialer and listener) over an in-memory pipe and
//!   spawns their drivers, keeping the handles so a case can check they end cleanly.
//! - [`cases`] holds one `pub async fn` per case, all with the same signature
//!   `(&dyn MuxerHandler, &Expectations) -> Result<(), String>`; the error names the step that
//!   failed and what was seen.
//! - [`Expectations`] says what a muxer's configuration promises where muxers legitimately
//!   differ ([`Overflow`]: per-stream flow control, connection backpressure then a reset of
//!   stuck streams after a timeout, or an immediate reset of an overflowing stream).
//! - [`conformance_tests!`] expands to one `#[tokio::test]` per case (each under
//!   [`CASE_TIMEOUT`]), so a muxer's test file is one line and each case shows up by name.
//!
//! The only reset the `Muxer` trait offers is dropping a stream without closing it, so the
//! reset cases drop streams.
//!
//! A suite case by hand (a muxer's test file uses [`conformance_tests!`] instead): yamux on
//! both ends of a pipe, one ping-pong substream:
//!
//! ```
//! use chainp2p_muxer_conformance::{connected_pair, ping_pong, DEFAULT_PIPE_CAPACITY};
//! use chainp2p_yamux::YamuxConfig;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), String> {
//! let yamux = YamuxConfig::default();
//! let pair = connected_pair(&yamux, &yamux, DEFAULT_PIPE_CAPACITY).await?;
//! ping_pong(&*pair.dialer, &*pair.listener).await?; // "ping" one way, "pong" back
//! # Ok(()) }
//! ```
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod cases;
mod expect;
mod pair;
mod util;

pub use expect::{Expectations, Overflow};
pub use pair::{connected_pair, Pair, DEFAULT_PIPE_CAPACITY};
pub use util::{ping_pong, within, Pattern, STEP};

use std::time::Duration;

/// The time one case may take in total before [`conformance_tests!`] fails it as hung.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(30);

/// Every case, by the name of its function in [`cases`] (and of its generated test).
pub const CASES: &[&str] = &[
    "open_accept_dialer_opens",
    "open_accept_listener_opens",
    "half_close",
    "many_concurrent_streams",
    "concurrent_open_both_sides",
    "reset_while_peer_writes",
    "reset_while_peer_reads",
    "dropped_stream_without_close",
    "large_transfer_both_directions",
    "slow_reader",
    "never_reading_peer",
    "session_close_by_dialer",
    "session_close_by_listener",
];

/// Expands to one `#[tokio::test]` per case of [`cases`], each run against the muxer handler
/// built by the first argument (used on both sides) with the [`Expectations`] given second,
/// under [`CASE_TIMEOUT`]. The calling crate needs `tokio` (with `macros`, `rt-multi-thread`).
///
/// ```ignore
/// chainp2p_muxer_conformance::conformance_tests!(chainp2p_yamux::YamuxConfig::default(), chainp2p_muxer_conformance::Expectations::flow_controlled(1 << 20));
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($handler:expr, $expect:expr $(,)?) => {
        $crate::conformance_tests!(@cases ($handler) ($expect)
            open_accept_dialer_opens,
            open_accept_listener_opens,
            half_close,
            many_concurrent_streams,
            concurrent_open_both_sides,
            reset_while_peer_writes,
            reset_while_peer_reads,
            dropped_stream_without_close,
            large_transfer_both_directions,
            slow_reader,
            never_reading_peer,
            session_close_by_dialer,
            session_close_by_listener
        );
    };
    (@cases ($handler:expr) ($expect:expr) $($case:ident),+) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let handler = $handler;
                let expect: $crate::Expectations = $expect;
                match ::tokio::time::timeout(
                    $crate::CASE_TIMEOUT,
                    $crate::cases::$case(&handler, &expect),
                )
                .await
                {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => panic!("case {} failed: {}", stringify!($case), e),
                    Err(_) => panic!(
                        "case {} hung: not finished within {:?}",
                        stringify!($case),
                        $crate::CASE_TIMEOUT
                    ),
                }
            }
        )+
    };
}
