//! [`KadConfig`]: the wire and stream-handler settings (protocol id, message and list limits,
//! timeouts, inbound concurrency), with documented defaults and [`KadConfig::validate`].
//! Routing, lookup and store settings live beside their own modules.

use std::time::Duration;

use crate::error::KadError;

/// The default protocol id (go `amino.ProtocolID`, rust `DEFAULT_PROTO_NAME`).
pub const DEFAULT_PROTOCOL: &str = "/ipfs/kad/1.0.0";

/// Largest message we read: 4 MiB, go's `network.MessageSizeMax`.
///
/// Why not rust-libp2p's 16 KiB: go peers answer GET_PROVIDERS with every provider they know
/// and GET_VALUE with records of any size up to 4 MiB; refusing those would fail lookups that
/// go peers serve fine. Reading a big message costs nothing up front: the body buffer grows as
/// bytes arrive, and only a bounded number of peers and addresses is decoded from it.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;

/// Largest response we aim to send: 16 KiB, rust-libp2p's default `max_packet_size`, so that
/// default rust peers can read every answer. Longer answers are cut by dropping the farthest
/// closer peers, then providers; a record itself is never cut (see
/// [`KadConfig::max_response_size`]).
pub const DEFAULT_MAX_RESPONSE_SIZE: usize = 16 * 1024;

/// Smallest `max_message_size` accepted by [`KadConfig::validate`].
pub const MIN_MESSAGE_SIZE: usize = 1024;

/// Settings of the kad wire format and stream handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KadConfig {
    /// Protocol id negotiated with multistream-select. Default [`DEFAULT_PROTOCOL`]; private
    /// networks use e.g. `/ipfs/lan/kad/1.0.0`.
    pub protocol_id: String,
    /// Largest message read, request or response. Default [`DEFAULT_MAX_MESSAGE_SIZE`] (4 MiB).
    /// Also the hard limit on anything we send.
    pub max_message_size: usize,
    /// Soft limit on responses we send. Default [`DEFAULT_MAX_RESPONSE_SIZE`] (16 KiB). Peer
    /// lists are truncated to fit; a response still larger (a big record) is sent anyway if it
    /// fits `max_message_size`, since go peers read it and dropping the record would lose data.
    pub max_response_size: usize,
    /// Most peers decoded per list (`closerPeers`, `providerPeers`) of one message; further
    /// ones are skipped without being decoded. Default 256 (a normal answer has k = 20 closer
    /// peers; go sends all providers it knows).
    pub max_peers_per_message: usize,
    /// Most addresses decoded per peer; further ones are skipped. Default 64 (kubo nodes
    /// announce 10 to 30, with relay and IPv6 variants).
    pub max_addrs_per_peer: usize,
    /// Longest key accepted in a request. Default 1 KiB (record keys like `/ipns/<mh>` and
    /// provider multihashes are under 100 bytes).
    pub max_key_size: usize,
    /// Deadline of one outbound request, from the write to the complete response. Default
    /// 10 s (rust-libp2p's substream timeout, go's `RefreshQueryTimeout`).
    pub request_timeout: Duration,
    /// An inbound stream with no new request for this long is closed. Default 1 min (go's
    /// `dhtStreamIdleTimeout`; go reuses its outbound streams, so we must not close them sooner
    /// than go does).
    pub inbound_idle_timeout: Duration,
    /// Most inbound kad streams one peer may have open at once; a further one is refused
    /// ([`KadError::TooManyInboundRequests`]). Default 32, rust-libp2p's `MAX_NUM_STREAMS`
    /// per connection (rust opens one stream per request; go keeps one per peer).
    pub max_inbound_streams_per_peer: usize,
}

impl Default for KadConfig {
    fn default() -> Self {
        KadConfig {
            protocol_id: DEFAULT_PROTOCOL.to_owned(),
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            max_peers_per_message: 256,
            max_addrs_per_peer: 64,
            max_key_size: 1024,
            request_timeout: Duration::from_secs(10),
            inbound_idle_timeout: Duration::from_secs(60),
            max_inbound_streams_per_peer: 32,
        }
    }
}

impl KadConfig {
    /// The defaults with another protocol id, e.g. `/ipfs/lan/kad/1.0.0`.
    pub fn with_protocol(protocol_id: impl Into<String>) -> Self {
        KadConfig {
            protocol_id: protocol_id.into(),
            ..Self::default()
        }
    }

    /// Checks that the settings make sense together.
    pub fn validate(&self) -> Result<(), KadError> {
        let bad = |m: String| Err(KadError::InvalidConfig(m));
        if !self.protocol_id.starts_with('/') || self.protocol_id.contains('\n') {
            return bad(format!(
                "protocol id {:?} must start with '/' and be one line",
                self.protocol_id
            ));
        }
        if self.max_message_size < MIN_MESSAGE_SIZE {
            return bad(format!(
                "max_message_size {} is below {MIN_MESSAGE_SIZE}",
                self.max_message_size
            ));
        }
        if self.max_response_size == 0 || self.max_response_size > self.max_message_size {
            return bad(format!(
                "max_response_size {} must be in 1..=max_message_size ({})",
                self.max_response_size, self.max_message_size
            ));
        }
        if self.max_peers_per_message == 0 || self.max_addrs_per_peer == 0 {
            return bad("max_peers_per_message and max_addrs_per_peer must be > 0".into());
        }
        if self.max_key_size == 0 {
            return bad("max_key_size must be > 0".into());
        }
        if self.request_timeout.is_zero() || self.inbound_idle_timeout.is_zero() {
            return bad("timeouts must be > 0".into());
        }
        if self.max_inbound_streams_per_peer == 0 {
            return bad("max_inbound_streams_per_peer must be > 0".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let c = KadConfig::default();
        c.validate().unwrap();
        assert_eq!(c.protocol_id, "/ipfs/kad/1.0.0");
        assert_eq!(c.max_message_size, 4 << 20);
        assert_eq!(c.max_response_size, 16 << 10);
        assert_eq!(c.request_timeout, Duration::from_secs(10));
        assert_eq!(
            KadConfig::with_protocol("/ipfs/lan/kad/1.0.0").protocol_id,
            "/ipfs/lan/kad/1.0.0"
        );
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        let cases: [fn(&mut KadConfig); 6] = [
            |c| c.protocol_id = "ipfs/kad".into(),
            |c| c.max_message_size = 10,
            |c| c.max_response_size = c.max_message_size + 1,
            |c| c.max_peers_per_message = 0,
            |c| c.request_timeout = Duration::ZERO,
            |c| c.max_inbound_streams_per_peer = 0,
        ];
        for f in cases {
            let mut c = KadConfig::default();
            f(&mut c);
            assert!(
                matches!(c.validate(), Err(KadError::InvalidConfig(_))),
                "{c:?}"
            );
        }
    }
}
