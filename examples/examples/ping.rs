//! Two nodes in one process: one listens on loopback TCP, the other dials it and pings.
//!
//! `cargo run -p chainp2p-examples --example ping`
#![cfg_attr(test, allow(clippy::expect_used))]

use chainp2p_swarm::prelude::*;

/// What an example returns: any error, with its cause chain.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Starts both nodes, pings once, returns the round trip.
async fn run() -> Result<std::time::Duration> {
    // The default chain: tcp -> noise -> yamux, serving ping and identify.
    let server = SwarmBuilder::new(Keypair::generate_ed25519()).build();
    let addr = server.listen(&"/ip4/127.0.0.1/tcp/0".parse()?).await?; // port 0: any free port
    let client = SwarmBuilder::new(Keypair::generate_ed25519()).build();

    // Dial with the server's peer id, so the security layer checks who answers.
    let conn = client
        .dial(&addr.with(AddrProtocol::P2p(server.local_peer_id())))
        .await?;
    let mut stream = conn.open_stream(ping::PROTOCOL).await?;
    let rtt = ping::ping(&mut stream).await?;
    println!(
        "{} answered in {rtt:?} over {}",
        conn.peer_id(),
        conn.chain()
    );

    client.shutdown().await;
    server.shutdown().await;
    Ok(rtt)
}

#[tokio::main]
#[cfg_attr(test, allow(dead_code))]
async fn main() -> Result<()> {
    run().await.map(drop)
}

#[tokio::test]
async fn ping_answers() {
    let rtt = tokio::time::timeout(std::time::Duration::from_secs(20), run())
        .await
        .expect("the example finishes in time")
        .expect("the example succeeds");
    assert!(rtt < std::time::Duration::from_secs(5), "{rtt:?}");
}
