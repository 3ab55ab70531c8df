//! Three Kademlia nodes in one process (`chainp2p-kad-swarm`, records in memory): the second
//! and third bootstrap from the first, the second puts a record, the third gets it.
//!
//! `cargo run -p chainp2p-examples --example kad`
#![cfg_attr(test, allow(clippy::expect_used))]

use chainp2p_kad_swarm::{BuildWithKad, KadOptions, KadService};
use chainp2p_swarm::prelude::*;

/// What an example returns: any error, with its cause chain.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// One DHT node on loopback TCP: the swarm, its Kademlia service, its address.
async fn node() -> Result<(Swarm, KadService, Multiaddr)> {
    // `KadOptions::default()`: server mode, `/ipfs/kad/1.0.0`, an in-memory record store.
    let (swarm, kad) =
        SwarmBuilder::new(Keypair::generate_ed25519()).build_with_kad(KadOptions::default())?;
    let addr = swarm.listen(&"/ip4/127.0.0.1/tcp/0".parse()?).await?;
    Ok((swarm, kad, addr))
}

/// Puts `/v/greeting` from node 2, gets it from node 3, returns the value found.
async fn run() -> Result<Option<Vec<u8>>> {
    let (s1, k1, a1) = node().await?;
    let (s2, k2, _) = node().await?;
    let (s3, k3, _) = node().await?;

    // Node 1 is the seed: the others learn the DHT from it.
    let seed = vec![(s1.local_peer_id(), vec![a1])];
    k2.node().bootstrap(seed.clone()).await?;
    k3.node().bootstrap(seed).await?;
    println!(
        "routing tables: {} {} {}",
        k1.node().routing_table_len(),
        k2.node().routing_table_len(),
        k3.node().routing_table_len()
    );

    // The default validator accepts keys of the `/v/` namespace.
    let stored = k2
        .node()
        .put_value(b"/v/greeting".to_vec(), b"hello".to_vec())
        .await?;
    println!("stored at {stored} peers");
    let found = k3.node().get_value(b"/v/greeting".to_vec(), 1).await?;
    let value = found.map(|record| record.value);
    println!("found: {:?}", value.as_deref().map(String::from_utf8_lossy));

    for swarm in [s1, s2, s3] {
        swarm.shutdown().await;
    }
    Ok(value)
}

#[tokio::main]
#[cfg_attr(test, allow(dead_code))]
async fn main() -> Result<()> {
    run().await.map(drop)
}

#[tokio::test]
async fn a_record_put_by_one_node_is_found_by_another() {
    let value = tokio::time::timeout(std::time::Duration::from_secs(30), run())
        .await
        .expect("the example finishes in time")
        .expect("the example succeeds");
    assert_eq!(value.as_deref(), Some(&b"hello"[..]));
}
