//! Helpers shared by the integration tests: in-memory pipes, a write recorder, a test handler.
#![allow(dead_code)]

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use chainp2p_core::identity::Keypair;
use chainp2p_core::{BoxStream, ChainError, HandlerContext, Next, Role, StreamHandler};
use chainp2p_multistream::{dialer_select, listener_select, MultistreamConfig, Negotiated};
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::compat::TokioAsyncReadCompatExt;

/// Upper bound for any single test.
pub const BOUND: Duration = Duration::from_secs(5);

/// Two ends of an in-memory duplex pipe.
pub fn pipe() -> (BoxStream, BoxStream) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    (Box::new(a.compat()), Box::new(b.compat()))
}

/// The writes (one entry per `poll_write`) and flushes a stream saw.
#[derive(Clone, Default)]
pub struct Log(pub Arc<Mutex<Vec<Vec<u8>>>>);

impl Log {
    pub fn writes(&self) -> Vec<Vec<u8>> {
        self.0.lock().unwrap().clone()
    }
    pub fn all(&self) -> Vec<u8> {
        self.writes().concat()
    }
}

/// A stream that records every write it passes on.
pub struct Recording {
    pub inner: BoxStream,
    pub log: Log,
}

pub fn recording(inner: BoxStream) -> (BoxStream, Log) {
    let log = Log::default();
    (
        Box::new(Recording {
            inner,
            log: log.clone(),
        }),
        log,
    )
}

impl AsyncRead for Recording {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Recording {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            this.log.0.lock().unwrap().push(buf[..*n].to_vec());
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// An application protocol that echoes one 5-byte message and reports what it saw.
pub struct Echo {
    pub id: String,
    pub seen: Arc<Mutex<Vec<(String, usize)>>>,
}

impl Echo {
    pub fn new(id: &str) -> Arc<Echo> {
        Arc::new(Echo {
            id: id.to_owned(),
            seen: Arc::default(),
        })
    }
}

#[async_trait]
impl StreamHandler for Echo {
    fn protocols(&self) -> Vec<String> {
        vec![self.id.clone()]
    }

    async fn handle(
        &self,
        protocol: &str,
        mut io: BoxStream,
        ctx: HandlerContext,
    ) -> Result<Next, ChainError> {
        self.seen
            .lock()
            .unwrap()
            .push((protocol.to_owned(), ctx.chain.steps().len()));
        let mut buf = [0u8; 5];
        match ctx.role {
            Role::Listener => {
                io.read_exact(&mut buf)
                    .await
                    .map_err(|e| ChainError::from_io("echo", e))?;
                io.write_all(&buf)
                    .await
                    .map_err(|e| ChainError::from_io("echo", e))?;
            }
            Role::Dialer => {
                io.write_all(b"hello")
                    .await
                    .map_err(|e| ChainError::from_io("echo", e))?;
                io.flush()
                    .await
                    .map_err(|e| ChainError::from_io("echo", e))?;
                io.read_exact(&mut buf)
                    .await
                    .map_err(|e| ChainError::from_io("echo", e))?;
                assert_eq!(&buf, b"hello");
            }
        }
        Ok(Next::Done)
    }
}

pub fn ctx(role: Role) -> HandlerContext {
    HandlerContext::new(role, Arc::new(Keypair::generate_ed25519()))
}

pub fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Reads one multistream message from a raw stream (test peers only).
pub async fn read_msg(io: &mut BoxStream) -> Vec<u8> {
    let mut len = [0u8; 1];
    io.read_exact(&mut len).await.unwrap();
    assert!(len[0] < 0x80, "test peers only read short messages");
    let mut body = vec![0u8; len[0] as usize];
    io.read_exact(&mut body).await.unwrap();
    body
}

/// Encodes a short message.
pub fn msg(text: &str) -> Vec<u8> {
    let mut v = vec![(text.len() + 1) as u8];
    v.extend_from_slice(text.as_bytes());
    v.push(b'\n');
    v
}

/// Our dialer over `io`, owning its protocol list (handy inside `join!`).
pub async fn dial(
    io: BoxStream,
    protos: &[&str],
    cfg: MultistreamConfig,
) -> Result<Negotiated, ChainError> {
    dialer_select(io, &ids(protos), &cfg).await
}

/// Our listener over `io`, owning its protocol list (handy inside `join!`).
pub async fn listen(
    io: BoxStream,
    protos: &[&str],
    cfg: MultistreamConfig,
) -> Result<Negotiated, ChainError> {
    listener_select(io, &ids(protos), &cfg).await
}

pub const HEADER: &[u8] = b"\x13/multistream/1.0.0\n";
