//! What a muxer configuration promises where muxers legitimately differ.

/// Per-muxer expectations, passed by the test file beside the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expectations {
    /// `true`: a writer is slowed to its reader's pace, per stream (yamux windows), and gets at
    /// most [`Expectations::max_unread_per_stream`] bytes ahead. `false`: a stream whose reader
    /// falls more than that behind is reset instead (mplex's default
    /// `OverflowBehaviour::ResetStream`), and the connection stays usable.
    pub has_flow_control: bool,
    /// Most bytes a writer may get ahead of its reader on one stream, counting everything the
    /// muxer buffers on both sides (send queue, window, receive buffer). The cases add the
    /// pipe's capacity and one write chunk as slack.
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
            has_flow_control: true,
            max_unread_per_stream,
            drop_resets: true,
        }
    }

    /// A muxer without flow control that resets a stream once more than
    /// `max_unread_per_stream` bytes are buffered for its reader; dropping a stream resets it.
    pub const fn reset_on_overflow(max_unread_per_stream: usize) -> Self {
        Expectations {
            has_flow_control: false,
            max_unread_per_stream,
            drop_resets: true,
        }
    }
}
