//! The node's Kademlia set-up, shared by `listen` and the `kad` subcommands: the record store
//! (`--data-dir` / per-user default / `--memory`), the kad options from the common flags, and
//! the progress printer of long lookups (stderr).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chainp2p_core::identity::PeerId;
use chainp2p_kad::node::{LookupProgress, Mode, ProgressFn};
use chainp2p_kad::{Config, MemoryStore, PersistentStore, RecordStore, StoreConfig};
use chainp2p_kad_swarm::KadOptions;

use crate::cli::{CommonArgs, ListenArgs};

/// The store's file name inside the data directory.
pub const STORE_FILE: &str = "kad-store.redb";
/// Progress lines of one lookup are printed at most this often (plus one when it ends).
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// The kad options the common flags describe, in `mode`, with `store`.
pub fn kad_options(
    common: &CommonArgs,
    mode: Mode,
    store: Arc<dyn RecordStore>,
) -> Result<KadOptions> {
    let config = kad_config(common);
    config
        .validate()
        .with_context(|| format!("--kad-protocol {:?}", common.kad_protocol))?;
    Ok(KadOptions {
        config,
        mode,
        store: Some(store),
        ..KadOptions::default()
    })
}

/// The kad settings the common flags describe: the defaults with `--kad-protocol` and
/// `--ipfs-records`.
pub fn kad_config(common: &CommonArgs) -> Config {
    Config::default()
        .with_protocol(common.kad_protocol.clone())
        .with_ipfs_records(common.ipfs_records)
}

/// The settings of the node's record store (those of [`kad_config`]: the store must match).
fn store_config() -> StoreConfig {
    // No flag changes a store setting, so the defaults' store settings are `kad_config`'s.
    Config::default().store_config()
}

/// The record store of `listen`: in memory with `--memory`, else persistent in
/// `<data dir>/kad-store.redb`. Returns it with a label for the `kad` event (the file path or
/// `memory`).
pub fn open_store(args: &ListenArgs, local: PeerId) -> Result<(Arc<dyn RecordStore>, String)> {
    if args.memory {
        return Ok((memory_store(local), "memory".to_owned()));
    }
    if let Some(dir) = &args.data_dir {
        let path = dir.join(STORE_FILE);
        let store = PersistentStore::open(&path, Some(local), store_config())
            .with_context(|| format!("opening the record store {}", path.display()))?;
        return Ok((Arc::new(store), path.display().to_string()));
    }
    // The default directory was not asked for: if it cannot be used (e.g. another node with
    // this identity has it open), run with memory rather than not at all, and say so.
    let opened = default_data_dir(&local).and_then(|dir| {
        let path = dir.join(STORE_FILE);
        PersistentStore::open(&path, Some(local), store_config())
            .map(|s| (s, path.display().to_string()))
            .with_context(|| format!("opening the record store {}", path.display()))
    });
    match opened {
        Ok((store, label)) => Ok((Arc::new(store), label)),
        Err(e) => {
            tracing::warn!(
                error = %format!("{e:#}"),
                "no persistent record store in the default directory: keeping records in memory (pass --data-dir DIR)"
            );
            Ok((memory_store(local), "memory".to_owned()))
        }
    }
}

/// A fresh in-memory store (client commands, `--memory`).
pub fn memory_store(local: PeerId) -> Arc<dyn RecordStore> {
    Arc::new(MemoryStore::new(Some(local), store_config()))
}

/// The per-user default data directory of identity `local`:
/// `$XDG_DATA_HOME/chain-node/<peer id>` or `~/.local/share/chain-node/<peer id>` (one
/// directory per identity, so that two nodes never share a database).
pub fn default_data_dir(local: &PeerId) -> Result<PathBuf> {
    Ok(data_base()?.join(local.to_string()))
}

/// The per-user base directory: `$XDG_DATA_HOME/chain-node` or `~/.local/share/chain-node`
/// (where `listen` keeps its identity when no `--data-dir` is given).
pub fn data_base() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => Path::new(&home).join(".local").join("share"),
            None => bail!("no per-user data directory (neither XDG_DATA_HOME nor HOME is set): pass --data-dir DIR or --memory"),
        },
    };
    Ok(base.join("chain-node"))
}

/// A progress callback printing long lookups to stderr: nothing during a lookup's first
/// second, then at most one line a second, and one when a lookup that printed ends.
pub fn progress_printer() -> ProgressFn {
    // (when the running lookup started, when we last printed)
    let state: Mutex<(Option<Instant>, Option<Instant>)> = Mutex::new((None, None));
    Arc::new(move |p: &LookupProgress| {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let started = *state.0.get_or_insert(now);
        let printed = state.1;
        let due = now.duration_since(started) >= PROGRESS_EVERY
            && printed.is_none_or(|t| now.duration_since(t) >= PROGRESS_EVERY);
        if p.finished {
            *state = (None, None);
            if printed.is_none() {
                return;
            }
        } else if due {
            state.1 = Some(now);
        } else {
            return;
        }
        let s = &p.stats;
        eprintln!(
            "kad {}{}: {} requests, {} answers, {} failed ({} timed out), {} peers seen, {} in flight",
            p.op,
            if p.finished { " done" } else { "" },
            s.requests,
            s.responses,
            s.failures,
            s.timeouts,
            s.peers_seen,
            p.in_flight
        );
    })
}

/// The bytes of a `provide` / `get-providers` key: a CID's multihash, else the UTF-8 text.
pub fn provider_key(text: &str) -> Vec<u8> {
    match cid::Cid::try_from(text) {
        Ok(cid) => cid.hash().to_bytes(),
        Err(_) => text.as_bytes().to_vec(),
    }
}

/// The record key `kad put`/`kad get` mean by KEY: its UTF-8 bytes, except with
/// `--ipfs-records`, where `/ipns/NAME` and `/pk/NAME` with NAME a peer id (`12D3…`, `Qm…`) or
/// a libp2p-key CID (`k51…`) mean the binary routing key, `/ipns/` or `/pk/` followed by the
/// peer id's bytes (as kubo's `ipfs routing put/get` take them).
pub fn record_key(text: &str, ipfs_records: bool) -> Vec<u8> {
    if ipfs_records {
        for prefix in ["/ipns/", "/pk/"] {
            let Some(name) = text.strip_prefix(prefix) else {
                continue;
            };
            let peer = name.parse::<PeerId>().ok().or_else(|| {
                let cid = cid::Cid::try_from(name).ok()?;
                PeerId::from_multihash(cid.hash().to_owned()).ok()
            });
            if let Some(peer) = peer {
                let mut key = prefix.as_bytes().to_vec();
                key.extend_from_slice(&peer.to_bytes());
                return key;
            }
        }
    }
    text.as_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipfs_record_keys_name_peers_by_their_bytes() {
        let peer: PeerId = "12D3KooWPjceQrSwdWXPyLLeABRXmuqt69Rg3sBYbU1Nft9HyQ6X"
            .parse()
            .unwrap();
        let mut ipns = b"/ipns/".to_vec();
        ipns.extend_from_slice(&peer.to_bytes());
        let text = format!("/ipns/{peer}");
        assert_eq!(record_key(&text, true), ipns);
        assert_eq!(record_key(&text, false), text.as_bytes());
        // The same name as a libp2p-key CIDv1 (base36), as kubo prints IPNS names.
        let cid = cid::Cid::new_v1(0x72, *peer.as_ref());
        let k51 = cid
            .to_string_of_base(cid::multibase::Base::Base36Lower)
            .unwrap();
        assert!(k51.starts_with("k51"), "{k51}");
        assert_eq!(record_key(&format!("/ipns/{k51}"), true), ipns);
        let mut pk = b"/pk/".to_vec();
        pk.extend_from_slice(&peer.to_bytes());
        assert_eq!(record_key(&format!("/pk/{peer}"), true), pk);
        // Anything else stays text.
        assert_eq!(record_key("/ipns/example.com", true), b"/ipns/example.com");
        assert_eq!(record_key("/foo/bar", true), b"/foo/bar");
    }

    #[test]
    fn cid_keys_mean_their_multihash_and_text_stays_text() {
        // CIDv0 and CIDv1 of the same content share one multihash.
        let v0 = "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n";
        let mh = provider_key(v0);
        assert_eq!(mh.len(), 34);
        assert_eq!(&mh[..2], &[0x12, 0x20]);
        let v1 = cid::Cid::try_from(v0)
            .unwrap()
            .into_v1()
            .unwrap()
            .to_string();
        assert!(v1.starts_with("bafy"), "{v1}");
        assert_eq!(provider_key(&v1), mh);
        assert_eq!(provider_key("hello"), b"hello".to_vec());
    }

    #[test]
    fn default_dir_is_per_identity() {
        let a = PeerId::random();
        let b = PeerId::random();
        if let (Ok(da), Ok(db)) = (default_data_dir(&a), default_data_dir(&b)) {
            assert_ne!(da, db);
            assert!(da.ends_with(a.to_string()));
        }
    }
}
