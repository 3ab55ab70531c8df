//! Prometheus metrics of a swarm (feature `metrics`), registered into a user's
//! [`prometheus_client::registry::Registry`] by [`crate::SwarmBuilder::metrics`], under the
//! prefix `chainp2p_swarm`.
//!
//! What is recorded, and where:
//! - connections opened and closed, and open now, by direction, security and muxer (labels
//!   from the [`NegotiatedChain`]), when the swarm registers a connection and when its driver
//!   ends;
//! - handshake durations per layer (transport, security, muxer), from the chain record's
//!   per-layer times (what `chain-node inspect` prints);
//! - substreams opened and open now, by protocol and direction, once multistream has agreed on
//!   the protocol;
//! - bytes read from and written to the transport, counted by a wrapper around the transport's
//!   stream ([`CountingStream`]; only when metrics are on);
//! - the resource manager's usage and refusals, read at scrape time ([`ResourceCollector`]),
//!   so nothing is counted twice.
//!
//! The handles are cloned into each connection once; recording is an atomic add.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, Weak};
use std::task::{Context, Poll};

use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::{BoxStream, LayerKind, NegotiatedChain};
use futures::{AsyncRead, AsyncWrite};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::connection::Direction;
use crate::resources::ResourceManager;

/// Labels of a connection: who dialed, and what its security and muxer layers are.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct ConnectionLabels {
    direction: &'static str,
    security: String,
    muxer: String,
}

impl ConnectionLabels {
    pub(crate) fn new(direction: Direction, chain: &NegotiatedChain) -> Self {
        let protocol = |kind| {
            chain
                .find(kind)
                .map(|s| s.protocol.clone())
                .unwrap_or_default()
        };
        ConnectionLabels {
            direction: direction.as_str(),
            security: protocol(LayerKind::Security),
            muxer: protocol(LayerKind::Muxer),
        }
    }
}

/// Labels of a handshake step: the layer and its protocol (for the transport, its kind, e.g.
/// `tcp`, not the address).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LayerLabels {
    layer: &'static str,
    protocol: String,
}

/// Labels of a substream.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StreamLabels {
    protocol: String,
    direction: &'static str,
}

/// Labels of the byte counters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct BytesLabels {
    direction: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn handshake_histogram() -> Histogram {
    // 0.1 ms .. ~26 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 19))
}

/// The swarm's metric handles (all clones of what the registry holds).
#[derive(Debug)]
pub(crate) struct SwarmMetrics {
    connections_opened: Family<ConnectionLabels, Counter>,
    connections_closed: Family<ConnectionLabels, Counter>,
    connections_open: Family<ConnectionLabels, Gauge>,
    handshake_seconds: HistogramFamily<LayerLabels>,
    substreams_opened: Family<StreamLabels, Counter>,
    substreams_open: Family<StreamLabels, Gauge>,
    bytes_read: Counter,
    bytes_written: Counter,
    /// Filled in when the swarm is built (the registry is given to the builder first).
    resources: Arc<OnceLock<Weak<ResourceManager>>>,
}

impl SwarmMetrics {
    /// Registers the swarm's families under `chainp2p_swarm` in `registry`.
    pub(crate) fn register(registry: &mut Registry) -> Arc<SwarmMetrics> {
        let sub = registry
            .sub_registry_with_prefix("chainp2p")
            .sub_registry_with_prefix("swarm");
        let m = SwarmMetrics {
            connections_opened: Family::default(),
            connections_closed: Family::default(),
            connections_open: Family::default(),
            handshake_seconds: Family::new_with_constructor(handshake_histogram),
            substreams_opened: Family::default(),
            substreams_open: Family::default(),
            bytes_read: Counter::default(),
            bytes_written: Counter::default(),
            resources: Arc::new(OnceLock::new()),
        };
        sub.register(
            "connections_opened",
            "Connections established, by direction, security and muxer",
            m.connections_opened.clone(),
        );
        sub.register(
            "connections_closed",
            "Connections closed, by direction, security and muxer",
            m.connections_closed.clone(),
        );
        sub.register(
            "connections_open",
            "Connections open now, by direction, security and muxer",
            m.connections_open.clone(),
        );
        sub.register(
            "handshake_duration_seconds",
            "Time each layer of a connection's chain took to set up",
            m.handshake_seconds.clone(),
        );
        sub.register(
            "substreams_opened",
            "Substreams whose protocol was agreed, by protocol and direction",
            m.substreams_opened.clone(),
        );
        sub.register(
            "substreams_open",
            "Substreams open now, by protocol and direction",
            m.substreams_open.clone(),
        );
        let bytes: Family<BytesLabels, Counter> = Family::default();
        let read = bytes
            .get_or_create(&BytesLabels { direction: "in" })
            .clone();
        let written = bytes
            .get_or_create(&BytesLabels { direction: "out" })
            .clone();
        sub.register(
            "transport_bytes",
            "Bytes read (in) and written (out) on transport connections",
            bytes,
        );
        sub.register_collector(Box::new(ResourceCollector {
            resources: m.resources.clone(),
        }));
        Arc::new(SwarmMetrics {
            bytes_read: read,
            bytes_written: written,
            ..m
        })
    }

    /// Tells the scrape-time collector where the resource manager is.
    pub(crate) fn set_resources(&self, resources: &Arc<ResourceManager>) {
        let _ = self.resources.set(Arc::downgrade(resources));
    }

    /// Wraps a transport stream so its bytes are counted.
    pub(crate) fn count_bytes(&self, io: BoxStream) -> BoxStream {
        Box::new(CountingStream {
            inner: io,
            read: self.bytes_read.clone(),
            written: self.bytes_written.clone(),
        })
    }

    /// A connection is live: counts it and observes its chain's handshake times. The returned
    /// guard counts it closed when dropped.
    pub(crate) fn connection_opened(
        &self,
        direction: Direction,
        chain: &NegotiatedChain,
    ) -> ConnectionGuard {
        let labels = ConnectionLabels::new(direction, chain);
        self.connections_opened.get_or_create(&labels).inc();
        let open = self.connections_open.get_or_create_owned(&labels);
        open.inc();
        for step in chain.steps() {
            let layer = match step.kind {
                LayerKind::Transport => "transport",
                LayerKind::Security => "security",
                LayerKind::Muxer => "muxer",
                _ => continue,
            };
            let protocol = if step.kind == LayerKind::Transport {
                transport_kind(&step.protocol).to_owned()
            } else {
                step.protocol.clone()
            };
            self.handshake_seconds
                .get_or_create(&LayerLabels { layer, protocol })
                .observe(step.elapsed.as_secs_f64());
        }
        ConnectionGuard {
            closed: self.connections_closed.get_or_create_owned(&labels),
            open,
        }
    }

    /// A substream's protocol was agreed: counts it; the guard counts it closed when dropped.
    pub(crate) fn substream_opened(&self, protocol: &str, direction: Direction) -> SubstreamGuard {
        let labels = StreamLabels {
            protocol: protocol.to_owned(),
            direction: direction.as_str(),
        };
        self.substreams_opened.get_or_create(&labels).inc();
        let open = self.substreams_open.get_or_create_owned(&labels);
        open.inc();
        SubstreamGuard { open }
    }
}

/// The transport's kind from its address: the last protocol before any `/p2p/` (`tcp`,
/// `memory`, …); `unknown` if the address does not parse.
fn transport_kind(addr: &str) -> &'static str {
    addr.parse::<Multiaddr>()
        .ok()
        .and_then(|a| a.iter().map(|p| p.tag()).filter(|t| *t != "p2p").last())
        .unwrap_or("unknown")
}

/// Counts a connection closed when dropped (the connection's driver task holds it).
#[derive(Debug)]
pub(crate) struct ConnectionGuard {
    closed: Counter,
    open: Gauge,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.closed.inc();
        self.open.dec();
    }
}

/// Counts a substream closed when dropped.
#[derive(Debug)]
pub(crate) struct SubstreamGuard {
    open: Gauge,
}

impl Drop for SubstreamGuard {
    fn drop(&mut self) {
        self.open.dec();
    }
}

/// A transport stream that counts the bytes through it (one relaxed atomic add per read or
/// write call).
struct CountingStream {
    inner: BoxStream,
    read: Counter,
    written: Counter,
}

impl AsyncRead for CountingStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            this.read.inc_by(n as u64);
        }
        poll
    }
}

impl AsyncWrite for CountingStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            this.written.inc_by(n as u64);
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = poll {
            this.written.inc_by(n as u64);
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// Reads the resource manager's [`crate::ResourceUsage`] at scrape time.
#[derive(Debug)]
struct ResourceCollector {
    resources: Arc<OnceLock<Weak<ResourceManager>>>,
}

impl Collector for ResourceCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(rm) = self.resources.get().and_then(Weak::upgrade) else {
            return Ok(());
        };
        let usage = rm.usage();
        let gauges: [(&str, &str, i64); 5] = [
            (
                "resource_connections",
                "Connections the resource manager holds (handshakes included)",
                usage.connections as i64,
            ),
            (
                "resource_inbound_connections",
                "Inbound connections the resource manager holds (handshakes included)",
                usage.inbound as i64,
            ),
            (
                "resource_pending_connections",
                "Inbound connections still in their handshake",
                usage.pending as i64,
            ),
            (
                "resource_streams",
                "Substreams the resource manager holds",
                usage.streams as i64,
            ),
            (
                "resource_memory_reserved_bytes",
                "Bytes the muxers' windows hold reserved",
                i64::try_from(usage.memory_reserved).unwrap_or(i64::MAX),
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        let counters = [
            (
                "resource_refused_connections",
                "Connections refused by a resource limit",
                usage.refused_connections,
            ),
            (
                "resource_refused_streams",
                "Substreams refused by a resource limit",
                usage.refused_streams,
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        Ok(())
    }
}
