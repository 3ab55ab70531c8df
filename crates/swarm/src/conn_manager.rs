//! The connection manager: high and low water marks (kubo's defaults 96 / 32, 20 s grace
//! period). When the swarm holds more than `high` connections, the least useful are closed
//! until `low` remain: connections with no open substream first (the longest idle first), then
//! busy ones (the most recent first); never a protected peer's, never one younger than the
//! grace period. The choice is a plain function of the candidates and the time
//! ([`pick_to_close`]); the swarm runs it on a timer and whenever a connection is added above
//! the high mark.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chainp2p_core::identity::PeerId;

/// Water marks and grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionManagerConfig {
    /// Trim down to this many connections (kubo: 32).
    pub low: usize,
    /// Trim once there are more than this many (kubo: 96).
    pub high: usize,
    /// A connection younger than this is never trimmed (kubo: 20 s).
    pub grace: Duration,
}

impl Default for ConnectionManagerConfig {
    fn default() -> Self {
        ConnectionManagerConfig {
            low: 32,
            high: 96,
            grace: Duration::from_secs(20),
        }
    }
}

/// What the manager knows of one live connection.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) id: u64,
    pub(crate) peer: PeerId,
    pub(crate) established: Instant,
    /// `None` while a substream is open.
    pub(crate) idle_for: Option<Duration>,
}

/// The connections to close now (their ids), if more than `high` are live.
pub(crate) fn pick_to_close(
    live: &[Candidate],
    protected: &HashSet<PeerId>,
    cfg: &ConnectionManagerConfig,
    now: Instant,
) -> Vec<u64> {
    if live.len() <= cfg.high {
        return Vec::new();
    }
    let excess = live.len().saturating_sub(cfg.low);
    let mut closable: Vec<&Candidate> = live
        .iter()
        .filter(|c| !protected.contains(&c.peer))
        .filter(|c| now.saturating_duration_since(c.established) >= cfg.grace)
        .collect();
    // Idle before busy; the longest idle first; among busy ones the most recent first.
    closable.sort_by(|a, b| match (a.idle_for, b.idle_for) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => b.established.cmp(&a.established),
    });
    closable.into_iter().take(excess).map(|c| c.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ConnectionManagerConfig {
        ConnectionManagerConfig {
            low: 2,
            high: 4,
            grace: Duration::from_secs(20),
        }
    }

    fn conn(id: u64, age_s: u64, idle_s: Option<u64>, now: Instant) -> Candidate {
        Candidate {
            id,
            peer: PeerId::random(),
            established: now - Duration::from_secs(age_s),
            idle_for: idle_s.map(Duration::from_secs),
        }
    }

    #[test]
    fn nothing_is_closed_at_or_below_the_high_mark() {
        let now = Instant::now();
        let live: Vec<_> = (0..4).map(|i| conn(i, 100, Some(50), now)).collect();
        assert!(pick_to_close(&live, &HashSet::new(), &cfg(), now).is_empty());
    }

    #[test]
    fn above_the_high_mark_the_idle_ones_go_first_down_to_the_low_mark() {
        let now = Instant::now();
        let live = vec![
            conn(1, 100, None, now),     // busy, old
            conn(2, 100, Some(10), now), // idle 10 s
            conn(3, 100, Some(90), now), // idle 90 s
            conn(4, 60, None, now),      // busy, newer
            conn(5, 100, Some(30), now), // idle 30 s
        ];
        let out = pick_to_close(&live, &HashSet::new(), &cfg(), now);
        assert_eq!(
            out,
            vec![3, 5, 2],
            "5 live, low 2: the three idle ones, longest idle first"
        );
        let mut busier = live.clone();
        busier[1].idle_for = None;
        busier[4].idle_for = None;
        let out = pick_to_close(&busier, &HashSet::new(), &cfg(), now);
        assert_eq!(
            out,
            vec![3, 4, 1],
            "then busy ones, the most recent first (ties: in order)"
        );
    }

    #[test]
    fn protected_peers_and_young_connections_are_never_closed() {
        let now = Instant::now();
        let live = vec![
            conn(1, 100, Some(90), now),
            conn(2, 5, Some(5), now), // in its grace period
            conn(3, 100, Some(80), now),
            conn(4, 10, None, now), // in its grace period
            conn(5, 100, Some(70), now),
            conn(6, 100, Some(60), now),
        ];
        let protected: HashSet<PeerId> = [live[0].peer, live[2].peer].into_iter().collect();
        let out = pick_to_close(&live, &protected, &cfg(), now);
        assert_eq!(
            out,
            vec![5, 6],
            "only the unprotected grown-up ones, even if low is missed"
        );
    }
}
