//! A per-thread pool of large byte buffers, so that a connection holds its receive, send and
//! decrypt buffers only while bytes flow through it. An idle connection gives its buffers back
//! here (its read returned `Pending` with nothing buffered, its send buffer drained) and takes
//! one again on its next read or write; with thousands of idle connections, memory is spent on
//! the few that are busy, not on all of them.
//!
//! Each thread keeps at most [`MAX_POOLED_BUFFERS`] buffers and [`MAX_POOLED_BYTES`] bytes;
//! more are freed. Pooled buffers stay initialized, so reusing one costs no zeroing; a buffer
//! comes back with whatever bytes it held (callers treat its contents as garbage).

use std::cell::RefCell;

/// Buffers kept per thread at most.
pub const MAX_POOLED_BUFFERS: usize = 16;
/// Bytes (capacity) kept per thread at most.
pub const MAX_POOLED_BYTES: usize = 4 * 1024 * 1024;
/// Buffers smaller than this are not worth pooling: they are freed.
pub const MIN_POOLED: usize = 4 * 1024;

#[derive(Default)]
struct Pool {
    free: Vec<Vec<u8>>,
    bytes: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

/// A buffer of at least `len` initialized bytes (contents unspecified): a pooled one if this
/// thread has one large enough, else a new zeroed one of exactly `len` bytes.
pub fn take(len: usize) -> Vec<u8> {
    let pooled = POOL
        .try_with(|p| {
            let mut p = p.borrow_mut();
            // The smallest pooled buffer that fits, so large ones stay for large needs.
            let best = p
                .free
                .iter()
                .enumerate()
                .filter(|(_, b)| b.capacity() >= len)
                .min_by_key(|(_, b)| b.capacity())
                .map(|(i, _)| i)?;
            let b = p.free.swap_remove(best);
            p.bytes = p.bytes.saturating_sub(b.capacity());
            Some(b)
        })
        .ok()
        .flatten();
    match pooled {
        Some(mut b) => {
            if b.len() < len {
                b.resize(len, 0);
            }
            b
        }
        None => vec![0u8; len],
    }
}

/// Gives `buf` back to this thread's pool (or frees it, if the pool is full or it is small).
pub fn give(buf: Vec<u8>) {
    let cap = buf.capacity();
    if cap < MIN_POOLED {
        return;
    }
    // During thread teardown the pool is gone: the buffer is simply freed.
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.free.len() < MAX_POOLED_BUFFERS && p.bytes.saturating_add(cap) <= MAX_POOLED_BYTES {
            p.bytes += cap;
            p.free.push(buf);
        }
    });
}

/// Bytes (capacity) this thread's pool holds now.
pub fn pooled_bytes() -> usize {
    POOL.try_with(|p| p.borrow().bytes).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_buffer_is_reused_without_a_new_allocation() {
        let b = take(64 * 1024);
        assert_eq!(b.len(), 64 * 1024);
        let ptr = b.as_ptr();
        give(b);
        assert!(pooled_bytes() >= 64 * 1024);
        let again = take(32 * 1024);
        assert_eq!(again.as_ptr(), ptr, "the pooled buffer is handed out again");
        assert!(again.len() >= 32 * 1024);
        give(again);
    }

    #[test]
    fn the_smallest_fitting_buffer_is_taken() {
        let (big, small) = (take(256 * 1024), take(64 * 1024));
        let (big_ptr, small_ptr) = (big.as_ptr(), small.as_ptr());
        give(big);
        give(small);
        let b = take(10 * 1024);
        assert_eq!(b.as_ptr(), small_ptr);
        let c = take(100 * 1024);
        assert_eq!(c.as_ptr(), big_ptr);
        give(b);
        give(c);
    }

    #[test]
    fn the_pool_is_bounded() {
        let bufs: Vec<_> = (0..MAX_POOLED_BUFFERS * 2)
            .map(|_| take(MIN_POOLED))
            .collect();
        for b in bufs {
            give(b);
        }
        assert!(pooled_bytes() <= MAX_POOLED_BYTES);
        let huge = vec![0u8; MAX_POOLED_BYTES * 2];
        let before = pooled_bytes();
        give(huge);
        assert_eq!(
            pooled_bytes(),
            before,
            "a buffer over the byte bound is freed"
        );
        give(vec![0u8; 16]);
        assert_eq!(pooled_bytes(), before, "small buffers are not pooled");
    }
}
