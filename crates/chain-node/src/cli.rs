//! The command line: flags and subcommands, exactly as the external contract names them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::keyfile::KeyType;

/// chain-node: a libp2p node built as a chain of stream handlers
/// (tcp -> multistream -> noise -> multistream -> yamux -> ping | identify | perf).
#[derive(Debug, Parser)]
#[command(name = "chain-node", version, about)]
pub struct Cli {
    /// Options every subcommand takes.
    #[command(flatten)]
    pub common: CommonArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes (before or after the subcommand name).
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// One JSON object per line on stdout; logs stay on stderr.
    #[arg(long, global = true)]
    pub json: bool,
    /// Deterministic Ed25519 identity: the secret is N as little-endian u64 in bytes 0-7.
    #[arg(long, global = true, value_name = "N", conflicts_with = "key")]
    pub seed: Option<u64>,
    /// Identity from a file: a libp2p protobuf-encoded private key (Ed25519, Secp256k1, ECDSA,
    /// RSA), or a PKCS#8 DER private key (RSA, ECDSA P-256, secp256k1, Ed25519).
    #[arg(long, global = true, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Security protocols in preference order, comma-separated names or protocol ids
    /// (supported: noise, secio, plaintext; default: all of them in that order). `plaintext`
    /// encrypts nothing. With `secio` alone the node talks the way c-ipfs needs (one
    /// multistream message per write).
    #[arg(long, global = true, value_name = "LIST", default_value = crate::stack::DEFAULT_SECURITY)]
    pub security: String,
    /// Stream muxers in preference order, comma-separated names or protocol ids (supported:
    /// yamux, mplex; default: both, yamux first). mplex has no flow control: each stream's
    /// receive buffer is bounded and a stream that overflows it is reset.
    #[arg(long, global = true, value_name = "LIST", default_value = crate::stack::DEFAULT_MUXER)]
    pub muxer: String,
    /// Seconds before the command gives up (default 20; `listen` runs until Ctrl-C unless given).
    #[arg(long, global = true, value_name = "SECS")]
    pub timeout: Option<f64>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Listen for connections and serve ping, identify and perf until Ctrl-C or --timeout.
    Listen(ListenArgs),
    /// Ping a peer over /ipfs/ping/1.0.0.
    Ping {
        /// The peer's address, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3…
        addr: String,
        /// How many pings.
        #[arg(long, default_value_t = 1)]
        count: u32,
        /// Milliseconds to wait between pings.
        #[arg(long, default_value_t = 0)]
        interval_ms: u64,
    },
    /// Ask a peer who it is over /ipfs/id/1.0.0.
    Identify {
        /// The peer's address.
        addr: String,
    },
    /// Connect and show the negotiated chain with the time each layer took.
    Inspect {
        /// The peer's address.
        addr: String,
    },
    /// Measure throughput over /perf/1.0.0.
    Perf {
        /// The peer's address.
        addr: String,
        /// Bytes to send.
        #[arg(long, default_value_t = 0)]
        upload: u64,
        /// Bytes to ask the peer to send back.
        #[arg(long, default_value_t = 0)]
        download: u64,
    },
    /// Generate an identity key and write it to a file (libp2p protobuf private key encoding).
    Keygen {
        /// The key type.
        #[arg(long = "type", value_enum, default_value_t = KeyType::Ed25519)]
        key_type: KeyType,
        /// Where to write the key (created with mode 0600; an existing file is kept unless
        /// --force).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
}

/// `chain-node listen` options.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Address to listen on; repeatable (default /ip4/127.0.0.1/tcp/0).
    #[arg(long = "listen", value_name = "MULTIADDR")]
    pub listen: Vec<String>,
    /// Peer to connect to at start; repeatable (joins its DHT once Kademlia exists).
    #[arg(long = "bootstrap", value_name = "MULTIADDR")]
    pub bootstrap: Vec<String>,
    /// Where to keep persistent state (used once Kademlia exists).
    #[arg(long, value_name = "DIR", conflicts_with = "memory")]
    pub data_dir: Option<PathBuf>,
    /// Keep all state in memory.
    #[arg(long)]
    pub memory: bool,
}
