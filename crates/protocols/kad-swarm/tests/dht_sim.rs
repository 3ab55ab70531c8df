//! The `dht-swarm-sim` benchmark's workload at a size CI runs: 50 full nodes (real swarms over
//! the in-memory transport, noise, yamux, identify, kad) join through one node, then random
//! FIND_NODE lookups must find the true 20 closest live nodes and GETs the records PUT just
//! before, in a healthy network, right after 10 % of the nodes were shut down, and after one
//! maintenance round. The benchmark itself (1,000 nodes and more) is the example.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[allow(dead_code)]
#[path = "../examples/dht-swarm-sim/sim.rs"]
mod sim;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_full_nodes_find_the_true_closest_and_every_record() {
    let mut cfg = sim::SimConfig::new(50);
    cfg.seed = 7;
    cfg.lookups = 24;
    cfg.puts = 6;
    // Connections idle for 1 s close; the settle wait is twice that, so every connection
    // the joins left idle is gone however fast the joins ran (a 500 ms settle beside the
    // default 2 s timeout held only when the joins took longer than 1.5 s).
    cfg.idle_timeout = Some(std::time::Duration::from_secs(1));
    cfg.settle = std::time::Duration::from_secs(2);
    let report = tokio::time::timeout(std::time::Duration::from_secs(50), sim::run(&cfg))
        .await
        .expect("the 50-node simulation took too long");
    println!("{}", report.table());
    assert!(report.killed >= 1, "{report:?}");
    assert!(report.mean_table >= 20.0, "{report:?}");
    for (phase, m) in [
        ("healthy", &report.healthy),
        ("right after the kill", &report.churn),
        ("after maintenance", &report.healed),
    ] {
        assert_eq!(m.lookups, 24, "{phase}");
        // 50 nodes: a lookup reaches nearly everyone; the true top 20 must be found.
        assert!(m.mean_recall >= 0.98, "{phase}: {m:?}");
        assert!(m.median_requests <= 47, "{phase}: {m:?}");
        assert!(m.median_requests >= 1, "{phase}: {m:?}");
        assert_eq!(m.get_ok, 1.0, "{phase}: {m:?}");
        assert!(m.median_stored >= 15, "{phase}: {m:?}");
    }
    // After the settle time the idle timeout closed most connections of the joins.
    assert!(
        report.conns_settled < report.conns_joined,
        "{} -> {}",
        report.conns_joined,
        report.conns_settled
    );
}
