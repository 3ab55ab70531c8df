//! [`Config`]: every setting of a kad node in one place, with its default stated once (on the
//! setter) and checked once ([`Config::validate`], called by [`KadNode::new`] and
//! [`KadHandler::new`]).
//!
//! The knobs shared between the parts of the node exist once here: [`K_VALUE`] (bucket size,
//! lookup result count, replication, providers kept per key), the request timeout (the wire
//! deadline and the lookups' one), the addresses decoded per peer (also those kept per provider
//! record), the key size limit (wire and store). The settings of the routing table
//! ([`RoutingConfig`]), the lookups ([`QueryConfig`]), the record store ([`StoreConfig`]) and
//! the maintenance ([`MaintenanceConfig`]) are *derived* from it ([`Config::routing_config`],
//! [`Config::query_config`], [`Config::store_config`], [`Config::maintenance_config`]); those
//! types stay public for the sans-IO parts used on their own (and their `Default` is the one
//! derived from `Config::default()`).
//!
//! Setters never fail: they record the value, and [`Config::validate`] refuses an
//! inconsistent whole with [`KadError::InvalidConfig`] (e.g. `k = 0`, or `alpha > k`: refused,
//! not clamped, so that what is configured is what runs).
//!
//! [`KadNode::new`]: crate::node::KadNode::new
//! [`KadHandler::new`]: crate::handler::KadHandler::new

use std::time::Duration;

use crate::error::KadError;
use crate::node::MaintenanceConfig;
use crate::query::QueryConfig;
use crate::routing::RoutingConfig;
use crate::store::StoreConfig;

/// The default protocol id (go `amino.ProtocolID`, rust `DEFAULT_PROTO_NAME`).
pub const DEFAULT_PROTOCOL: &str = "/ipfs/kad/1.0.0";

/// The default k: 20, in every implementation (rust-libp2p `K_VALUE`).
pub const K_VALUE: usize = 20;

/// The default alpha, requests in flight per lookup: 3 (rust-libp2p `ALPHA_VALUE`; go uses 10).
pub const ALPHA_VALUE: usize = 3;

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
/// [`Config::with_max_response_size`]).
pub const DEFAULT_MAX_RESPONSE_SIZE: usize = 16 * 1024;

/// Smallest `max_message_size` accepted by [`Config::validate`].
pub const MIN_MESSAGE_SIZE: usize = 1024;

/// Every setting of a kad node. Build it with `Config::default().with_…(…)`; read it with the
/// getters of the same names. Defaults are those of the setters' docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    // shared
    k: usize,
    alpha: usize,
    request_timeout: Duration,
    max_addrs_per_peer: usize,
    max_key_size: usize,
    // wire and handler
    protocol_id: String,
    max_message_size: usize,
    max_response_size: usize,
    max_peers_per_message: usize,
    inbound_idle_timeout: Duration,
    max_inbound_streams_per_peer: usize,
    // peers' addresses
    addrs_kept_per_peer: usize,
    address_book_size: usize,
    max_dial_addrs: usize,
    // routing table
    pending_timeout: Duration,
    max_per_ip_group_bucket: usize,
    max_per_ip_group_table: usize,
    // lookups
    beta: Option<usize>,
    max_peers_seen: usize,
    max_closer_per_response: Option<usize>,
    probe_width: usize,
    probe_rounds: usize,
    // store
    record_ttl: Duration,
    provider_ttl: Duration,
    provider_republish_interval: Duration,
    max_record_value_size: usize,
    max_records: usize,
    max_record_bytes: usize,
    max_providers_per_key: Option<usize>,
    max_provider_records: usize,
    // maintenance
    refresh_interval: Duration,
    self_lookup: bool,
    stale_after: Option<Duration>,
    max_pings_per_refresh: usize,
    expiry_interval: Duration,
    record_republish_interval: Duration,
    ipfs_records: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            k: K_VALUE,
            alpha: ALPHA_VALUE,
            request_timeout: Duration::from_secs(10),
            max_addrs_per_peer: 64,
            max_key_size: 1024,
            protocol_id: DEFAULT_PROTOCOL.to_owned(),
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            max_peers_per_message: 256,
            inbound_idle_timeout: Duration::from_secs(60),
            max_inbound_streams_per_peer: 32,
            addrs_kept_per_peer: 8,
            address_book_size: 4096,
            max_dial_addrs: 4,
            pending_timeout: Duration::from_secs(60),
            max_per_ip_group_bucket: 2,
            max_per_ip_group_table: 3,
            beta: None,
            max_peers_seen: 1000,
            max_closer_per_response: None,
            probe_width: 2,
            probe_rounds: 2,
            record_ttl: Duration::from_secs(48 * 3600),
            provider_ttl: Duration::from_secs(48 * 3600),
            provider_republish_interval: Duration::from_secs(22 * 3600),
            max_record_value_size: 65 * 1024,
            max_records: 16 * 1024,
            max_record_bytes: 256 * 1024 * 1024,
            max_providers_per_key: None,
            max_provider_records: 64 * 1024,
            refresh_interval: Duration::from_secs(10 * 60),
            self_lookup: true,
            stale_after: Some(Duration::from_secs(10 * 60)),
            max_pings_per_refresh: 256,
            expiry_interval: Duration::from_secs(60),
            record_republish_interval: Duration::from_secs(22 * 3600),
            ipfs_records: false,
        }
    }
}

/// A builder setter and its getter for one field.
macro_rules! knob {
    ($(#[$doc:meta])* $set:ident, $get:ident: $ty:ty) => {
        $(#[$doc])*
        #[must_use]
        pub fn $set(mut self, value: $ty) -> Self {
            self.$get = value;
            self
        }

        #[doc = concat!("The value set by [`Config::", stringify!($set), "`].")]
        pub fn $get(&self) -> $ty {
            self.$get
        }
    };
}

impl Config {
    knob!(
        /// Bucket size, lookup result count, replication factor (records and provider records
        /// are stored at the `k` closest peers) and, unless set apart, providers kept per key
        /// and the lookups' β. Default [`K_VALUE`] (20). Must be > 0.
        with_k, k: usize
    );
    knob!(
        /// Requests in flight per lookup. Default [`ALPHA_VALUE`] (3). Must be in `1..=k`
        /// (a larger value is refused, not clamped).
        with_alpha, alpha: usize
    );
    knob!(
        /// Deadline of one outbound request, from the write to the complete response; a lookup
        /// counts a request older than this as failed. Default 10 s (rust-libp2p's substream
        /// timeout, go's `RefreshQueryTimeout`). Must be > 0.
        with_request_timeout, request_timeout: Duration
    );
    knob!(
        /// Most addresses decoded per peer of a message (further ones are skipped), and kept
        /// per provider record. Default 64 (kubo nodes announce 10 to 30, with relay and IPv6
        /// variants). Must be > 0.
        with_max_addrs_per_peer, max_addrs_per_peer: usize
    );
    knob!(
        /// Longest key accepted in a request and stored. Default 1 KiB (record keys like
        /// `/ipns/<mh>` and provider multihashes are under 100 bytes). Must be > 0.
        with_max_key_size, max_key_size: usize
    );
    knob!(
        /// Largest message read, request or response; also the hard limit on anything we send.
        /// Default [`DEFAULT_MAX_MESSAGE_SIZE`] (4 MiB). At least [`MIN_MESSAGE_SIZE`].
        with_max_message_size, max_message_size: usize
    );
    knob!(
        /// Soft limit on responses we send. Default [`DEFAULT_MAX_RESPONSE_SIZE`] (16 KiB).
        /// Peer lists are truncated to fit; a response still larger (a big record) is sent
        /// anyway if it fits `max_message_size`, since go peers read it and dropping the record
        /// would lose data. Must be in `1..=max_message_size`.
        with_max_response_size, max_response_size: usize
    );
    knob!(
        /// Most peers decoded per list (`closerPeers`, `providerPeers`) of one message; further
        /// ones are skipped without being decoded. Default 256 (a normal answer has k = 20
        /// closer peers; go sends all providers it knows). Must be > 0.
        with_max_peers_per_message, max_peers_per_message: usize
    );
    knob!(
        /// An inbound stream with no new request for this long is closed. Default 1 min (go's
        /// `dhtStreamIdleTimeout`; go reuses its outbound streams, so we must not close them
        /// sooner than go does). Must be > 0.
        with_inbound_idle_timeout, inbound_idle_timeout: Duration
    );
    knob!(
        /// Most inbound kad streams one peer may have open at once; a further one is refused
        /// ([`KadError::TooManyInboundRequests`]). Default 32, rust-libp2p's `MAX_NUM_STREAMS`
        /// per connection (rust opens one stream per request; go keeps one per peer). Must be
        /// > 0.
        with_max_inbound_streams_per_peer, max_inbound_streams_per_peer: usize
    );
    knob!(
        /// Addresses kept per peer, newest first, in the routing table and the address book.
        /// Default 8. Must be in `1..=max_addrs_per_peer`.
        with_addrs_kept_per_peer, addrs_kept_per_peer: usize
    );
    knob!(
        /// Peers kept in the address book of peers learned from responses (oldest forgotten
        /// first). Default 4096. Must be > 0.
        with_address_book_size, address_book_size: usize
    );
    knob!(
        /// Addresses of one peer tried, in order, when a request has to dial it (kad-swarm).
        /// Default 4. Must be in `1..=addrs_kept_per_peer`.
        with_max_dial_addrs, max_dial_addrs: usize
    );
    knob!(
        /// How long a full bucket's pending candidate waits for the liveness result of the
        /// entry it would replace. Default 60 s. Must be > 0.
        with_pending_timeout, pending_timeout: Duration
    );
    knob!(
        /// Peers sharing one public IP group (/16 IPv4, /32 IPv6) per bucket. Default 2, as go.
        /// Must be > 0.
        with_max_per_ip_group_bucket, max_per_ip_group_bucket: usize
    );
    knob!(
        /// Peers sharing one public IP group in the whole routing table. Default 3, as go. Must
        /// be > 0.
        with_max_per_ip_group_table, max_per_ip_group_table: usize
    );
    knob!(
        /// Most lookup candidates remembered (the farthest not in flight are dropped). Default
        /// 1000. Must be at least `k + alpha`.
        with_max_peers_seen, max_peers_seen: usize
    );
    knob!(
        /// Neighbourhood probes per lookup round (see [`crate::query`]). Default 2; 0 disables
        /// them (as rust-libp2p and go).
        with_probe_width, probe_width: usize
    );
    knob!(
        /// Rounds of neighbourhood probes per lookup. Default 2.
        with_probe_rounds, probe_rounds: usize
    );
    knob!(
        /// How long a stored record lives. Default 48 h (go-libp2p-kad-dht and rust-libp2p).
        /// Must be > 0.
        with_record_ttl, record_ttl: Duration
    );
    knob!(
        /// How long a provider record lives. Default 48 h (go `amino.DefaultProvideValidity`).
        /// Must be above `provider_republish_interval`.
        with_provider_ttl, provider_ttl: Duration
    );
    knob!(
        /// How often the keys we provide are re-announced to the k closest peers. Default 22 h
        /// (go `amino.DefaultReprovideInterval`). Must be below `provider_ttl`; zero disables
        /// the re-announcing.
        with_provider_republish_interval, provider_republish_interval: Duration
    );
    knob!(
        /// Largest record value stored. Default 65 KiB, rust-libp2p's `max_value_bytes`, so we
        /// store what a rust peer would. Must fit in `max_message_size`, or such records could
        /// not be served.
        with_max_record_value_size, max_record_value_size: usize
    );
    knob!(
        /// Most records stored (one per key). Default 16,384. Must be > 0.
        with_max_records, max_records: usize
    );
    knob!(
        /// Most bytes of keys plus values over all stored records. Default 256 MiB. Must be > 0.
        with_max_record_bytes, max_record_bytes: usize
    );
    knob!(
        /// Most provider records stored over all keys. Default 65,536. Must be > 0.
        with_max_provider_records, max_provider_records: usize
    );
    knob!(
        /// How often the routing table is refreshed: a bucket is refreshed when no refresh
        /// lookup ran in it for this long. Default 10 min (go `RefreshInterval`); zero disables
        /// the periodic refresh.
        with_refresh_interval, refresh_interval: Duration
    );
    knob!(
        /// Whether a refresh looks up our own id. Default true, as go and rust.
        with_self_lookup, self_lookup: bool
    );
    knob!(
        /// Routing-table peers not seen alive for this long get a liveness check during a
        /// refresh. Default `Some(10 min)`; `None` disables the checks.
        with_stale_after, stale_after: Option<Duration>
    );
    knob!(
        /// Most liveness checks per refresh round, so that one round stays bounded. Default
        /// 256.
        with_max_pings_per_refresh, max_pings_per_refresh: usize
    );
    knob!(
        /// How often expired records and provider records are purged from the store. Default
        /// 60 s; zero disables the sweep.
        with_expiry_interval, expiry_interval: Duration
    );
    knob!(
        /// How often the records we published with `put_value` are stored again at the k
        /// closest peers, with a fresh expiry. Default 22 h (below the 48 h record TTL;
        /// rust-libp2p republishes originals every 22-24 h); zero disables it.
        with_record_republish_interval, record_republish_interval: Duration
    );

    knob!(
        /// Records as IPFS uses them: the node stores (as a server, and locally on a put) only
        /// `/pk/` and `/ipns/` records, validated as kubo does
        /// ([`IpfsValidator`](crate::store::IpfsValidator) with `only_ipfs_namespaces`), as
        /// go-libp2p-kad-dht on the public DHT; every other namespace is refused. Default off
        /// (private DHTs store any key; `/pk/` records are checked either way). Applied by
        /// whoever builds the node's validator (`chainp2p-kad-swarm` does, unless given one).
        with_ipfs_records, ipfs_records: bool
    );

    /// Protocol id negotiated with multistream-select. Default [`DEFAULT_PROTOCOL`]
    /// (`/ipfs/kad/1.0.0`); private networks use e.g. `/ipfs/lan/kad/1.0.0`. Must start with
    /// `/` and be one line.
    #[must_use]
    pub fn with_protocol(mut self, protocol_id: impl Into<String>) -> Self {
        self.protocol_id = protocol_id.into();
        self
    }

    /// The protocol id set by [`Config::with_protocol`].
    pub fn protocol_id(&self) -> &str {
        &self.protocol_id
    }

    /// Resiliency β of the lookups: finished when the `beta` closest non-failed candidates
    /// have answered. Default: `k` (every one of the k closest answered, for exact results;
    /// go uses 3). Must be in `1..=k`.
    #[must_use]
    pub fn with_beta(mut self, beta: usize) -> Self {
        self.beta = Some(beta);
        self
    }

    /// The β of [`Config::with_beta`] (`k` unless set).
    pub fn beta(&self) -> usize {
        self.beta.unwrap_or(self.k)
    }

    /// Most closer peers a lookup takes from one response. Default: `2 * k` (40; honest peers
    /// send at most k). Must be > 0.
    #[must_use]
    pub fn with_max_closer_per_response(mut self, n: usize) -> Self {
        self.max_closer_per_response = Some(n);
        self
    }

    /// The limit of [`Config::with_max_closer_per_response`] (`2 * k` unless set).
    pub fn max_closer_per_response(&self) -> usize {
        self.max_closer_per_response
            .unwrap_or(self.k.saturating_mul(2))
    }

    /// Most providers stored per key. Default: `k` (20, as rust-libp2p's
    /// `max_providers_per_key`). Must be > 0.
    #[must_use]
    pub fn with_max_providers_per_key(mut self, n: usize) -> Self {
        self.max_providers_per_key = Some(n);
        self
    }

    /// The limit of [`Config::with_max_providers_per_key`] (`k` unless set).
    pub fn max_providers_per_key(&self) -> usize {
        self.max_providers_per_key.unwrap_or(self.k)
    }

    /// Checks that the settings make sense together; [`KadError::InvalidConfig`] names the
    /// first one that does not.
    pub fn validate(&self) -> Result<(), KadError> {
        let bad = |m: String| Err(KadError::InvalidConfig(m));
        if !self.protocol_id.starts_with('/') || self.protocol_id.contains('\n') {
            return bad(format!(
                "protocol id {:?} must start with '/' and be one line",
                self.protocol_id
            ));
        }
        if self.k == 0 {
            return bad("k must be > 0".into());
        }
        if self.alpha == 0 || self.alpha > self.k {
            return bad(format!(
                "alpha {} must be in 1..=k ({})",
                self.alpha, self.k
            ));
        }
        if self.beta() == 0 || self.beta() > self.k {
            return bad(format!(
                "beta {} must be in 1..=k ({})",
                self.beta(),
                self.k
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
        if self.max_record_value_size > self.max_message_size {
            return bad(format!(
                "max_record_value_size {} must fit in max_message_size ({})",
                self.max_record_value_size, self.max_message_size
            ));
        }
        let positive = [
            ("max_peers_per_message", self.max_peers_per_message),
            ("max_addrs_per_peer", self.max_addrs_per_peer),
            ("max_key_size", self.max_key_size),
            (
                "max_inbound_streams_per_peer",
                self.max_inbound_streams_per_peer,
            ),
            ("address_book_size", self.address_book_size),
            ("max_per_ip_group_bucket", self.max_per_ip_group_bucket),
            ("max_per_ip_group_table", self.max_per_ip_group_table),
            ("max_closer_per_response", self.max_closer_per_response()),
            ("max_records", self.max_records),
            ("max_record_bytes", self.max_record_bytes),
            ("max_providers_per_key", self.max_providers_per_key()),
            ("max_provider_records", self.max_provider_records),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return bad(format!("{name} must be > 0"));
        }
        if self.addrs_kept_per_peer == 0 || self.addrs_kept_per_peer > self.max_addrs_per_peer {
            return bad(format!(
                "addrs_kept_per_peer {} must be in 1..=max_addrs_per_peer ({})",
                self.addrs_kept_per_peer, self.max_addrs_per_peer
            ));
        }
        if self.max_dial_addrs == 0 || self.max_dial_addrs > self.addrs_kept_per_peer {
            return bad(format!(
                "max_dial_addrs {} must be in 1..=addrs_kept_per_peer ({})",
                self.max_dial_addrs, self.addrs_kept_per_peer
            ));
        }
        if self.max_peers_seen < self.k + self.alpha {
            return bad(format!(
                "max_peers_seen {} must be at least k + alpha ({})",
                self.max_peers_seen,
                self.k + self.alpha
            ));
        }
        let timeouts = [
            self.request_timeout,
            self.inbound_idle_timeout,
            self.pending_timeout,
            self.record_ttl,
        ];
        if timeouts.iter().any(Duration::is_zero) {
            return bad(
                "request_timeout, inbound_idle_timeout, pending_timeout and record_ttl must be > 0"
                    .into(),
            );
        }
        if self.provider_republish_interval >= self.provider_ttl {
            return bad(format!(
                "provider_republish_interval {:?} must be below provider_ttl {:?}",
                self.provider_republish_interval, self.provider_ttl
            ));
        }
        Ok(())
    }

    /// The routing-table settings derived from this config (k, addresses kept per peer, the
    /// pending timeout and the IP-diversity limits).
    pub fn routing_config(&self) -> RoutingConfig {
        RoutingConfig {
            k: self.k,
            max_addrs_per_peer: self.addrs_kept_per_peer,
            pending_timeout: self.pending_timeout,
            max_per_ip_group_bucket: self.max_per_ip_group_bucket,
            max_per_ip_group_table: self.max_per_ip_group_table,
        }
    }

    /// The lookup settings derived from this config (k, alpha, beta, the request timeout, the
    /// candidate and probe limits).
    pub fn query_config(&self) -> QueryConfig {
        QueryConfig {
            alpha: self.alpha,
            k: self.k,
            beta: self.beta(),
            request_timeout: self.request_timeout,
            max_peers_seen: self.max_peers_seen,
            max_closer_per_response: self.max_closer_per_response(),
            probe_width: self.probe_width,
            probe_rounds: self.probe_rounds,
        }
    }

    /// The record-store settings derived from this config: open the node's store with it
    /// (`MemoryStore::new(local, config.store_config())`); [`KadNode::new`] refuses a store
    /// whose settings differ.
    ///
    /// [`KadNode::new`]: crate::node::KadNode::new
    pub fn store_config(&self) -> StoreConfig {
        StoreConfig {
            record_ttl: self.record_ttl,
            provider_ttl: self.provider_ttl,
            provider_republish_interval: self.provider_republish_interval,
            max_key_size: self.max_key_size,
            max_record_value_size: self.max_record_value_size,
            max_records: self.max_records,
            max_record_bytes: self.max_record_bytes,
            max_providers_per_key: self.max_providers_per_key(),
            max_provider_records: self.max_provider_records,
            max_addrs_per_provider: self.max_addrs_per_peer,
        }
    }

    /// The maintenance settings derived from this config (what
    /// [`KadNode::spawn_maintenance`](crate::node::KadNode::spawn_maintenance) runs).
    pub fn maintenance_config(&self) -> MaintenanceConfig {
        MaintenanceConfig {
            refresh_interval: self.refresh_interval,
            self_lookup: self.self_lookup,
            stale_after: self.stale_after,
            max_pings_per_refresh: self.max_pings_per_refresh,
            expiry_interval: self.expiry_interval,
            provider_republish_interval: Some(self.provider_republish_interval),
            record_republish_interval: self.record_republish_interval,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let c = Config::default();
        c.validate().unwrap();
        assert_eq!(c.protocol_id(), "/ipfs/kad/1.0.0");
        assert_eq!((c.k(), c.alpha(), c.beta()), (20, 3, 20));
        assert_eq!(c.max_message_size(), 4 << 20);
        assert_eq!(c.max_response_size(), 16 << 10);
        assert_eq!(c.request_timeout(), Duration::from_secs(10));
        assert_eq!(c.max_peers_per_message(), 256);
        assert_eq!(c.max_addrs_per_peer(), 64);
        assert_eq!(c.max_inbound_streams_per_peer(), 32);
        assert_eq!(c.inbound_idle_timeout(), Duration::from_secs(60));
        assert_eq!(c.address_book_size(), 4096);
        assert_eq!(c.max_dial_addrs(), 4);
        assert_eq!(c.max_closer_per_response(), 40);
        assert_eq!(c.refresh_interval(), Duration::from_secs(600));
        assert_eq!(c.expiry_interval(), Duration::from_secs(60));
        assert_eq!(
            c.record_republish_interval(),
            Duration::from_secs(22 * 3600)
        );
        assert_eq!(
            Config::default()
                .with_protocol("/ipfs/lan/kad/1.0.0")
                .protocol_id(),
            "/ipfs/lan/kad/1.0.0"
        );
    }

    #[test]
    fn derived_defaults_are_the_sub_configs_defaults() {
        let c = Config::default();
        let s = c.store_config();
        assert_eq!(s, StoreConfig::default());
        assert_eq!(s.max_key_size, 1024);
        assert_eq!(s.max_record_value_size, 65 * 1024);
        assert_eq!(s.max_records, 16 * 1024);
        assert_eq!(s.max_record_bytes, 256 << 20);
        assert_eq!(s.max_providers_per_key, 20);
        assert_eq!(s.max_provider_records, 64 * 1024);
        assert_eq!(s.max_addrs_per_provider, 64);
        let r = c.routing_config();
        assert_eq!((r.k, r.max_addrs_per_peer), (20, 8));
        let q = c.query_config();
        assert_eq!((q.alpha, q.k, q.beta, q.max_peers_seen), (3, 20, 20, 1000));
        assert_eq!(q.request_timeout, Duration::from_secs(10));
        let m = c.maintenance_config();
        assert_eq!(m.refresh_interval, Duration::from_secs(600));
        assert_eq!(m.stale_after, Some(Duration::from_secs(600)));
    }

    #[test]
    fn k_is_shared_by_every_part() {
        let c = Config::default().with_k(8).with_alpha(2);
        c.validate().unwrap();
        assert_eq!(c.routing_config().k, 8);
        assert_eq!(c.query_config().k, 8);
        assert_eq!(c.query_config().beta, 8);
        assert_eq!(c.query_config().max_closer_per_response, 16);
        assert_eq!(c.store_config().max_providers_per_key, 8);
        // Set apart, they stay apart.
        let c = c.with_beta(3).with_max_providers_per_key(50);
        assert_eq!(c.query_config().beta, 3);
        assert_eq!(c.store_config().max_providers_per_key, 50);
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        let cases: [fn(Config) -> Config; 14] = [
            |c| c.with_protocol("ipfs/kad"),
            |c| c.with_k(0),
            |c| c.with_alpha(0),
            |c| c.with_k(2), // alpha 3 > k 2: refused, not clamped
            |c| c.with_beta(21),
            |c| c.with_max_message_size(10),
            |c| c.with_max_response_size(DEFAULT_MAX_MESSAGE_SIZE + 1),
            |c| c.with_max_peers_per_message(0),
            |c| c.with_request_timeout(Duration::ZERO),
            |c| c.with_max_inbound_streams_per_peer(0),
            |c| c.with_address_book_size(0),
            |c| c.with_max_dial_addrs(9),
            |c| c.with_addrs_kept_per_peer(65),
            |c| c.with_provider_republish_interval(Duration::from_secs(48 * 3600)),
        ];
        for f in cases {
            let c = f(Config::default());
            assert!(
                matches!(c.validate(), Err(KadError::InvalidConfig(_))),
                "{c:?}"
            );
        }
    }
}
