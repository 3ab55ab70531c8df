//! The async shell: [`KadHandler`], the [`StreamHandler`] serving inbound kad streams through a
//! [`KadServer`], and [`send_request`], the client side of one request on a stream.
//!
//! Inbound, a stream carries any number of request/response pairs in order (go reuses its
//! streams); the handler reads requests until EOF, an error (the stream is then dropped, which
//! resets it) or [`Config::inbound_idle_timeout`] without a new request. Each peer may have
//! at most [`Config::max_inbound_streams_per_peer`] streams served at once.
//!
//! Frames are read exactly (prefix byte by byte, then the body): nothing past a message is
//! consumed, so a stream can be handed on or reused after a request, and a body buffer grows
//! only as its bytes arrive.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::{BoxStream, ChainError, HandlerContext, Next, StreamHandler};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::codec::{decode_length_prefix, MAX_PREFIX_LEN};
use crate::config::Config;
use crate::error::KadError;
use crate::message::{DecodeLimits, Decoded, Request, Response};

/// Body bytes reserved up front when a frame starts; the rest grows as it arrives.
const INITIAL_BODY_CAPACITY: usize = 64 * 1024;

/// Answers inbound requests. Called by [`KadHandler`] once per request, in order per stream.
pub trait KadServer: Send + Sync {
    /// The answer to `request` from the authenticated peer `from` (connected from `from_addr`,
    /// when known). `Ok(None)` for ADD_PROVIDER (which has no response); `Ok(None)` to any
    /// other request sends nothing and waits for the next one, as go does. An error (e.g.
    /// [`KadError::Refused`]) ends the stream with a reset, so the requester fails at once. The
    /// answer must be of the request's type, or the stream is reset.
    fn handle(
        &self,
        from: &PeerId,
        from_addr: Option<&Multiaddr>,
        request: Request,
    ) -> Result<Option<Response>, KadError>;
}

/// How an inbound stream ended without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEnd {
    /// The peer closed its side after its last request.
    Eof,
    /// No request within the idle timeout.
    Idle,
}

/// What [`KadHandler::serve`] did on one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeReport {
    /// Requests handled (including ADD_PROVIDERs, which get no answer).
    pub requests: u64,
    /// Responses written.
    pub responses: u64,
    /// Peers cut from responses to fit [`Config::max_response_size`].
    pub peers_cut: usize,
    /// How the stream ended.
    pub end: StreamEnd,
}

/// Serves the kad protocol id of its [`Config`]. Cheap to clone; clones share the server
/// and the per-peer stream counts.
#[derive(Clone)]
pub struct KadHandler {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    limits: DecodeLimits,
    server: Arc<dyn KadServer>,
    inbound: Mutex<HashMap<PeerId, usize>>,
}

impl std::fmt::Debug for KadHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KadHandler")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// One peer's slot among its concurrent inbound streams; released on drop.
struct InboundSlot {
    inner: Arc<Inner>,
    peer: PeerId,
}

impl Drop for InboundSlot {
    fn drop(&mut self) {
        let mut map = self
            .inner
            .inbound
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.peer) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.peer);
            }
        }
    }
}

impl KadHandler {
    /// A handler answering with `server`; fails if `config` does not validate.
    pub fn new(config: Config, server: Arc<dyn KadServer>) -> Result<Self, KadError> {
        config.validate()?;
        Ok(KadHandler {
            inner: Arc::new(Inner {
                limits: DecodeLimits::from(&config),
                config,
                server,
                inbound: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// How many inbound streams of `peer` are being served now.
    pub fn inbound_streams(&self, peer: &PeerId) -> usize {
        self.inner
            .inbound
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(peer)
            .copied()
            .unwrap_or(0)
    }

    fn acquire(&self, peer: &PeerId) -> Result<InboundSlot, KadError> {
        let max = self.inner.config.max_inbound_streams_per_peer();
        let mut map = self
            .inner
            .inbound
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let n = map.entry(*peer).or_insert(0);
        if *n >= max {
            return Err(KadError::TooManyInboundRequests {
                peer: Some(Box::new(*peer)),
                max,
            });
        }
        *n += 1;
        Ok(InboundSlot {
            inner: self.inner.clone(),
            peer: *peer,
        })
    }

    /// Serves requests of `peer` on `io` until EOF, idle timeout or error. Takes one of the
    /// peer's inbound slots for the duration ([`KadError::TooManyInboundRequests`] if none is
    /// free). On error the caller should drop (reset) the stream.
    pub async fn serve<S>(
        &self,
        io: &mut S,
        peer: &PeerId,
        peer_addr: Option<&Multiaddr>,
    ) -> Result<ServeReport, KadError>
    where
        S: AsyncRead + AsyncWrite + Unpin + ?Sized,
    {
        let _slot = self.acquire(peer)?;
        let config = &self.inner.config;
        let mut report = ServeReport {
            requests: 0,
            responses: 0,
            peers_cut: 0,
            end: StreamEnd::Eof,
        };
        loop {
            let idle = config.inbound_idle_timeout();
            let Ok(frame) =
                tokio::time::timeout(idle, read_frame(io, config.max_message_size())).await
            else {
                tracing::debug!(%peer, ?idle, "kad stream idle, closing");
                report.end = StreamEnd::Idle;
                return Ok(report);
            };
            let Some(body) = frame? else {
                let _ = tokio::time::timeout(config.request_timeout(), io.close()).await;
                return Ok(report);
            };
            let Decoded {
                message: request,
                cluster_level_raw,
                stats,
            } = Request::decode(&body, &self.inner.limits)?;
            drop(body);
            if !stats.is_clean() {
                tracing::debug!(%peer, ?stats, "kad request: entries skipped");
            }
            report.requests += 1;
            let sent = request.message_type();
            let key = match &request {
                Request::GetValue { key } | Request::GetProviders { key } => key.clone(),
                _ => Vec::new(),
            };
            let expects = request.expects_response();
            let Some(response) = self.inner.server.handle(peer, peer_addr, request)? else {
                continue;
            };
            if !expects {
                tracing::debug!(%peer, "kad server answered an ADD_PROVIDER; nothing sent");
                continue;
            }
            let got = response.message_type();
            if got != sent {
                return Err(KadError::UnexpectedResponse { sent, got });
            }
            let (frame, cut) = response.encode(
                &key,
                cluster_level_raw,
                config.max_response_size(),
                config.max_message_size(),
            )?;
            if cut > 0 {
                tracing::debug!(%peer, cut, "kad response: peers cut to fit the size limit");
            }
            report.peers_cut += cut;
            with_timeout(config.request_timeout(), write_frame(io, &frame)).await?;
            report.responses += 1;
        }
    }
}

#[async_trait]
impl StreamHandler for KadHandler {
    fn protocols(&self) -> Vec<String> {
        vec![self.inner.config.protocol_id().to_owned()]
    }

    async fn handle(
        &self,
        protocol: &str,
        mut io: BoxStream,
        ctx: HandlerContext,
    ) -> Result<Next, ChainError> {
        if protocol != self.inner.config.protocol_id() {
            return Err(KadError::UnknownProtocol(protocol.to_owned()).into());
        }
        let peer = ctx.remote_peer.ok_or(KadError::UnauthenticatedPeer)?;
        match self.serve(&mut io, &peer, ctx.remote_addr.as_ref()).await {
            Ok(report) => {
                tracing::trace!(%peer, ?report, "kad stream done");
                Ok(Next::Done)
            }
            Err(e) => {
                match &e {
                    KadError::TooManyInboundRequests { .. } => {
                        tracing::warn!(%peer, error = %e, "kad stream refused")
                    }
                    _ => tracing::debug!(%peer, error = %e, "kad stream failed; resetting"),
                }
                // `io` is dropped here, which resets the substream.
                Err(e.into())
            }
        }
    }
}

async fn with_timeout<T>(
    limit: Duration,
    work: impl std::future::Future<Output = Result<T, KadError>>,
) -> Result<T, KadError> {
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| KadError::Timeout(limit))?
}

/// Reads one frame's body exactly: `Ok(None)` on EOF before its first byte,
/// [`KadError::Truncated`] on EOF inside it, [`KadError::MessageTooLarge`] from the prefix
/// alone (the body is then neither read nor allocated).
pub async fn read_frame<S>(io: &mut S, max: usize) -> Result<Option<Vec<u8>>, KadError>
where
    S: AsyncRead + Unpin + ?Sized,
{
    let mut prefix = [0u8; MAX_PREFIX_LEN];
    let mut n = 0;
    let len = loop {
        let Some(slot) = prefix.get_mut(n..=n) else {
            // Unreachable: decode_length_prefix fails at MAX_PREFIX_LEN bytes.
            return Err(KadError::Malformed("length prefix too long"));
        };
        if io.read(slot).await? == 0 {
            if n == 0 {
                return Ok(None);
            }
            return Err(KadError::Truncated {
                got: n,
                expected: n + 1,
            });
        }
        n += 1;
        if let Some((len, _)) = decode_length_prefix(prefix.get(..n).unwrap_or_default(), max)? {
            break len;
        }
    };
    let mut body = Vec::with_capacity(len.min(INITIAL_BODY_CAPACITY));
    (&mut *io).take(len as u64).read_to_end(&mut body).await?;
    if body.len() < len {
        return Err(KadError::Truncated {
            got: n + body.len(),
            expected: n + len,
        });
    }
    Ok(Some(body))
}

/// Writes one encoded frame and flushes.
pub async fn write_frame<S>(io: &mut S, frame: &[u8]) -> Result<(), KadError>
where
    S: AsyncWrite + Unpin + ?Sized,
{
    io.write_all(frame).await?;
    io.flush().await?;
    Ok(())
}

/// Sends `request` on `io` and, unless it is ADD_PROVIDER, reads its response, all within
/// [`Config::request_timeout`] ([`KadError::Timeout`]). The response must be of the
/// request's type ([`KadError::UnexpectedResponse`]) and, for records, under the requested key
/// ([`KadError::WrongKey`]). Returns the response with what decoding skipped.
///
/// The stream is left open: the caller may send further requests on it or close it. For
/// ADD_PROVIDER, close it after sending (rust-libp2p waits for the close).
pub async fn exchange<S>(
    io: &mut S,
    request: &Request,
    config: &Config,
) -> Result<Option<Decoded<Response>>, KadError>
where
    S: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let frame = request.encode(config.max_message_size())?;
    let limits = DecodeLimits::from(config);
    with_timeout(config.request_timeout(), async {
        write_frame(io, &frame).await?;
        if !request.expects_response() {
            return Ok(None);
        }
        let body = read_frame(io, config.max_message_size())
            .await?
            .ok_or(KadError::Closed)?;
        Response::decode(&body, request, &limits).map(Some)
    })
    .await
}

/// [`exchange`] without the decode statistics (logged at debug level when not clean).
pub async fn send_request<S>(
    io: &mut S,
    request: &Request,
    config: &Config,
) -> Result<Option<Response>, KadError>
where
    S: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let Some(decoded) = exchange(io, request, config).await? else {
        return Ok(None);
    };
    if !decoded.stats.is_clean() {
        tracing::debug!(stats = ?decoded.stats, "kad response: entries skipped");
    }
    Ok(Some(decoded.message))
}
