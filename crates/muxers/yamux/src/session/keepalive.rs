//! Keep-alive and RTT pings of the session, driven by the time the caller passes in
//! ([`Session::poll_timeout`] / [`Session::handle_timeout`], quinn-proto style).
//!
//! - The first ping goes out at the first `handle_timeout` (the driver calls it when it starts),
//!   so the RTT is known early for window auto-tuning; then one every `ping_interval`, never
//!   more than one outstanding (rust-yamux measures RTT the same way, every 10 s).
//! - A keep-alive ping unanswered for `keepalive_timeout` ends the session with
//!   [`YamuxError::KeepAliveTimeout`].
//! - Pings the application sends with [`Session::ping`] also update the RTT but have no
//!   deadline.

use std::time::{Duration, Instant};

use super::{Event, Session, Termination};
use crate::codec::{Flags, FrameType};
use crate::error::YamuxError;

/// Keep-alive state.
#[derive(Debug, Default)]
pub(super) struct KeepAlive {
    /// `handle_timeout` ran once (the first ping went out if pings are on).
    pub(super) started: bool,
    /// When the next keep-alive ping is due.
    pub(super) next_ping: Option<Instant>,
    /// The outstanding keep-alive ping: nonce and when it was queued.
    pub(super) outstanding: Option<(u32, Instant)>,
}

impl Session {
    /// When [`Session::handle_timeout`] should next be called: the next keep-alive ping or the
    /// deadline of the outstanding one. `None`: nothing scheduled (pings off, or ended). Before
    /// the first `handle_timeout` it is the last time passed in (i.e. "now"), or `None` if no
    /// time was ever passed in: the shell calls `handle_timeout` once when it starts.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.termination.is_some() {
            return None;
        }
        if !self.keepalive.started {
            return self.config.ping_interval.and(self.now);
        }
        let deadline = match (self.keepalive.outstanding, self.config.keepalive_timeout) {
            (Some((_, sent)), Some(t)) => sent.checked_add(t),
            _ => None,
        };
        [
            self.keepalive.next_ping,
            deadline,
            self.held_fins.deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Advances the session's clock to `now`: sends the due keep-alive ping, and ends the
    /// session with [`YamuxError::KeepAliveTimeout`] if the outstanding one is overdue.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        self.pool.trim_if_idle();
        if self.termination.is_some() {
            return;
        }
        if self.held_fins.deadline().is_some_and(|at| now >= at) {
            self.send_held_fins();
        }
        if let (Some((_, sent)), Some(timeout)) =
            (self.keepalive.outstanding, self.config.keepalive_timeout)
        {
            if now.saturating_duration_since(sent) >= timeout {
                self.terminate(Termination::Error(YamuxError::KeepAliveTimeout(timeout)));
                return;
            }
        }
        let Some(interval) = self.config.ping_interval else {
            self.keepalive.started = true;
            return;
        };
        let due = match self.keepalive.next_ping {
            // The first ping goes at once (the RTT for auto-tuning), except toward old peers
            // (frame per write: secio): c-ipfs answers pings from another thread than its
            // stream writes, unlocked, and a pong racing them corrupts its secio stream.
            _ if !self.keepalive.started => !self.config.dialect.frame_per_write(),
            Some(at) => now >= at,
            None => true,
        };
        self.keepalive.started = true;
        if !due {
            if self.keepalive.next_ping.is_none() {
                self.keepalive.next_ping = now.checked_add(interval);
            }
            return;
        }
        self.keepalive.next_ping = now.checked_add(interval);
        if self.keepalive.outstanding.is_none() {
            let nonce = self.next_nonce;
            self.next_nonce = self.next_nonce.wrapping_add(1);
            self.keepalive.outstanding = Some((nonce, now));
            self.push_header(FrameType::Ping, Flags::SYN, 0, nonce);
        }
    }

    /// Queues a ping; returns its opaque value. `None` after termination.
    pub fn ping(&mut self, now: Instant) -> Option<u32> {
        self.now = Some(now);
        if self.termination.is_some() {
            return None;
        }
        let nonce = self.next_nonce;
        self.next_nonce = self.next_nonce.wrapping_add(1);
        if self.pings.len() >= self.config.max_outstanding_pings.max(1) {
            self.pings.pop_front();
        }
        self.pings.push_back((nonce, now));
        self.push_header(FrameType::Ping, Flags::SYN, 0, nonce);
        Some(nonce)
    }

    /// The last measured round-trip time (keep-alive or application pings).
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt
    }

    /// A ping answer: updates the RTT if it answers one of our pings.
    pub(super) fn on_pong(&mut self, nonce: u32, now: Instant) {
        let sent = match self.keepalive.outstanding {
            Some((n, sent)) if n == nonce => {
                self.keepalive.outstanding = None;
                Some(sent)
            }
            _ => self
                .pings
                .iter()
                .position(|(n, _)| *n == nonce)
                .and_then(|pos| self.pings.remove(pos))
                .map(|(_, sent)| sent),
        };
        if let Some(sent) = sent {
            let rtt = now.saturating_duration_since(sent);
            self.rtt = Some(rtt);
            self.events.push_back(Event::Pong { nonce, rtt });
        }
    }
}
