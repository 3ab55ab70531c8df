//! What a muxer configuration promises where muxers legitimately differ.

use std::time::Duration;

/// What a muxer does when a stream's reader falls behind its writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Overflow {
    /// Per-stream flow control (yamux windows): the writer is slowed to its reader's pace and
    /// gets at most [`Expectations::max_unread_per_stream`] bytes ahead; nothing is reset for
    /// being slow, and other streams keep flowing.
    Backpressure,
    /// No per-stream flow control; when a stream's buffer is full the receiver stops reading
    /// the connection (every stream waits), and a stream whose reader made no progress for
    /// this long is reset (mplex's default `OverflowBehaviour::BlockThenReset(5 s)`, like
    /// go-mplex). So: a slow reader that keeps reading gets every byte, its writer at most
    /// [`Expectations::max_unread_per_stream`] bytes ahead; streams that are never read are
    /// all reset within about this long (one stall in total, not one per stream), and the
    /// connection serves new streams again afterwards.
    ResetAfter(Duration),
    /// No flow control: a stream is reset as soon as more than
    /// [`Expectations::max_unread_per_stream`] bytes are unread (mplex's
    /// `OverflowBehaviour::ResetStream`); the connection never stalls. Even a slow but alive
    /// reader is reset, so bulk writers must pace themselves.
    ResetImmediately,
}

/// Per-muxer expectations, passed by the test file beside the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expectations {
    /// What happens to a reader slower than its writer.
    pub overflow: Overflow,
    /// Most bytes a writer may get ahead of its reader on one stream, counting everything the
    /// muxer buffers on both sides (send queue, window or receive buffer, input held while
    /// stalled). The cases add the pipe's capacity and one write chunk as slack.
    pub max_unread_per_stream: usize,
    /// Dropping a stream handle without closing it resets the stream (the peer's read returns
    /// an error). The two `reset_*` cases are skipped (pass trivially) when `false`.
    pub drop_resets: bool,
}

impl Expectations {
    /// A muxer with per-stream flow control whose writers get at most `max_unread_per_stream`
    /// bytes ahead of their reader; dropping a stream resets it.
    pub const fn flow_controlled(max_unread_per_stream: usize) -> Self {
        Expectations {
            overflow: Overflow::Backpressure,
            max_unread_per_stream,
            drop_resets: true,
        }
    }

    /// A muxer without flow control that backpressures the whole connection while a reader
    /// is alive and resets a stream whose reader made no progress for `timeout`
    /// ([`Overflow::ResetAfter`]); dropping a stream resets it.
    pub const fn reset_after(max_unread_per_stream: usize, timeout: Duration) -> Self {
        Expectations {
            overflow: Overflow::ResetAfter(timeout),
            max_unread_per_stream,
            drop_resets: true,
        }
    }

    /// A muxer without flow control that resets a stream once more than
    /// `max_unread_per_stream` bytes are buffered for its reader
    /// ([`Overflow::ResetImmediately`]); dropping a stream resets it.
    pub const fn reset_on_overflow(max_unread_per_stream: usize) -> Self {
        Expectations {
            overflow: Overflow::ResetImmediately,
            max_unread_per_stream,
            drop_resets: true,
        }
    }

    /// Whether a slow reader that keeps reading gets every byte (not reset).
    pub fn slow_reader_gets_everything(&self) -> bool {
        self.overflow != Overflow::ResetImmediately
    }

    /// The longest the connection may stall on a stuck reader before it recovers (zero
    /// unless [`Overflow::ResetAfter`]); steps that may wait on such a stall add it.
    pub fn stall(&self) -> Duration {
        match self.overflow {
            Overflow::ResetAfter(t) => t,
            Overflow::Backpressure | Overflow::ResetImmediately => Duration::ZERO,
        }
    }
}
