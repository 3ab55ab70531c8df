//! Server limits with documented defaults.

/// Settings of [`crate::PerfHandler`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerfConfig {
    /// The most bytes a client may ask the server to send back (default `u64::MAX`, i.e. no
    /// cap, as the spec allows). A larger request fails the stream with
    /// [`chainp2p_core::ErrorKind::LimitExceeded`] before anything is sent. Lower it on any node
    /// reachable by strangers.
    pub max_download: u64,
}

impl Default for PerfConfig {
    fn default() -> Self {
        PerfConfig {
            max_download: u64::MAX,
        }
    }
}
