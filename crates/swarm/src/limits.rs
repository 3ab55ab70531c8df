//! [`ResourceLimits`]: the numbers the swarm's resource manager admits connections and streams
//! by, in scopes like go-libp2p's resource manager, with its default limits as ours.

/// Count limits in scopes (go-libp2p's resource manager defaults). Crossing one refuses the
/// newcomer only: an inbound connection is closed before its handshake, an outbound dial or
/// stream open fails with `ErrorKind::LimitExceeded` naming the scope, an inbound stream is
/// reset. Everything already admitted keeps working.
/// Set the fields you need and take the rest from a base:
/// `ResourceLimits { max_connections_per_peer: 2, ..ResourceLimits::auto() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceLimits {
    /// System: connections in every state and direction, handshakes included (go: 128).
    pub max_connections: usize,
    /// System: inbound connections, handshakes included (go: 64).
    pub max_inbound_connections: usize,
    /// Inbound connections still in their handshake (go's transient scope: 64).
    pub max_pending_inbound: usize,
    /// Inbound handshakes from one IP address at once (go: 8).
    pub max_pending_per_ip: usize,
    /// Connections to or from one peer (go: 8).
    pub max_connections_per_peer: usize,
    /// System: open substreams, both directions (go: 2,048).
    pub max_streams: usize,
    /// Substreams with one peer (go: 512).
    pub max_streams_per_peer: usize,
    /// Substreams of one application protocol (go: 2,048).
    pub max_streams_per_protocol: usize,
    /// Substreams of one application protocol with one peer (go: 256).
    pub max_streams_per_protocol_per_peer: usize,
    /// System: bytes the muxers' receive windows may reserve beyond their initial size
    /// (go: 128 MiB + 1/8 of RAM). One stream's window is capped by its muxer (yamux:
    /// 16 MiB, go's per-stream limit).
    pub memory: u64,
    /// Bytes reserved for one peer's connections (go: 64 MiB).
    pub memory_per_peer: u64,
    /// Bytes reserved for one connection (go: 32 MiB).
    pub memory_per_connection: u64,
}

/// The system memory limit before scaling (go: 128 MiB).
pub const BASE_MEMORY: u64 = 128 << 20;

impl Default for ResourceLimits {
    fn default() -> Self {
        ResourceLimits {
            max_connections: 128,
            max_inbound_connections: 64,
            max_pending_inbound: 64,
            max_pending_per_ip: 8,
            max_connections_per_peer: 8,
            max_streams: 2048,
            max_streams_per_peer: 512,
            max_streams_per_protocol: 2048,
            max_streams_per_protocol_per_peer: 256,
            memory: BASE_MEMORY,
            memory_per_peer: 64 << 20,
            memory_per_connection: 32 << 20,
        }
    }
}

impl ResourceLimits {
    /// go-libp2p's auto-scaling: the base limits ([`ResourceLimits::default`]) plus, per whole
    /// GiB of `memory` (the share of RAM given to the node; go gives 1/8), 128 connections,
    /// 64 inbound ones, 32 pending inbound ones and 2,048 streams; the system memory limit is
    /// 128 MiB + `memory`. Per-peer, per-IP and per-protocol limits do not scale.
    pub fn scaled_to(memory: u64) -> Self {
        let gib = usize::try_from(memory >> 30).unwrap_or(usize::MAX);
        let base = ResourceLimits::default();
        let grow = |base: usize, per_gib: usize| base.saturating_add(per_gib.saturating_mul(gib));
        ResourceLimits {
            max_connections: grow(base.max_connections, 128),
            max_inbound_connections: grow(base.max_inbound_connections, 64),
            max_pending_inbound: grow(base.max_pending_inbound, 32),
            max_streams: grow(base.max_streams, 2048),
            memory: BASE_MEMORY.saturating_add(memory),
            ..base
        }
    }

    /// [`ResourceLimits::scaled_to`] 1/8 of this machine's RAM (as go-libp2p does); the base
    /// limits where the RAM cannot be read (`/proc/meminfo`).
    pub fn auto() -> Self {
        ResourceLimits::scaled_to(total_memory().unwrap_or(0) / 8)
    }

    /// No limit anywhere (every count `usize::MAX`): for tests and benchmarks that hold
    /// thousands of connections on purpose.
    pub fn unlimited() -> Self {
        ResourceLimits {
            max_connections: usize::MAX,
            max_inbound_connections: usize::MAX,
            max_pending_inbound: usize::MAX,
            max_pending_per_ip: usize::MAX,
            max_connections_per_peer: usize::MAX,
            max_streams: usize::MAX,
            max_streams_per_peer: usize::MAX,
            max_streams_per_protocol: usize::MAX,
            max_streams_per_protocol_per_peer: usize::MAX,
            memory: u64::MAX,
            memory_per_peer: u64::MAX,
            memory_per_connection: u64::MAX,
        }
    }
}

/// This machine's RAM in bytes, from `/proc/meminfo` (Linux).
pub fn total_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_adds_per_whole_gib_to_the_system_scopes_only() {
        let base = ResourceLimits::default();
        let half = ResourceLimits::scaled_to(512 << 20);
        assert_eq!(
            half.memory,
            (128 << 20) + (512 << 20),
            "memory scales by the byte"
        );
        assert_eq!(
            ResourceLimits {
                memory: base.memory,
                ..half
            },
            base,
            "counts per whole GiB"
        );
        let three = ResourceLimits::scaled_to(3 << 30);
        assert_eq!(three.max_connections, 128 + 3 * 128);
        assert_eq!(three.max_inbound_connections, 64 + 3 * 64);
        assert_eq!(three.max_pending_inbound, 64 + 3 * 32);
        assert_eq!(three.max_streams, 2048 + 3 * 2048);
        assert_eq!(three.memory, (128 << 20) + (3 << 30));
        assert_eq!(three.memory_per_peer, 64 << 20);
        assert_eq!(three.max_connections_per_peer, 8);
        assert_eq!(three.max_pending_per_ip, 8);
        assert_eq!(three.max_streams_per_protocol_per_peer, 256);
        assert!(ResourceLimits::auto().max_connections >= 128);
    }
}
