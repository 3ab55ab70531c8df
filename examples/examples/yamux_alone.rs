//! One layer alone: the yamux muxer between two in-memory pipe ends, no swarm, no security.
//! The client opens two substreams, the server accepts them and echoes each one's bytes back.
//!
//! `cargo run -p chainp2p-examples --example yamux-alone`
#![cfg_attr(test, allow(clippy::expect_used))]

use chainp2p_core::{BoxStream, Muxer};
use chainp2p_transport_memory::pipe;
use chainp2p_yamux::{start, Mode, YamuxConfig};
use futures::{AsyncReadExt, AsyncWriteExt};

/// What an example returns: any error, with its cause chain.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Runs both sessions; returns what the client read back on each substream.
async fn run() -> Result<Vec<Vec<u8>>> {
    // Two ends of an in-memory byte pipe (64 KiB buffered each way): what the socket would be.
    let (a, b) = pipe(64 * 1024);
    let (a, b): (BoxStream, BoxStream) = (Box::new(a), Box::new(b));
    // Each session is a muxer handle and a driver future that owns the pipe end.
    let (client, client_driver) = start(a, Mode::Client, YamuxConfig::default())?;
    let (server, server_driver) = start(b, Mode::Server, YamuxConfig::default())?;
    tokio::spawn(client_driver);
    tokio::spawn(server_driver);

    // The server echoes every substream it accepts until the client half-closes it.
    let echo = tokio::spawn(async move {
        for _ in 0..2 {
            let Ok(Some(mut stream)) = server.accept_stream().await else {
                break;
            };
            tokio::spawn(async move {
                let mut got = Vec::new();
                if stream.read_to_end(&mut got).await.is_ok() {
                    let _ = stream.write_all(&got).await;
                    let _ = stream.close().await;
                }
            });
        }
    });

    let mut answers = Vec::new();
    for message in [&b"first substream"[..], &b"second substream"[..]] {
        let mut stream = client.open_stream().await?;
        stream.write_all(message).await?;
        stream.close().await?; // half-close (FIN): the server's read_to_end ends
        let mut back = Vec::new();
        stream.read_to_end(&mut back).await?;
        println!("echoed: {}", String::from_utf8_lossy(&back));
        answers.push(back);
    }
    echo.await?;
    Ok(answers)
}

#[tokio::main]
#[cfg_attr(test, allow(dead_code))]
async fn main() -> Result<()> {
    run().await.map(drop)
}

#[tokio::test]
async fn both_substreams_echo() {
    let answers = tokio::time::timeout(std::time::Duration::from_secs(20), run())
        .await
        .expect("the example finishes in time")
        .expect("the example succeeds");
    assert_eq!(
        answers,
        vec![b"first substream".to_vec(), b"second substream".to_vec()]
    );
}
