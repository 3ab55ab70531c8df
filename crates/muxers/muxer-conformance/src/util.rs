//! Helpers shared by the cases: step deadlines, a cheap checkable data pattern, pattern
//! writers/readers, and a ping-pong on a fresh stream.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chainp2p_core::{BoxStream, Muxer};
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use rand::{rngs::StdRng, RngCore, SeedableRng};
use tokio::sync::Notify;

/// The deadline of one step of a case (an open, an accept, a read that must wake up...).
pub const STEP: Duration = Duration::from_secs(5);

/// Runs `fut` for at most `limit`; the error names the step.
pub async fn within<T>(
    limit: Duration,
    what: &str,
    fut: impl Future<Output = T>,
) -> Result<T, String> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| format!("{what}: not done within {limit:?} (hang?)"))
}

/// The pattern's period: a prime, so it never lines up with frame or buffer sizes.
const PERIOD: usize = 65_521;

/// A stream of pseudo-random bytes repeating every 65,521 bytes, cheap to produce and to
/// check (`memcmp` against a precomputed buffer). Different seeds give different streams, so
/// data delivered to the wrong stream or direction is caught.
#[derive(Debug, Clone)]
pub struct Pattern {
    buf: Vec<u8>,
}

impl Pattern {
    /// Largest slice [`Pattern::chunk`] returns.
    pub const MAX_CHUNK: usize = 256 * 1024;

    /// The pattern for `seed`.
    pub fn new(seed: u64) -> Self {
        let mut period = vec![0u8; PERIOD];
        StdRng::seed_from_u64(seed).fill_bytes(&mut period);
        let mut buf = Vec::with_capacity(PERIOD + Self::MAX_CHUNK);
        while buf.len() < PERIOD + Self::MAX_CHUNK {
            buf.extend_from_slice(&period);
        }
        buf.truncate(PERIOD + Self::MAX_CHUNK);
        Pattern { buf }
    }

    /// The pattern's bytes at stream offset `offset`, `min(len, MAX_CHUNK)` of them.
    pub fn chunk(&self, offset: u64, len: usize) -> &[u8] {
        let start = (offset % PERIOD as u64) as usize;
        let len = len.min(Self::MAX_CHUNK);
        self.buf.get(start..start + len).unwrap_or_default()
    }

    /// Checks that `got` is the pattern at stream offset `offset`.
    pub fn check(&self, offset: u64, got: &[u8]) -> Result<(), String> {
        let mut off = offset;
        for piece in got.chunks(Self::MAX_CHUNK) {
            let want = self.chunk(off, piece.len());
            if want != piece {
                let i = want
                    .iter()
                    .zip(piece)
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                return Err(format!(
                    "data corrupted: byte at stream offset {} differs from what was sent",
                    off + i as u64
                ));
            }
            off += piece.len() as u64;
        }
        Ok(())
    }
}

/// Writes the bytes `start..total` of `pattern` in writes of at most `chunk` bytes, storing
/// the count accepted so far in `progress`, then flushes. Does not close.
pub(crate) async fn write_pattern<W: AsyncWrite + Unpin>(
    w: &mut W,
    pattern: &Pattern,
    (start, total): (u64, u64),
    chunk: usize,
    progress: &AtomicU64,
) -> io::Result<()> {
    write_paced(w, pattern, (start, total), chunk, progress, None).await
}

/// An application-level window between a writer and its reader in the same process, for
/// muxers without flow control: the reader publishes what it read, the writer stays at most
/// `ahead` bytes in front.
#[derive(Debug)]
pub(crate) struct Pacing {
    read: AtomicU64,
    notify: Notify,
    ahead: u64,
}

impl Pacing {
    /// A window of `ahead` bytes.
    pub(crate) fn new(ahead: u64) -> Self {
        Pacing {
            read: AtomicU64::new(0),
            notify: Notify::new(),
            ahead,
        }
    }

    /// The reader has read `total` bytes so far.
    pub(crate) fn advance(&self, total: u64) {
        self.read.store(total, Ordering::Release);
        self.notify.notify_one();
    }

    /// Waits until the reader is at most `ahead` bytes behind `written`.
    async fn wait(&self, written: u64) {
        while written.saturating_sub(self.read.load(Ordering::Acquire)) > self.ahead {
            self.notify.notified().await;
        }
    }
}

/// [`write_pattern`], optionally paced by `pacing`.
pub(crate) async fn write_paced<W: AsyncWrite + Unpin>(
    w: &mut W,
    pattern: &Pattern,
    (start, total): (u64, u64),
    chunk: usize,
    progress: &AtomicU64,
    pacing: Option<&Pacing>,
) -> io::Result<()> {
    let mut off = start;
    while off < total {
        if let Some(p) = pacing {
            p.wait(off).await;
        }
        let len = chunk.min((total - off) as usize);
        let n = w.write(pattern.chunk(off, len)).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "write accepted 0 bytes",
            ));
        }
        off += n as u64;
        progress.store(off, Ordering::Relaxed);
    }
    w.flush().await
}

/// How a pattern read ended.
#[derive(Debug)]
pub(crate) struct ReadEnd {
    /// Bytes read and checked.
    pub(crate) bytes: u64,
    /// `None`: EOF (`Ok(0)`); `Some`: the read error.
    pub(crate) error: Option<io::Error>,
}

/// Reads until EOF or an error, checking every byte against `pattern` from `start`; `Err`
/// only for corrupted data or more than `max` bytes.
pub(crate) async fn read_pattern<R: AsyncRead + Unpin>(
    r: &mut R,
    pattern: &Pattern,
    start: u64,
    max: u64,
) -> Result<ReadEnd, String> {
    read_paced(r, pattern, start, max, None).await
}

/// [`read_pattern`], publishing progress to `pacing`.
pub(crate) async fn read_paced<R: AsyncRead + Unpin>(
    r: &mut R,
    pattern: &Pattern,
    start: u64,
    max: u64,
    pacing: Option<&Pacing>,
) -> Result<ReadEnd, String> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut off = start;
    loop {
        match r.read(&mut buf).await {
            Ok(0) => {
                return Ok(ReadEnd {
                    bytes: off,
                    error: None,
                })
            }
            Ok(n) => {
                pattern.check(off, buf.get(..n).unwrap_or_default())?;
                off += n as u64;
                if let Some(p) = pacing {
                    p.advance(off);
                }
                if off > max {
                    return Err(format!("received {off} bytes, more than the {max} sent"));
                }
            }
            Err(e) => {
                return Ok(ReadEnd {
                    bytes: off,
                    error: Some(e),
                })
            }
        }
    }
}

/// Reads to EOF, at most `limit` bytes (more is an error).
pub(crate) async fn read_all<R: AsyncRead + Unpin>(r: &mut R, limit: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(buf.get(..n).unwrap_or_default());
        if out.len() > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "more data than expected",
            ));
        }
    }
}

/// Opens a stream (within [`STEP`]).
pub(crate) async fn open(m: &dyn Muxer, who: &str) -> Result<BoxStream, String> {
    within(STEP, &format!("{who} open_stream()"), m.open_stream())
        .await?
        .map_err(|e| format!("{who} open_stream() failed: {e}"))
}

/// Accepts a stream (within [`STEP`]); `Ok(None)` on a live session is an error.
pub(crate) async fn accept(m: &dyn Muxer, who: &str) -> Result<BoxStream, String> {
    within(STEP, &format!("{who} accept_stream()"), m.accept_stream())
        .await?
        .map_err(|e| format!("{who} accept_stream() failed: {e}"))?
        .ok_or_else(|| format!("{who} accept_stream() returned None on a live session"))
}

/// Maps an I/O error of step `what` to the case's error message.
pub(crate) fn io_err(what: &str) -> impl Fn(io::Error) -> String + '_ {
    move |e| format!("{what} failed: {e}")
}

/// Opens a new stream on `opener`, sends `ping` and half-closes; the `acceptor` answers
/// `pong` and closes. Inbound streams that carry something else (leftovers of a case: reset
/// or dropped streams) are skipped, at most 64 of them. Proves the session is still usable.
pub async fn ping_pong(opener: &dyn Muxer, acceptor: &dyn Muxer) -> Result<(), String> {
    let client = async {
        let mut s = open(opener, "ping-pong").await?;
        s.write_all(b"ping")
            .await
            .map_err(io_err("ping-pong write"))?;
        s.close().await.map_err(io_err("ping-pong close"))?;
        let got = read_all(&mut s, 16)
            .await
            .map_err(io_err("ping-pong read of pong"))?;
        if got != b"pong" {
            return Err(format!("ping-pong: expected b\"pong\", got {got:?}"));
        }
        Ok::<_, String>(())
    };
    let server = async {
        for _ in 0..64 {
            let mut s = accept(acceptor, "ping-pong").await?;
            match read_all(&mut s, 16).await {
                Ok(got) if got == b"ping" => {
                    s.write_all(b"pong")
                        .await
                        .map_err(io_err("ping-pong write of pong"))?;
                    s.close().await.map_err(io_err("ping-pong close"))?;
                    return Ok(());
                }
                Ok(_) | Err(_) => continue,
            }
        }
        Err("ping-pong: the ping stream never arrived".to_string())
    };
    let (c, s) = within(
        STEP,
        "ping-pong on a new stream",
        futures::future::join(client, server),
    )
    .await?;
    c.and(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_wraps_and_catches_corruption() {
        let p = Pattern::new(7);
        let q = Pattern::new(8);
        assert_ne!(p.chunk(0, 64), q.chunk(0, 64));
        assert_eq!(p.chunk(0, 100), p.chunk(PERIOD as u64, 100));
        assert_eq!(p.chunk(0, usize::MAX).len(), Pattern::MAX_CHUNK);
        let mut data: Vec<u8> = p.chunk(1000, 5000).to_vec();
        p.check(1000, &data).unwrap();
        assert!(p.check(1001, &data).is_err());
        data[4321] ^= 1;
        let e = p.check(1000, &data).unwrap_err();
        assert!(e.contains("offset 5321"), "{e}");
    }

    #[test]
    fn pattern_checks_reads_longer_than_a_chunk() {
        let p = Pattern::new(9);
        let mut long = p.chunk(10, Pattern::MAX_CHUNK).to_vec();
        long.extend_from_slice(p.chunk(10 + Pattern::MAX_CHUNK as u64, 1000));
        p.check(10, &long).unwrap();
    }
}
