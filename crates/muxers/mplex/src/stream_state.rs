//! Per-stream state of the sans-IO session: lifecycle flags and the receive buffer. Kept
//! small (no preallocated buffers): an idle stream costs this struct plus its map entry.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

/// Why a stream was reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResetCause {
    /// We reset it (application `reset`, or dropped while open).
    Local,
    /// The peer sent Reset.
    Remote,
    /// The peer overflowed `max_buffer_per_stream`; we sent Reset. The reader still gets the
    /// buffered bytes, then `BufferOverflow`.
    Overflow,
}

/// One stream as the session sees it.
#[derive(Debug, Default)]
pub(crate) struct StreamState {
    /// Received, unread data.
    pub(crate) recv_buf: VecDeque<Bytes>,
    /// Total bytes in `recv_buf`.
    pub(crate) buffered: usize,
    /// Reset by either side, and why.
    pub(crate) reset: Option<ResetCause>,
    /// We sent Close.
    pub(crate) local_closed: bool,
    /// The peer sent Close.
    pub(crate) remote_closed: bool,
    /// The application handle is gone; data that still arrives is discarded.
    pub(crate) released: bool,
    /// Last progress of the reader: the later of its last read of bytes, its accept, and the
    /// moment data arrived into the empty buffer while the reader waited for it (or the
    /// stream's first data, if nothing counted yet); see `OverflowBehaviour`.
    pub(crate) progress_at: Option<Instant>,
    /// The reader's last read found the buffer empty (`ReadOutcome::Blocked`): it waits for
    /// data, so data arriving into the empty buffer is its progress. Not set by `accept`: a
    /// stream the application took but never reads must not have its clock restarted by data
    /// that arrives late (e.g. held up behind another stream's stall).
    pub(crate) reader_waiting: bool,
}

impl StreamState {
    /// No more frames will flow either way.
    pub(crate) fn wire_closed(&self) -> bool {
        self.reset.is_some() || (self.local_closed && self.remote_closed)
    }

    /// Can be forgotten: closed on the wire and no handle left.
    pub(crate) fn removable(&self) -> bool {
        self.released && self.wire_closed()
    }

    /// Whether arriving data is kept for the reader (otherwise it is discarded).
    pub(crate) fn accepts_data(&self) -> bool {
        self.reset.is_none() && !self.remote_closed && !self.released
    }

    /// Copies buffered data into `buf`; returns the number of bytes copied.
    pub(crate) fn copy_out(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            let Some(chunk) = self.recv_buf.front_mut() else {
                break;
            };
            let Some(dst) = buf.get_mut(n..) else { break };
            let k = dst.len().min(chunk.len());
            let src = chunk.split_to(k);
            if let Some(d) = dst.get_mut(..k) {
                d.copy_from_slice(&src);
            }
            n += k;
            if chunk.is_empty() {
                self.recv_buf.pop_front();
            }
        }
        self.buffered -= n;
        if self.recv_buf.is_empty() && self.recv_buf.capacity() > 4 {
            // Give a grown deque back: an idle stream holds at most a tiny one.
            self.recv_buf = VecDeque::new();
        }
        n
    }

    /// Appends a received body. Data arriving into the empty buffer counts as progress if
    /// the reader waits for it, or if nothing counted as progress yet (the first data of a
    /// stream not yet accepted, or of one we opened and never read).
    pub(crate) fn push(&mut self, body: Bytes, now: Instant) {
        if self.buffered == 0 && (self.reader_waiting || self.progress_at.is_none()) {
            self.progress_at = Some(now);
        }
        self.buffered += body.len();
        self.recv_buf.push_back(body);
    }

    /// How long the reader has made no progress (zero if it never had data).
    pub(crate) fn idle(&self, now: Instant) -> std::time::Duration {
        self.progress_at.map_or(std::time::Duration::ZERO, |p| {
            now.saturating_duration_since(p)
        })
    }

    /// Drops all buffered data; returns how many bytes were dropped.
    pub(crate) fn discard_buffer(&mut self) -> usize {
        let n = self.buffered;
        self.recv_buf = VecDeque::new();
        self.buffered = 0;
        n
    }
}
