//! Muxer interop harness: a rust-libp2p 0.57 peer whose muxer is chosen (`libp2p-yamux` 0.48 or
//! `libp2p-mplex` 0.44), and deterministic per-stream byte patterns checked without storing the data.
//!
//! [`MuxPeer`] runs TCP + noise + the chosen muxer with ping, identify, a `/perf/1.0.0` server and
//! `libp2p-stream` for any extra protocols. libp2p-stream hands inbound streams over through a channel
//! with **one** slot per protocol and drops (resets) a stream that finds it full, so concurrent inbound
//! streams must each use their own protocol id; every registered protocol is drained at once into
//! [`MuxPeer::next_inbound`].

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::{PeerId, Stream};
use tokio::sync::mpsc;

pub use super::rust_peer::RustMuxer;
use super::rust_peer::RustPeer;

/// A running rust-libp2p peer with a chosen muxer: a [`RustPeer`] (whose methods it derefs to) that
/// accepts streams of extra protocols. Dropping it stops its tasks.
pub struct MuxPeer {
    peer: RustPeer,
    inbound: mpsc::UnboundedReceiver<(String, PeerId, Stream)>,
}

impl Deref for MuxPeer {
    type Target = RustPeer;

    fn deref(&self) -> &RustPeer {
        &self.peer
    }
}

impl DerefMut for MuxPeer {
    fn deref_mut(&mut self) -> &mut RustPeer {
        &mut self.peer
    }
}

impl MuxPeer {
    /// Builds the swarm from the `--seed` keypair, serves `/perf/1.0.0`, and accepts inbound streams of
    /// every protocol in `protocols` into [`MuxPeer::next_inbound`].
    pub fn spawn(seed: u64, muxer: RustMuxer, protocols: &[String]) -> Result<Self> {
        let mut peer = RustPeer::spawn_muxed(seed, muxer)?;
        let inbound = peer.accept(protocols)?;
        Ok(Self { peer, inbound })
    }

    /// Waits for a connection with `peer`; returns whether we were the dialer. Fails on a dial error and
    /// on an inbound connection failing its upgrade.
    pub async fn wait_connected(&mut self, peer: PeerId, timeout: Duration) -> Result<bool> {
        self.peer.wait_connected_strict(peer, timeout).await
    }

    /// The next inbound stream of one of the extra protocols: `(protocol, remote, stream)`.
    pub async fn next_inbound(&mut self, timeout: Duration) -> Result<(String, PeerId, Stream)> {
        match tokio::time::timeout(timeout, self.inbound.recv()).await {
            Ok(Some(s)) => Ok(s),
            Ok(None) => bail!("rust inbound stream forwarders are gone"),
            Err(_) => bail!("no inbound stream on the rust peer within {timeout:?}"),
        }
    }
}

/// Period of a [`Pattern`]: a prime, so a chunk delivered at the wrong offset never matches.
const PERIOD: usize = 65_521;

/// Size of one read or write on a pattern stream.
const IO_CHUNK: usize = 64 * 1024;

/// A deterministic byte stream distinct per seed: a pseudo-random block of [`PERIOD`] bytes, repeated.
/// Checked slice by slice as it arrives, so nothing is stored.
pub struct Pattern {
    block: Vec<u8>,
}

impl Pattern {
    /// The pattern of `seed` (splitmix64 output).
    pub fn new(seed: u64) -> Self {
        let mut state = seed ^ 0x5EED_5EED_5EED_5EED;
        let mut block = Vec::with_capacity(PERIOD + 8);
        while block.len() < PERIOD {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            block.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        block.truncate(PERIOD);
        Self { block }
    }

    /// Writes the first `len` bytes of the pattern (in chunks of up to 64 KiB); does not close.
    pub async fn write<W: AsyncWrite + Unpin + ?Sized>(
        &self,
        w: &mut W,
        len: usize,
    ) -> std::io::Result<()> {
        let mut off = 0;
        while off < len {
            let pos = off % PERIOD;
            let n = (PERIOD - pos).min(len - off).min(IO_CHUNK);
            w.write_all(&self.block[pos..pos + n]).await?;
            off += n;
        }
        w.flush().await
    }

    /// Whether `data` equals the pattern at `offset`; on a mismatch returns the first bad offset.
    pub fn check(&self, offset: usize, data: &[u8]) -> Result<(), usize> {
        let mut done = 0;
        while done < data.len() {
            let pos = (offset + done) % PERIOD;
            let n = (PERIOD - pos).min(data.len() - done);
            let got = &data[done..done + n];
            let want = &self.block[pos..pos + n];
            if got != want {
                let i = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(0);
                return Err(offset + done + i);
            }
            done += n;
        }
        Ok(())
    }

    /// Reads to EOF and checks that exactly the first `len` bytes of the pattern arrived.
    pub async fn expect<R: AsyncRead + Unpin + ?Sized>(&self, r: &mut R, len: usize) -> Result<()> {
        let mut buf = vec![0u8; IO_CHUNK];
        let mut total = 0usize;
        loop {
            let n = r
                .read(&mut buf)
                .await
                .with_context(|| format!("reading after {total} of {len} bytes"))?;
            if n == 0 {
                break;
            }
            if total + n > len {
                bail!(
                    "received more than the {len} bytes sent ({} so far)",
                    total + n
                );
            }
            if let Err(at) = self.check(total, &buf[..n]) {
                bail!("byte {at} of {len} differs from what was sent");
            }
            total += n;
        }
        if total != len {
            bail!("EOF after {total} of {len} bytes");
        }
        Ok(())
    }
}

/// Sends `send`'s first `len` bytes and closes the write half while reading `expect`'s first `len`
/// bytes to EOF, concurrently (neither direction waits for the other).
pub async fn exchange<S>(stream: S, send: &Pattern, expect: &Pattern, len: usize) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut r, mut w) = stream.split();
    let writer = async {
        send.write(&mut w, len).await.context("writing")?;
        w.close().await.context("closing the write half")?;
        anyhow::Ok(())
    };
    let reader = expect.expect(&mut r, len);
    // try_join: a failed read stops the writer too (else both peers could wait on flow control).
    futures::future::try_join(writer, reader).await?;
    Ok(())
}
