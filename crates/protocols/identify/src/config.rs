//! Limits and our own advertised info, with documented defaults.

use std::time::Duration;

use chainp2p_core::multiaddr::Multiaddr;

/// Limits of the identify exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifyConfig {
    /// Largest message we read (default 8 KiB, go-libp2p's `signedIDSize`).
    pub max_message_size: usize,
    /// Most messages we read and merge from one stream (default 10, go-libp2p's `maxMessages`).
    pub max_messages: usize,
    /// Largest message we send (default 4096, rust-libp2p's `MAX_MESSAGE_SIZE_BYTES`); our
    /// listen addresses, then protocols, are trimmed from the end to fit.
    pub max_own_message_size: usize,
    /// Deadline for one whole exchange, reading or writing (default 10 s).
    pub timeout: Duration,
    /// Pushes buffered for each [`crate::IdentifyHandler::subscribe`]r (default 64); a
    /// subscriber that falls further behind is told how many it missed (`Lagged`).
    pub push_channel_capacity: usize,
}

impl Default for IdentifyConfig {
    fn default() -> Self {
        IdentifyConfig {
            max_message_size: 8 * 1024,
            max_messages: 10,
            max_own_message_size: 4096,
            timeout: Duration::from_secs(10),
            push_channel_capacity: 64,
        }
    }
}

/// What we tell peers about ourselves, besides our public key (taken from the connection's
/// [`chainp2p_core::HandlerContext::local_key`]) and their observed address (from
/// [`chainp2p_core::HandlerContext::remote_addr`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalInfo {
    /// Default `ipfs/0.1.0`.
    pub protocol_version: String,
    /// Default `chain-node/<crate version>`.
    pub agent_version: String,
    /// Our listen addresses, without `/p2p` suffix (default none; the swarm fills them in).
    pub listen_addrs: Vec<Multiaddr>,
    /// Protocol ids we accept inbound (default none; the swarm fills them in).
    pub protocols: Vec<String>,
}

impl Default for LocalInfo {
    fn default() -> Self {
        LocalInfo {
            protocol_version: "ipfs/0.1.0".to_owned(),
            agent_version: concat!("chain-node/", env!("CARGO_PKG_VERSION")).to_owned(),
            listen_addrs: Vec::new(),
            protocols: Vec::new(),
        }
    }
}
