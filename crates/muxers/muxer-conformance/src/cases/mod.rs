//! The cases: one `pub async fn` each, all `(&dyn MuxerHandler, &Expectations) ->
//! Result<(), String>`, each on a fresh [`crate::connected_pair`].

mod backpressure;
mod basic;
mod bulk;
mod close;
mod many;
mod reset;

pub use backpressure::{never_reading_peer, slow_reader};
pub use basic::{half_close, open_accept_dialer_opens, open_accept_listener_opens};
pub use bulk::large_transfer_both_directions;
pub use close::{session_close_by_dialer, session_close_by_listener};
pub use many::{concurrent_open_both_sides, many_concurrent_streams};
pub use reset::{dropped_stream_without_close, reset_while_peer_reads, reset_while_peer_writes};
