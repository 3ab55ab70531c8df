//! Lookups that may end early: GET_VALUE until a quorum of (caller-validated) records was
//! found ([`GetValueQuery`]), and GET_PROVIDERS until enough distinct providers were collected
//! ([`GetProvidersQuery`]). Both drive a [`ClosestPeersQuery`] underneath; when they do not
//! end early they run to its termination rule, so `closest` still gives the peers to store to
//! (PUT_VALUE to the k closest, go's "correct outdated records" step).

use super::{ClosestPeersQuery, QueryAction, QueryConfig, QueryStats};
use crate::key::Key;
use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::Multiaddr;
use std::time::Instant;

/// The methods both lookups pass straight through to their `inner` [`ClosestPeersQuery`].
macro_rules! delegate_to_inner {
    () => {
        /// `peer` answered a neighbourhood probe (see [`ClosestPeersQuery::on_neighbours`]).
        pub fn on_neighbours(
            &mut self,
            peer: &PeerId,
            closer: impl IntoIterator<Item = PeerId>,
            now: Instant,
        ) -> bool {
            self.inner.on_neighbours(peer, closer, now)
        }

        /// The request to `peer` failed.
        pub fn on_failure(&mut self, peer: &PeerId, now: Instant) {
            self.inner.on_failure(peer, now);
        }

        /// The underlying closest-peers lookup.
        pub fn inner(&self) -> &ClosestPeersQuery {
            &self.inner
        }

        /// Counters so far.
        pub fn stats(&self) -> &QueryStats {
            self.inner.stats()
        }
    };
}

/// GET_VALUE: collect records from the peers asked, stop once `quorum` were found.
#[derive(Clone, Debug)]
pub struct GetValueQuery<R> {
    inner: ClosestPeersQuery,
    quorum: usize,
    records: Vec<(PeerId, R)>,
    without_record: Vec<PeerId>,
}

impl<R> GetValueQuery<R> {
    /// A GET_VALUE lookup; `quorum` is raised to at least 1.
    pub fn new(
        target: Key,
        seeds: impl IntoIterator<Item = PeerId>,
        config: QueryConfig,
        quorum: usize,
        now: Instant,
    ) -> Self {
        Self {
            inner: ClosestPeersQuery::new(target, seeds, config, now),
            quorum: quorum.max(1),
            records: Vec::new(),
            without_record: Vec::new(),
        }
    }

    /// Next action; `Finished` as soon as the quorum is reached.
    pub fn poll(&mut self, now: Instant) -> QueryAction {
        if self.records.len() >= self.quorum {
            self.inner.finish();
        }
        self.inner.poll(now)
    }

    /// `peer` answered, with a record (already validated by the caller) or not.
    pub fn on_response(
        &mut self,
        peer: &PeerId,
        closer: impl IntoIterator<Item = PeerId>,
        record: Option<R>,
        now: Instant,
    ) -> bool {
        if !self.inner.on_response(peer, closer, now) {
            return false;
        }
        match record {
            Some(r) if self.records.len() < self.quorum => self.records.push((*peer, r)),
            Some(_) => {}
            None if self.without_record.len() < self.inner.config().k => {
                self.without_record.push(*peer)
            }
            None => {}
        }
        true
    }

    /// Records found so far (at most `quorum`), with the peer that sent each.
    pub fn records(&self) -> &[(PeerId, R)] {
        &self.records
    }

    /// Peers that answered without a record (candidates for storing the best record).
    pub fn peers_without_record(&self) -> &[PeerId] {
        &self.without_record
    }

    delegate_to_inner!();
}

/// GET_PROVIDERS: collect distinct providers, stop once `want` were found (`usize::MAX`: run
/// the whole lookup); at most `max_providers` are kept.
#[derive(Clone, Debug)]
pub struct GetProvidersQuery {
    inner: ClosestPeersQuery,
    want: usize,
    max_providers: usize,
    providers: Vec<(PeerId, Vec<Multiaddr>)>,
}

impl GetProvidersQuery {
    /// A GET_PROVIDERS lookup for the key `target` (the key of the content multihash).
    pub fn new(
        target: Key,
        seeds: impl IntoIterator<Item = PeerId>,
        config: QueryConfig,
        want: usize,
        max_providers: usize,
        now: Instant,
    ) -> Self {
        Self {
            inner: ClosestPeersQuery::new(target, seeds, config, now),
            want: want.max(1),
            max_providers,
            providers: Vec::new(),
        }
    }

    /// Next action; `Finished` as soon as `want` providers are known.
    pub fn poll(&mut self, now: Instant) -> QueryAction {
        if self.providers.len() >= self.want.min(self.max_providers.max(1)) {
            self.inner.finish();
        }
        self.inner.poll(now)
    }

    /// `peer` answered with `closer` peers and `providers` (duplicates merged by peer id).
    pub fn on_response(
        &mut self,
        peer: &PeerId,
        closer: impl IntoIterator<Item = PeerId>,
        providers: impl IntoIterator<Item = (PeerId, Vec<Multiaddr>)>,
        now: Instant,
    ) -> bool {
        if !self.inner.on_response(peer, closer, now) {
            return false;
        }
        for (p, addrs) in providers {
            if let Some((_, known)) = self.providers.iter_mut().find(|(q, _)| *q == p) {
                for a in addrs {
                    if known.len() < 8 && !known.contains(&a) {
                        known.push(a);
                    }
                }
            } else if self.providers.len() < self.max_providers {
                let mut addrs = addrs;
                addrs.truncate(8);
                self.providers.push((p, addrs));
            }
        }
        true
    }

    /// Providers found so far.
    pub fn providers(&self) -> &[(PeerId, Vec<Multiaddr>)] {
        &self.providers
    }

    delegate_to_inner!();
}
