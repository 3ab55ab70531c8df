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
//! The security layer is secio (`/secio/1.0.0`, what c-ipfs speaks), with RSA identities on both
//! sides (c-ipfs is RSA-only). The fake peer runs it through the secio crate's sans-IO API
//! (`Handshake`, `Session`, `CipherState`): it sends its Propose at once, as both sides do, checks
//! the node's nonce echo as the node's first encrypted frame, then opens one secio frame at a
//! time, so that it sees frame boundaries.
//!
//! What it does *not* cover: the fake peer's secio is our own crate, not c-libp2p's code (so a
//! bug shared by both ends, e.g. in key stretching or algorithm order, would go unseen; the
//! real-peer interop is `py_secio_interop.rs`), and it uses the default algorithm lists rather
//! than c-ipfs's; nothing past the muxer negotiation (no yamux frames, no identify); and on the
//! raw TCP leg, where write boundaries are not observable, only the message order and content.
//! Our node is the in-process `swarm` with the c-ipfs multistream settings chain-node uses for
//! `--security secio` (one message per write, never lazy).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, bail, ensure, Context, Result};
use chainp2p_core::identity::{Keypair, PeerId};
use chainp2p_core::SecurityHandler;
use chainp2p_multistream::MultistreamConfig;
use chainp2p_secio::codec::{parse_frame, write_header, HEADER_LEN, MAX_FRAME_LEN};
use chainp2p_secio::{Handshake, SecioConfig, Session, DEFAULT_MAX_HANDSHAKE_MESSAGE};
use chainp2p_swarm::{Direction, SwarmBuilder, SwarmEvent};
use rsa::pkcs8::EncodePrivateKey;
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

fn node(key: Keypair, security: Vec<Arc<dyn SecurityHandler>>) -> chainp2p_swarm::Swarm {
    SwarmBuilder::new(key)
        .multistream(c_ipfs_multistream())
        .security(security)
        .upgrade_timeout(Duration::from_secs(15))
        .build()
}

fn secio_layer() -> Arc<dyn SecurityHandler> {
    Arc::new(SecioConfig::new())
}

/// Our node's identity: the RSA-2048 fixture of the secio crate.
fn our_rsa_key() -> Keypair {
    let mut der = include_bytes!("../../crates/security/secio/tests/fixtures/rsa2048.pk8").to_vec();
    Keypair::rsa_from_pkcs8(&mut der).expect("the RSA fixture loads")
}

/// The fake peer's identity: another RSA-2048 key (a distinct PeerId), made once per run.
fn fake_rsa_key() -> Keypair {
    static KEY: OnceLock<Keypair> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA keygen");
        let mut der = key.to_pkcs8_der().expect("PKCS#8").as_bytes().to_vec();
        Keypair::rsa_from_pkcs8(&mut der).expect("the generated key loads")
    })
    .clone()
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
    session: Option<Session>,
}

impl FakePeer {
    fn new(tcp: TcpStream) -> Self {
        FakePeer {
            tcp,
            buf: Vec::new(),
            session: None,
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

    /// One whole secio frame from the wire (header included), at most `max` bytes of body.
    async fn read_frame(&mut self, max: usize) -> Result<Vec<u8>> {
        loop {
            if let Some(total) = parse_frame(&self.buf, max)? {
                return Ok(self.buf.drain(..total).collect());
            }
            self.fill().await?;
        }
    }

    /// Writes one plaintext secio handshake frame (length prefix, body) in one write.
    async fn write_plain_frame(&mut self, body: &[u8]) -> Result<()> {
        let mut frame = vec![0u8; HEADER_LEN];
        write_header(&mut frame, body.len())?;
        frame.extend_from_slice(body);
        self.tcp.write_all(&frame).await?;
        Ok(())
    }

    /// Runs the secio handshake over the raw leg with the sans-IO API. Secio is symmetric: the
    /// Propose goes out at once, before anything is read (c-ipfs does the same).
    async fn secio(&mut self, key: &Keypair, expected: PeerId) -> Result<()> {
        let mut hs = Handshake::new(&SecioConfig::new(), key, Some(expected));
        let proposal = hs.local_proposal().to_vec();
        self.write_plain_frame(&proposal).await?;
        let frame = self.read_frame(DEFAULT_MAX_HANDSHAKE_MESSAGE).await?;
        let exchange = hs.on_proposal(&frame[HEADER_LEN..])?;
        self.write_plain_frame(&exchange).await?;
        let frame = self.read_frame(DEFAULT_MAX_HANDSHAKE_MESSAGE).await?;
        let mut session = hs.on_exchange(&frame[HEADER_LEN..])?;
        ensure!(
            session.remote_peer == expected,
            "secio authenticated the wrong peer"
        );
        self.tcp.write_all(&session.nonce_frame()?).await?;
        // The node's first encrypted frame must be our nonce, alone.
        let mut frame = self.read_frame(DEFAULT_MAX_HANDSHAKE_MESSAGE).await?;
        session
            .check_nonce(&mut frame[HEADER_LEN..])
            .context("the node's first secio frame is not our nonce alone")?;
        self.session = Some(session);
        Ok(())
    }

    /// Secured leg: one frame must hold exactly one multistream message (what c-ipfs needs).
    async fn read_secured_ms(&mut self) -> Result<String> {
        let mut frame = self.read_frame(MAX_FRAME_LEN).await?;
        let session = self.session.as_mut().ok_or_else(|| anyhow!("no session"))?;
        let body = &mut frame[HEADER_LEN..];
        let n = session.decoder.open_in_place(body)?;
        let plain = &body[..n];
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
        let session = self.session.as_mut().ok_or_else(|| anyhow!("no session"))?;
        let msg = ms(text);
        let body_len = msg.len() + session.encoder.mac_len();
        let mut frame = vec![0u8; HEADER_LEN + body_len];
        write_header(&mut frame, body_len)?;
        frame[HEADER_LEN..HEADER_LEN + msg.len()].copy_from_slice(&msg);
        session.encoder.seal_in_place(&mut frame[HEADER_LEN..])?;
        self.tcp.write_all(&frame).await?;
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
/// lack (`na` expected), then what we have; message by message, outside and inside secio.
#[tokio::test]
async fn c_ipfs_style_dialer_gets_through_our_listener() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let our_key = our_rsa_key();
        let our_id = our_key.public().to_peer_id();
        let node = node(our_key, vec![secio_layer()]);
        let mut events = node.subscribe();
        let addr = node.listen(&"/ip4/127.0.0.1/tcp/0".parse()?).await?;
        let port = addr
            .iter()
            .find_map(|p| match p {
                chainp2p_core::multiaddr::Protocol::Tcp(port) => Some(port),
                _ => None,
            })
            .ok_or_else(|| anyhow!("no port in {addr}"))?;

        let fake_key = fake_rsa_key();
        let fake_id = fake_key.public().to_peer_id();
        let mut peer = FakePeer::new(TcpStream::connect(("127.0.0.1", port)).await?);

        // Raw leg: we wait; the node's header must come unprompted.
        ensure!(
            peer.read_ms().await? == HEADER,
            "first message is not the header"
        );
        peer.write_ms(HEADER).await?;
        peer.write_ms("/noise").await?;
        ensure!(
            peer.read_ms().await? == "na",
            "noise is not offered here: expected na"
        );
        peer.write_ms(chainp2p_secio::PROTOCOL).await?;
        ensure!(
            peer.read_ms().await? == chainp2p_secio::PROTOCOL,
            "expected the /secio/1.0.0 echo"
        );
        // No emptiness check here: secio is symmetric, so the node's Propose may already follow
        // the echo in the buffer; the handshake below parses it from there.

        peer.secio(&fake_key, our_id).await?;

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
            chain.protocols() == [HEADER, chainp2p_secio::PROTOCOL, HEADER, "/yamux/1.0.0"],
            "{chain}"
        );
        node.shutdown().await;
        Ok(())
    })
    .await
    .context("test timed out")?
}

/// Our dialer against a c-ipfs-style listener that waits for us and answers one message at a
/// time, refusing our first choice: the node must take `na` and move on, and inside secio send
/// header and proposal in separate frames.
#[tokio::test]
async fn our_dialer_gets_through_a_c_ipfs_style_listener() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let our_key = our_rsa_key();
        let our_id = our_key.public().to_peer_id();
        // plaintext first, so that the fake peer refuses something before agreeing.
        let node = node(
            our_key,
            vec![
                Arc::new(chainp2p_plaintext::PlaintextConfig::new()),
                secio_layer(),
            ],
        );
        let fake_key = fake_rsa_key();
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
        let proposals = peer
            .answer_proposals(chainp2p_secio::PROTOCOL, false)
            .await?;
        ensure!(
            proposals == ["/plaintext/2.0.0", chainp2p_secio::PROTOCOL],
            "raw-leg proposals: {proposals:?}"
        );

        peer.secio(&fake_key, our_id).await?;

        // Secured leg: the header alone in its first frame, then the proposal in its own.
        ensure!(peer.read_secured_ms().await? == HEADER, "inner header");
        peer.write_secured_ms(HEADER).await?;
        let proposals = peer.answer_proposals("/yamux/1.0.0", true).await?;
        ensure!(proposals == ["/yamux/1.0.0"], "{proposals:?}");

        let conn = tokio::time::timeout(STEP, dial).await???;
        ensure!(conn.peer_id() == fake_id);
        ensure!(
            conn.chain().protocols() == [HEADER, chainp2p_secio::PROTOCOL, HEADER, "/yamux/1.0.0"],
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
        let our_key = our_rsa_key();
        let our_id = our_key.public().to_peer_id();
        let node = SwarmBuilder::new(our_key)
            .security(vec![secio_layer()])
            .upgrade_timeout(Duration::from_secs(5))
            .build();
        let fake_key = fake_rsa_key();
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
        peer.answer_proposals(chainp2p_secio::PROTOCOL, false)
            .await?;
        peer.secio(&fake_key, our_id).await?;
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
