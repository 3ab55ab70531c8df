//! `chain-node kad …`: one DHT operation entered through the dialed peer. The command runs a
//! kad node in client mode (it queries, never serves) with an in-memory store, dials the entry
//! peer, checks through identify that it serves our kad protocol, seeds the routing table with
//! it, runs the iterative lookup and prints one JSON line. A `put` or `provide` that no peer
//! took fails (the record is stored nowhere but in our own, throw-away, store).

use std::time::Duration;

use anyhow::{bail, Context, Result};
use chainp2p_core::identity::PeerId;
use chainp2p_kad::message::KadPeer;
use chainp2p_kad::node::{KadNode, Mode};
use chainp2p_kad_swarm::{BuildWithKad, KadService};
use chainp2p_swarm::Swarm;

use crate::cli::{CommonArgs, KadArgs, KadOp};
use crate::commands::{parse_addr, swarm_builder};
use crate::dht;
use crate::output::{Op, Output, Peer};

/// Time given to the last ADD_PROVIDER / PUT_VALUE streams to be read before we hang up.
const LINGER: Duration = Duration::from_millis(250);

/// `chain-node kad OP`.
pub async fn run(common: &CommonArgs, args: &KadArgs, out: Output) -> Result<()> {
    let builder = swarm_builder(common, false)?;
    let local = builder.local_peer_id();
    let opts = dht::kad_options(common, Mode::Client, dht::memory_store(local))?;
    let (swarm, service) = builder.build_with_kad(opts)?;
    let result = operate(&swarm, &service, args, out).await;
    swarm.shutdown().await;
    result
}

async fn operate(swarm: &Swarm, service: &KadService, args: &KadArgs, out: Output) -> Result<()> {
    let node = service.node();
    node.set_progress(Some(dht::progress_printer()));
    if matches!(args.op, KadOp::Provide { .. }) {
        listen(swarm, node, &args.listen).await?;
    }
    let entry = match &args.op {
        KadOp::FindNode { addr, .. }
        | KadOp::Put { addr, .. }
        | KadOp::Get { addr, .. }
        | KadOp::Provide { addr, .. }
        | KadOp::GetProviders { addr, .. } => addr,
    };
    enter(service, entry).await?;
    match &args.op {
        KadOp::FindNode { peer_id, .. } => {
            let target: PeerId = peer_id
                .parse()
                .with_context(|| format!("unparseable peer id {peer_id:?}"))?;
            let peers = node.find_node(target).await?;
            let listed: Vec<Peer> = peers.iter().map(peer_line).collect();
            out.emit(Op::FindNode { peers: listed }, || {
                peers_text(&format!("closest peers to {target}"), &peers)
            });
        }
        KadOp::Put { key, value, .. } => {
            let stored = node
                .put_value(key.as_bytes().to_vec(), value.as_bytes().to_vec())
                .await?;
            tokio::time::sleep(LINGER).await;
            out.emit(
                Op::Put {
                    key: key.clone(),
                    stored_at: stored,
                },
                || format!("stored {key:?} at {stored} peers"),
            );
        }
        KadOp::Get { key, .. } => {
            let Some(record) = node.get_value(key.as_bytes().to_vec(), 1).await? else {
                bail!("no record found for key {key:?}");
            };
            let value = String::from_utf8_lossy(&record.value).into_owned();
            out.emit(
                Op::Get {
                    key: key.clone(),
                    value: value.clone(),
                },
                || format!("{key} = {value}"),
            );
        }
        KadOp::Provide { key, .. } => {
            let stored = node.provide(dht::provider_key(key)).await?;
            tokio::time::sleep(LINGER).await;
            out.emit(
                Op::Provide {
                    key: key.clone(),
                    stored_at: stored,
                },
                || {
                    format!(
                        "announced {} as provider of {key:?} to {stored} peers",
                        node.local_peer()
                    )
                },
            );
        }
        KadOp::GetProviders { key, .. } => {
            let providers = node.get_providers(dht::provider_key(key)).await?;
            let listed: Vec<Peer> = providers.iter().map(peer_line).collect();
            out.emit(
                Op::GetProviders {
                    key: key.clone(),
                    providers: listed,
                },
                || peers_text(&format!("providers of {key:?}"), &providers),
            );
        }
    }
    Ok(())
}

/// Binds the command's listeners (the addresses `provide` announces).
async fn listen(swarm: &Swarm, node: &KadNode, addrs: &[String]) -> Result<()> {
    let addrs = if addrs.is_empty() {
        vec!["/ip4/127.0.0.1/tcp/0".to_owned()]
    } else {
        addrs.to_vec()
    };
    for text in &addrs {
        swarm.listen(&parse_addr(text)?).await?;
    }
    node.set_listen_addrs(swarm.listen_addrs());
    Ok(())
}

/// Dials the entry peer, makes sure it serves our kad protocol and puts it in the routing
/// table (before the operation starts: [`KadService::dial`]).
async fn enter(service: &KadService, addr: &str) -> Result<()> {
    service.dial(&parse_addr(addr)?).await?;
    Ok(())
}

fn peer_line(p: &KadPeer) -> Peer {
    Peer {
        addrs: p.addrs.iter().map(|a| a.to_string()).collect(),
        peer_id: p.id.to_string(),
    }
}

fn peers_text(title: &str, peers: &[KadPeer]) -> String {
    let mut text = format!("{title}: {}", peers.len());
    for p in peers {
        let addrs: Vec<String> = p.addrs.iter().map(|a| a.to_string()).collect();
        text.push_str(&format!("\n  {} {}", p.id, addrs.join(" ")));
    }
    text
}
