//! The result of one perf run.

use std::time::Duration;

/// What a [`crate::run`] measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerfReport {
    /// Bytes uploaded (after the 8-byte header).
    pub upload_bytes: u64,
    /// Bytes downloaded.
    pub download_bytes: u64,
    /// From the start until our write side was closed.
    pub upload_time: Duration,
    /// From closing our write side until the server's EOF (includes the server's turnaround).
    pub download_time: Duration,
    /// The whole run.
    pub total_time: Duration,
}

impl PerfReport {
    /// Overall throughput in Mbit/s: `(upload + download) * 8 / 1e6 / total seconds`; 0 when no
    /// time was measured.
    pub fn mbit_per_s(&self) -> f64 {
        mbit(
            self.upload_bytes.saturating_add(self.download_bytes),
            self.total_time,
        )
    }

    /// Upload throughput in Mbit/s over [`PerfReport::upload_time`].
    pub fn upload_mbit_per_s(&self) -> f64 {
        mbit(self.upload_bytes, self.upload_time)
    }

    /// Download throughput in Mbit/s over [`PerfReport::download_time`].
    pub fn download_mbit_per_s(&self) -> f64 {
        mbit(self.download_bytes, self.download_time)
    }
}

fn mbit(bytes: u64, time: Duration) -> f64 {
    let secs = time.as_secs_f64();
    if secs > 0.0 {
        bytes as f64 * 8.0 / 1e6 / secs
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_helpers() {
        let r = PerfReport {
            upload_bytes: 1_000_000,
            download_bytes: 3_000_000,
            upload_time: Duration::from_millis(500),
            download_time: Duration::from_secs(1),
            total_time: Duration::from_secs(2),
        };
        assert!((r.mbit_per_s() - 16.0).abs() < 1e-9);
        assert!((r.upload_mbit_per_s() - 16.0).abs() < 1e-9);
        assert!((r.download_mbit_per_s() - 24.0).abs() < 1e-9);
        let zero = PerfReport {
            total_time: Duration::ZERO,
            ..r
        };
        assert_eq!(zero.mbit_per_s(), 0.0);
    }
}
