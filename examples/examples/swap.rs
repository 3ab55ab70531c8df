//! Swapping layers is one line each: yamux -> mplex (`.muxers(…)`) and noise -> secio
//! (`.security(…)`), on both nodes; the connection's negotiated chain shows what ran.
//! (`MplexConfig` and `SecioConfig` are in the prelude with the swarm's `mplex` and `secio`
//! features.)
//!
//! `cargo run -p chainp2p-examples --example swap`
#![cfg_attr(test, allow(clippy::expect_used))]

use chainp2p_swarm::prelude::*;

/// What an example returns: any error, with its cause chain.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A node with secio and mplex in place of the default noise and yamux.
fn swapped() -> SwarmBuilder {
    SwarmBuilder::new(Keypair::generate_ed25519())
        .security([SecioConfig::new()]) // noise -> secio
        .muxers([MplexConfig::default()]) // yamux -> mplex
}

/// Connects two swapped nodes, pings once, returns the protocols of the negotiated chain.
async fn run() -> Result<Vec<String>> {
    let server = swapped().build();
    let addr = server.listen(&"/ip4/127.0.0.1/tcp/0".parse()?).await?;
    let client = swapped().build();
    let conn = client.dial(&addr).await?;
    println!("chain: {}", conn.chain()); // tcp, multistream, secio, multistream, mplex

    // The application protocols run unchanged on top.
    let rtt = ping::ping(&mut conn.open_stream(ping::PROTOCOL).await?).await?;
    println!("ping over mplex and secio: {rtt:?}");
    let chain = conn.chain().protocols();

    client.shutdown().await;
    server.shutdown().await;
    Ok(chain)
}

#[tokio::main]
#[cfg_attr(test, allow(dead_code))]
async fn main() -> Result<()> {
    run().await.map(drop)
}

#[tokio::test]
async fn the_swapped_layers_are_negotiated() {
    let chain = tokio::time::timeout(std::time::Duration::from_secs(20), run())
        .await
        .expect("the example finishes in time")
        .expect("the example succeeds");
    assert_eq!(
        chain,
        [
            "/multistream/1.0.0",
            "/secio/1.0.0",
            "/multistream/1.0.0",
            "/mplex/6.7.0"
        ]
    );
}
