//! The driver's read buffer: one allocation, taken from the thread's buffer pool
//! (`chainp2p_framing::pool`) while bytes flow and given back when a read finds the socket idle
//! with no partial frame buffered, so an idle connection holds none. Socket bytes are read into its free tail (no scratch copy); the session copies
//! each frame body out (`Session::handle_input`, into a buffer recycled from a body already
//! read, see `body_pool.rs`), so no body pins this buffer and nothing is allocated per read.
//! Only the partial frame at the end is moved to the front when the tail runs low.
//!
//! Why not split bodies off a `BytesMut` (zero-copy)? Then every body pins the whole read
//! buffer until the application reads it, so a reader that lags behind (up to its receive
//! window, 16 MiB when tuned) forces a new large buffer per read: measured, that allocation
//! churn above glibc's mmap threshold cost more in page faults than the body copy saves, and
//! one small unread body would hold a whole buffer in memory.
//!
//! Why still move the partial frame? Taking a large data frame's partial body into its body
//! buffer as it arrives (so nothing is left to move) was tried (commit 578b401): it removed
//! this move from the profile (~0.8 % of the dialer's CPU in `chain-node perf`), but the CPU
//! seconds of the whole chain did not change beyond noise (`scripts/cpu_ab.sh`, 1 GiB each
//! way, new/old 0.99 and 1.01 in two runs), so it was not kept.

/// See the module docs.
#[derive(Debug)]
pub(crate) struct ReadBuffer {
    /// Initialized bytes; `[start..end]` is input not yet consumed (a partial frame).
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Usual size while bulk data flows (grown for a frame larger than it).
    size: usize,
    /// The last read filled all the room offered: bulk data, use the usual size.
    busy: bool,
    /// Room offered by the last [`ReadBuffer::room`].
    offered: usize,
}

/// The buffer a read takes when nothing is buffered and no bulk data flows (a burst of
/// connections exchanging small messages holds no large buffers).
pub(crate) const FIRST_READ: usize = 16 * 1024;

impl ReadBuffer {
    /// A buffer of `size` bytes while bytes flow; nothing is allocated before the first read.
    pub(crate) fn new(size: usize) -> Self {
        ReadBuffer {
            buf: Vec::new(),
            start: 0,
            end: 0,
            size: size.max(1),
            busy: false,
            offered: 0,
        }
    }

    /// Room to read into: at least `want` bytes (the rest of a partial frame, so it ends up
    /// contiguous) and at least a quarter of the current usual size (no tiny reads). The usual
    /// size is [`FIRST_READ`] until a read fills all the room offered (bulk data), then the
    /// configured size until the socket is idle again.
    pub(crate) fn room(&mut self, want: usize) -> &mut [u8] {
        let usual = if self.busy {
            self.size
        } else {
            FIRST_READ.min(self.size)
        };
        let need = want.max(usual / 4).max(1);
        if self.buf.is_empty() {
            self.buf = chainp2p_framing::pool::take(usual.max(need));
        }
        if self.buf.len().saturating_sub(self.end) < need || self.buf.len() < usual {
            // Move the partial frame to the front (at most one frame's bytes).
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            let len = usual.max(self.end.saturating_add(need));
            if self.buf.len() < len {
                self.buf.resize(len, 0);
            }
        }
        let room = self.buf.get_mut(self.end..).unwrap_or_default();
        self.offered = room.len();
        room
    }

    /// Marks `n` bytes of [`ReadBuffer::room`] as read.
    pub(crate) fn commit(&mut self, n: usize) {
        self.end = self.end.saturating_add(n).min(self.buf.len());
        self.busy = n >= self.offered;
    }

    /// Gives the allocation back to the pool if no partial frame is buffered (the socket is
    /// idle).
    pub(crate) fn release_if_empty(&mut self) {
        if self.start == self.end && !self.buf.is_empty() {
            chainp2p_framing::pool::give(std::mem::take(&mut self.buf));
            (self.start, self.end) = (0, 0);
            self.busy = false;
        }
    }

    /// Bytes allocated now (zero while idle).
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> usize {
        self.buf.capacity()
    }

    /// Input not yet consumed.
    pub(crate) fn pending(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Drops `n` bytes from the front of [`ReadBuffer::pending`].
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = self.start.saturating_add(n).min(self.end);
        if self.start == self.end {
            // Empty: the next read starts at the front, no copy needed.
            self.start = 0;
            self.end = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_buffer_is_released_but_a_partial_frame_is_kept() {
        let mut b = ReadBuffer::new(64 * 1024);
        assert_eq!(b.allocated(), 0);
        read(&mut b, 0, b"abc");
        b.release_if_empty();
        assert_eq!(b.pending(), b"abc", "a partial frame stays");
        b.consume(3);
        b.release_if_empty();
        assert_eq!(b.allocated(), 0);
        read(&mut b, 0, b"de");
        assert_eq!(b.pending(), b"de");
    }

    fn read(b: &mut ReadBuffer, want: usize, data: &[u8]) {
        let room = b.room(want);
        assert!(room.len() >= want.max(data.len()));
        room[..data.len()].copy_from_slice(data);
        b.commit(data.len());
    }

    #[test]
    fn partial_input_stays_in_front_of_new_reads() {
        let mut b = ReadBuffer::new(64);
        read(&mut b, 0, b"abcdef");
        assert_eq!(b.pending(), b"abcdef");
        b.consume(4);
        assert_eq!(b.pending(), b"ef");
        read(&mut b, 0, b"gh");
        assert_eq!(b.pending(), b"efgh");
        b.consume(4);
        assert!(b.pending().is_empty());
    }

    #[test]
    fn the_allocation_is_reused_and_the_partial_moved_to_the_front() {
        let mut b = ReadBuffer::new(64);
        read(&mut b, 0, &[1; 60]);
        let first = b.buf.as_ptr();
        b.consume(58);
        // Tail too small: the 2 partial bytes move to the front of the same allocation.
        read(&mut b, 0, &[2; 30]);
        assert_eq!(b.pending(), [&[1u8; 2][..], &[2; 30]].concat());
        assert_eq!(b.buf.as_ptr(), first);
        assert!(b.buf.len() >= 64);
        b.consume(32);
        assert_eq!((b.start, b.end), (0, 0));
    }

    #[test]
    fn a_frame_larger_than_the_buffer_gets_contiguous_room() {
        let mut b = ReadBuffer::new(16);
        read(&mut b, 0, &[7; 10]);
        b.consume(2);
        // 8 bytes of a 100-byte frame buffered: 92 more wanted.
        let room = b.room(92);
        assert!(room.len() >= 92);
        b.commit(92);
        assert_eq!(b.pending().len(), 100);
        assert_eq!(&b.pending()[..8], &[7; 8]);
    }
}
