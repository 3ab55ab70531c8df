//! [`within`]: runs a future (a handshake, a bounded wait) against a timer, runtime-agnostic
//! (`futures-timer`), so the layers' handshakes end in bounded time whatever the peer does.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use futures::future::{select, Either};
use futures_timer::Delay;

/// Runs `fut` for at most `limit`: `Some(output)` if it finished first, `None` if the time ran
/// out (`fut` is then dropped).
pub async fn within<F: Future>(limit: Duration, fut: F) -> Option<F::Output> {
    match select(pin!(fut), Delay::new(limit)).await {
        Either::Left((out, _)) => Some(out),
        Either::Right(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finishes_or_times_out() {
        assert_eq!(within(Duration::from_secs(5), async { 7 }).await, Some(7));
        let started = std::time::Instant::now();
        let never = futures::future::pending::<()>();
        assert_eq!(within(Duration::from_millis(50), never).await, None);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(50) && took < Duration::from_secs(5),
            "{took:?}"
        );
    }
}
