//! A protocol of our own: the server serves `/echo/1.0.0` (every byte sent back), the client
//! opens a stream to it, writes, half-closes and reads the echo.
//!
//! `cargo run -p chainp2p-examples --example echo`
#![cfg_attr(test, allow(clippy::expect_used))]

use chainp2p_swarm::prelude::*;

/// What an example returns: any error, with its cause chain.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Our protocol's id, negotiated by multistream-select on each substream.
const ECHO: &str = "/echo/1.0.0";

/// Sends `message` through the echo protocol and returns what came back.
async fn run(message: &[u8]) -> Result<Vec<u8>> {
    // The handler: a stream and the peer in, `std::io::Result<()>` out, so `?` works on I/O.
    let server = SwarmBuilder::new(Keypair::generate_ed25519())
        .serve_fn(ECHO, |mut stream, peer| async move {
            let mut request = Vec::new();
            stream.read_to_end(&mut request).await?; // until the client closes its side
            println!("server: {} bytes from {peer}", request.len());
            stream.write_all(&request).await?;
            stream.close().await
        })
        .build();
    let addr = server.listen(&"/ip4/127.0.0.1/tcp/0".parse()?).await?;

    let client = SwarmBuilder::new(Keypair::generate_ed25519()).build();
    let conn = client.dial(&addr).await?;
    let mut stream = conn.open_stream(ECHO).await?;
    stream.write_all(message).await?;
    stream.close().await?; // half-close: the server's read_to_end ends
    let mut echoed = Vec::new();
    stream.read_to_end(&mut echoed).await?;
    println!("client: got {:?} back", String::from_utf8_lossy(&echoed));

    client.shutdown().await;
    server.shutdown().await;
    Ok(echoed)
}

#[tokio::main]
#[cfg_attr(test, allow(dead_code))]
async fn main() -> Result<()> {
    run(b"hello, chain").await.map(drop)
}

#[tokio::test]
async fn echo_sends_the_bytes_back() {
    let message = vec![7u8; 100_000]; // more than one frame of every layer
    let echoed = tokio::time::timeout(std::time::Duration::from_secs(20), run(&message))
        .await
        .expect("the example finishes in time")
        .expect("the example succeeds");
    assert_eq!(echoed, message);
}
