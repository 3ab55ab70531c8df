//! The node's outbound side: one generic driver running a sans-IO lookup over the
//! [`KadNetwork`](super::KadNetwork) with up to `alpha` requests in flight
//! ([`FuturesUnordered`]), and the user operations built on it.
//!
//! Every request opens a fresh substream, sends one message, reads the answer and closes the
//! stream (rust-libp2p waits for the close after ADD_PROVIDER), all within
//! [`Config::with_request_timeout`](crate::Config::with_request_timeout). Closer peers from
//! answers go to the address book; a peer that answered goes to the routing table (it serves
//! kad), a peer whose request failed leaves it (as go-libp2p-kad-dht). Neighbourhood probes of
//! the lookups (see [`crate::query`]) are FIND_NODE requests for the probed peer's own id. Progress is reported through tracing (`debug`) and the optional [`ProgressFn`].

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::Multiaddr;
use futures::stream::FuturesUnordered;
use futures::{AsyncWriteExt, StreamExt};

use super::{lock, KadNode, NodeError};
use crate::error::KadError;
use crate::handler::send_request;
use crate::key::Key;
use crate::message::{KadPeer, Request, Response, WireRecord};
use crate::proto::ConnectionType;
use crate::query::value::{GetProvidersQuery, GetValueQuery};
use crate::query::{ClosestPeersQuery, QueryAction, QueryStats};
use crate::store::{validate_and_put, ProviderRecord, Record, RecordValidator};

/// Progress of one lookup, reported after every answer or failure and at the end.
#[derive(Debug, Clone)]
pub struct LookupProgress {
    /// The operation: `"find_node"`, `"get_value"`, `"get_providers"`, `"bootstrap"`, ….
    pub op: &'static str,
    /// Counters of the lookup so far.
    pub stats: QueryStats,
    /// Requests running now.
    pub in_flight: usize,
    /// Whether the lookup is over.
    pub finished: bool,
}

/// A progress callback (e.g. the CLI printing to stderr).
pub type ProgressFn = Arc<dyn Fn(&LookupProgress) + Send + Sync>;

/// One outcome of a request: the peer, the addresses used, the answer.
type Outcome = (PeerId, Vec<Multiaddr>, Result<Option<Response>, KadError>);

/// The sans-IO lookups the driver can run.
trait Lookup {
    fn poll(&mut self, now: Instant) -> QueryAction;
    fn next_timeout(&self) -> Option<Instant>;
    fn stats(&self) -> QueryStats;
    fn failure(&mut self, peer: &PeerId, now: Instant);
    fn response(&mut self, peer: &PeerId, closer: Vec<PeerId>, response: Response, now: Instant);
    fn neighbours(&mut self, peer: &PeerId, closer: Vec<PeerId>, now: Instant);
}

impl Lookup for ClosestPeersQuery {
    fn poll(&mut self, now: Instant) -> QueryAction {
        ClosestPeersQuery::poll(self, now)
    }
    fn next_timeout(&self) -> Option<Instant> {
        ClosestPeersQuery::next_timeout(self)
    }
    fn stats(&self) -> QueryStats {
        ClosestPeersQuery::stats(self).clone()
    }
    fn failure(&mut self, peer: &PeerId, now: Instant) {
        self.on_failure(peer, now);
    }
    fn response(&mut self, peer: &PeerId, closer: Vec<PeerId>, _: Response, now: Instant) {
        self.on_response(peer, closer, now);
    }
    fn neighbours(&mut self, peer: &PeerId, closer: Vec<PeerId>, now: Instant) {
        self.on_neighbours(peer, closer, now);
    }
}

/// GET_VALUE with the validator checking every record received.
struct ValueLookup {
    query: GetValueQuery<Record>,
    validator: Arc<dyn RecordValidator>,
    default_expiry: SystemTime,
    invalid: usize,
}

impl Lookup for ValueLookup {
    fn poll(&mut self, now: Instant) -> QueryAction {
        self.query.poll(now)
    }
    fn next_timeout(&self) -> Option<Instant> {
        self.query.inner().next_timeout()
    }
    fn stats(&self) -> QueryStats {
        self.query.stats().clone()
    }
    fn failure(&mut self, peer: &PeerId, now: Instant) {
        self.query.on_failure(peer, now);
    }
    fn response(&mut self, peer: &PeerId, closer: Vec<PeerId>, response: Response, now: Instant) {
        let record = match response {
            Response::GetValue {
                record: Some(r), ..
            } => match self.validator.validate(&r.key, &r.value, SystemTime::now()) {
                Ok(()) => Some(from_wire(r, *peer, self.default_expiry)),
                Err(e) => {
                    self.invalid += 1;
                    tracing::debug!(%peer, error = %e, "kad GET_VALUE: invalid record ignored");
                    None
                }
            },
            _ => None,
        };
        self.query.on_response(peer, closer, record, now);
    }
    fn neighbours(&mut self, peer: &PeerId, closer: Vec<PeerId>, now: Instant) {
        self.query.on_neighbours(peer, closer, now);
    }
}

impl Lookup for GetProvidersQuery {
    fn poll(&mut self, now: Instant) -> QueryAction {
        GetProvidersQuery::poll(self, now)
    }
    fn next_timeout(&self) -> Option<Instant> {
        self.inner().next_timeout()
    }
    fn stats(&self) -> QueryStats {
        GetProvidersQuery::stats(self).clone()
    }
    fn failure(&mut self, peer: &PeerId, now: Instant) {
        self.on_failure(peer, now);
    }
    fn response(&mut self, peer: &PeerId, closer: Vec<PeerId>, response: Response, now: Instant) {
        let providers = match response {
            Response::GetProviders { providers, .. } => providers,
            _ => Vec::new(),
        };
        self.on_response(
            peer,
            closer,
            providers.into_iter().map(|p| (p.id, p.addrs)),
            now,
        );
    }
    fn neighbours(&mut self, peer: &PeerId, closer: Vec<PeerId>, now: Instant) {
        self.on_neighbours(peer, closer, now);
    }
}

/// A record received on the wire, as stored: its TTL if given, else the store's.
fn from_wire(r: WireRecord, from: PeerId, default_expiry: SystemTime) -> Record {
    let expires = r
        .ttl
        .and_then(|s| SystemTime::now().checked_add(Duration::from_secs(u64::from(s))))
        .map_or(default_expiry, |t| t.min(default_expiry));
    Record {
        key: r.key,
        value: r.value,
        publisher: r.publisher.or(Some(from)),
        expires,
    }
}

impl KadNode {
    /// Sends `request` to `peer` on a fresh substream and closes it; bounded by the request
    /// timeout (opening the stream included).
    async fn send(&self, peer: PeerId, addrs: Vec<Multiaddr>, request: Request) -> Outcome {
        let cfg = &self.inner.config;
        let work = async {
            let mut s = self.inner.network.open_stream(&peer, &addrs).await?;
            let response = send_request(&mut s, &request, cfg).await?;
            if let Err(e) = s.close().await {
                tracing::trace!(%peer, error = %e, "kad stream close failed");
            }
            Ok(response)
        };
        let result = tokio::time::timeout(cfg.request_timeout(), work)
            .await
            .unwrap_or(Err(KadError::Timeout(cfg.request_timeout())));
        (peer, addrs, result)
    }

    /// Liveness check of `peer`: a FIND_NODE for our own id (as rust-libp2p).
    pub async fn ping(&self, peer: &PeerId) -> Result<(), KadError> {
        let request = Request::FindNode {
            key: self.inner.local.to_bytes(),
        };
        let (_, _, result) = self.send(*peer, self.addrs_of(peer), request).await;
        match result? {
            Some(Response::FindNode { .. }) => Ok(()),
            _ => Err(KadError::Closed),
        }
    }

    fn report(&self, op: &'static str, stats: QueryStats, in_flight: usize, finished: bool) {
        tracing::debug!(
            op,
            requests = stats.requests,
            responses = stats.responses,
            failures = stats.failures,
            peers_seen = stats.peers_seen,
            in_flight,
            finished,
            "kad lookup progress"
        );
        let f = lock(&self.inner.progress).clone();
        if let Some(f) = f {
            f(&LookupProgress {
                op,
                stats,
                in_flight,
                finished,
            });
        }
    }

    /// Runs `q` to its end, sending `request` to every peer it names (and a FIND_NODE for its
    /// own id to every peer it probes). A peer whose request fails leaves the routing table
    /// (as go-libp2p-kad-dht's `peerStoppedDHT`): it comes back when it is seen alive again.
    async fn drive<L: Lookup>(&self, op: &'static str, q: &mut L, request: &Request) {
        let mut in_flight = FuturesUnordered::new();
        let tagged = |probe: bool, f| async move { (probe, f.await) };
        loop {
            // The lookup's clock is tokio's (the std clock unless tokio time is paused, as in
            // tests), the one its timeouts are awaited with.
            let now = tokio::time::Instant::now().into_std();
            let mut finished = false;
            loop {
                match q.poll(now) {
                    QueryAction::Send(peer) => {
                        let addrs = self.addrs_of(&peer);
                        in_flight.push(tagged(false, self.send(peer, addrs, request.clone())));
                    }
                    QueryAction::SendNeighbours(peer) => {
                        let addrs = self.addrs_of(&peer);
                        let probe = Request::FindNode {
                            key: peer.to_bytes(),
                        };
                        in_flight.push(tagged(true, self.send(peer, addrs, probe)));
                    }
                    QueryAction::Wait => break,
                    QueryAction::Finished => {
                        finished = true;
                        break;
                    }
                }
            }
            if finished || in_flight.is_empty() {
                self.report(op, q.stats(), 0, true);
                return;
            }
            let next = match q.next_timeout() {
                Some(t) => {
                    let deadline = tokio::time::Instant::from_std(t);
                    match tokio::time::timeout_at(deadline, in_flight.next()).await {
                        Ok(next) => next,
                        // A request timed out: `poll` marks it failed and frees its slot.
                        Err(_) => continue,
                    }
                }
                None => in_flight.next().await,
            };
            let Some((probe, (peer, addrs, result))) = next else {
                continue;
            };
            let now = tokio::time::Instant::now().into_std();
            match result {
                Ok(Some(response)) => {
                    self.on_server_seen(peer, &addrs);
                    let closer = self.learn(&response);
                    if probe {
                        q.neighbours(&peer, closer, now);
                    } else {
                        q.response(&peer, closer, response, now);
                    }
                }
                Ok(None) => q.failure(&peer, now),
                Err(e) => {
                    tracing::debug!(op, %peer, error = %e, "kad request failed");
                    self.on_request_failed(&peer);
                    q.failure(&peer, now);
                }
            }
            self.report(op, q.stats(), in_flight.len(), false);
        }
    }

    /// A request to `peer` failed: it leaves the routing table (a candidate waiting for its
    /// bucket takes the slot).
    fn on_request_failed(&self, peer: &PeerId) {
        if lock(&self.inner.table).remove(peer).is_some() {
            tracing::debug!(%peer, "kad peer removed from the routing table after a failed request");
        }
    }

    /// Remembers the addresses of the closer peers of `response`; their ids, ourselves left
    /// out.
    fn learn(&self, response: &Response) -> Vec<PeerId> {
        let closer: &[KadPeer] = match response {
            Response::FindNode { closer }
            | Response::GetValue { closer, .. }
            | Response::GetProviders { closer, .. } => closer,
            Response::PutValue { .. } | Response::Ping => &[],
        };
        let local = self.inner.local;
        let mut book = lock(&self.inner.book);
        closer
            .iter()
            .filter(|p| p.id != local)
            .map(|p| {
                book.add(p.id, &p.addrs);
                p.id
            })
            .collect()
    }

    fn seeds(&self, target: &Key) -> Vec<PeerId> {
        lock(&self.inner.table).closest_peers(target, self.inner.query.k)
    }

    /// The k closest peers to `target` that answered a lookup sending `request`.
    pub(super) async fn closest(
        &self,
        op: &'static str,
        target: Key,
        request: Request,
    ) -> Vec<PeerId> {
        self.closest_from(op, target, request, Vec::new()).await.0
    }

    /// [`Self::closest`] with `extra` starting peers besides the routing table's; also the
    /// lookup's counters.
    async fn closest_from(
        &self,
        op: &'static str,
        target: Key,
        request: Request,
        extra: Vec<PeerId>,
    ) -> (Vec<PeerId>, QueryStats) {
        let mut seeds = self.seeds(&target);
        for p in extra {
            if p != self.inner.local && !seeds.contains(&p) {
                seeds.push(p);
            }
        }
        let mut q = ClosestPeersQuery::new(
            target,
            seeds,
            self.inner.query.clone(),
            tokio::time::Instant::now().into_std(),
        );
        self.drive(op, &mut q, &request).await;
        let stats = ClosestPeersQuery::stats(&q).clone();
        (q.result(), stats)
    }

    fn with_addrs(&self, peers: Vec<PeerId>) -> Vec<KadPeer> {
        peers
            .into_iter()
            .map(|id| KadPeer {
                addrs: self.addrs_of(&id),
                id,
                connection: ConnectionType::NotConnected,
            })
            .collect()
    }

    /// Joins the DHT: remembers the addresses of `seeds`, looks up our own id starting from
    /// them (those that answer enter the routing table, with the peers found), then refreshes
    /// every bucket up to the highest non-empty one (random key of each bucket below 16).
    /// Returns the routing table's size; fails with [`NodeError::BootstrapReachedNobody`] if
    /// no peer answered (the seeds dead, unreachable or not serving kad, and the routing table
    /// empty or as dead).
    pub async fn bootstrap(
        &self,
        seeds: Vec<(PeerId, Vec<Multiaddr>)>,
    ) -> Result<usize, NodeError> {
        for (peer, addrs) in &seeds {
            self.add_address(*peer, addrs);
        }
        let local = self.inner.local;
        let request = Request::FindNode {
            key: local.to_bytes(),
        };
        let extra = seeds.into_iter().map(|(p, _)| p).collect();
        let (_, stats) = self
            .closest_from("bootstrap", self.inner.local_key.clone(), request, extra)
            .await;
        if stats.responses == 0 {
            return Err(NodeError::BootstrapReachedNobody {
                tried: stats.requests,
            });
        }
        self.lookup_stale_buckets(Instant::now(), Duration::ZERO)
            .await;
        Ok(self.routing_table_len())
    }

    /// The k closest peers to `target` (closest first; the target itself first if it
    /// answered), with their known addresses.
    pub async fn find_node(&self, target: PeerId) -> Result<Vec<KadPeer>, NodeError> {
        let key = target.to_bytes();
        let peers = self
            .closest(
                "find_node",
                Key::from_peer(&target),
                Request::FindNode { key },
            )
            .await;
        Ok(self.with_addrs(peers))
    }

    /// The k closest peers to the record key `key` (closest first).
    pub async fn closest_to_key(&self, key: &[u8]) -> Vec<PeerId> {
        let request = Request::FindNode { key: key.to_vec() };
        self.closest("find_node", Key::new(key), request).await
    }

    /// The record under `key`: the local store first, else a GET_VALUE lookup until `quorum`
    /// valid records were received (the validator's `select` picks among them). `None` if
    /// nobody has one.
    pub async fn get_value(
        &self,
        key: Vec<u8>,
        quorum: usize,
    ) -> Result<Option<Record>, NodeError> {
        let now = SystemTime::now();
        if let Some(r) = self.inner.store.get(&key, now)? {
            if self.inner.validator.validate(&r.key, &r.value, now).is_ok() {
                return Ok(Some(r));
            }
        }
        let target = Key::new(&key);
        let seeds = self.seeds(&target);
        let query = GetValueQuery::new(
            target,
            seeds,
            self.inner.query.clone(),
            quorum,
            Instant::now(),
        );
        let mut q = ValueLookup {
            query,
            validator: self.inner.validator.clone(),
            default_expiry: self.inner.store.config().record_expiry(now),
            invalid: 0,
        };
        self.drive("get_value", &mut q, &Request::GetValue { key })
            .await;
        if q.invalid > 0 {
            tracing::debug!(
                invalid = q.invalid,
                "kad get_value: invalid records ignored"
            );
        }
        let records = q.query.records();
        let values: Vec<&[u8]> = records.iter().map(|(_, r)| r.value.as_slice()).collect();
        let Some((_, first)) = records.first() else {
            return Ok(None);
        };
        let best = self.inner.validator.select(&first.key, &values);
        Ok(Some(records.get(best).map_or(first, |(_, r)| r).clone()))
    }

    /// Stores `key = value` locally (validated) and at the k closest peers; returns how many
    /// of them acknowledged it (at least 1): fails with [`NodeError::StoredNowhere`] if none
    /// did (the record stays in the local store, and is republished by the maintenance).
    pub async fn put_value(&self, key: Vec<u8>, value: Vec<u8>) -> Result<usize, NodeError> {
        let now = SystemTime::now();
        let record = Record {
            key: key.clone(),
            value: value.clone(),
            publisher: Some(self.inner.local),
            expires: self.inner.store.config().record_expiry(now),
        };
        validate_and_put(&*self.inner.store, &*self.inner.validator, record, now)?;
        self.remember_published(&key);
        let peers = self.closest_to_key(&key).await;
        let mut wire = WireRecord::new(key.clone(), value);
        wire.publisher = Some(self.inner.local);
        let request = Request::PutValue { record: wire };
        let tried = peers.len();
        let mut puts: FuturesUnordered<_> = peers
            .into_iter()
            .map(|p| self.send(p, self.addrs_of(&p), request.clone()))
            .collect();
        let mut stored = 0;
        while let Some((peer, _, result)) = puts.next().await {
            match result {
                Ok(Some(Response::PutValue { .. })) => stored += 1,
                Ok(_) => {}
                Err(e) => tracing::debug!(%peer, error = %e, "kad PUT_VALUE failed"),
            }
        }
        if stored == 0 {
            return Err(NodeError::StoredNowhere { key, tried });
        }
        Ok(stored)
    }

    /// Announces us as a provider of `key`: locally and by ADD_PROVIDER (with our listen
    /// addresses) to the k closest peers; returns how many were sent successfully (at least
    /// 1): fails with [`NodeError::ProvidedNowhere`] if none was (the local provider record
    /// stays, and is republished by the maintenance).
    pub async fn provide(&self, key: Vec<u8>) -> Result<usize, NodeError> {
        let now = SystemTime::now();
        let addrs = self.listen_addrs();
        self.inner.store.add_provider(
            ProviderRecord {
                key: key.clone(),
                provider: self.inner.local,
                addrs: addrs.clone(),
                expires: self.inner.store.config().provider_expiry(now),
            },
            now,
        )?;
        let peers = self.closest_to_key(&key).await;
        let request = Request::AddProvider {
            key: key.clone(),
            providers: vec![KadPeer {
                id: self.inner.local,
                addrs,
                connection: ConnectionType::Connected,
            }],
        };
        let tried = peers.len();
        let mut sends: FuturesUnordered<_> = peers
            .into_iter()
            .map(|p| self.send(p, self.addrs_of(&p), request.clone()))
            .collect();
        let mut sent = 0;
        while let Some((peer, _, result)) = sends.next().await {
            match result {
                Ok(_) => sent += 1,
                Err(e) => tracing::debug!(%peer, error = %e, "kad ADD_PROVIDER failed"),
            }
        }
        if sent == 0 {
            return Err(NodeError::ProvidedNowhere { key, tried });
        }
        Ok(sent)
    }

    /// Providers of `key`: the local store's, then a GET_PROVIDERS lookup until k providers
    /// are known (or the lookup ends).
    pub async fn get_providers(&self, key: Vec<u8>) -> Result<Vec<KadPeer>, NodeError> {
        let now = SystemTime::now();
        let mut found: Vec<KadPeer> = self
            .inner
            .store
            .providers(&key, now)?
            .into_iter()
            .map(|p| KadPeer {
                id: p.provider,
                addrs: p.addrs,
                connection: ConnectionType::NotConnected,
            })
            .collect();
        let k = self.inner.query.k;
        if found.len() >= k {
            return Ok(found);
        }
        let target = Key::new(&key);
        let seeds = self.seeds(&target);
        let max = self.inner.store.config().max_providers_per_key.max(k);
        let mut q = GetProvidersQuery::new(
            target,
            seeds,
            self.inner.query.clone(),
            k - found.len(),
            max,
            Instant::now(),
        );
        self.drive("get_providers", &mut q, &Request::GetProviders { key })
            .await;
        for (id, addrs) in q.providers() {
            self.add_address(*id, addrs);
            if !found.iter().any(|p| p.id == *id) {
                found.push(KadPeer {
                    id: *id,
                    addrs: addrs.clone(),
                    connection: ConnectionType::NotConnected,
                });
            }
        }
        Ok(found)
    }
}
