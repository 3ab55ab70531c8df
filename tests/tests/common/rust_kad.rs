//! A rust-libp2p 0.57 Kademlia peer for the kad interop tests: TCP + noise + yamux, identify, ping and
//! `kad::Behaviour<MemoryStore>` on `/ipfs/kad/1.0.0`, forced into server mode.
//!
//! The swarm runs in a tokio task; [`RustKadPeer`] sends it commands over a channel and waits for the answer
//! under a deadline ([`CMD_TIMEOUT`]). Lookups are answered when their query finishes (rust-libp2p's last
//! progress step). Like a typical rust app, the peer feeds the listen addresses a peer announces in identify
//! into kad when that peer lists the kad protocol, and declares its own listen address as external so its
//! ADD_PROVIDER carries an address.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use futures::StreamExt;
use libp2p::kad::store::{MemoryStore, RecordStore};
use libp2p::kad::{self, GetProvidersOk, GetRecordOk, QueryId, QueryResult, Quorum, RecordKey};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, ping, Multiaddr, PeerId, StreamProtocol, Swarm};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::rust_peer::seeded_swarm;

/// The kad protocol of the rust peers (rust-libp2p's default).
pub const KAD_PROTOCOL: &str = "/ipfs/kad/1.0.0";

/// Deadline of every command, longer than the kad query timeout so queries report their own timeout first.
pub const CMD_TIMEOUT: Duration = Duration::from_secs(20);

/// rust-libp2p query timeout (its default is 60 s).
const QUERY_TIMEOUT: Duration = Duration::from_secs(15);

/// The behaviour of the rust kad peer.
#[derive(NetworkBehaviour)]
struct Behaviour {
    ping: ping::Behaviour,
    identify: identify::Behaviour,
    kad: kad::Behaviour<MemoryStore>,
}

/// The kad behaviour, as handed to [`RustKadPeer::with_kad`] closures.
pub type Kad = kad::Behaviour<MemoryStore>;

/// A record as found by [`RustKadPeer::get_record`]: its value and who returned it (`None`: the local store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRecord {
    /// Value bytes.
    pub value: Vec<u8>,
    /// The peer that returned it; `None` for the local store.
    pub from: Option<PeerId>,
}

type Reply<T> = oneshot::Sender<Result<T>>;
type KadFn = Box<dyn FnOnce(&mut Kad) + Send>;

/// Commands to the swarm task.
enum Command {
    Listen(Reply<Multiaddr>),
    Dial(Multiaddr, Reply<()>),
    WithKad(KadFn),
    Query(Start),
}

/// A kad query to start, with where its answer goes.
enum Start {
    Bootstrap(Reply<()>),
    Closest(PeerId, Reply<Vec<(PeerId, Vec<Multiaddr>)>>),
    Put(RecordKey, Vec<u8>, Reply<()>),
    Get(RecordKey, Reply<Vec<FoundRecord>>),
    Provide(RecordKey, Reply<()>),
    Providers(RecordKey, Reply<HashSet<PeerId>>),
}

/// A running query and its accumulated results.
enum Pending {
    Bootstrap(Reply<()>),
    Closest(Reply<Vec<(PeerId, Vec<Multiaddr>)>>),
    Put(Reply<()>),
    Get(Vec<FoundRecord>, Reply<Vec<FoundRecord>>),
    Provide(Reply<()>),
    Providers(HashSet<PeerId>, Reply<HashSet<PeerId>>),
}

/// A running rust-libp2p kad peer. Dropping it stops the swarm task.
pub struct RustKadPeer {
    /// Our PeerId.
    pub peer_id: PeerId,
    commands: mpsc::UnboundedSender<Command>,
    task: JoinHandle<()>,
}

impl Drop for RustKadPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RustKadPeer {
    /// Builds the swarm from the `--seed` convention keypair and starts its task (not listening yet).
    pub fn spawn(seed: u64) -> Result<Self> {
        let mut swarm = seeded_swarm(seed, |key| {
            let mut cfg = kad::Config::new(StreamProtocol::new(KAD_PROTOCOL));
            cfg.set_query_timeout(QUERY_TIMEOUT);
            let id = key.public().to_peer_id();
            let mut kad = kad::Behaviour::with_config(id, MemoryStore::new(id), cfg);
            kad.set_mode(Some(kad::Mode::Server));
            Behaviour {
                ping: ping::Behaviour::new(ping::Config::new()),
                identify: identify::Behaviour::new(identify::Config::new(
                    "ipfs/0.1.0".to_string(),
                    key.public(),
                )),
                kad,
            }
        })?;
        let peer_id = *swarm.local_peer_id();
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move { run_swarm(&mut swarm, rx).await });
        Ok(Self {
            peer_id,
            commands: tx,
            task,
        })
    }

    /// Sends a command built around a reply channel and waits up to [`CMD_TIMEOUT`] for the answer.
    async fn ask<T>(&self, what: &str, make: impl FnOnce(Reply<T>) -> Command) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .map_err(|_| anyhow!("rust kad swarm task is gone"))?;
        tokio::time::timeout(CMD_TIMEOUT, rx)
            .await
            .with_context(|| format!("rust kad peer {}: {what} timed out", self.peer_id))?
            .with_context(|| format!("rust kad peer {}: {what}: no answer", self.peer_id))?
            .with_context(|| format!("rust kad peer {}: {what}", self.peer_id))
    }

    /// Runs `f` on the kad behaviour inside the swarm task (routing table, local store, ...).
    pub async fn with_kad<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Kad) -> T + Send + 'static,
    ) -> Result<T> {
        self.ask("with_kad", |reply| {
            Command::WithKad(Box::new(move |kad| {
                let _ = reply.send(Ok(f(kad)));
            }))
        })
        .await
    }

    /// Listens on `/ip4/127.0.0.1/tcp/0`; returns the bound address with `/p2p/<our id>` appended.
    pub async fn listen(&self) -> Result<Multiaddr> {
        let addr = self.ask("listen", Command::Listen).await?;
        Ok(addr.with(Protocol::P2p(self.peer_id)))
    }

    /// Starts a dial to `addr` (the connection comes up in the background).
    pub async fn dial(&self, addr: Multiaddr) -> Result<()> {
        self.ask("dial", |r| Command::Dial(addr, r)).await
    }

    /// Adds `addr` of `peer` to the kad routing table; true if the table accepted it.
    pub async fn add_address(&self, peer: PeerId, addr: Multiaddr) -> Result<bool> {
        self.with_kad(move |kad| {
            matches!(
                kad.add_address(&peer, addr),
                kad::RoutingUpdate::Success | kad::RoutingUpdate::Pending
            )
        })
        .await
    }

    /// Runs a kad bootstrap to the end.
    pub async fn bootstrap(&self) -> Result<()> {
        self.ask("bootstrap", |r| Command::Query(Start::Bootstrap(r)))
            .await
    }

    /// The PeerIds in the routing table.
    pub async fn routing_table(&self) -> Result<Vec<PeerId>> {
        self.with_kad(|kad| {
            kad.kbuckets()
                .flat_map(|b| b.iter().map(|e| *e.node.key.preimage()).collect::<Vec<_>>())
                .collect()
        })
        .await
    }

    /// Iterative FIND_NODE for `peer`: the closest peers found, with their addresses.
    pub async fn get_closest_peers(&self, peer: PeerId) -> Result<Vec<(PeerId, Vec<Multiaddr>)>> {
        self.ask("get_closest_peers", |r| {
            Command::Query(Start::Closest(peer, r))
        })
        .await
    }

    /// `put_record` with quorum one (stores locally too); Ok once at least one remote peer stored it.
    pub async fn put_record(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let (key, value) = (RecordKey::new(&key), value.to_vec());
        self.ask("put_record", |r| Command::Query(Start::Put(key, value, r)))
            .await
    }

    /// Iterative GET_VALUE until the query ends: every copy found (local first if held, then remote peers).
    pub async fn get_record_all(&self, key: &[u8]) -> Result<Vec<FoundRecord>> {
        let key = RecordKey::new(&key);
        self.ask("get_record", |r| Command::Query(Start::Get(key, r)))
            .await
    }

    /// The value found by a GET_VALUE lookup, preferring a copy returned by a remote peer.
    pub async fn get_record(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let all = self.get_record_all(key).await?;
        let remote = all.iter().find(|r| r.from.is_some());
        Ok(remote.or(all.first()).map(|r| r.value.clone()))
    }

    /// `start_providing` (stores locally too) and waits for the ADD_PROVIDER round to finish.
    pub async fn start_providing(&self, key: &[u8]) -> Result<()> {
        let key = RecordKey::new(&key);
        self.ask("start_providing", |r| {
            Command::Query(Start::Provide(key, r))
        })
        .await
    }

    /// Iterative GET_PROVIDERS until the query ends: every provider found (local store included).
    pub async fn get_providers(&self, key: &[u8]) -> Result<HashSet<PeerId>> {
        let key = RecordKey::new(&key);
        self.ask("get_providers", |r| {
            Command::Query(Start::Providers(key, r))
        })
        .await
    }

    /// The value of `key` in the local store, if any.
    pub async fn store_record(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let key = RecordKey::new(&key);
        self.with_kad(move |kad| kad.store_mut().get(&key).map(|r| r.value.clone()))
            .await
    }

    /// True if the local store holds a record for `key`.
    pub async fn store_has_record(&self, key: &[u8]) -> Result<bool> {
        Ok(self.store_record(key).await?.is_some())
    }

    /// The providers of `key` in the local store, with the addresses stored with them.
    pub async fn store_providers(&self, key: &[u8]) -> Result<Vec<(PeerId, Vec<Multiaddr>)>> {
        let key = RecordKey::new(&key);
        self.with_kad(move |kad| {
            let providers = kad.store_mut().providers(&key);
            providers
                .into_iter()
                .map(|p| (p.provider, p.addresses))
                .collect()
        })
        .await
    }

    /// Drops the record and every provider record of `key` from the local store (forces network lookups).
    pub async fn forget(&self, key: &[u8]) -> Result<()> {
        let key = RecordKey::new(&key);
        self.with_kad(move |kad| {
            let store = kad.store_mut();
            store.remove(&key);
            for p in store.providers(&key) {
                store.remove_provider(&key, &p.provider);
            }
        })
        .await
    }
}

/// The swarm loop: executes commands, answers finished queries, feeds identify into kad.
async fn run_swarm(swarm: &mut Swarm<Behaviour>, mut commands: mpsc::UnboundedReceiver<Command>) {
    let mut pending_listen: Vec<Reply<Multiaddr>> = Vec::new();
    let mut queries: HashMap<QueryId, Pending> = HashMap::new();
    loop {
        tokio::select! {
            cmd = commands.recv() => match cmd {
                None => return,
                Some(Command::Listen(reply)) => {
                    match "/ip4/127.0.0.1/tcp/0".parse::<Multiaddr>() {
                        Ok(addr) => match swarm.listen_on(addr) {
                            Ok(_) => pending_listen.push(reply),
                            Err(e) => { let _ = reply.send(Err(anyhow!("listen_on: {e}"))); }
                        },
                        Err(e) => { let _ = reply.send(Err(e.into())); }
                    }
                }
                Some(Command::Dial(addr, reply)) => {
                    let _ = reply.send(swarm.dial(addr).map_err(|e| anyhow!("dial: {e}")));
                }
                Some(Command::WithKad(f)) => f(&mut swarm.behaviour_mut().kad),
                Some(Command::Query(start)) => {
                    if let Some((id, pending)) = start_query(&mut swarm.behaviour_mut().kad, start) {
                        queries.insert(id, pending);
                    }
                }
            },
            ev = swarm.select_next_some() => match ev {
                SwarmEvent::NewListenAddr { address, .. } => {
                    swarm.add_external_address(address.clone());
                    for reply in pending_listen.drain(..) {
                        let _ = reply.send(Ok(address.clone()));
                    }
                }
                SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                    peer_id, info, ..
                })) if info.protocols.iter().any(|p| p.as_ref() == KAD_PROTOCOL) => {
                    for addr in info.listen_addrs {
                        swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                    }
                }
                SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed {
                    id, result, step, ..
                })) => {
                    if let Some(pending) = queries.remove(&id) {
                        if let Some(pending) = progress(pending, result, step.last) {
                            queries.insert(id, pending);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Starts a query; answers at once (None) when it cannot start.
fn start_query(kad: &mut Kad, start: Start) -> Option<(QueryId, Pending)> {
    Some(match start {
        Start::Bootstrap(r) => match kad.bootstrap() {
            Ok(id) => (id, Pending::Bootstrap(r)),
            Err(e) => return fail(r, anyhow!("bootstrap: {e}")),
        },
        Start::Closest(peer, r) => (kad.get_closest_peers(peer), Pending::Closest(r)),
        Start::Put(key, value, r) => {
            match kad.put_record(kad::Record::new(key, value), Quorum::One) {
                Ok(id) => (id, Pending::Put(r)),
                Err(e) => return fail(r, anyhow!("put_record: {e}")),
            }
        }
        Start::Get(key, r) => (kad.get_record(key), Pending::Get(Vec::new(), r)),
        Start::Provide(key, r) => match kad.start_providing(key) {
            Ok(id) => (id, Pending::Provide(r)),
            Err(e) => return fail(r, anyhow!("start_providing: {e}")),
        },
        Start::Providers(key, r) => (
            kad.get_providers(key),
            Pending::Providers(HashSet::new(), r),
        ),
    })
}

fn fail<T, U>(reply: Reply<T>, e: anyhow::Error) -> Option<U> {
    let _ = reply.send(Err(e));
    None
}

/// Folds one progress event into a pending query; returns it back unless it is answered.
fn progress(pending: Pending, result: QueryResult, last: bool) -> Option<Pending> {
    match (pending, result) {
        (Pending::Bootstrap(r), QueryResult::Bootstrap(res)) => {
            match res {
                Err(e) => return fail(r, anyhow!("bootstrap: {e}")),
                Ok(ok) if last || ok.num_remaining == 0 => {
                    let _ = r.send(Ok(()));
                }
                Ok(_) => return Some(Pending::Bootstrap(r)),
            }
            None
        }
        (Pending::Closest(r), QueryResult::GetClosestPeers(res)) => {
            let _ = r.send(
                res.map(|ok| ok.peers.into_iter().map(|p| (p.peer_id, p.addrs)).collect())
                    .map_err(|e| anyhow!("get_closest_peers: {e}")),
            );
            None
        }
        (Pending::Put(r), QueryResult::PutRecord(res)) => {
            let _ = r.send(res.map(|_| ()).map_err(|e| anyhow!("put_record: {e}")));
            None
        }
        (Pending::Get(mut found, r), QueryResult::GetRecord(res)) => {
            if let Ok(GetRecordOk::FoundRecord(rec)) = res {
                found.push(FoundRecord {
                    value: rec.record.value,
                    from: rec.peer,
                });
            }
            // A not-found / timeout error just ends the query: the caller sees what was found.
            if last {
                let _ = r.send(Ok(found));
                return None;
            }
            Some(Pending::Get(found, r))
        }
        (Pending::Provide(r), QueryResult::StartProviding(res)) => {
            let _ = r.send(res.map(|_| ()).map_err(|e| anyhow!("start_providing: {e}")));
            None
        }
        (Pending::Providers(mut found, r), QueryResult::GetProviders(res)) => {
            if let Ok(GetProvidersOk::FoundProviders { providers, .. }) = res {
                found.extend(providers);
            }
            if last {
                let _ = r.send(Ok(found));
                return None;
            }
            Some(Pending::Providers(found, r))
        }
        (pending, other) => {
            // Not the kind of result this query asked for: cannot happen with rust-libp2p; report it.
            let msg = format!("unexpected kad result {other:?}");
            match pending {
                Pending::Bootstrap(r) | Pending::Put(r) | Pending::Provide(r) => {
                    fail(r, anyhow!(msg))
                }
                Pending::Closest(r) => fail(r, anyhow!(msg)),
                Pending::Get(_, r) => fail(r, anyhow!(msg)),
                Pending::Providers(_, r) => fail(r, anyhow!(msg)),
            }
        }
    }
}
