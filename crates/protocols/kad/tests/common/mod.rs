//! The in-memory network shared by the `KadNode` tests: every `open_stream` is a
//! `tokio::io::duplex` pair whose far end is served by the target node's `KadHandler` (after the
//! target "identifies" the caller as a kad server, as the swarm would, unless it is quiet). A
//! dead node accepts streams and never answers.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chainp2p_core::identity::{Keypair, PeerId};
use chainp2p_core::multiaddr::Multiaddr;
use chainp2p_core::BoxStream;
use chainp2p_kad::error::KadError;
use chainp2p_kad::handler::KadHandler;
use chainp2p_kad::key::{Distance, Key};
use chainp2p_kad::node::{KadNetwork, KadNode, Mode, NodeParams};
use chainp2p_kad::store::{DefaultValidator, MemoryStore};
use chainp2p_kad::Config;
use tokio::io::DuplexStream;
use tokio_util::compat::TokioAsyncReadCompatExt;

pub struct Peer {
    pub node: KadNode,
    pub handler: KadHandler,
    pub addr: Multiaddr,
    pub dead: AtomicBool,
    /// Does not add the peers that contact it to its routing table (so that its table only
    /// changes through its own lookups and refreshes).
    pub quiet: AtomicBool,
}

#[derive(Default)]
pub struct Registry {
    pub peers: Mutex<HashMap<PeerId, Arc<Peer>>>,
    /// Far ends of streams to dead nodes, kept open so that requests hang.
    pub hung: Mutex<Vec<DuplexStream>>,
}

pub struct MemNet {
    pub me: PeerId,
    pub reg: Arc<Registry>,
}

#[async_trait]
impl KadNetwork for MemNet {
    async fn open_stream(&self, peer: &PeerId, _: &[Multiaddr]) -> Result<BoxStream, KadError> {
        let (target, my_addr) = {
            let peers = self.reg.peers.lock().unwrap();
            let target = peers.get(peer).cloned().ok_or_else(|| {
                KadError::Io(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such peer",
                ))
            })?;
            (target, peers.get(&self.me).map(|p| p.addr.clone()))
        };
        let (a, b) = tokio::io::duplex(64 * 1024);
        if target.dead.load(Ordering::SeqCst) {
            self.reg.hung.lock().unwrap().push(b);
        } else {
            let me = self.me;
            if !target.quiet.load(Ordering::SeqCst) {
                // What identify does on a new connection.
                let addrs: Vec<Multiaddr> = my_addr.iter().cloned().collect();
                let protocols = vec![target.node.config().protocol_id().to_owned()];
                target
                    .node
                    .on_peer_identified(me, &addrs, &protocols, Instant::now());
            }
            tokio::spawn(async move {
                let mut b = b.compat();
                let _ = target.handler.serve(&mut b, &me, my_addr.as_ref()).await;
            });
        }
        Ok(Box::new(a.compat()))
    }
}

pub struct Net {
    pub reg: Arc<Registry>,
    pub keys: Vec<Keypair>,
    pub nodes: Vec<KadNode>,
}

impl Net {
    /// `n` server nodes with default settings but the request `timeout`.
    pub fn new(n: usize, timeout: Duration) -> Net {
        Net::build(n, timeout, |_| Config::default())
    }

    /// `n` server nodes with the request `timeout`; `config(i)`: the settings of node `i`.
    pub fn build(n: usize, timeout: Duration, config: impl Fn(usize) -> Config) -> Net {
        let reg = Arc::new(Registry::default());
        let mut keys = Vec::new();
        let mut nodes = Vec::new();
        for i in 0..n {
            let key = Keypair::generate_ed25519();
            let id = key.public().to_peer_id();
            let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", 10_000 + i)
                .parse()
                .unwrap();
            let config = config(i);
            let store_config = config.store_config();
            let node = KadNode::new(NodeParams {
                local: id,
                listen_addrs: vec![addr.clone()],
                config: config.with_request_timeout(timeout),
                mode: Mode::Server,
                store: Arc::new(MemoryStore::new(Some(id), store_config)),
                validator: Arc::new(DefaultValidator),
                network: Arc::new(MemNet {
                    me: id,
                    reg: reg.clone(),
                }),
            })
            .unwrap();
            let peer = Peer {
                handler: node.handler().unwrap(),
                node: node.clone(),
                addr,
                dead: AtomicBool::new(false),
                quiet: AtomicBool::new(false),
            };
            reg.peers.lock().unwrap().insert(id, Arc::new(peer));
            keys.push(key);
            nodes.push(node);
        }
        Net { reg, keys, nodes }
    }

    pub fn id(&self, i: usize) -> PeerId {
        self.nodes[i].local_peer()
    }

    pub fn addr(&self, i: usize) -> Multiaddr {
        self.nodes[i].listen_addrs()[0].clone()
    }

    pub fn peer(&self, i: usize) -> Arc<Peer> {
        self.reg.peers.lock().unwrap()[&self.id(i)].clone()
    }

    pub fn kill(&self, i: usize) {
        self.peer(i).dead.store(true, Ordering::SeqCst);
    }

    /// Nodes `range` join through node 0.
    pub async fn bootstrap(&self, range: std::ops::Range<usize>) {
        let seed = (self.id(0), self.nodes[0].listen_addrs());
        for i in range {
            let n = self.nodes[i].bootstrap(vec![seed.clone()]).await.unwrap();
            assert!(n >= 1, "node {i} joined nobody");
        }
    }

    /// Every node but the first joins through node 0.
    pub async fn bootstrap_all(&self) {
        self.bootstrap(1..self.nodes.len()).await;
    }

    /// Indices of the `n` live nodes closest to `key` (`but` left out).
    pub fn closest(&self, key: &[u8], n: usize, but: usize) -> Vec<usize> {
        let target = Key::new(key);
        let mut v: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| i != but && !self.peer(i).dead.load(Ordering::SeqCst))
            .collect();
        v.sort_by_key(|&i| Distance::between(target.hash(), Key::from_peer(&self.id(i)).hash()));
        v.truncate(n);
        v
    }

    /// A raw stream from node `from` to node `to`.
    pub async fn stream(&self, from: usize, to: usize) -> BoxStream {
        let net = MemNet {
            me: self.id(from),
            reg: self.reg.clone(),
        };
        net.open_stream(&self.id(to), &[]).await.unwrap()
    }
}

/// `f`, failing the test after `secs` seconds.
pub async fn within<T>(secs: u64, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("test timed out")
}
