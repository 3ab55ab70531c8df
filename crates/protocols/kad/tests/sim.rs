//! An in-process Kademlia network over no sockets, driven only by the sans-IO core
//! ([`RoutingTable`] + [`ClosestPeersQuery`]): every node has its own routing table, a request
//! is a function call on the responder's table, time is a simulated clock. Nodes join one by
//! one through a single bootstrap node (lookup of their own id, then one refresh lookup per
//! bucket), then random FIND_NODE lookups are checked against the true 20 closest peers
//! (brute force), also with 10 % of the nodes killed (they fail every request): right after
//! the kill (every table still names the dead; a requester drops a peer whose request failed,
//! as the node does), then after one maintenance round of every live node (liveness check of
//! its table peers, lookup of its own id: what `KadNode::refresh_with` does). Lookups use
//! neighbourhood probes (see `chainp2p_kad::query`) unless `probe_width = 0`.
//!
//! `cargo test -p chainp2p-kad --test sim` runs 1,000 nodes (a few seconds in the dev profile); the 10,000-node benchmark is
//! `cargo test --release -p chainp2p-kad --test sim -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use chainp2p_core::identity::PeerId;
use chainp2p_kad::key::{peer_hash, Distance, Key, KEY_LEN};
use chainp2p_kad::query::value::GetValueQuery;
use chainp2p_kad::query::{ClosestPeersQuery, QueryAction, QueryConfig};
use chainp2p_kad::routing::{InsertOutcome, RoutingConfig, RoutingTable};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

const K: usize = 20;

struct Node {
    id: PeerId,
    hash: [u8; KEY_LEN],
    table: RoutingTable,
    alive: bool,
    /// Record keys stored here (the value is the key itself: enough to check GET).
    records: HashSet<[u8; KEY_LEN]>,
}

struct Net {
    nodes: Vec<Node>,
    index: HashMap<PeerId, usize>,
    now: Instant,
    cfg: QueryConfig,
    rng: StdRng,
    /// Requests sent so far (all lookups).
    requests: usize,
}

#[derive(Default, Clone, Copy)]
struct LookupStats {
    requests: usize,
    probes: usize,
}

impl Net {
    fn new(n: usize, cfg: QueryConfig, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let now = Instant::now();
        let mut nodes = Vec::with_capacity(n);
        let mut index = HashMap::with_capacity(n);
        for i in 0..n {
            let mut b = vec![0x00, 0x20];
            let mut r = [0u8; 32];
            rng.fill_bytes(&mut r);
            b.extend_from_slice(&r);
            let id = PeerId::from_bytes(&b).unwrap();
            let key = Key::from_peer(&id);
            index.insert(id, i);
            nodes.push(Node {
                id,
                hash: *key.hash(),
                table: RoutingTable::new(key, RoutingConfig::default()),
                alive: true,
                records: HashSet::new(),
            });
        }
        Self {
            nodes,
            index,
            now,
            cfg,
            rng,
            requests: 0,
        }
    }

    /// Node `a` saw node `b` (a server): insert, resolving a liveness check at once.
    fn see(&mut self, a: usize, b: usize) {
        let (id, now) = (self.nodes[b].id, self.now);
        if let InsertOutcome::Pending { check } =
            self.nodes[a].table.on_peer_seen(id, &[], true, now)
        {
            let alive = self.index.get(&check).is_some_and(|&c| self.nodes[c].alive);
            self.nodes[a].table.on_liveness(&check, alive, now);
        }
    }

    /// One request from `from` to `peer` about `target`: the responder learns the requester
    /// and answers with its k closest (requester excluded, as go does). `None`: dead.
    fn request(
        &mut self,
        from: usize,
        peer: &PeerId,
        target: &Key,
    ) -> Option<(usize, Vec<PeerId>)> {
        self.now += Duration::from_millis(1);
        self.requests += 1;
        let j = *self.index.get(peer)?;
        if !self.nodes[j].alive {
            // Like go (peerStoppedDHT), a peer failing a query leaves the table.
            self.nodes[from].table.remove(peer);
            return None;
        }
        self.see(j, from);
        let me = self.nodes[from].id;
        let closer: Vec<PeerId> = self.nodes[j]
            .table
            .closest_entries(target.hash(), K + 1)
            .into_iter()
            .map(|e| e.peer)
            .filter(|p| *p != me)
            .take(K)
            .collect();
        self.see(from, j);
        Some((j, closer))
    }

    fn lookup(&mut self, from: usize, target: &Key) -> (Vec<PeerId>, LookupStats) {
        let seeds = self.nodes[from].table.closest_peers(target, K);
        let mut q = ClosestPeersQuery::new(target.clone(), seeds, self.cfg.clone(), self.now);
        let mut in_flight = std::collections::VecDeque::new();
        loop {
            match q.poll(self.now) {
                QueryAction::Send(p) => in_flight.push_back((p, false)),
                QueryAction::SendNeighbours(p) => in_flight.push_back((p, true)),
                QueryAction::Wait => {
                    // Responses arrive one at a time, oldest request first.
                    let (p, probe) = in_flight.pop_front().expect("Wait with nothing in flight");
                    let key = if probe {
                        Key::from_peer(&p)
                    } else {
                        target.clone()
                    };
                    match self.request(from, &p, &key) {
                        Some((_, closer)) if probe => {
                            q.on_neighbours(&p, closer, self.now);
                        }
                        Some((_, closer)) => {
                            q.on_response(&p, closer, self.now);
                        }
                        None => q.on_failure(&p, self.now),
                    }
                }
                QueryAction::Finished => break,
            }
        }
        let stats = LookupStats {
            requests: q.stats().requests,
            probes: q.stats().probes,
        };
        let res = if self.cfg.beta >= K {
            q.result()
        } else {
            q.closest_known()
        };
        (res, stats)
    }

    fn bootstrap(&mut self) {
        let interval = Duration::from_secs(600);
        for i in 1..self.nodes.len() {
            self.see(i, 0);
            let own = Key::from_peer(&self.nodes[i].id);
            self.lookup(i, &own);
            let buckets = self.nodes[i].table.buckets_to_refresh(self.now, interval);
            for idx in buckets {
                let Some(key) = self.nodes[i].table.random_key_in_bucket(idx, &mut self.rng) else {
                    continue;
                };
                self.nodes[i].table.mark_refreshed(idx, self.now);
                self.lookup(i, &key);
            }
        }
    }

    /// One maintenance round of every live node, as [`chainp2p_kad::node::KadNode`]'s maintenance task
    /// runs it: a liveness check (one request) of every routing-table peer, the dead ones
    /// removed, then a lookup of its own id (refilling the neighbourhood). Returns the
    /// requests per node.
    fn heal(&mut self) -> f64 {
        let before = self.requests;
        let mut live = 0;
        for i in 0..self.nodes.len() {
            if !self.nodes[i].alive {
                continue;
            }
            live += 1;
            let peers: Vec<PeerId> = self.nodes[i].table.iter().map(|e| e.peer).collect();
            for p in peers {
                self.requests += 1;
                let alive = self.index.get(&p).is_some_and(|&j| self.nodes[j].alive);
                if !alive {
                    self.nodes[i].table.remove(&p);
                }
            }
            let own = Key::from_peer(&self.nodes[i].id);
            self.lookup(i, &own);
        }
        (self.requests - before) as f64 / live.max(1) as f64
    }

    /// Of the true closest live peers a lookup missed, how many rank beyond k + 1 among all
    /// peers, dead ones included (no responder's k-list can name them while the dead are still
    /// in every table).
    fn rank_all(&self, from: usize, target: &Key, peer: &PeerId) -> usize {
        let d = Distance::between(target.hash(), &peer_hash(peer));
        self.nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| *i != from && Distance::between(target.hash(), &n.hash) < d)
            .count()
    }

    fn truth(&self, from: usize, target: &Key) -> Vec<PeerId> {
        let mut all: Vec<(Distance, PeerId)> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| *i != from && n.alive)
            .map(|(_, n)| (Distance::between(target.hash(), &n.hash), n.id))
            .collect();
        all.select_nth_unstable_by_key(K - 1, |(d, _)| *d);
        all.truncate(K);
        all.into_iter().map(|(_, p)| p).collect()
    }

    fn random_alive(&mut self) -> usize {
        loop {
            let i = self.rng.gen_range(0..self.nodes.len());
            if self.nodes[i].alive {
                return i;
            }
        }
    }

    /// Random FIND_NODE lookups: (median recall, median requests, mean recall, exact share).
    fn measure(&mut self, lookups: usize) -> Measure {
        let mut recalls = Vec::new();
        let mut reqs = Vec::new();
        let (mut missed, mut missed_deep, mut probes) = (0usize, 0usize, 0usize);
        for _ in 0..lookups {
            let from = self.random_alive();
            let mut t = [0u8; 32];
            self.rng.fill_bytes(&mut t);
            let target = Key::new(&t);
            let (res, st) = self.lookup(from, &target);
            let truth: HashSet<_> = self.truth(from, &target).into_iter().collect();
            let hit = res.iter().filter(|p| truth.contains(p)).count();
            if hit < K {
                let got: HashSet<_> = res.iter().collect();
                for p in truth.iter().filter(|p| !got.contains(p)) {
                    missed += 1;
                    if self.rank_all(from, &target, p) > K {
                        missed_deep += 1;
                    }
                }
            }
            recalls.push(hit as f64 / K as f64);
            reqs.push(st.requests);
            probes += st.probes;
        }
        let mut m = Measure::new(recalls, reqs);
        m.missed = missed;
        m.missed_deep = missed_deep;
        m.mean_probes = probes as f64 / lookups.max(1) as f64;
        m
    }

    /// PUT to the k closest found by a lookup, then GET (quorum 1) from another node.
    fn put_get(&mut self, n: usize) -> (f64, usize) {
        let mut ok = 0;
        let mut get_reqs = Vec::new();
        for _ in 0..n {
            let mut t = [0u8; 32];
            self.rng.fill_bytes(&mut t);
            let key = Key::new(&t);
            let from = self.random_alive();
            let (closest, _) = self.lookup(from, &key);
            for p in closest {
                let j = self.index[&p];
                if self.nodes[j].alive {
                    self.nodes[j].records.insert(*key.hash());
                }
            }
            let getter = self.random_alive();
            let seeds = self.nodes[getter].table.closest_peers(&key, K);
            let mut q: GetValueQuery<()> =
                GetValueQuery::new(key.clone(), seeds, self.cfg.clone(), 1, self.now);
            let mut in_flight = std::collections::VecDeque::new();
            loop {
                match q.poll(self.now) {
                    QueryAction::Send(p) => in_flight.push_back((p, false)),
                    QueryAction::SendNeighbours(p) => in_flight.push_back((p, true)),
                    QueryAction::Wait => {
                        let (p, probe) = in_flight.pop_front().unwrap();
                        if probe {
                            match self.request(getter, &p, &Key::from_peer(&p)) {
                                Some((_, closer)) => q.on_neighbours(&p, closer, self.now),
                                None => {
                                    q.on_failure(&p, self.now);
                                    false
                                }
                            };
                            continue;
                        }
                        match self.request(getter, &p, &key) {
                            Some((j, closer)) => {
                                let rec = self.nodes[j].records.contains(key.hash()).then_some(());
                                q.on_response(&p, closer, rec, self.now);
                            }
                            None => q.on_failure(&p, self.now),
                        }
                    }
                    QueryAction::Finished => break,
                }
            }
            if !q.records().is_empty() {
                ok += 1;
            }
            get_reqs.push(q.stats().requests);
        }
        get_reqs.sort_unstable();
        (ok as f64 / n as f64, get_reqs[get_reqs.len() / 2])
    }

    fn kill(&mut self, frac: f64) {
        for i in 1..self.nodes.len() {
            if self.rng.gen_bool(frac) {
                self.nodes[i].alive = false;
            }
        }
    }

    fn mean_table_len(&self) -> f64 {
        self.nodes.iter().map(|n| n.table.len()).sum::<usize>() as f64 / self.nodes.len() as f64
    }
}

#[derive(Debug)]
struct Measure {
    median_recall: f64,
    mean_recall: f64,
    exact: f64,
    median_requests: usize,
    /// True closest live peers not found.
    missed: usize,
    /// Of those, ranked beyond k + 1 among all peers (dead included).
    missed_deep: usize,
    /// Neighbourhood probes per lookup (included in the requests).
    mean_probes: f64,
}

impl Measure {
    fn new(mut recalls: Vec<f64>, mut reqs: Vec<usize>) -> Self {
        let n = recalls.len();
        let mean_recall = recalls.iter().sum::<f64>() / n as f64;
        let exact = recalls.iter().filter(|r| **r >= 1.0).count() as f64 / n as f64;
        recalls.sort_by(|a, b| a.partial_cmp(b).unwrap());
        reqs.sort_unstable();
        Self {
            median_recall: recalls[n / 2],
            mean_recall,
            exact,
            median_requests: reqs[n / 2],
            missed: 0,
            missed_deep: 0,
            mean_probes: 0.0,
        }
    }
}

fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Results of one run: healthy, right after killing 10 %, after one maintenance round.
struct Run {
    healthy: Measure,
    churn: Measure,
    healed: Measure,
}

fn line(name: &str, m: &Measure, get_ok: f64) -> String {
    format!(
        "{name}: median requests/lookup={} (probes {:.2}) median recall={:.3} mean recall={:.3} exact top-20={:.1}% \
         missed={} (beyond rank k+1: {}) GET ok={:.1}%",
        m.median_requests,
        m.mean_probes,
        m.median_recall,
        m.mean_recall,
        m.exact * 100.0,
        m.missed,
        m.missed_deep,
        get_ok * 100.0
    )
}

fn run(n: usize, lookups: usize, cfg: QueryConfig, label: &str) -> Run {
    let rss0 = rss_kib();
    let t0 = std::time::Instant::now();
    let mut net = Net::new(n, cfg, 42);
    net.bootstrap();
    let boot = t0.elapsed();
    let boot_reqs = net.requests as f64 / n as f64;
    let rss1 = rss_kib();
    let healthy = net.measure(lookups);
    let (get_ok, get_reqs) = net.put_get(lookups / 4);
    net.kill(0.10);
    let churn = net.measure(lookups);
    let (get_ok_churn, _) = net.put_get(lookups / 4);
    let t_heal = std::time::Instant::now();
    let heal_reqs = net.heal();
    let heal_time = t_heal.elapsed();
    let healed = net.measure(lookups);
    let (get_ok_healed, _) = net.put_get(lookups / 4);
    let mem = match (rss0, rss1) {
        (Some(a), Some(b)) => format!(
            "{:.1} KiB/node (RSS)",
            b.saturating_sub(a) as f64 / n as f64
        ),
        _ => "n/a".into(),
    };
    println!(
        "[{label}] nodes={n} bootstrap={boot:.2?} ({boot_reqs:.0} requests/node) total={:.2?} mem≈{mem} table≈{:.0} peers/node\n  \
         {} (GET median {get_reqs} req)\n  {}\n  maintenance round: {heal_reqs:.0} requests/node in {heal_time:.2?}\n  {}",
        t0.elapsed(),
        net.mean_table_len(),
        line("healthy", &healthy, get_ok),
        line("10% killed, right after", &churn, get_ok_churn),
        line("10% killed, after one maintenance round", &healed, get_ok_healed),
    );
    Run {
        healthy,
        churn,
        healed,
    }
}

#[test]
fn sim_1000_nodes_recall() {
    let Run {
        healthy,
        churn,
        healed,
    } = run(1000, 100, QueryConfig::default(), "beta=k");
    assert!(healthy.median_recall >= 0.95, "{healthy:?}");
    assert!(healthy.mean_recall >= 0.95, "{healthy:?}");
    assert!(churn.median_recall >= 0.90, "{churn:?}");
    // Neighbourhood probes: right after the kill, before any table healed.
    assert!(churn.exact >= 0.90, "{churn:?}");
    assert!(churn.median_requests < 47, "{churn:?}");
    assert!(healthy.median_requests < 47, "{healthy:?}");
    assert!(healed.mean_recall >= 0.99, "{healed:?}");
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn sim_10000_nodes_benchmark() {
    run(10_000, 1000, QueryConfig::default(), "beta=k (default)");
    let go = QueryConfig {
        beta: 3,
        ..QueryConfig::default()
    };
    run(10_000, 1000, go, "beta=3 (go), closest_known");
    if std::env::var_os("KAD_SIM_COMPARE").is_some() {
        let no_probes = QueryConfig {
            probe_width: 0,
            ..QueryConfig::default()
        };
        run(10_000, 1000, no_probes, "beta=k, no neighbourhood probes");
    }
}
