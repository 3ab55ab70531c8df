//! Our node against a *fake* peer that behaves like c-ipfs (c-libp2p) on the wire, over real TCP
//! on 127.0.0.1: multistream and secio in both directions, and, in the topology the real c-ipfs
//! uses (it dials us: `c_ipfs_real.rs`), yamux and identify both ways. Each rule the fake checks
//! is something the real binary was seen (or its source read) to need; breaking one crashes or
//! stalls c-ipfs.
//!
//! Multistream (both directions): the fake reads and answers exactly one multistream message at
//! a time, answers `na` to anything it does not know, and as a dialer waits for the listener to
//! speak first (our listener must send its header unprompted, outside and inside the security
//! layer). Inside the security layer every frame we send must hold exactly one multistream
//! message (c-libp2p drops a proposal that shares a secio frame with the header). Since the
//! inner leg follows the security layer's `PeerFraming`, that holds with the default
//! multistream settings too (`default_multistream_settings_get_through_too`).
//!
//! Yamux and identify, the fake dialing us as c-ipfs does (`c_ipfs_style_dialer_over_yamux`):
//! - every secio frame we send holds exactly one complete yamux frame (c-libp2p decodes one per
//!   secio frame and takes what follows a WindowUpdate for its payload: a NULL dereference on a
//!   new stream); no Data frame of ours carries ACK (c-libp2p drops it) and our SYN is a bare
//!   WindowUpdate on an even id below 256;
//! - our first yamux frame is not a ping, and the first keep-alive ping comes one interval
//!   later, not at once; the fake answers it the c-libp2p way (header not encoded: flags read
//!   0x0200, opaque byte-swapped) and our session takes that as the answer (else its keep-alive
//!   timeout ends the connection within the test);
//! - the fake opens stream 1 the c-ipfs way (Data|SYN carrying its multistream header, no
//!   WindowUpdate first), proposes `/ipfs/id/1.0.0` after our header and gets the echo and our
//!   Identify (our RSA key, a varint-delimited protobuf);
//! - our `Swarm::identify` of the fake gets c-ipfs's glued answer (one multistream message: the
//!   echo and the bare protobuf, whose publicKey is the text of the peer id, only protocol and
//!   agent version besides, no FIN) as agent `c-ipfs/1.0` with the key secio authenticated;
//! - after that, no FIN on either stream (c-ipfs's FIN handler frees a stream its reader thread
//!   still uses), no ping (its pong races its other writes), nothing else, and the connection
//!   stays up.
//!
//! What it does *not* cover: the fake's secio is our own crate, not c-libp2p's code (so a bug
//! shared by both ends, e.g. in key stretching or algorithm order, would go unseen; the
//! real-peer interops are `c_ipfs_real.rs` and `py_secio_interop.rs`), with the default
//! algorithm lists rather than c-ipfs's; it does not imitate c-ipfs's timing (its ~5 s stall
//! on every stream we open, its unlocked secio writer racing two answers), its kad, or what it
//! does when we dial it and open streams (the real c-ipfs serves none then, see `c_ipfs_real.rs`);
//! our identify answer on stream 1 is checked only after our side knows the peer's agent (an
//! answer before that still ends with a FIN); the keep-alive interval is shortened to 1 s so
//! that the test sees a ping (10 s by default); and on the raw TCP leg, where write boundaries
//! are not observable, only the message order and content. Our node is the in-process `swarm`
//! with secio and RSA identities on both sides (c-ipfs is RSA-only); as a dialer it uses the
//! multistream settings of chain-node's `--c-ipfs-compat` (one message per write, never lazy),
//! as a listener the defaults (what `chain-node listen --security secio` ran against the real
//! c-ipfs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use bytes::BytesMut;
use chainp2p_core::identity::{Keypair, PeerId, PublicKey};
use chainp2p_core::SecurityHandler;
use chainp2p_identify::proto::Identify;
use chainp2p_multistream::MultistreamConfig;
use chainp2p_secio::codec::{parse_frame, write_header, HEADER_LEN, MAX_FRAME_LEN};
use chainp2p_secio::{Handshake, SecioConfig, Session, DEFAULT_MAX_HANDSHAKE_MESSAGE};
use chainp2p_swarm::{Direction, SwarmBuilder, SwarmEvent};
use chainp2p_yamux::codec::{Flags, FrameType, Header, HEADER_LEN as YAMUX_HEADER_LEN};
use chainp2p_yamux::YamuxConfig;
use prost::Message as _;
use rsa::pkcs8::EncodePrivateKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HEADER: &str = "/multistream/1.0.0";
const YAMUX: &str = "/yamux/1.0.0";
const IDENTIFY: &str = "/ipfs/id/1.0.0";
const STEP: Duration = Duration::from_secs(5);
/// The node's keep-alive interval in the yamux test (10 s by default).
const PING_INTERVAL: Duration = Duration::from_secs(1);
/// An unanswered (or unrecognised) ping ends the node's session this long after it was sent.
const KEEPALIVE_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long the fake listens for frames that must not come. Starting about one ping interval
/// in, it ends past both the second ping (2 intervals) and the keep-alive timeout of the first.
const QUIET: Duration = Duration::from_secs(2);
/// c-libp2p indexes a 256-entry array by stream id.
const C_LIBP2P_MAX_STREAM_ID: u32 = 256;

/// What chain-node uses with `--c-ipfs-compat`.
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

fn push_uvarint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// `Some((value, consumed))` for a whole uvarint at the start of `buf`.
fn parse_uvarint(buf: &[u8]) -> Result<Option<(usize, usize)>> {
    let mut value = 0usize;
    for (i, &b) in buf.iter().enumerate() {
        ensure!(i < 4, "a uvarint longer than the fake peer reads");
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    Ok(None)
}

/// `uvarint(len) ‖ text ‖ \n`.
fn ms(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    push_uvarint(&mut out, text.len() + 1);
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
    out
}

/// Parses one uvarint-delimited message at the start of `buf`: `Some((body, consumed))`.
fn parse_delimited(buf: &[u8]) -> Result<Option<(&[u8], usize)>> {
    let Some((len, used)) = parse_uvarint(buf)? else {
        return Ok(None);
    };
    Ok(buf.get(used..used + len).map(|body| (body, used + len)))
}

/// Parses one multistream message at the start of `buf`: `Some((text, consumed))`.
fn parse_ms(buf: &[u8]) -> Result<Option<(String, usize)>> {
    let Some((body, used)) = parse_delimited(buf)? else {
        return Ok(None);
    };
    let text = body
        .strip_suffix(b"\n")
        .ok_or_else(|| anyhow!("multistream message without newline: {body:?}"))?;
    Ok(Some((String::from_utf8(text.to_vec())?, used)))
}

/// What c-libp2p needs of a secio frame on the connection level before yamux: exactly one
/// multistream message.
fn one_ms(plain: &[u8]) -> Result<String> {
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

/// What c-libp2p needs of a secio frame once yamux runs: exactly one complete yamux frame.
fn one_yamux_frame(plain: &[u8]) -> Result<(Header, &[u8])> {
    let raw = plain
        .first_chunk::<YAMUX_HEADER_LEN>()
        .ok_or_else(|| anyhow!("a secio frame shorter than a yamux header: {plain:?}"))?;
    let header = Header::decode(raw).map_err(|e| anyhow!("not a yamux header ({e}): {raw:?}"))?;
    let len = YAMUX_HEADER_LEN + header.body_len();
    ensure!(
        plain.len() >= len,
        "a secio frame holds part of a yamux frame ({header:?}, {} of {len} bytes): c-libp2p \
         drops it or loses its stream position",
        plain.len()
    );
    ensure!(
        plain.len() == len,
        "a secio frame holds {header:?} and {} more bytes: c-libp2p decodes one yamux frame per \
         secio frame (after a WindowUpdate the rest is taken as its payload, a NULL dereference \
         on a new stream)",
        plain.len() - len
    );
    Ok((header, &plain[YAMUX_HEADER_LEN..]))
}

/// The flags c-libp2p takes from us (analysis of its yamux, checked against the real binary).
fn check_c_libp2p_flags(h: &Header) -> Result<()> {
    if h.frame_type == FrameType::Data && h.length > 0 {
        ensure!(
            !h.flags.contains(Flags::ACK),
            "{h:?}: ACK with data (c-libp2p drops any ACK on an existing stream, payload too)"
        );
        ensure!(
            !h.flags.contains(Flags::SYN),
            "{h:?}: SYN with data (c-libp2p dereferences NULL on a new stream's payload)"
        );
    }
    if h.flags.contains(Flags::SYN) && h.frame_type != FrameType::Ping {
        ensure!(
            h.frame_type == FrameType::WindowUpdate,
            "{h:?}: a SYN other than a bare WindowUpdate"
        );
        ensure!(
            h.stream_id.is_multiple_of(2)
                && h.stream_id != 0
                && h.stream_id < C_LIBP2P_MAX_STREAM_ID,
            "{h:?}: c-libp2p (always the yamux client) takes only even ids below 256 from us"
        );
    }
    Ok(())
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

    /// Secured leg: the plaintext of the next secio frame.
    async fn read_secured(&mut self) -> Result<Vec<u8>> {
        let mut frame = self.read_frame(MAX_FRAME_LEN).await?;
        let session = self.session.as_mut().ok_or_else(|| anyhow!("no session"))?;
        let body = &mut frame[HEADER_LEN..];
        let n = session.decoder.open_in_place(body)?;
        Ok(body[..n].to_vec())
    }

    /// Secured leg: `plain` as one secio frame, in one write.
    async fn write_secured(&mut self, plain: &[u8]) -> Result<()> {
        let session = self.session.as_mut().ok_or_else(|| anyhow!("no session"))?;
        let body_len = plain.len() + session.encoder.mac_len();
        let mut frame = vec![0u8; HEADER_LEN + body_len];
        write_header(&mut frame, body_len)?;
        frame[HEADER_LEN..HEADER_LEN + plain.len()].copy_from_slice(plain);
        session.encoder.seal_in_place(&mut frame[HEADER_LEN..])?;
        self.tcp.write_all(&frame).await?;
        Ok(())
    }

    /// Secured leg before yamux: one frame must hold exactly one multistream message.
    async fn read_secured_ms(&mut self) -> Result<String> {
        one_ms(&self.read_secured().await?)
    }

    /// Secured leg before yamux: one message, one frame.
    async fn write_secured_ms(&mut self, text: &str) -> Result<()> {
        self.write_secured(&ms(text)).await
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

/// The fake peer past the yamux agreement: it reads one secio frame at a time, checks each
/// holds one yamux frame c-libp2p takes, and keeps each stream's bytes in a buffer (c-libp2p
/// reads substreams as byte buffers, so messages may be split or joined there).
struct FakeYamux {
    peer: FakePeer,
    /// When the fake saw the node's `/yamux/1.0.0` echo.
    agreed: Instant,
    /// Every frame the node sent, in order.
    frames: Vec<Header>,
    /// Stream bytes not yet consumed, by stream id.
    bufs: HashMap<u32, Vec<u8>>,
    /// Streams the node opened, in order.
    opened: Vec<u32>,
    /// When each of the node's pings arrived.
    pings: Vec<Instant>,
}

impl FakeYamux {
    fn new(peer: FakePeer, agreed: Instant) -> Self {
        FakeYamux {
            peer,
            agreed,
            frames: Vec::new(),
            bufs: HashMap::new(),
            opened: Vec::new(),
            pings: Vec::new(),
        }
    }

    /// Reads and checks the node's next frame; answers a ping at once, as c-libp2p's reader
    /// thread does.
    async fn next_frame(&mut self) -> Result<Header> {
        let plain = self.peer.read_secured().await?;
        let (h, body) = one_yamux_frame(&plain)?;
        check_c_libp2p_flags(&h).with_context(|| format!("after the frames {:?}", self.frames))?;
        ensure!(
            !(self.frames.is_empty() && h.frame_type == FrameType::Ping),
            "the node's first yamux frame is a ping: c-ipfs answers it from another thread \
             than its other writes, unlocked ({h:?})"
        );
        self.frames.push(h);
        match h.frame_type {
            FrameType::Ping => {
                ensure!(
                    h.flags.contains(Flags::SYN),
                    "a ping that is no request: {h:?}"
                );
                self.pings.push(Instant::now());
                self.pong_unencoded(h.length).await?;
            }
            FrameType::GoAway => bail!("the node ended the session: {h:?}"),
            FrameType::Data | FrameType::WindowUpdate => {
                ensure!(
                    !h.flags.contains(Flags::RST),
                    "the node reset stream {}: {h:?}",
                    h.stream_id
                );
                if h.flags.contains(Flags::SYN) {
                    self.opened.push(h.stream_id);
                }
                self.bufs
                    .entry(h.stream_id)
                    .or_default()
                    .extend_from_slice(body);
            }
        }
        Ok(h)
    }

    /// c-libp2p's pong: the header never encoded, so flags (ACK) and the opaque go out in
    /// little-endian byte order (the flags read 0x0200).
    async fn pong_unencoded(&mut self, opaque: u32) -> Result<()> {
        let mut raw = vec![0u8, FrameType::Ping.as_u8()];
        raw.extend_from_slice(&Flags::ACK.0.to_le_bytes());
        raw.extend_from_slice(&0u32.to_le_bytes());
        raw.extend_from_slice(&opaque.to_le_bytes());
        self.peer.write_secured(&raw).await
    }

    /// One frame of ours: the header and the body, in one secio frame.
    async fn send(
        &mut self,
        frame_type: FrameType,
        flags: Flags,
        id: u32,
        body: &[u8],
    ) -> Result<()> {
        let length = match frame_type {
            FrameType::Data => u32::try_from(body.len())?,
            _ => 0,
        };
        let mut raw = BytesMut::new();
        Header::new(frame_type, flags, id, length).encode(&mut raw);
        raw.extend_from_slice(body);
        self.peer.write_secured(&raw).await
    }

    /// Reads frames until `done` holds.
    async fn pump_until(&mut self, what: &str, done: impl Fn(&Self) -> bool) -> Result<()> {
        while !done(self) {
            self.next_frame()
                .await
                .with_context(|| format!("waiting for {what}"))?;
        }
        Ok(())
    }

    /// Reads one multistream message on stream `id`.
    async fn read_ms_on(&mut self, id: u32) -> Result<String> {
        loop {
            let buf = self.bufs.entry(id).or_default();
            if let Some((text, used)) = parse_ms(buf)? {
                buf.drain(..used);
                return Ok(text);
            }
            self.next_frame()
                .await
                .with_context(|| format!("waiting for a message on stream {id}"))?;
        }
    }

    /// Reads one uvarint-delimited message on stream `id`.
    async fn read_delimited_on(&mut self, id: u32) -> Result<Vec<u8>> {
        loop {
            let buf = self.bufs.entry(id).or_default();
            if let Some((body, used)) = parse_delimited(buf)? {
                let body = body.to_vec();
                buf.drain(..used);
                return Ok(body);
            }
            self.next_frame()
                .await
                .with_context(|| format!("waiting for a message on stream {id}"))?;
        }
    }

    /// Listens for `window`: fails on a FIN or a ping (and on anything `next_frame` refuses);
    /// returns the other frames that came.
    async fn quiet(&mut self, window: Duration) -> Result<Vec<Header>> {
        let deadline = tokio::time::Instant::now() + window;
        let mut late = Vec::new();
        while let Ok(frame) = tokio::time::timeout_at(deadline, self.next_frame()).await {
            let h = frame?;
            ensure!(
                !h.flags.contains(Flags::FIN),
                "the node half-closed stream {} of c-ipfs ({h:?}): its FIN handler frees a stream \
                 its reader thread still uses",
                h.stream_id
            );
            ensure!(
                h.frame_type != FrameType::Ping,
                "the node pinged c-ipfs after its identify: {h:?}"
            );
            late.push(h);
        }
        Ok(late)
    }
}

/// The TCP port of a listen address.
fn port_of(addr: &chainp2p_core::multiaddr::Multiaddr) -> Result<u16> {
    addr.iter()
        .find_map(|p| match p {
            chainp2p_core::multiaddr::Protocol::Tcp(port) => Some(port),
            _ => None,
        })
        .ok_or_else(|| anyhow!("no port in {addr}"))
}

/// Dials `port` the c-ipfs way, up to the node's `/yamux/1.0.0` echo: it never speaks first,
/// offers something the node lacks (`na` expected), then what it has; message by message,
/// outside and inside secio. Returns the fake's side and when the echo arrived.
async fn dial_as_c_ipfs(port: u16, our_id: PeerId) -> Result<(FakePeer, Instant)> {
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

    peer.secio(&fake_rsa_key(), our_id).await?;

    // Secured leg: again the node speaks first, one message per frame.
    ensure!(peer.read_secured_ms().await? == HEADER, "inner header");
    peer.write_secured_ms(HEADER).await?;
    peer.write_secured_ms("/mplex/6.7.0").await?;
    ensure!(peer.read_secured_ms().await? == "na", "mplex: expected na");
    peer.write_secured_ms(YAMUX).await?;
    ensure!(peer.read_secured_ms().await? == YAMUX, "yamux echo");
    Ok((peer, Instant::now()))
}

/// The node's inbound connection from the fake, once established.
async fn inbound_connection(
    events: &mut tokio::sync::broadcast::Receiver<SwarmEvent>,
    fake_id: PeerId,
) -> Result<chainp2p_swarm::NegotiatedChain> {
    loop {
        match tokio::time::timeout(STEP, events.recv()).await?? {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                direction,
                chain,
                ..
            } => {
                ensure!(peer_id == fake_id && direction == Direction::Inbound);
                return Ok(chain);
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                bail!("the node refused the connection: {error}")
            }
            _ => {}
        }
    }
}

/// A c-ipfs-style dialer against our listener, up to the muxer: the node has a connection whose
/// chain says what was agreed.
#[tokio::test]
async fn c_ipfs_style_dialer_gets_through_our_listener() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let our_key = our_rsa_key();
        let our_id = our_key.public().to_peer_id();
        let node = SwarmBuilder::new(our_key)
            .security(vec![secio_layer()])
            .upgrade_timeout(Duration::from_secs(15))
            .build();
        let mut events = node.subscribe();
        let addr = node.listen(&"/ip4/127.0.0.1/tcp/0".parse()?).await?;
        let (_peer, _) = dial_as_c_ipfs(port_of(&addr)?, our_id).await?;
        let chain = inbound_connection(&mut events, fake_rsa_key().public().to_peer_id()).await?;
        ensure!(
            chain.protocols() == [HEADER, chainp2p_secio::PROTOCOL, HEADER, YAMUX],
            "{chain}"
        );
        node.shutdown().await;
        Ok(())
    })
    .await
    .context("test timed out")?
}

/// The same dialer on past the muxer, as the real c-ipfs goes on (see the module doc): yamux
/// frame by frame, identify both ways, and what must not follow.
#[tokio::test]
async fn c_ipfs_style_dialer_over_yamux() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(60), async {
        let our_key = our_rsa_key();
        let our_public = our_key.public();
        let our_id = our_public.to_peer_id();
        let fake_key = fake_rsa_key();
        let fake_id = fake_key.public().to_peer_id();
        let node = SwarmBuilder::new(our_key)
            .security(vec![secio_layer()])
            .muxers([YamuxConfig::default()
                .with_ping_interval(Some(PING_INTERVAL))
                .with_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))])
            .upgrade_timeout(Duration::from_secs(15))
            .build();
        let mut events = node.subscribe();
        let addr = node.listen(&"/ip4/127.0.0.1/tcp/0".parse()?).await?;
        let (peer, agreed) = dial_as_c_ipfs(port_of(&addr)?, our_id).await?;
        inbound_connection(&mut events, fake_id).await?;
        let conn = node
            .connection(&fake_id)
            .ok_or_else(|| anyhow!("no connection to the fake peer"))?;
        let mut y = FakeYamux::new(peer, agreed);

        // c-ipfs's dialer opens stream 1 at once: Data|SYN carrying its header, no
        // WindowUpdate first.
        y.send(FrameType::Data, Flags::SYN, 1, &ms(HEADER)).await?;
        // Meanwhile we ask who the peer is (the kad feeder does so on every connection).
        let ask = tokio::spawn({
            let node = node.clone();
            async move { node.identify(&fake_id).await }
        });
        // c-ipfs sends its proposal only once our header came (after a lone ACK at most).
        ensure!(y.read_ms_on(1).await? == HEADER, "our header on stream 1");

        // Our stream: a bare WindowUpdate|SYN on an even id (checked in `next_frame`).
        y.pump_until("our identify stream", |y| !y.opened.is_empty())
            .await?;
        let ours = y.opened[0];
        ensure!(ours == 2, "our first stream is {ours}, not 2");
        // c-libp2p answers a WindowUpdate|SYN with WindowUpdate|ACK (our delta, 0) and its
        // header, then reads our header and proposal from the stream's buffer.
        y.send(FrameType::WindowUpdate, Flags::ACK, ours, &[])
            .await?;
        y.send(FrameType::Data, Flags::NONE, ours, &ms(HEADER))
            .await?;
        ensure!(y.read_ms_on(ours).await? == HEADER, "our header on {ours}");
        ensure!(
            y.read_ms_on(ours).await? == IDENTIFY,
            "our proposal on {ours}"
        );

        // Our first keep-alive ping: one interval in, not at once; answered c-libp2p's way.
        y.pump_until("our first ping", |y| !y.pings.is_empty())
            .await?;
        let first_ping = y.pings[0].duration_since(y.agreed);
        ensure!(
            first_ping >= PING_INTERVAL / 2,
            "our first ping came {first_ping:?} after the yamux echo (interval {PING_INTERVAL:?})"
        );

        // c-ipfs's answer: ONE multistream message, the echo glued to the bare protobuf, whose
        // publicKey is the text of its peer id; no listen addresses, protocols or observed
        // address; no FIN afterwards.
        let info = Identify {
            public_key: Some(fake_id.to_base58().into_bytes()),
            protocol_version: Some("ipfs/0.1.0".to_owned()),
            agent_version: Some("c-ipfs/1.0".to_owned()),
            ..Identify::default()
        };
        let mut glued = format!("{IDENTIFY}\n").into_bytes();
        glued.extend_from_slice(&info.encode_to_vec());
        let mut msg = Vec::new();
        push_uvarint(&mut msg, glued.len());
        msg.extend_from_slice(&glued);
        y.send(FrameType::Data, Flags::NONE, ours, &msg).await?;
        let got = tokio::time::timeout(STEP, ask)
            .await
            .context("our identify of the fake peer")???;
        ensure!(got.agent_version == "c-ipfs/1.0", "{got:?}");
        ensure!(got.protocol_version == "ipfs/0.1.0", "{got:?}");
        ensure!(
            got.public_key == fake_key.public(),
            "not the key secio authenticated: {got:?}"
        );
        ensure!(
            got.listen_addrs.is_empty() && got.protocols.is_empty(),
            "{got:?}"
        );

        // c-ipfs's own identify request on stream 1: the echo, then our Identify.
        y.send(FrameType::Data, Flags::NONE, 1, &ms(IDENTIFY))
            .await?;
        ensure!(y.read_ms_on(1).await? == IDENTIFY, "our echo on stream 1");
        let answer = Identify::decode(y.read_delimited_on(1).await?.as_slice())?;
        let key = answer
            .public_key
            .as_deref()
            .ok_or_else(|| anyhow!("our Identify has no key: {answer:?}"))?;
        ensure!(
            PublicKey::try_decode_protobuf(key)? == our_public,
            "our Identify has another key than our RSA one"
        );
        ensure!(
            answer
                .agent_version
                .as_deref()
                .is_some_and(|a| a.starts_with("chain-node/")),
            "{answer:?}"
        );

        // Now that our side knows it is c-ipfs: no FIN on either stream, no ping, nothing
        // left on the streams, and the connection still up (an unrecognised pong would have
        // ended it within this window).
        let late = y.quiet(QUIET).await?;
        ensure!(late.is_empty(), "frames after identify: {late:?}");
        for id in [1, ours] {
            let left = y.bufs.get(&id).map_or(0, Vec::len);
            ensure!(left == 0, "{left} unread bytes on stream {id}");
        }
        ensure!(y.pings.len() == 1, "pings: {:?}", y.pings);
        let fins: Vec<&Header> = y
            .frames
            .iter()
            .filter(|h| h.flags.contains(Flags::FIN))
            .collect();
        ensure!(fins.is_empty(), "FIN frames: {fins:?}");
        ensure!(!conn.is_closed(), "the node closed the connection");
        ensure!(
            node.connection(&fake_id).is_some(),
            "the connection is gone"
        );
        node.shutdown().await;
        Ok(())
    })
    .await
    .context("test timed out")?
}

/// Our dialer against a c-ipfs-style listener that waits for us and answers one message at a
/// time, refusing our first choices; `proposals` are what it must see on the raw leg.
async fn our_dialer_through_c_ipfs_style_listener(
    node: chainp2p_swarm::Swarm,
    proposals: &[&str],
) -> Result<()> {
    let our_id = node.local_peer_id();
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
    let seen = peer
        .answer_proposals(chainp2p_secio::PROTOCOL, false)
        .await?;
    ensure!(seen == proposals, "raw-leg proposals: {seen:?}");

    peer.secio(&fake_key, our_id).await?;

    // Secured leg: the header alone in its first frame, then each proposal in its own.
    ensure!(peer.read_secured_ms().await? == HEADER, "inner header");
    peer.write_secured_ms(HEADER).await?;
    let seen = peer.answer_proposals(YAMUX, true).await?;
    ensure!(seen == [YAMUX], "{seen:?}");

    let conn = tokio::time::timeout(STEP, dial).await???;
    ensure!(conn.peer_id() == fake_id);
    ensure!(
        conn.chain().protocols() == [HEADER, chainp2p_secio::PROTOCOL, HEADER, YAMUX],
        "{}",
        conn.chain()
    );
    node.shutdown().await;
    Ok(())
}

/// With chain-node's `--c-ipfs-compat` settings, plaintext first, so that the fake refuses
/// something before agreeing: the node must take `na` and move on.
#[tokio::test]
async fn our_dialer_gets_through_a_c_ipfs_style_listener() -> Result<()> {
    let node = node(
        our_rsa_key(),
        vec![
            Arc::new(chainp2p_plaintext::PlaintextConfig::new()),
            secio_layer(),
        ],
    );
    tokio::time::timeout(
        Duration::from_secs(60),
        our_dialer_through_c_ipfs_style_listener(
            node,
            &["/plaintext/2.0.0", chainp2p_secio::PROTOCOL],
        ),
    )
    .await
    .context("test timed out")?
}

/// With the default (rust-libp2p-style) multistream settings the raw leg may pack header and
/// proposal into one write, but inside secio the node still sends one message per frame: the
/// inner leg follows the security layer's `PeerFraming` (secio: one message per frame).
#[tokio::test]
async fn default_multistream_settings_get_through_too() -> Result<()> {
    let node = SwarmBuilder::new(our_rsa_key())
        .security(vec![secio_layer()])
        .upgrade_timeout(Duration::from_secs(15))
        .build();
    tokio::time::timeout(
        Duration::from_secs(60),
        our_dialer_through_c_ipfs_style_listener(node, &[chainp2p_secio::PROTOCOL]),
    )
    .await
    .context("test timed out")?
}

/// The fake's frame checks reject what c-libp2p mishandles, so that the tests above cannot
/// pass vacuously.
#[test]
fn frame_checks_catch_what_c_libp2p_mishandles() {
    let header = |t, f, id, len| {
        let mut raw = BytesMut::new();
        Header::new(t, f, id, len).encode(&mut raw);
        raw.to_vec()
    };
    // Two multistream messages in one secio frame.
    let mut two = ms(HEADER);
    two.extend_from_slice(&ms(YAMUX));
    let err = one_ms(&two).unwrap_err().to_string();
    assert!(err.contains("c-ipfs would drop"), "{err}");
    assert_eq!(one_ms(&ms(HEADER)).unwrap(), HEADER);

    // A WindowUpdate|SYN batched with the stream's first Data frame (the crash).
    let mut batched = header(FrameType::WindowUpdate, Flags::SYN, 2, 0);
    let body = ms(HEADER);
    batched.extend_from_slice(&header(FrameType::Data, Flags::NONE, 2, body.len() as u32));
    batched.extend_from_slice(&body);
    let err = one_yamux_frame(&batched).unwrap_err().to_string();
    assert!(err.contains("one yamux frame per secio frame"), "{err}");
    // A Data frame cut short.
    let mut cut = header(FrameType::Data, Flags::NONE, 2, 20);
    cut.extend_from_slice(&body[..10]);
    assert!(one_yamux_frame(&cut).is_err());
    let mut whole = header(FrameType::Data, Flags::NONE, 2, body.len() as u32);
    whole.extend_from_slice(&body);
    let (h, b) = one_yamux_frame(&whole).unwrap();
    assert_eq!((h.stream_id, b), (2, body.as_slice()));

    // Flags: ACK or SYN with data, SYN on an odd or large id; a bare ACK and SYN pass.
    let bad = [
        Header::new(FrameType::Data, Flags::ACK, 1, 20),
        Header::new(FrameType::Data, Flags::SYN, 2, 20),
        Header::new(FrameType::WindowUpdate, Flags::SYN, 3, 0),
        Header::new(FrameType::WindowUpdate, Flags::SYN, 256, 0),
    ];
    for h in bad {
        assert!(check_c_libp2p_flags(&h).is_err(), "{h:?} passed");
    }
    let good = [
        Header::new(FrameType::WindowUpdate, Flags::ACK, 1, 0),
        Header::new(FrameType::WindowUpdate, Flags::SYN, 2, 0),
        Header::new(FrameType::Data, Flags::NONE, 1, 20),
        Header::new(FrameType::Ping, Flags::SYN, 0, 7),
    ];
    for h in good {
        check_c_libp2p_flags(&h).unwrap();
    }
}
