//! `dht-swarm-sim`: a DHT of full nodes in one process (issue 13), the benchmark. Every node
//! is a real swarm (in-memory transport, multistream, noise, yamux, identify) with a Kademlia
//! node on it; the workload is the sans-IO simulation's (see `sim.rs`). Prints a result table
//! and one JSON line. Run in release mode on a 2-thread runtime:
//!
//! ```text
//! cargo run --release -p chainp2p-kad-swarm --example dht-swarm-sim -- --nodes 1000 --seed 42
//! ```
//!
//! Options: `--nodes N` (1000), `--seed S` (42), `--lookups L` (100 per phase), `--puts P`
//! (25 per phase), `--join-concurrency J` (8), `--concurrency C` (8 lookups at once),
//! `--kill F` (0.1), `--idle-timeout-ms T` (2000; 0 keeps idle connections), `--settle-ms T`
//! (4000), `--event-capacity N` (16: the swarm's event and identify push channels),
//! `--threads N` (2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod sim;

use std::time::Duration;

fn parse<T: std::str::FromStr>(name: &str, v: Option<String>) -> T {
    let v = v.unwrap_or_else(|| panic!("{name} needs a value"));
    v.parse()
        .unwrap_or_else(|_| panic!("{name}: cannot parse {v:?}"))
}

fn main() {
    let mut cfg = sim::SimConfig::new(1000);
    let mut threads = 2;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--nodes" => cfg.nodes = parse(&a, args.next()),
            "--seed" => cfg.seed = parse(&a, args.next()),
            "--lookups" => cfg.lookups = parse(&a, args.next()),
            "--puts" => cfg.puts = parse(&a, args.next()),
            "--join-concurrency" => cfg.join_concurrency = parse(&a, args.next()),
            "--concurrency" => cfg.concurrency = parse(&a, args.next()),
            "--kill" => cfg.kill = parse(&a, args.next()),
            "--idle-timeout-ms" => {
                let ms: u64 = parse(&a, args.next());
                cfg.idle_timeout = (ms > 0).then(|| Duration::from_millis(ms));
            }
            "--settle-ms" => cfg.settle = Duration::from_millis(parse(&a, args.next())),
            "--threads" => threads = parse(&a, args.next()),
            "--event-capacity" => cfg.event_capacity = parse(&a, args.next()),
            other => panic!("unknown option {other} (see the example's docs)"),
        }
    }
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    assert!(cfg.nodes >= 2, "--nodes must be at least 2");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let report = rt.block_on(sim::run(&cfg));
    println!("{}", report.table());
    println!("{}", report.json());
}
