//! Per-stream state of the sans-IO session: lifecycle flags, windows, and the receive buffer.
//!
//! Kept small on purpose (72 bytes on 64-bit targets, checked by a test): an open but idle
//! stream owns no heap allocation (the `VecDeque` allocates on the first chunk received and is
//! freed again whenever the application has read everything).

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Buf, Bytes};

use crate::body_pool::BodyPool;

/// Who opened a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// We sent the SYN.
    Local,
    /// The peer sent the SYN.
    Remote,
}

/// One stream as the session sees it.
#[derive(Debug)]
pub(crate) struct StreamState {
    pub(crate) origin: Origin,
    /// Outbound: the peer answered our SYN (any frame counts, for old peers). Inbound: we sent
    /// the ACK (on accept).
    pub(crate) acked: bool,
    /// We sent FIN (or hold it back, see `fin_held`).
    pub(crate) local_fin: bool,
    /// Our FIN waits for the peer's agent (see `session/held_fins.rs`): not on the wire yet.
    pub(crate) fin_held: bool,
    /// The peer sent FIN.
    pub(crate) remote_fin: bool,
    /// Reset by either side.
    pub(crate) reset: bool,
    /// The application handle is gone; data that still arrives is discarded (and re-credited).
    pub(crate) released: bool,
    /// Credit the peer has for sending to us.
    pub(crate) recv_credit: u32,
    /// Our receive window (the most credit we grant); auto-tuning grows it, never shrinks it.
    pub(crate) recv_window: u32,
    /// Credit we have for sending.
    pub(crate) send_window: u32,
    /// Received, unread data.
    pub(crate) recv_buf: VecDeque<Bytes>,
    /// Total bytes in `recv_buf` (at most `recv_window`, so a u32).
    pub(crate) buffered: u32,
    /// When we last granted credit (or created the stream): the auto-tuning reference.
    pub(crate) last_update: Option<Instant>,
}

impl StreamState {
    pub(crate) fn new(
        origin: Origin,
        initial: u32,
        recv_window: u32,
        now: Option<Instant>,
    ) -> Self {
        StreamState {
            origin,
            acked: false,
            local_fin: false,
            fin_held: false,
            remote_fin: false,
            reset: false,
            released: false,
            recv_credit: initial,
            recv_window,
            send_window: initial,
            recv_buf: VecDeque::new(),
            buffered: 0,
            last_update: now,
        }
    }

    /// No more frames will flow either way.
    pub(crate) fn wire_closed(&self) -> bool {
        self.reset || (self.local_fin && self.remote_fin)
    }

    /// Can be forgotten: closed on the wire and no handle left.
    pub(crate) fn removable(&self) -> bool {
        self.released && self.wire_closed() && !self.fin_held
    }

    /// Copies buffered data into `buf`; returns the number of bytes copied. Chunks read
    /// completely go back to `pool`.
    pub(crate) fn copy_out(&mut self, buf: &mut [u8], pool: &mut BodyPool) -> usize {
        let mut n = 0;
        while n < buf.len() {
            let Some(chunk) = self.recv_buf.front_mut() else {
                break;
            };
            let Some(dst) = buf.get_mut(n..) else { break };
            let k = dst.len().min(chunk.len());
            if let (Some(d), Some(src)) = (dst.get_mut(..k), chunk.get(..k)) {
                d.copy_from_slice(src);
            }
            chunk.advance(k);
            n += k;
            if chunk.is_empty() {
                if let Some(done) = self.recv_buf.pop_front() {
                    pool.recycle(done);
                }
            }
        }
        self.buffered = self
            .buffered
            .saturating_sub(u32::try_from(n).unwrap_or(u32::MAX));
        if self.recv_buf.is_empty() && self.recv_buf.capacity() > 0 {
            // Drained: give the ring's memory back, so a stream that goes idle holds none (a
            // small allocation again on the next chunk is cheap next to the data it carries).
            self.recv_buf = VecDeque::new();
        }
        n
    }

    /// Drops all buffered data.
    pub(crate) fn discard_buffer(&mut self) {
        self.recv_buf = VecDeque::new();
        self.buffered = 0;
    }
}
