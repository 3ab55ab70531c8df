//! `chain-node kad …`: one DHT operation entered through the dialed peer. The command runs a
//! kad node in client mode (it queries, never serves) with an in-memory store, dials the entry
//! peer, checks through identify that it serves our kad protocol, seeds the routing table with
//! it, runs the iterative lookup and prints one JSON line. A `put` or `provide` that no peer
//! took fails (the record is stored nowhere but in our own, throw-away, store).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chainp2p_core::identity::PeerId;
use chainp2p_kad::message::KadPeer;
use chainp2p_kad::node::{KadNode, Mode, NodeError};
use chainp2p_kad::store::StoreError;
use chainp2p_kad_swarm::{BuildWithKad, KadService};
use chainp2p_swarm::Swarm;

use base64::Engine as _;

use crate::cli::{CommonArgs, KadArgs, KadOp};
use crate::commands::{parse_addr, parse_dial_addr, swarm_builder};
use crate::dht;
use crate::exit::CliError;
use crate::output::{Op, Output, Peer};

/// Time given to the last ADD_PROVIDER / PUT_VALUE streams to be read before we hang up.
const LINGER: Duration = Duration::from_millis(250);

/// Largest value `--value-file` reads (the kad record limit is smaller; this bounds the read).
const MAX_VALUE_FILE: u64 = 1 << 20;

/// `chain-node kad OP`.
pub async fn run(common: &CommonArgs, args: &KadArgs, out: Output) -> Result<()> {
    // Bad input is refused before anything is dialed.
    let put_value = match &args.op {
        KadOp::Put {
            value,
            value_file,
            value_hex,
            ..
        } => Some(put_value(
            value.as_deref(),
            value_file.as_deref(),
            value_hex.as_deref(),
        )?),
        _ => None,
    };
    let builder = swarm_builder(common, false)?;
    let local = builder.local_peer_id();
    let opts = dht::kad_options(common, Mode::Client, dht::memory_store(local))?;
    let (swarm, service) = builder.build_with_kad(opts)?;
    let result = operate(&swarm, &service, common, args, put_value, out).await;
    swarm.shutdown().await;
    result
}

async fn operate(
    swarm: &Swarm,
    service: &KadService,
    common: &CommonArgs,
    args: &KadArgs,
    put_value: Option<Vec<u8>>,
    out: Output,
) -> Result<()> {
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
    let checked = enter(swarm, node, &common.kad_protocol, entry).await?;
    match &args.op {
        KadOp::FindNode { peer_id, .. } => {
            let target: PeerId = peer_id
                .parse()
                .with_context(|| CliError::Usage(format!("unparseable peer id {peer_id:?}")))?;
            let peers = node.find_node(target).await?;
            let listed: Vec<Peer> = peers.iter().map(peer_line).collect();
            out.emit(
                Op::FindNode {
                    peer_id_checked: checked,
                    peers: listed,
                },
                || peers_text(&format!("closest peers to {target}"), &peers),
            );
        }
        KadOp::Put { key, .. } => {
            let value = put_value.unwrap_or_default();
            let stored = match node
                .put_value(dht::record_key(key, common.ipfs_records), value)
                .await
            {
                Err(NodeError::Store(StoreError::Invalid(why))) => {
                    return Err(CliError::Usage(format!("record refused: {why}")).into())
                }
                other => other?,
            };
            tokio::time::sleep(LINGER).await;
            out.emit(
                Op::Put {
                    key: key.clone(),
                    peer_id_checked: checked,
                    stored_at: stored,
                },
                || format!("stored {key:?} at {stored} {}", peers_word(stored)),
            );
        }
        KadOp::Get { key, out: file, .. } => {
            let wanted = dht::record_key(key, common.ipfs_records);
            let Some(record) = node.get_value(wanted, 1).await? else {
                return Err(CliError::NotFound(format!("no record found for key {key:?}")).into());
            };
            if let Some(path) = file {
                std::fs::write(path, &record.value)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            let text = std::str::from_utf8(&record.value).ok().map(str::to_owned);
            let b64 = base64::engine::general_purpose::STANDARD.encode(&record.value);
            out.emit(
                Op::Get {
                    key: key.clone(),
                    peer_id_checked: checked,
                    value: text.clone(),
                    value_base64: b64.clone(),
                },
                || match &text {
                    Some(value) => format!("{key} = {value}"),
                    None => format!("{key} = (not UTF-8, base64) {b64}"),
                },
            );
        }
        KadOp::Provide { key, .. } => {
            let stored = node.provide(dht::provider_key(key)).await?;
            tokio::time::sleep(LINGER).await;
            out.emit(
                Op::Provide {
                    key: key.clone(),
                    peer_id_checked: checked,
                    stored_at: stored,
                },
                || {
                    format!(
                        "announced {} as provider of {key:?} to {stored} {}",
                        node.local_peer(),
                        peers_word(stored)
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
                    peer_id_checked: checked,
                    providers: listed,
                },
                || peers_text(&format!("providers of {key:?}"), &providers),
            );
            if providers.is_empty() {
                return Err(
                    CliError::NotFound(format!("no provider found for key {key:?}")).into(),
                );
            }
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

/// Dials the entry peer, makes sure it serves `protocol` and puts it in the routing table.
/// Returns whether the address named the peer (`/p2p/…`).
async fn enter(swarm: &Swarm, node: &KadNode, protocol: &str, addr: &str) -> Result<bool> {
    let (addr, checked) = parse_dial_addr(addr)?;
    let conn = swarm.dial(&addr).await?;
    let peer = conn.peer_id();
    let info = conn.identify().await?;
    if !info.protocols.iter().any(|p| p == protocol) {
        return Err(CliError::Refused(format!(
            "{peer} does not serve the kad protocol {protocol} (it serves: {})",
            info.protocols.join(", ")
        ))
        .into());
    }
    let transport_addr = conn.remote_addr().clone();
    node.on_peer_identified(
        peer,
        std::slice::from_ref(&transport_addr),
        &info.protocols,
        Instant::now(),
    );
    Ok(checked)
}

/// The value of `kad put`: exactly one of VALUE (UTF-8 text), `--value-file`, `--value-hex`
/// (clap makes sure of "exactly one").
fn put_value(
    text: Option<&str>,
    file: Option<&std::path::Path>,
    hex_text: Option<&str>,
) -> Result<Vec<u8>> {
    if let Some(path) = file {
        use std::io::Read;
        let f = std::fs::File::open(path)
            .with_context(|| CliError::Usage(format!("reading {}", path.display())))?;
        let mut bytes = Vec::new();
        f.take(MAX_VALUE_FILE + 1)
            .read_to_end(&mut bytes)
            .with_context(|| CliError::Usage(format!("reading {}", path.display())))?;
        if bytes.len() as u64 > MAX_VALUE_FILE {
            return Err(CliError::Usage(format!(
                "{} is larger than {MAX_VALUE_FILE} bytes",
                path.display()
            ))
            .into());
        }
        return Ok(bytes);
    }
    if let Some(h) = hex_text {
        return hex::decode(h.trim())
            .with_context(|| CliError::Usage(format!("--value-hex {h:?} is not hex")));
    }
    Ok(text.unwrap_or_default().as_bytes().to_vec())
}

/// "peer" or "peers", as `n` asks.
fn peers_word(n: usize) -> &'static str {
    if n == 1 {
        "peer"
    } else {
        "peers"
    }
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
