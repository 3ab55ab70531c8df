//! Receive-side flow control of the session: granting credit back as the application reads,
//! and auto-tuning of the receive windows from the measured RTT (rust-yamux ≥ 0.13 rules).
//!
//! - Credit is granted once at least half the stream's window can be granted (go and rust do
//!   the same), in one WindowUpdate for everything consumed.
//! - When such an update is due and the previous one went out less than 2×RTT ago, the peer
//!   used half its credit within two round trips: the window is the bottleneck, so it doubles
//!   (the growth is granted in the same update). Never beyond
//!   [`YamuxConfig::max_stream_receive_window`](crate::YamuxConfig), and the growth of all
//!   streams together (window − 256 KiB, summed) stays within
//!   [`YamuxConfig::max_connection_receive_window`](crate::YamuxConfig). Windows never shrink;
//!   a stream's growth returns to the budget when the stream is forgotten.
//! - With a memory scope ([`Session::set_memory_budget`], the swarm's resource manager), growth
//!   is also reserved there (connection, peer and system limits); a refusal is retried at half
//!   the size down to [`MIN_RESERVATION`], then the window simply stays as it is.

use std::time::Instant;

use super::Session;
use crate::codec::{Flags, FrameType};
use crate::config::DEFAULT_WINDOW;
use crate::session::StreamId;

/// The smallest window growth asked of the memory scope after a refusal.
pub const MIN_RESERVATION: u64 = 16 * 1024;

impl Session {
    /// Takes up to `want` bytes of window growth from the connection budget (and the memory
    /// scope, if any).
    pub(super) fn reserve_window(&mut self, want: u32) -> u32 {
        let left = self
            .config
            .max_connection_receive_window
            .saturating_sub(self.window_growth);
        let mut got = u64::from(want).min(left);
        if let Some(budget) = &self.memory {
            while got > 0 && !budget.reserve(usize::try_from(got).unwrap_or(usize::MAX)) {
                got /= 2;
                if got < MIN_RESERVATION {
                    got = 0;
                }
            }
        }
        self.window_growth += got;
        u32::try_from(got).unwrap_or(0)
    }

    /// The initial receive window of a new stream: `receive_window`, as far as the budget allows.
    pub(super) fn initial_window(&mut self) -> u32 {
        let extra = self.config.receive_window.saturating_sub(DEFAULT_WINDOW);
        DEFAULT_WINDOW + self.reserve_window(extra)
    }

    /// Returns the growth of a stream being forgotten to the budget.
    pub(super) fn release_window(&mut self, recv_window: u32) {
        let extra = u64::from(recv_window.saturating_sub(DEFAULT_WINDOW)).min(self.window_growth);
        self.window_growth -= extra;
        if let Some(budget) = &self.memory {
            budget.release(usize::try_from(extra).unwrap_or(usize::MAX));
        }
    }

    /// Sum over streams of their receive windows beyond 256 KiB (the budget in use).
    pub fn window_growth(&self) -> u64 {
        self.window_growth
    }

    /// Current receive window of stream `id` (0 if unknown).
    pub fn receive_window(&self, id: StreamId) -> u32 {
        self.streams.get(&id).map_or(0, |s| s.recv_window)
    }

    /// Whether a window update for stream `id` is due (at least half its window grantable).
    pub(super) fn grant_due(&self, id: StreamId) -> bool {
        self.streams.get(&id).is_some_and(|s| {
            let used = u64::from(s.recv_credit) + u64::from(s.buffered);
            let grantable = u64::from(s.recv_window).saturating_sub(used);
            !s.remote_fin && !s.reset && grantable > 0 && grantable >= u64::from(s.recv_window / 2)
        })
    }

    /// Grants the peer the credit the application freed, once it is at least half the window;
    /// auto-tunes the window at that moment (see the module docs). `now`: the time of the
    /// read (`None`: unknown, no auto-tuning).
    pub(super) fn maybe_grant(&mut self, id: StreamId, now: Option<Instant>) {
        if self.termination.is_some() {
            return;
        }
        let rtt = self.rtt;
        let cap = self.config.max_stream_receive_window;
        if !self.grant_due(id) {
            return;
        }
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        let used = u64::from(s.recv_credit) + u64::from(s.buffered);
        let grantable = u64::from(s.recv_window).saturating_sub(used);
        let mut delta = u32::try_from(grantable).unwrap_or(u32::MAX);
        let fast = match (now, s.last_update, rtt) {
            (Some(now), Some(last), Some(rtt)) => {
                now.saturating_duration_since(last) < rtt.saturating_mul(2)
            }
            _ => false,
        };
        if now.is_some() {
            s.last_update = now;
        }
        let window = s.recv_window;
        if fast && window < cap {
            let want = window.saturating_mul(2).min(cap) - window;
            let growth = self.reserve_window(want);
            if let Some(s) = self.streams.get_mut(&id) {
                s.recv_window += growth;
                delta = delta.saturating_add(growth);
            }
        }
        if let Some(s) = self.streams.get_mut(&id) {
            s.recv_credit = s.recv_credit.saturating_add(delta);
        }
        self.push_header(FrameType::WindowUpdate, Flags::NONE, id, delta);
    }
}

impl Drop for Session {
    /// Whatever growth is still reserved goes back to the memory scope.
    fn drop(&mut self) {
        if let Some(budget) = &self.memory {
            budget.release(usize::try_from(self.window_growth).unwrap_or(usize::MAX));
        }
    }
}
