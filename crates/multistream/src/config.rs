//! Limits and behaviour switches of a multistream-select negotiation, with documented defaults.

use std::time::Duration;

use chainp2p_core::PeerFraming;

/// The largest message we ever send, `\n` included (current go-multistream rejects longer ones).
pub const MAX_SEND_LEN: usize = 1024;

/// The largest message rust-libp2p accepts: a length prefix of at most two varint bytes.
pub const DEFAULT_MAX_MESSAGE_LEN: usize = (1 << 14) - 1;

/// The largest number of protocols we accept in an `ls` response (as rust-libp2p).
pub const MAX_LS_PROTOCOLS: usize = 1000;

/// Settings of one negotiation, for either role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultistreamConfig {
    /// The largest message length we accept from the peer, counting the trailing `\n`.
    /// Default [`DEFAULT_MAX_MESSAGE_LEN`] (16383). Whatever this says, we never *send* a
    /// message longer than [`MAX_SEND_LEN`] (1024).
    pub max_message_len: usize,
    /// Bound on negotiation rounds: the proposals a dialer makes, the proposals and `ls`
    /// requests a listener answers. Default 32.
    pub max_attempts: usize,
    /// Bound on the whole negotiation, from the first byte written to the agreement.
    /// Default 10 s. Not applied to a [`lazy`](Self::lazy) dialer once it has returned.
    pub timeout: Duration,
    /// rust-libp2p's `V1Lazy` for the dialer: with exactly one protocol, settle on it at
    /// once, send header and proposal together with the first application write, and check
    /// the echo before the first read. Ignored when
    /// [`one_message_per_write`](Self::one_message_per_write) is set. Default `false`.
    pub lazy: bool,
    /// Send every multistream message in its own write and flush (what old peers like
    /// c-ipfs need: inside secio they drop a proposal that shares a frame with the header).
    /// Default `false`: header and proposal go in one write.
    pub one_message_per_write: bool,
    /// Accept an echo glued to the first application message in one multistream message,
    /// `uvarint(n) ‖ "/proto\n" ‖ payload`, as c-libp2p's identify answers: the echo
    /// selects the protocol and the payload is handed on as one uvarint-delimited message
    /// (c-libp2p's multistream frames every write that way). Default `false`: such a message
    /// is a protocol violation.
    pub accept_glued_echo: bool,
}

impl MultistreamConfig {
    /// These settings adjusted for how the peer parses our writes: for
    /// [`PeerFraming::MessagePerFrame`] (c-ipfs and other c-libp2p-era peers, behind secio)
    /// every message goes in its own write, the dialer is never lazy and an echo glued to
    /// the first answer is accepted ([`MultistreamConfig::accept_glued_echo`]); unchanged
    /// otherwise.
    pub fn for_peer(&self, framing: PeerFraming) -> MultistreamConfig {
        let mut config = self.clone();
        if framing == PeerFraming::MessagePerFrame {
            config.one_message_per_write = true;
            config.lazy = false;
            config.accept_glued_echo = true;
        }
        config
    }
}

impl MultistreamConfig {
    /// These settings adjusted for the substreams we open toward a peer that parses one
    /// message per frame (c-libp2p, behind secio): the dialer is lazy, so that the first
    /// application message goes with the proposal (c-libp2p reads a protocol's request only if
    /// it is already there when it answers the proposal: sent after its echo, a Kademlia
    /// request is never read), and a glued echo is accepted. Inside a substream c-libp2p reads
    /// a byte buffer, so messages need no writes of their own there. Unchanged for other peers.
    pub fn for_peer_substreams(&self, framing: PeerFraming) -> MultistreamConfig {
        let mut config = self.clone();
        if framing == PeerFraming::MessagePerFrame {
            config.one_message_per_write = false;
            config.lazy = true;
            config.accept_glued_echo = true;
        }
        config
    }
}

impl Default for MultistreamConfig {
    fn default() -> Self {
        MultistreamConfig {
            max_message_len: DEFAULT_MAX_MESSAGE_LEN,
            max_attempts: 32,
            timeout: Duration::from_secs(10),
            lazy: false,
            one_message_per_write: false,
            accept_glued_echo: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lazy_custom() -> MultistreamConfig {
        MultistreamConfig {
            max_message_len: 100,
            max_attempts: 3,
            timeout: Duration::from_secs(1),
            lazy: true,
            one_message_per_write: false,
            accept_glued_echo: false,
        }
    }

    #[test]
    fn for_message_per_frame_peers_writes_each_message_eagerly_and_takes_glued_echoes() {
        let base = lazy_custom();
        let got = base.for_peer(PeerFraming::MessagePerFrame);
        assert_eq!(
            got,
            MultistreamConfig {
                one_message_per_write: true,
                lazy: false,
                accept_glued_echo: true,
                ..base.clone()
            }
        );
        assert_eq!(base, lazy_custom(), "the original is left as it was");
    }

    #[test]
    fn for_stream_peers_changes_nothing() {
        assert_eq!(lazy_custom().for_peer(PeerFraming::Stream), lazy_custom());
        let all_on = MultistreamConfig {
            one_message_per_write: true,
            accept_glued_echo: true,
            ..MultistreamConfig::default()
        };
        assert_eq!(all_on.for_peer(PeerFraming::Stream), all_on);
        assert_eq!(
            MultistreamConfig::default().for_peer(PeerFraming::Stream),
            MultistreamConfig::default()
        );
    }
}
