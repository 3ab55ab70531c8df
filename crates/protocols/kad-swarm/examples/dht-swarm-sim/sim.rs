//! A DHT of full nodes in one process: every node is a real [`Swarm`] (in-memory transport,
//! multistream, noise, yamux, identify) with a [`KadNode`] on it, running the workload of the
//! sans-IO simulation (`crates/protocols/kad/tests/sim.rs`): every node joins through node 0
//! (`bootstrap`: a lookup of its own id, then one refresh lookup per bucket), then random
//! FIND_NODE lookups are checked against the true k closest live nodes (brute force over the
//! node ids), records are PUT at one node and GET from another, 10 % of the nodes are killed
//! (their swarms shut down), the same is measured again, then after one maintenance round of
//! every live node (liveness checks of its table, a lookup of its own id).
//!
//! Requests per lookup are the query state machine's own count ([`QueryStats::requests`],
//! reported by the node when a lookup finishes through [`KadNode::set_progress`]): every
//! FIND_NODE the node sent for that lookup, neighbourhood probes included.
//!
//! Memory is the process's, from `/proc/self/status` (`VmRSS` now, `VmHWM` its peak).
//!
//! Shared by the `dht-swarm-sim` example (the benchmark) and the `dht_sim` test (a small
//! network, checked in CI).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chainp2p_kad_swarm::kad::key::{peer_hash, Distance, Key};
use chainp2p_kad_swarm::kad::node::{KadNode, LookupProgress, MaintenanceConfig};
use chainp2p_kad_swarm::kad::query::QueryStats;
use chainp2p_kad_swarm::kad::Config;
use chainp2p_kad_swarm::{BuildWithKad, KadOptions, KadService};
use chainp2p_swarm::identity::{Keypair, PeerId};
use chainp2p_swarm::{Multiaddr, Swarm, SwarmBuilder};
use chainp2p_transport_memory::MemoryTransport;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

/// Results wanted per lookup (Kademlia's k).
pub const K: usize = 20;

/// What to run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Number of full nodes.
    pub nodes: usize,
    /// Seed of every random choice (identities, lookup targets, nodes killed).
    pub seed: u64,
    /// Random FIND_NODE lookups per measurement.
    pub lookups: usize,
    /// PUT + GET pairs per measurement.
    pub puts: usize,
    /// Nodes joining at once.
    pub join_concurrency: usize,
    /// Lookups running at once (each from a different node).
    pub concurrency: usize,
    /// Share of the nodes killed (node 0, the bootstrap node, is never killed).
    pub kill: f64,
    /// The swarm's idle connection timeout (`None`: connections stay until the connection
    /// manager trims them).
    pub idle_timeout: Option<Duration>,
    /// Time given, after the joins, for idle connections to close before "after settle".
    pub settle: Duration,
    /// The swarm's event channel capacity and identify's push channel capacity
    /// ([`SwarmBuilder::event_capacity`]).
    pub event_capacity: usize,
}

impl SimConfig {
    /// The defaults for `nodes` nodes.
    pub fn new(nodes: usize) -> Self {
        SimConfig {
            nodes,
            seed: 42,
            lookups: 100,
            puts: 25,
            join_concurrency: 8,
            concurrency: 8,
            kill: 0.10,
            idle_timeout: Some(Duration::from_secs(2)),
            settle: Duration::from_secs(4),
            event_capacity: 16,
        }
    }
}

/// Recall and cost of a batch of lookups.
#[derive(Debug, Clone, Default)]
pub struct Measure {
    /// Lookups run.
    pub lookups: usize,
    /// Mean share of the true k closest live nodes found.
    pub mean_recall: f64,
    /// Share of lookups that found all k.
    pub exact: f64,
    /// Median requests per lookup.
    pub median_requests: usize,
    /// Mean requests per lookup.
    pub mean_requests: f64,
    /// Largest requests per lookup.
    pub max_requests: usize,
    /// Share of GETs (quorum 1) that found the record PUT just before.
    pub get_ok: f64,
    /// Median peers a PUT stored the record at.
    pub median_stored: usize,
    /// Wall time of the batch.
    pub wall: Duration,
}

/// Process memory, KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mem {
    /// `VmRSS`.
    pub rss_kib: u64,
    /// `VmHWM` (peak RSS so far).
    pub hwm_kib: u64,
}

/// Reads `VmRSS` and `VmHWM` of this process (zeros where `/proc` is not there).
pub fn mem() -> Mem {
    let Ok(s) = std::fs::read_to_string("/proc/self/status") else {
        return Mem::default();
    };
    let field = |name: &str| -> u64 {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Mem {
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The settings.
    pub nodes: usize,
    /// Seed.
    pub seed: u64,
    /// Before any node exists.
    pub mem_start: Mem,
    /// After the joins.
    pub mem_joined: Mem,
    /// After the settle time.
    pub mem_settled: Mem,
    /// At the end.
    pub mem_end: Mem,
    /// Live connections (both ends counted) after the joins / after settling / at the end.
    pub conns_joined: usize,
    /// See `conns_joined`.
    pub conns_settled: usize,
    /// See `conns_joined`.
    pub conns_end: usize,
    /// Swarm tasks after settling.
    pub tasks_settled: usize,
    /// Mean routing-table size after the joins.
    pub mean_table: f64,
    /// Wall time of the joins.
    pub join_wall: Duration,
    /// Mean lookup requests per joining node (own id + bucket refreshes).
    pub join_requests_per_node: f64,
    /// Healthy network.
    pub healthy: Measure,
    /// Right after the kill.
    pub churn: Measure,
    /// After one maintenance round.
    pub healed: Measure,
    /// Mean requests per live node of the maintenance round (liveness checks + lookup).
    pub heal_requests_per_node: f64,
    /// Wall time of the maintenance round.
    pub heal_wall: Duration,
    /// Nodes killed.
    pub killed: usize,
    /// Whole run.
    pub total_wall: Duration,
}

/// Finished lookups of one node: (operation, its counters).
type Finished = Arc<Mutex<Vec<(&'static str, QueryStats)>>>;

struct SimNode {
    swarm: Swarm,
    kad: KadService,
    addr: Multiaddr,
    id: PeerId,
    hash: [u8; 32],
    alive: bool,
    finished: Finished,
}

impl SimNode {
    fn node(&self) -> &KadNode {
        self.kad.node()
    }

    /// Takes the finished lookups reported so far.
    fn take_finished(&self) -> Vec<(&'static str, QueryStats)> {
        std::mem::take(&mut *self.finished.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

async fn start(key: Keypair, cfg: &SimConfig) -> SimNode {
    let builder = SwarmBuilder::new(key)
        .transports([MemoryTransport::default()])
        .security([chainp2p_noise::NoiseConfig::new()])
        .muxers([chainp2p_yamux::YamuxConfig::default()])
        .idle_connection_timeout(cfg.idle_timeout)
        // Nobody subscribes to the lossy event feed here (the kad glue observes losslessly),
        // and nobody pushes identify updates: small channels, whose slots are preallocated.
        .event_capacity(cfg.event_capacity)
        .identify_config(chainp2p_identify::IdentifyConfig {
            push_channel_capacity: cfg.event_capacity,
            ..chainp2p_identify::IdentifyConfig::default()
        });
    let opts = KadOptions {
        config: Config::default(),
        ..KadOptions::default()
    };
    let (swarm, kad) = builder.build_with_kad(opts).expect("valid kad options");
    let addr = swarm
        .listen(&"/memory/0".parse().expect("valid multiaddr"))
        .await
        .expect("memory listen");
    let id = swarm.local_peer_id();
    let finished: Finished = Arc::default();
    let sink = finished.clone();
    kad.node()
        .set_progress(Some(Arc::new(move |p: &LookupProgress| {
            if p.finished {
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((p.op, p.stats.clone()));
            }
        })));
    SimNode {
        swarm,
        kad,
        addr,
        id,
        hash: peer_hash(&id),
        alive: true,
        finished,
    }
}

/// Live connections of every live node (each connection counted at both ends).
fn connections(nodes: &[SimNode]) -> usize {
    nodes
        .iter()
        .filter(|n| n.alive)
        .map(|n| n.swarm.all_connections().len())
        .sum()
}

/// The k closest live nodes to `target`, `from` left out.
fn truth(nodes: &[SimNode], from: usize, target: &Key) -> HashSet<PeerId> {
    let mut all: Vec<(Distance, PeerId)> = nodes
        .iter()
        .enumerate()
        .filter(|(i, n)| *i != from && n.alive)
        .map(|(_, n)| (Distance::between(target.hash(), &n.hash), n.id))
        .collect();
    all.sort_unstable_by_key(|(d, _)| *d);
    all.truncate(K);
    all.into_iter().map(|(_, p)| p).collect()
}

/// `n` distinct random live node indices.
fn pick_alive(nodes: &[SimNode], rng: &mut StdRng, n: usize) -> Vec<usize> {
    let live = nodes.iter().filter(|x| x.alive).count();
    let n = n.min(live);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let i = rng.gen_range(0..nodes.len());
        if nodes[i].alive && !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn random_key(rng: &mut StdRng) -> Vec<u8> {
    let mut t = vec![0u8; 32];
    rng.fill_bytes(&mut t);
    t
}

/// `lookups` random FIND_NODE lookups (`concurrency` at once, from distinct nodes), then
/// `puts` PUT + GET pairs.
async fn measure(nodes: &[SimNode], rng: &mut StdRng, cfg: &SimConfig) -> Measure {
    let t0 = Instant::now();
    let mut recalls = Vec::new();
    let mut reqs = Vec::new();
    let mut done = 0;
    while done < cfg.lookups {
        let batch = pick_alive(nodes, rng, cfg.concurrency.min(cfg.lookups - done));
        let mut tasks = Vec::new();
        for &from in &batch {
            let key = random_key(rng);
            let node = nodes[from].node().clone();
            nodes[from].take_finished();
            let k = key.clone();
            tasks.push((
                from,
                key,
                tokio::spawn(async move { node.closest_to_key(&k).await }),
            ));
        }
        for (from, key, task) in tasks {
            let found = task.await.expect("lookup task");
            let truth = truth(nodes, from, &Key::new(&key));
            let hit = found.iter().filter(|p| truth.contains(p)).count();
            recalls.push(hit as f64 / K as f64);
            let stats = nodes[from]
                .take_finished()
                .into_iter()
                .rev()
                .find(|(op, _)| *op == "find_node")
                .map(|(_, s)| s)
                .expect("the lookup reported its end");
            reqs.push(stats.requests);
            done += 1;
        }
    }
    let mut ok = 0;
    let mut stored = Vec::new();
    for i in 0..cfg.puts {
        let pair = pick_alive(nodes, rng, 2);
        let key = format!("/v/sim-{}-{i}-{}", cfg.seed, rng.gen::<u64>()).into_bytes();
        let n = nodes[pair[0]]
            .node()
            .put_value(key.clone(), b"value".to_vec())
            .await
            .unwrap_or(0);
        stored.push(n);
        let getter = nodes[pair[1]].node().clone();
        let got = tokio::spawn(async move { getter.get_value(key, 1).await })
            .await
            .expect("get task");
        if matches!(got, Ok(Some(r)) if r.value == b"value") {
            ok += 1;
        }
    }
    stored.sort_unstable();
    let n = recalls.len().max(1);
    let mut sorted = reqs.clone();
    sorted.sort_unstable();
    Measure {
        lookups: recalls.len(),
        mean_recall: recalls.iter().sum::<f64>() / n as f64,
        exact: recalls.iter().filter(|r| **r >= 1.0).count() as f64 / n as f64,
        median_requests: sorted.get(sorted.len() / 2).copied().unwrap_or(0),
        mean_requests: reqs.iter().sum::<usize>() as f64 / n as f64,
        max_requests: sorted.last().copied().unwrap_or(0),
        get_ok: ok as f64 / cfg.puts.max(1) as f64,
        median_stored: stored.get(stored.len() / 2).copied().unwrap_or(0),
        wall: t0.elapsed(),
    }
}

/// One line on stderr: where the run is, since when, the RSS.
fn progress(what: &str, t0: Instant) {
    let m = mem();
    eprintln!(
        "[{:>7.1?}] {what} (RSS {:.1} MB, peak {:.1} MB)",
        t0.elapsed(),
        mb(m.rss_kib),
        mb(m.hwm_kib)
    );
}

/// Runs the whole workload.
pub async fn run(cfg: &SimConfig) -> Report {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut report = Report {
        nodes: cfg.nodes,
        seed: cfg.seed,
        mem_start: mem(),
        ..Report::default()
    };
    let mut nodes = Vec::with_capacity(cfg.nodes);
    for _ in 0..cfg.nodes {
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        let key = Keypair::ed25519_from_bytes(secret).expect("32 bytes");
        nodes.push(start(key, cfg).await);
    }

    // Joins: every node through node 0, `join_concurrency` at once.
    let t_join = Instant::now();
    let seed = (nodes[0].id, vec![nodes[0].addr.clone()]);
    let mut joining = tokio::task::JoinSet::new();
    let mut next = 1;
    while next < nodes.len() || !joining.is_empty() {
        while next < nodes.len() && joining.len() < cfg.join_concurrency {
            let node = nodes[next].node().clone();
            let seed = seed.clone();
            joining.spawn(async move { node.bootstrap(vec![seed]).await });
            next += 1;
        }
        if let Some(r) = joining.join_next().await {
            r.expect("join task").expect("bootstrap");
            let joined = next - joining.len();
            if joined.is_multiple_of(100) {
                progress(&format!("{joined} joined"), t0);
            }
        }
    }
    report.join_wall = t_join.elapsed();
    let join_requests: usize = nodes
        .iter()
        .flat_map(|n| n.take_finished())
        .map(|(_, s)| s.requests)
        .sum();
    report.join_requests_per_node = join_requests as f64 / (cfg.nodes.max(2) - 1) as f64;
    report.mean_table = nodes
        .iter()
        .map(|n| n.node().routing_table_len())
        .sum::<usize>() as f64
        / cfg.nodes as f64;
    report.mem_joined = mem();
    report.conns_joined = connections(&nodes);

    tokio::time::sleep(cfg.settle).await;
    report.mem_settled = mem();
    report.conns_settled = connections(&nodes);
    report.tasks_settled = nodes.iter().map(|n| n.swarm.task_count()).sum();

    progress("settled", t0);
    report.healthy = measure(&nodes, &mut rng, cfg).await;
    progress("healthy measured", t0);

    // Kill: shut the swarms down (their listeners go, every connection closes).
    let victims: Vec<usize> = (1..nodes.len())
        .filter(|_| rng.gen_bool(cfg.kill))
        .collect();
    let mut shutdowns = Vec::new();
    for &i in &victims {
        nodes[i].alive = false;
        let swarm = nodes[i].swarm.clone();
        shutdowns.push(tokio::spawn(async move { swarm.shutdown().await }));
    }
    for s in shutdowns {
        s.await.expect("shutdown task");
    }
    report.killed = victims.len();
    progress("killed", t0);
    report.churn = measure(&nodes, &mut rng, cfg).await;
    progress("churn measured", t0);

    // One maintenance round of every live node: liveness check of every table peer, a lookup
    // of its own id (no bucket refresh: the joins just refreshed them all).
    let t_heal = Instant::now();
    let maintenance = MaintenanceConfig {
        refresh_interval: Duration::from_secs(3600),
        self_lookup: true,
        stale_after: Some(Duration::ZERO),
        max_pings_per_refresh: usize::MAX,
        ..MaintenanceConfig::default()
    };
    let live: Vec<usize> = (0..nodes.len()).filter(|&i| nodes[i].alive).collect();
    let mut pinged = 0;
    let mut lookup_reqs = 0;
    for chunk in live.chunks(cfg.join_concurrency.max(1)) {
        let mut tasks = Vec::new();
        for &i in chunk {
            nodes[i].take_finished();
            let node = nodes[i].node().clone();
            let m = maintenance.clone();
            tasks.push((i, tokio::spawn(async move { node.refresh_with(&m).await })));
        }
        for (i, t) in tasks {
            pinged += t.await.expect("refresh task").pinged;
            lookup_reqs += nodes[i]
                .take_finished()
                .iter()
                .map(|(_, s)| s.requests)
                .sum::<usize>();
        }
    }
    report.heal_wall = t_heal.elapsed();
    report.heal_requests_per_node = (pinged + lookup_reqs) as f64 / live.len().max(1) as f64;
    progress("maintenance round done", t0);
    report.healed = measure(&nodes, &mut rng, cfg).await;
    report.mem_end = mem();
    report.conns_end = connections(&nodes);

    let mut shutdowns = Vec::new();
    for n in nodes.iter().filter(|n| n.alive) {
        let swarm = n.swarm.clone();
        shutdowns.push(tokio::spawn(async move { swarm.shutdown().await }));
    }
    for s in shutdowns {
        s.await.expect("shutdown task");
    }
    report.total_wall = t0.elapsed();
    report
}

fn mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

impl Report {
    /// Memory per node (KiB) of a reading, over the baseline.
    fn per_node(&self, m: Mem) -> f64 {
        m.rss_kib.saturating_sub(self.mem_start.rss_kib) as f64 / self.nodes.max(1) as f64
    }

    /// The result table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        s += &format!(
            "nodes={} seed={} killed={} total wall={:.1?} joins={:.1?} ({:.0} lookup requests/node) \
             table≈{:.0} peers/node\n",
            self.nodes,
            self.seed,
            self.killed,
            self.total_wall,
            self.join_wall,
            self.join_requests_per_node,
            self.mean_table
        );
        s += &format!(
            "memory: start RSS {:.1} MB; after joins RSS {:.1} MB ({:.1} KiB/node, {} conn ends); \
             after settle RSS {:.1} MB ({:.1} KiB/node, {} conn ends, {} tasks); end RSS {:.1} MB; \
             peak (VmHWM) {:.1} MB ({:.1} KiB/node)\n",
            mb(self.mem_start.rss_kib),
            mb(self.mem_joined.rss_kib),
            self.per_node(self.mem_joined),
            self.conns_joined,
            mb(self.mem_settled.rss_kib),
            self.per_node(self.mem_settled),
            self.conns_settled,
            self.tasks_settled,
            mb(self.mem_end.rss_kib),
            mb(self.mem_end.hwm_kib),
            self.mem_end.hwm_kib as f64 / self.nodes.max(1) as f64,
        );
        s += "| phase | lookups | requests/lookup median (mean, max) | mean recall | exact top-20 | GET ok | PUT stored (median) | wall |\n";
        s += "|---|---|---|---|---|---|---|---|\n";
        for (name, m) in [
            ("healthy", &self.healthy),
            ("10% killed, right after", &self.churn),
            ("after one maintenance round", &self.healed),
        ] {
            s += &format!(
                "| {name} | {} | {} ({:.1}, {}) | {:.3} | {:.1}% | {:.1}% | {} | {:.1?} |\n",
                m.lookups,
                m.median_requests,
                m.mean_requests,
                m.max_requests,
                m.mean_recall,
                m.exact * 100.0,
                m.get_ok * 100.0,
                m.median_stored,
                m.wall
            );
        }
        s += &format!(
            "maintenance round: {:.0} requests/live node in {:.1?}\n",
            self.heal_requests_per_node, self.heal_wall
        );
        s
    }

    /// One JSON line with the figures.
    pub fn json(&self) -> String {
        let m = |x: &Measure| {
            format!(
                "{{\"lookups\":{},\"median_requests\":{},\"mean_requests\":{:.2},\"max_requests\":{},\
                 \"mean_recall\":{:.4},\"exact\":{:.4},\"get_ok\":{:.4},\"median_stored\":{},\"wall_s\":{:.3}}}",
                x.lookups,
                x.median_requests,
                x.mean_requests,
                x.max_requests,
                x.mean_recall,
                x.exact,
                x.get_ok,
                x.median_stored,
                x.wall.as_secs_f64()
            )
        };
        format!(
            "{{\"nodes\":{},\"seed\":{},\"killed\":{},\"total_wall_s\":{:.3},\"join_wall_s\":{:.3},\
             \"join_requests_per_node\":{:.1},\"mean_table\":{:.1},\"rss_start_kib\":{},\
             \"rss_joined_kib\":{},\"rss_settled_kib\":{},\"rss_end_kib\":{},\"hwm_kib\":{},\
             \"conns_joined\":{},\"conns_settled\":{},\"conns_end\":{},\"tasks_settled\":{},\
             \"healthy\":{},\"churn\":{},\"healed\":{},\"heal_requests_per_node\":{:.1}}}",
            self.nodes,
            self.seed,
            self.killed,
            self.total_wall.as_secs_f64(),
            self.join_wall.as_secs_f64(),
            self.join_requests_per_node,
            self.mean_table,
            self.mem_start.rss_kib,
            self.mem_joined.rss_kib,
            self.mem_settled.rss_kib,
            self.mem_end.rss_kib,
            self.mem_end.hwm_kib,
            self.conns_joined,
            self.conns_settled,
            self.conns_end,
            self.tasks_settled,
            m(&self.healthy),
            m(&self.churn),
            m(&self.healed),
            self.heal_requests_per_node
        )
    }
}
