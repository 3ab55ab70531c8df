//! The listener side: one [`StreamHandler`] for both protocol ids. On [`PROTOCOL`] it answers
//! with our info; on [`PUSH_PROTOCOL`] it reads the peer's update and publishes it to
//! subscribers.
//!
//! Our info is shared state: the swarm keeps a clone of the handler (clones share everything)
//! and calls [`IdentifyHandler::set_listen_addrs`] / [`IdentifyHandler::set_protocols`] as it
//! learns them; every later answer uses the new values.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use async_trait::async_trait;
use chainp2p_core::identity::{Keypair, PeerId};
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::{BoxStream, ChainError, HandlerContext, Next, StreamHandler};
use tokio::sync::broadcast;

use crate::client::{read_merged, write_and_close};
use crate::{
    IdentifyConfig, IdentifyError, IdentifyInfo, LocalInfo, PushInfo, PROTOCOL, PUSH_PROTOCOL,
};

/// A push received from a peer, as published to [`IdentifyHandler::subscribe`]rs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent {
    /// The connection's authenticated peer ([`HandlerContext::remote_peer`]).
    pub peer: Option<PeerId>,
    /// What changed.
    pub push: PushInfo,
}

/// Serves [`PROTOCOL`] and [`PUSH_PROTOCOL`]. Cheap to clone; clones share our info and the
/// push channel.
#[derive(Debug, Clone)]
pub struct IdentifyHandler {
    shared: Arc<Shared>,
}

/// A signed peer record we made, kept until our addresses change.
#[derive(Debug)]
struct SignedRecord {
    signer: PeerId,
    addrs: Vec<Multiaddr>,
    seq: u64,
    bytes: Vec<u8>,
}

#[derive(Debug)]
struct Shared {
    local: RwLock<LocalInfo>,
    /// Our last signed peer record: (signer, addresses, seq, bytes).
    record: Mutex<Option<SignedRecord>>,
    config: IdentifyConfig,
    pushes: broadcast::Sender<PushEvent>,
}

impl IdentifyHandler {
    /// A handler advertising `local`, with default limits.
    pub fn new(local: LocalInfo) -> Self {
        Self::with_config(local, IdentifyConfig::default())
    }

    /// A handler advertising `local`, with the given limits.
    pub fn with_config(local: LocalInfo, config: IdentifyConfig) -> Self {
        let (pushes, _) = broadcast::channel(config.push_channel_capacity.max(1));
        IdentifyHandler {
            shared: Arc::new(Shared {
                local: RwLock::new(local),
                record: Mutex::new(None),
                config,
                pushes,
            }),
        }
    }

    /// Replaces the listen addresses we advertise.
    pub fn set_listen_addrs(&self, addrs: Vec<Multiaddr>) {
        self.update(|l| l.listen_addrs = addrs);
    }

    /// Replaces the protocol ids we advertise (those we accept inbound).
    pub fn set_protocols(&self, protocols: Vec<String>) {
        self.update(|l| l.protocols = protocols);
    }

    /// Changes any part of our info.
    pub fn update(&self, f: impl FnOnce(&mut LocalInfo)) {
        f(&mut self
            .shared
            .local
            .write()
            .unwrap_or_else(PoisonError::into_inner));
    }

    /// A snapshot of our info.
    pub fn local_info(&self) -> LocalInfo {
        self.shared
            .local
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The limits in use.
    pub fn config(&self) -> &IdentifyConfig {
        &self.shared.config
    }

    /// Receives every push accepted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PushEvent> {
        self.shared.pushes.subscribe()
    }

    /// What we answer on a connection: our info, our key and the remote's observed address.
    pub fn info_for(&self, ctx: &HandlerContext) -> IdentifyInfo {
        let local = self.local_info();
        let signed_peer_record = self.signed_record(&ctx.local_key, &local.listen_addrs);
        IdentifyInfo {
            signed_peer_record,
            public_key: ctx.local_key.public(),
            protocol_version: local.protocol_version,
            agent_version: local.agent_version,
            listen_addrs: local.listen_addrs,
            protocols: local.protocols,
            observed_addr: ctx.remote_addr.clone(),
        }
    }

    /// Our signed peer record for `addrs`, re-signed (with a larger sequence number: the
    /// current Unix time in seconds, or the previous one plus one) only when the addresses or
    /// the key changed. `None` without addresses or if signing fails.
    fn signed_record(&self, key: &Keypair, addrs: &[Multiaddr]) -> Option<Vec<u8>> {
        if addrs.is_empty() {
            return None;
        }
        let signer = key.public().to_peer_id();
        let mut cached = self
            .shared
            .record
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = cached.as_ref() {
            if c.signer == signer && c.addrs == addrs {
                return Some(c.bytes.clone());
            }
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let seq = cached.as_ref().map_or(now, |c| now.max(c.seq + 1));
        match crate::record::sign(key, seq, addrs) {
            Ok(bytes) => {
                *cached = Some(SignedRecord {
                    signer,
                    addrs: addrs.to_vec(),
                    seq,
                    bytes: bytes.clone(),
                });
                Some(bytes)
            }
            Err(e) => {
                tracing::warn!(error = %e, "identify: no signed peer record");
                None
            }
        }
    }

    async fn answer(&self, io: &mut BoxStream, ctx: &HandlerContext) -> Result<(), ChainError> {
        let config = &self.shared.config;
        let msg = self.info_for(ctx).to_proto(config.max_own_message_size)?;
        write_and_close(io, &msg, config).await
    }

    async fn receive_push(
        &self,
        io: &mut BoxStream,
        ctx: &HandlerContext,
    ) -> Result<(), ChainError> {
        let msg = read_merged(io, &self.shared.config).await?;
        let push = PushInfo::from_proto(msg, ctx.remote_peer.as_ref())?;
        let event = PushEvent {
            peer: ctx.remote_peer,
            push,
        };
        if self.shared.pushes.send(event).is_err() {
            tracing::debug!(peer = ?ctx.remote_peer, "identify push received with no subscriber");
        }
        Ok(())
    }
}

impl Default for IdentifyHandler {
    fn default() -> Self {
        Self::new(LocalInfo::default())
    }
}

#[async_trait]
impl StreamHandler for IdentifyHandler {
    fn protocols(&self) -> Vec<String> {
        vec![PROTOCOL.to_owned(), PUSH_PROTOCOL.to_owned()]
    }

    async fn handle(
        &self,
        protocol: &str,
        mut io: BoxStream,
        ctx: HandlerContext,
    ) -> Result<Next, ChainError> {
        match protocol {
            PROTOCOL => self.answer(&mut io, &ctx).await?,
            PUSH_PROTOCOL => self.receive_push(&mut io, &ctx).await?,
            other => return Err(IdentifyError::UnknownProtocol(other.to_owned()).into()),
        }
        Ok(Next::Done)
    }
}
