//! [`FailLatch`]: one direction (read or write) of an encrypted stream shell fails for good
//! once it has failed: a cipher state after a failed frame cannot be trusted, and bytes may
//! have been lost, so every later call reports failure instead of carrying on.

use std::io;
use std::task::Poll;

/// Remembers whether one direction of a stream has failed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FailLatch(bool);

impl FailLatch {
    /// A latch that has not tripped.
    pub fn new() -> Self {
        FailLatch(false)
    }

    /// Whether a failure has been seen.
    #[inline]
    pub fn is_tripped(&self) -> bool {
        self.0
    }

    /// Records a failure and hands the error back.
    #[inline]
    pub fn trip(&mut self, e: io::Error) -> io::Error {
        self.0 = true;
        e
    }

    /// Passes `r` through, converting a failure with `into_io` and recording it.
    #[inline]
    pub fn check<T, E>(
        &mut self,
        r: Result<T, E>,
        into_io: impl FnOnce(E) -> io::Error,
    ) -> io::Result<T> {
        r.map_err(|e| self.trip(into_io(e)))
    }

    /// Like [`FailLatch::check`] for a poll result; `Pending` passes through.
    #[inline]
    pub fn check_poll<T, E>(
        &mut self,
        p: Poll<Result<T, E>>,
        into_io: impl FnOnce(E) -> io::Error,
    ) -> Poll<io::Result<T>> {
        p.map(|r| self.check(r, into_io))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trips_on_the_first_failure_only() {
        let mut l = FailLatch::new();
        assert_eq!(l.check(Ok::<_, &str>(3), io::Error::other).unwrap(), 3);
        assert!(matches!(
            l.check_poll(Poll::<Result<(), &str>>::Pending, io::Error::other),
            Poll::Pending
        ));
        assert!(!l.is_tripped());
        let e = l.check(Err::<(), _>("bad"), io::Error::other).unwrap_err();
        assert_eq!(e.to_string(), "bad");
        assert!(l.is_tripped());
        // stays tripped after a success
        let _ = l.check(Ok::<_, &str>(()), io::Error::other);
        assert!(l.is_tripped());
    }
}
