//! Limits and our own advertised info, with documented defaults.

use std::time::Duration;

use chainp2p_core::identity::PublicKey;
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::PeerFraming;

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
    /// A request takes the first message as the whole answer instead of reading until EOF
    /// (default `false`). For c-libp2p peers (c-ipfs), which send one message and never close
    /// the stream; [`IdentifyConfig::for_peer`] sets it.
    pub first_message_only: bool,
    /// The peer's key as the security layer authenticated it, used when the answer carries
    /// no usable key: c-libp2p sends the text of its peer id as `publicKey` (default `None`:
    /// such an answer fails with [`crate::IdentifyError::MissingPublicKey`]).
    pub remote_key: Option<PublicKey>,
}

impl IdentifyConfig {
    /// These limits adjusted for a connection: for a peer that parses one message per frame
    /// (c-libp2p, behind secio) the first message is the answer, and `remote_key` stands in
    /// for the key c-libp2p does not send.
    pub fn for_peer(mut self, framing: PeerFraming, remote_key: Option<PublicKey>) -> Self {
        if framing == PeerFraming::MessagePerFrame {
            self.first_message_only = true;
        }
        self.remote_key = remote_key;
        self
    }
}

impl Default for IdentifyConfig {
    fn default() -> Self {
        IdentifyConfig {
            max_message_size: 8 * 1024,
            max_messages: 10,
            max_own_message_size: 4096,
            timeout: Duration::from_secs(10),
            push_channel_capacity: 64,
            first_message_only: false,
            remote_key: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use chainp2p_core::identity::Keypair;

    fn custom() -> IdentifyConfig {
        IdentifyConfig {
            max_messages: 3,
            timeout: Duration::from_secs(1),
            ..IdentifyConfig::default()
        }
    }

    #[test]
    fn for_message_per_frame_peers_takes_the_first_message_and_the_key() {
        let key = Keypair::generate_ed25519().public();
        let got = custom().for_peer(PeerFraming::MessagePerFrame, Some(key.clone()));
        assert_eq!(
            got,
            IdentifyConfig {
                first_message_only: true,
                remote_key: Some(key),
                ..custom()
            }
        );
        let got = custom().for_peer(PeerFraming::MessagePerFrame, None);
        assert!(got.first_message_only);
        assert_eq!(got.remote_key, None);
    }

    #[test]
    fn for_stream_peers_reads_until_eof_and_keeps_the_key() {
        let key = Keypair::generate_ed25519().public();
        let got = custom().for_peer(PeerFraming::Stream, Some(key.clone()));
        assert_eq!(
            got,
            IdentifyConfig {
                remote_key: Some(key),
                ..custom()
            }
        );
        assert!(!got.first_message_only);
    }
}
