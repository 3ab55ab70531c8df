//! Recycled allocations for received data bodies. The driver's read buffer is reused, so each
//! data body is copied out of it (`Session::handle_input`); large bodies get a buffer that a
//! stream's reader gave back after reading one, instead of a fresh allocation. While a reader
//! lags behind (up to its receive window, 16 MiB when tuned), fresh 64 KiB allocations and
//! frees churn glibc's heap (trimmed and faulted in again): measured as most of the page
//! faults of the single-stream bench before this pool.

use bytes::{Bytes, BytesMut};

/// Bodies at least this large use the pool (smaller ones are cheap to allocate, and must not
/// pin a large buffer while unread).
const MIN_POOLED_BODY: usize = 16 * 1024;
/// Most buffers kept: the driver decodes and the reader frees in bursts (up to 16 reads per
/// driver poll), so hits need tens of buffers: measured with one stream, 32 left ~60% of
/// large bodies to fresh allocations, 64 about 10-50%. At 64 KiB frames this is at most
/// 8 MiB (each at most twice its body), typically 4 MiB, only while data flows: an idle
/// connection frees the pool on its next keep-alive tick.
const MAX_POOLED: usize = 64;

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct BodyPool {
    free: Vec<BytesMut>,
    /// A pooled buffer was handed out since the last [`BodyPool::trim_if_idle`].
    used: bool,
}

impl BodyPool {
    /// A body holding a copy of `data`: in a recycled buffer of at most twice its size if
    /// there is one, else in a new allocation of its exact size.
    pub(crate) fn body(&mut self, data: &[u8]) -> Bytes {
        let len = data.len();
        if len >= MIN_POOLED_BODY {
            let fits = |b: &BytesMut| b.capacity() >= len && b.capacity() / 2 <= len;
            if let Some(i) = self.free.iter().position(fits) {
                let mut b = self.free.swap_remove(i);
                b.extend_from_slice(data);
                self.used = true;
                return b.freeze();
            }
        }
        Bytes::copy_from_slice(data)
    }

    /// Takes back a body the application read completely, if nothing else refers to it.
    pub(crate) fn recycle(&mut self, body: Bytes) {
        if self.free.len() >= MAX_POOLED {
            return;
        }
        if let Ok(mut b) = body.try_into_mut() {
            b.clear();
            // Moves the (empty) view back to the start of the allocation; fails for small ones.
            if b.try_reclaim(MIN_POOLED_BODY) {
                self.free.push(b);
            }
        }
    }

    /// Frees the pool if no buffer was taken from it since the last call (an idle connection
    /// keeps no spare buffers; called on each keep-alive tick).
    pub(crate) fn trim_if_idle(&mut self) {
        if !self.used {
            self.free = Vec::new();
        }
        self.used = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_body_is_reused_for_the_next_large_one() {
        let mut pool = BodyPool::default();
        let mut a = pool.body(&[1; 64 * 1024]);
        let ptr = a.as_ptr();
        bytes::Buf::advance(&mut a, 64 * 1024);
        pool.recycle(a);
        let b = pool.body(&[2; 60 * 1024]);
        assert_eq!(b.as_ptr(), ptr);
        assert_eq!(&b[..], &[2; 60 * 1024][..]);
    }

    #[test]
    fn small_shared_or_mismatched_bodies_are_not_pooled() {
        let mut pool = BodyPool::default();
        pool.recycle(pool_body(&mut BodyPool::default(), 100));
        let big = pool_body(&mut BodyPool::default(), 64 * 1024);
        let other = big.clone();
        pool.recycle(big);
        assert!(pool.free.is_empty(), "small or still referenced");
        drop(other);
        pool.recycle(pool_body(&mut BodyPool::default(), 200 * 1024));
        // A 200 KiB buffer is not used for a 20 KiB body (it would pin 10x its size).
        let small = pool.body(&[0; 20 * 1024]);
        assert_eq!(pool.free.len(), 1);
        assert_eq!(small.len(), 20 * 1024);
    }

    #[test]
    fn an_idle_pool_is_freed_a_busy_one_kept() {
        let mut pool = BodyPool::default();
        pool.recycle(pool_body(&mut BodyPool::default(), 64 * 1024));
        pool.recycle(pool_body(&mut BodyPool::default(), 64 * 1024));
        let used = pool.body(&[1; 64 * 1024]);
        pool.trim_if_idle();
        assert_eq!(
            pool.free.len(),
            1,
            "a buffer was taken since the last tick: kept"
        );
        pool.trim_if_idle();
        assert!(pool.free.is_empty(), "nothing taken since: freed");
        drop(used);
    }

    fn pool_body(pool: &mut BodyPool, len: usize) -> Bytes {
        pool.body(&vec![0; len])
    }
}
