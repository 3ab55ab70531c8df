//! Our node against a peer that behaves like c-ipfs **at the multistream level**, over real TCP on
//! 127.0.0.1, in both directions.
//!
//! The fake peer does what c-libp2p does (see shared specs `c-ipfs-flow.md`): it reads and
//! answers exactly one multistream message at a time, answers `na` to anything it does not know,
//! and as a dialer waits for the listener to speak first (our listener must send its header
//! unprompted, outside and inside the security layer). Inside the security layer it checks what
//! breaks c-ipfs: every frame we send must hold exactly one multistream message (c-ipfs drops a
//! proposal that shares a secio frame with the header).
//!
//! What it does *not* cover: the security layer is noise, run by the fake peer through the noise
//! crate's sans-IO API so that it sees frame boundaries, not secio (c-ipfs speaks only secio with
//! RSA keys); nothing past the muxer negotiation (no yamux frames, no identify); and on the raw
//! TCP leg, where write boundaries are not observable, only the message order and content. Our
//! node is the in-process `swarm` with the c-ipfs multistream settings chain-node uses for
//! `--security secio` (one message per write, never lazy).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, ensure, Context, Result};
use chain_core::identity::{Keypair, PeerId};
use chain_core::{SecurityLayer, StreamHandler};
use multistream::MultistreamConfig;
use noise::codec::{parse_frame, HEADER_LEN, MAX_NOISE_MSG_LEN, TAG_LEN};
use noise::{AuthenticStatic, Handshake, Transport};
use swarm::{Direction, SwarmBuilder, SwarmEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HEADER: &str = "/multistream/1.0.0";
const STEP: Duration = Duration::from_secs(5);

/// What chain-node uses when secio is the only security protocol.
fn c_ipfs_multistream() -> MultistreamConfig {
    MultistreamConfig {
        one_message_per_write: true,
        lazy: false,
        ..MultistreamConfig::default()
    }
}

fn node(key: Keypair, security: Vec<Arc<dyn StreamHandler>>) -> swarm::Swarm {
    SwarmBuilder::new(key)
        .multistream(c_ipfs_multistream())
        .security(security)
        .upgrade_timeout(Duration::from_secs(15))
        .build()
}

fn noise_layer() -> Arc<dyn StreamHandler> {
    Arc::new(SecurityLayer(noise::NoiseConfig::new()))
}

/// `uvarint(len) ‖ text ‖ \n`.
fn ms(text: &str) -> Vec<u8> {
    let body_len = text.len() + 1;
    assert!(body_len < 128, "test messages are short");
    let mut out = vec![body_len as u8];
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
    out
}

/// Parses one multistream message at the start of `buf`: `Some((text, consumed))`.
fn parse_ms(buf: &[u8]) -> Result<Option<(String, usize)>> {
    let Some(&len) = buf.first() else {
        return Ok(None);
    };
    ensure!(
        len < 0x80,
        "multistream message longer than the fake peer reads"
    );
    let len = usize::from(len);
    let Some(body) = buf.get(1..1 + len) else {
        return Ok(None);
    };
    let text = body
        .strip_suffix(b"\n")
        .ok_or_else(|| anyhow!("multistream message without newline: {body:?}"))?;
    Ok(Some((String::from_utf8(text.to_vec())?, 1 + len)))
}

/// The fake c-ipfs peer's side of one TCP connection.
struct FakePeer {
    tcp: TcpStream,
    buf: Vec<u8>,
    transport: Option<Transport>,
}

impl FakePeer {
    fn new(tcp: TcpStream) -> Self {
        FakePeer {
            tcp,
            buf: Vec::new(),
            transport: None,
        }
    }

    async fn fill(&mut self) -> Result<()> {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(STEP, self.tcp.read(&mut chunk))
            .await
            .context("the node did not speak (the fake peer waits for it)")??;
        ensure!(n > 0, "the node closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Raw TCP leg: reads exactly one multistream message (varint, then the body).
    async fn read_ms(&mut self) -> Result<String> {
        loop {
            if let Some((text, used)) = parse_ms(&self.buf)? {
                self.buf.drain(..used);
                return Ok(text);
            }
            self.fill().await?;
        }
    }

    /// Raw TCP leg: one message, one write.
    async fn write_ms(&mut self, text: &str) -> Result<()> {
        self.tcp.write_all(&ms(text)).await?;
        Ok(())
    }

    /// One whole noise frame from the wire (header included).
    async fn read_frame(&mut self) -> Result<Vec<u8>> {
        loop {
            if let Some(total) = parse_frame(&self.buf, MAX_NOISE_MSG_LEN)? {
                return Ok(self.buf.drain(..total).collect());
            }
            self.fill().await?;
        }
    }

    /// Runs the noise XX handshake over the raw leg with the sans-IO API.
    async fn noise(&mut self, key: &Keypair, initiator: bool, expected: PeerId) -> Result<()> {
        let local = AuthenticStatic::generate(key)?;
        let mut hs = Handshake::new(initiator, &local, Some(expected), MAX_NOISE_MSG_LEN)?;
        while !hs.is_finished() {
            if hs.is_my_turn() {
                let mut out = Vec::new();
                hs.write_message(&mut out)?;
                self.tcp.write_all(&out).await?;
            } else {
                let frame = self.read_frame().await?;
                hs.read_message(&frame[HEADER_LEN..])?;
            }
        }
        let (transport, remote) = hs.finish()?;
        ensure!(
            remote.peer_id == expected,
            "noise authenticated the wrong peer"
        );
        self.transport = Some(transport);
        Ok(())
    }

    /// Secured leg: one frame must hold exactly one multistream message (what c-ipfs needs).
    async fn read_secured_ms(&mut self) -> Result<String> {
        let frame = self.read_frame().await?;
        let transport = self
            .transport
            .as_mut()
            .ok_or_else(|| anyhow!("no transport"))?;
        let mut plain = vec![0u8; frame.len()];
        let n = transport.decrypt(&frame[HEADER_LEN..], &mut plain)?;
        let plain = &plain[..n];
        match parse_ms(plain)? {
            Some((text, used)) if used == plain.len() => Ok(text),
            Some((text, used)) => bail!(
                "a frame holds {text:?} and {} more bytes: c-ipfs would drop the rest ({:?})",
                plain.len() - used,
                String::from_utf8_lossy(&plain[used..])
            ),
            None => bail!("a frame holds a partial multistream message: {plain:?}"),
        }
    }

    /// Secured leg: one message, one frame.
    async fn write_secured_ms(&mut self, text: &str) -> Result<()> {
        let transport = self
            .transport
            .as_mut()
            .ok_or_else(|| anyhow!("no transport"))?;
        let msg = ms(text);
        let mut out = vec![0u8; HEADER_LEN + msg.len() + TAG_LEN];
        let n = transport.encrypt_frame(&msg, &mut out)?;
        self.tcp.write_all(&out[..n]).await?;
        Ok(())
    }

    /// As c-ipfs as a listener: reads one message, answers it; `known` are echoed, the rest
    /// get `na`. Returns the protocol agreed.
    async fn answer_proposals(&mut self, known: &str, secured: bool) -> Result<Vec<String>> {
        let mut seen = Vec::new();
        for _ in 0..8 {
            let text = if secured {
                self.read_secured_ms().await?
            } else {
                self.read_ms().await?
            };
            seen.push(text.clone());
            let reply = if text == known { text.as_str() } else { "na" };
            if secured {
                self.write_secured_ms(reply).await?;
            } else {
                self.write_ms(reply).await?;
            }
            if text == known {
                return Ok(seen);
            }
        }
        bail!("no agreement after {seen:?}")
    }
}

/// A c-ipfs-style dialer against our listener: it never speaks first, offers something we
/// lack (`na` expected), then what we have; message by message, outside and inside noise.
#[tokio::test]
async fn c_ipfs_style_dialer_gets_through_our_listener() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let our_key = Keypair::generate_ed25519();
        let our_id = our_key.public().to_peer_id();
        let node = node(our_key, vec![noise_layer()]);
        let mut events = node.subscribe();
        let addr = node.listen(&"/ip4/127.0.0.1/tcp/0".parse()?).await?;
        let port = addr
            .iter()
            .find_map(|p| match p {
                chain_core::multiaddr::Protocol::Tcp(port) => Some(port),
                _ => None,
            })
            .ok_or_else(|| anyhow!("no port in {addr}"))?;

        let fake_key = Keypair::generate_ed25519();
        let fake_id = fake_key.public().to_peer_id();
        let mut peer = FakePeer::new(TcpStream::connect(("127.0.0.1", port)).await?);

        // Raw leg: we wait; the node's header must come unprompted.
        ensure!(
            peer.read_ms().await? == HEADER,
            "first message is not the header"
        );
        peer.write_ms(HEADER).await?;
        peer.write_ms("/secio/1.0.0").await?;
        ensure!(
            peer.read_ms().await? == "na",
            "secio is not offered here: expected na"
        );
        peer.write_ms("/noise").await?;
        ensure!(
            peer.read_ms().await? == "/noise",
            "expected the /noise echo"
        );
        ensure!(
            peer.buf.is_empty(),
            "the node sent bytes before the handshake"
        );

        peer.noise(&fake_key, true, our_id).await?;

        // Secured leg: again the node speaks first, one message per frame.
        ensure!(peer.read_secured_ms().await? == HEADER, "inner header");
        peer.write_secured_ms(HEADER).await?;
        peer.write_secured_ms("/mplex/6.7.0").await?;
        ensure!(peer.read_secured_ms().await? == "na", "mplex: expected na");
        peer.write_secured_ms("/yamux/1.0.0").await?;
        ensure!(
            peer.read_secured_ms().await? == "/yamux/1.0.0",
            "yamux echo"
        );

        // The node now has a connection whose chain says what was agreed.
        let chain = loop {
            match tokio::time::timeout(STEP, events.recv()).await?? {
                SwarmEvent::ConnectionEstablished {
                    peer_id,
                    direction,
                    chain,
                    ..
                } => {
                    ensure!(peer_id == fake_id && direction == Direction::Inbound);
                    break chain;
                }
                SwarmEvent::IncomingConnectionError { error, .. } => {
                    bail!("the node refused the connection: {error}")
                }
                _ => {}
            }
        };
        ensure!(
            chain.protocols() == [HEADER, "/noise", HEADER, "/yamux/1.0.0"],
            "{chain}"
        );
        node.shutdown().await;
        Ok(())
    })
    .await
    .context("test timed out")?
}

/// Our dialer against a c-ipfs-style listener that waits for us and answers one message at a
/// time, refusing our first choice: the node must take `na` and move on, and inside noise send
/// header and proposal in separate frames.
#[tokio::test]
async fn our_dialer_gets_through_a_c_ipfs_style_listener() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let our_key = Keypair::generate_ed25519();
        let our_id = our_key.public().to_peer_id();
        // plaintext first, so that the fake peer refuses something before agreeing.
        let node = node(
            our_key,
            vec![
                Arc::new(SecurityLayer(plaintext::PlaintextConfig::new())),
                noise_layer(),
            ],
        );
        let fake_key = Keypair::generate_ed25519();
        let fake_id = fake_key.public().to_peer_id();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let target = format!("/ip4/127.0.0.1/tcp/{port}/p2p/{fake_id}").parse()?;

        let dial = tokio::spawn({
            let node = node.clone();
            async move { node.dial(&target).await }
        });
        let (tcp, _) = tokio::time::timeout(STEP, listener.accept()).await??;
        let mut peer = FakePeer::new(tcp);

        // Raw leg: we wait for the dialer's header, then answer message by message.
        ensure!(
            peer.read_ms().await? == HEADER,
            "first message is not the header"
        );
        peer.write_ms(HEADER).await?;
        let proposals = peer.answer_proposals("/noise", false).await?;
        ensure!(
            proposals == ["/plaintext/2.0.0", "/noise"],
            "raw-leg proposals: {proposals:?}"
        );

        peer.noise(&fake_key, false, our_id).await?;

        // Secured leg: the header alone in its first frame, then the proposal in its own.
        ensure!(peer.read_secured_ms().await? == HEADER, "inner header");
        peer.write_secured_ms(HEADER).await?;
        let proposals = peer.answer_proposals("/yamux/1.0.0", true).await?;
        ensure!(proposals == ["/yamux/1.0.0"], "{proposals:?}");

        let conn = tokio::time::timeout(STEP, dial).await???;
        ensure!(conn.peer_id() == fake_id);
        ensure!(
            conn.chain().protocols() == [HEADER, "/noise", HEADER, "/yamux/1.0.0"],
            "{}",
            conn.chain()
        );
        node.shutdown().await;
        Ok(())
    })
    .await
    .context("test timed out")?
}

/// The same dialer with the default (rust-libp2p-style) settings packs header and proposal into
/// one frame: the check above would catch it. Guards the test against passing vacuously.
#[tokio::test]
async fn default_multistream_would_break_c_ipfs() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let our_key = Keypair::generate_ed25519();
        let our_id = our_key.public().to_peer_id();
        let node = SwarmBuilder::new(our_key)
            .security(vec![noise_layer()])
            .upgrade_timeout(Duration::from_secs(5))
            .build();
        let fake_key = Keypair::generate_ed25519();
        let fake_id = fake_key.public().to_peer_id();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let target = format!("/ip4/127.0.0.1/tcp/{port}/p2p/{fake_id}").parse()?;
        let _dial = tokio::spawn({
            let node = node.clone();
            async move { node.dial(&target).await }
        });
        let (tcp, _) = tokio::time::timeout(STEP, listener.accept()).await??;
        let mut peer = FakePeer::new(tcp);
        ensure!(peer.read_ms().await? == HEADER);
        peer.write_ms(HEADER).await?;
        peer.answer_proposals("/noise", false).await?;
        peer.noise(&fake_key, false, our_id).await?;
        let err = peer
            .read_secured_ms()
            .await
            .err()
            .ok_or_else(|| anyhow!("default settings sent the header alone in a frame"))?;
        ensure!(err.to_string().contains("c-ipfs would drop"), "{err}");
        node.shutdown().await;
        Ok(())
    })
    .await
    .context("test timed out")?
}
