//! The node's answers to inbound requests ([`KadServer`] for [`KadNode`]): synchronous, called
//! by [`KadHandler`](crate::handler::KadHandler) once per request.
//!
//! The requester is never added to the routing table here (its mode is unknown until identify
//! says so: [`KadNode::on_peer_identified`]). A PUT_VALUE the validator or the store refuses
//! is answered with [`KadError::Refused`], which makes the handler reset the stream: the sender
//! sees a failure at once, as with go and rust-libp2p (both reset), instead of a timeout.

use std::time::SystemTime;

use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::Multiaddr;

use super::{lock, KadNode};
use crate::error::KadError;
use crate::handler::KadServer;
use crate::key::Key;
use crate::message::{KadPeer, Request, Response, WireRecord};
use crate::proto::ConnectionType;
use crate::store::{validate_and_put, ProviderRecord, Record};

impl KadServer for KadNode {
    fn handle(
        &self,
        from: &PeerId,
        from_addr: Option<&Multiaddr>,
        request: Request,
    ) -> Result<Option<Response>, KadError> {
        let now = SystemTime::now();
        Ok(match request {
            Request::FindNode { key } => Some(Response::FindNode {
                closer: self.closer_peers(&key, from),
            }),
            Request::GetValue { key } => {
                let record = match self.inner.store.get(&key, now) {
                    Ok(r) => r.map(|r| to_wire(r, now)),
                    Err(e) => {
                        tracing::warn!(error = %e, "kad GET_VALUE: store read failed");
                        None
                    }
                };
                Some(Response::GetValue {
                    record,
                    closer: self.closer_peers(&key, from),
                })
            }
            Request::PutValue { record } => {
                let stored = Record {
                    key: record.key.clone(),
                    value: record.value.clone(),
                    publisher: record.publisher.or(Some(*from)),
                    expires: self.inner.store.config().record_expiry(now),
                };
                let store = &*self.inner.store;
                match validate_and_put(store, &*self.inner.validator, stored, now) {
                    Ok(true) => Some(Response::PutValue { record }),
                    Ok(false) => {
                        tracing::debug!(%from, "kad PUT_VALUE: the stored record is better");
                        return Err(KadError::Refused(
                            "the record held is better than the one sent".into(),
                        ));
                    }
                    Err(e) => {
                        tracing::debug!(%from, error = %e, "kad PUT_VALUE refused");
                        return Err(KadError::Refused(e.to_string()));
                    }
                }
            }
            Request::AddProvider { key, providers } => {
                self.add_providers(from, from_addr, key, providers, now);
                None
            }
            Request::GetProviders { key } => {
                let providers = match self.inner.store.providers(&key, now) {
                    Ok(list) => list
                        .into_iter()
                        .map(|p| KadPeer {
                            id: p.provider,
                            addrs: p.addrs,
                            connection: ConnectionType::NotConnected,
                        })
                        .collect(),
                    Err(e) => {
                        tracing::warn!(error = %e, "kad GET_PROVIDERS: store read failed");
                        Vec::new()
                    }
                };
                Some(Response::GetProviders {
                    providers,
                    closer: self.closer_peers(&key, from),
                })
            }
            Request::Ping => Some(Response::Ping),
        })
    }
}

impl KadNode {
    /// The k closest server peers with at least one address, `exclude` left out.
    pub fn closer_peers(&self, key: &[u8], exclude: &PeerId) -> Vec<KadPeer> {
        let target = Key::new(key);
        let k = self.inner.config.k();
        let table = lock(&self.inner.table);
        table
            .closest_entries(target.hash(), k + 1)
            .into_iter()
            .filter(|e| e.peer != *exclude && !e.addrs.is_empty())
            .take(k)
            .map(|e| KadPeer {
                id: e.peer,
                addrs: e.addrs.clone(),
                connection: if e.connected {
                    ConnectionType::Connected
                } else {
                    ConnectionType::NotConnected
                },
            })
            .collect()
    }

    /// Stores the provider entries of an ADD_PROVIDER that name the sender itself.
    fn add_providers(
        &self,
        from: &PeerId,
        from_addr: Option<&Multiaddr>,
        key: Vec<u8>,
        providers: Vec<KadPeer>,
        now: SystemTime,
    ) {
        let store = &*self.inner.store;
        let max_addrs = store.config().max_addrs_per_provider;
        for p in providers {
            if p.id != *from {
                tracing::debug!(%from, claimed = %p.id, "kad ADD_PROVIDER for another peer ignored");
                continue;
            }
            let mut addrs = p.addrs;
            if addrs.is_empty() {
                addrs.extend(from_addr.cloned());
            }
            addrs.truncate(max_addrs);
            self.add_address(*from, &addrs);
            let record = ProviderRecord {
                key: key.clone(),
                provider: p.id,
                addrs,
                expires: store.config().provider_expiry(now),
            };
            if let Err(e) = store.add_provider(record, now) {
                tracing::debug!(%from, error = %e, "kad ADD_PROVIDER not stored");
            }
        }
    }
}

/// A stored record as sent: remaining TTL in seconds (rust-libp2p field 777).
fn to_wire(r: Record, now: SystemTime) -> WireRecord {
    let ttl = r
        .expires
        .duration_since(now)
        .ok()
        .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
        .filter(|s| *s > 0);
    WireRecord {
        key: r.key,
        value: r.value,
        publisher: r.publisher,
        ttl,
        time_received: None,
    }
}
