//! `muxer-shell`: the async shell the stream muxers (`yamux`, `mplex`) share. Each muxer is a
//! sans-IO session (frames in, frames out) behind a short `std::sync::Mutex`; this crate holds
//! what sits around that session and is the same for every muxer:
//!
//! - [`Shared`]: the session plus the wakers of everyone waiting on it (stream readers and
//!   writers, `accept`/`open` callers, writers waiting for queue room, flushers, the driver),
//!   and [`Shared::dispatch`], which turns the session's events into wake-ups.
//! - [`OutputWriter`]: the driver's write/flush loop: takes the session's queued output by
//!   swapping buffers (no allocation per batch), writes it coalesced, flushes, and wakes the
//!   writers and flushers it unblocks.
//! - [`StreamCore`]: the part of a substream handle that does not depend on the protocol
//!   (registration, reset, the half-close step of `poll_close`, release on drop).
//!
//! A muxer plugs in by implementing [`ShellSession`] for its session. What differs between
//! muxers (reading, flow control, timers, how a session ends) stays in the muxer's own crate.
//!
//! A toy session plugged into the shell: its events say whom to wake, and
//! [`Shared::dispatch`] wakes exactly those waiters:
//!
//! ```
//! use std::collections::VecDeque;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use bytes::BytesMut;
//! use chainp2p_muxer_shell::{register, Shared, ShellSession, Wake};
//!
//! /// A session that only queues events (a real one parses frames into them).
//! #[derive(Debug, Default)]
//! struct Toy { events: VecDeque<Wake<u32>> }
//!
//! impl ShellSession for Toy {
//!     type StreamId = u32;
//!     type Error = std::sync::Arc<std::io::Error>;
//!     fn poll_wake(&mut self) -> Option<Wake<u32>> { self.events.pop_front() }
//!     fn output_len(&self) -> usize { 0 }
//!     fn queued_total(&self) -> u64 { 0 }
//!     fn swap_output(&mut self, _buf: &mut BytesMut) {}
//!     fn ended(&self) -> Option<Result<(), &Self::Error>> { None }
//!     fn on_io_error(&mut self, _err: Self::Error) {}
//!     fn on_closed(&mut self) {}
//!     fn close_write(&mut self, _id: u32) -> Result<(), Self::Error> { Ok(()) }
//!     fn reset(&mut self, _id: u32) {}
//!     fn release(&mut self, _id: u32) {}
//! }
//!
//! /// Counts its wake-ups.
//! struct Count(AtomicUsize);
//! impl futures::task::ArcWake for Count {
//!     fn wake_by_ref(me: &Arc<Self>) { me.0.fetch_add(1, Ordering::SeqCst); }
//! }
//!
//! let acceptor = Arc::new(Count(AtomicUsize::new(0)));
//! let mut shared = Shared::new(Toy::default());
//! register(&mut shared.accept, &futures::task::waker(acceptor.clone()));
//! shared.session.events.push_back(Wake::Read(7)); // no such stream: wakes nobody
//! shared.dispatch();
//! assert_eq!(acceptor.0.load(Ordering::SeqCst), 0);
//! shared.session.events.push_back(Wake::Accept); // an inbound stream arrived
//! shared.dispatch();
//! assert_eq!(acceptor.0.load(Ordering::SeqCst), 1);
//! ```
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod shared;
mod stream;
mod writer;

#[cfg(test)]
mod tests;

use std::fmt::Debug;
use std::hash::Hash;

use bytes::BytesMut;

pub use shared::{lock, register, wake_all, wake_first, Shared, SharedRef, StreamWakers};
pub use stream::StreamCore;
pub use writer::{OutputWriter, WakePolicy};

/// Whom one session event wakes (see [`ShellSession::poll_wake`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Wake<Id> {
    /// Nobody (an event the shell does not wait on).
    Nobody,
    /// `accept` callers: an inbound stream arrived.
    Accept,
    /// `open` callers: an outbound slot may be free (an ACK, or the peer's GoAway).
    Open,
    /// The reader of this stream.
    Read(Id),
    /// The writer of this stream.
    Write(Id),
    /// Reader and writer of this stream (it closed or was reset).
    ReadWrite(Id),
    /// The driver (e.g. input may resume).
    Driver,
    /// Everyone: the session terminated.
    Everyone,
}

/// The sans-IO session as the shell sees it. Implemented by each muxer's session type by
/// delegating to its own methods; all of them are called with the [`Shared`] mutex held.
pub trait ShellSession {
    /// A substream's identity.
    type StreamId: Copy + Eq + Hash + Debug;
    /// The muxer's error type (I/O failures convert into it).
    type Error: Clone + Debug + From<std::io::Error>;

    /// Pops the next event and says whom it wakes; `None` when no event is left.
    fn poll_wake(&mut self) -> Option<Wake<Self::StreamId>>;
    /// Bytes of encoded output queued for the driver.
    fn output_len(&self) -> usize;
    /// Total bytes ever queued for output (flush marks compare against it).
    fn queued_total(&self) -> u64;
    /// Swaps the queued output with `buf` (which the driver emptied), so no batch allocates.
    fn swap_output(&mut self, buf: &mut BytesMut);
    /// How the session ended: `None` while it runs, `Some(Ok(()))` cleanly,
    /// `Some(Err(e))` with an error.
    fn ended(&self) -> Option<Result<(), &Self::Error>>;
    /// The I/O failed (or the driver gave up with `err`): the session ends with it.
    fn on_io_error(&mut self, err: Self::Error);
    /// The driver finished cleanly.
    fn on_closed(&mut self);
    /// Half-closes our side of stream `id` (queues the protocol's close frame).
    fn close_write(&mut self, id: Self::StreamId) -> Result<(), Self::Error>;
    /// Resets stream `id`: both directions end at once.
    fn reset(&mut self, id: Self::StreamId);
    /// The handle of stream `id` was dropped.
    fn release(&mut self, id: Self::StreamId);
}
