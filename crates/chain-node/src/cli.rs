//! The command line: flags and subcommands, exactly as the external contract names them.

use std::path::PathBuf;

use clap::{ArgAction, ArgGroup, Args, Parser, Subcommand, ValueEnum};

use crate::keyfile::KeyType;

/// What `--help` prints after the flags: logging and exit codes.
const AFTER_HELP: &str = "\
Logs go to stderr: warnings by default, -v info, -vv debug, -vvv trace, -q errors only.
RUST_LOG (e.g. RUST_LOG=debug or RUST_LOG=chainp2p_yamux=trace), when set, wins over -v/-q.
Colours only when stderr is a terminal and NO_COLOR is unset or empty.

Exit codes: 0 success; 1 other failure; 2 bad input or usage (flags, addresses, key files);
3 not found (kad get: no record; kad get-providers: no provider); 4 unreachable (the dial
failed: connection refused, timed out, no route, name not resolved); 5 refused (the peer
answered but refused: protocol not supported, security handshake failed, peer id mismatch,
a limit exceeded); 6 timed out (--timeout passed after the peer was reached).
With --json the error line is {\"error\":\"...\",\"exit_code\":N}.";

/// chain-node: a libp2p node built as a chain of stream handlers
/// (tcp -> multistream -> noise|secio|plaintext -> multistream -> yamux|mplex -> ping | identify
/// | perf | kad). `listen` serves /ipfs/ping/1.0.0, /ipfs/id/1.0.0 (+ push), /perf/1.0.0 and
/// /ipfs/kad/1.0.0.
#[derive(Debug, Parser)]
#[command(
    name = "chain-node",
    version,
    about = "chain-node: a libp2p node built as a chain of stream handlers. Subcommands: listen, ping, identify, inspect, perf, kad, keygen; listen serves /ipfs/ping/1.0.0, /ipfs/id/1.0.0, /perf/1.0.0 and /ipfs/kad/1.0.0.",
    after_help = AFTER_HELP,
    // A flag given twice takes its last value (wrapper scripts append flags); repeatable flags
    // (`--listen`, `--bootstrap`, `-v`) still accumulate.
    args_override_self = true
)]
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
    /// (supported: noise, secio, plaintext; default: noise,secio). `plaintext` encrypts nothing
    /// and is only offered when named here (a warning is printed).
    #[arg(long, global = true, value_name = "LIST", default_value = crate::stack::DEFAULT_SECURITY)]
    pub security: String,
    /// Talk the way c-ipfs needs: every multistream message in its own write, never lazy
    /// negotiation (use with `--security secio` and an RSA `--key`).
    #[arg(long, global = true)]
    pub c_ipfs_compat: bool,
    /// Stream muxers in preference order, comma-separated names or protocol ids (supported:
    /// yamux, mplex; default: both, yamux first). mplex has no flow control: each stream's
    /// receive buffer is bounded and a stream that overflows it is reset.
    #[arg(long, global = true, value_name = "LIST", default_value = crate::stack::DEFAULT_MUXER)]
    pub muxer: String,
    /// The Kademlia protocol id to serve and speak (e.g. /ipfs/lan/kad/1.0.0 for a LAN DHT).
    #[arg(long, global = true, value_name = "ID", default_value = chainp2p_kad::config::DEFAULT_PROTOCOL)]
    pub kad_protocol: String,
    /// Records as IPFS uses them: store only /pk/ and /ipns/ records, validated as kubo does
    /// (IPNS: signatureV2, expiry, name, size; /pk/: the key hashes to the name), and refuse
    /// every other namespace, as go-libp2p-kad-dht does on the public DHT. Off by default (any
    /// key is stored; /pk/ is checked either way): turn it on for a `listen` node serving the
    /// public /ipfs/kad/1.0.0 DHT. With it, `kad put/get` KEYs /ipns/NAME and /pk/NAME (NAME: a
    /// peer id or k51… CID) mean the binary routing keys, and a refused record exits 2.
    #[arg(long, global = true)]
    pub ipfs_records: bool,
    /// Seconds before the command gives up (default 20; `listen` runs until Ctrl-C unless given).
    #[arg(long, global = true, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Log line format on stderr: `text`, or `json` (one JSON object per line, for log shippers).
    #[arg(long, global = true, value_enum, value_name = "FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// More log output: -v info, -vv debug, -vvv trace (default: warnings; RUST_LOG wins).
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Errors only in the log (RUST_LOG wins).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `target`).
    Json,
}

impl CommonArgs {
    /// The log level `-v`/`-q` ask for (used when RUST_LOG is not set).
    pub fn log_level(&self) -> &'static str {
        if self.quiet {
            return "error";
        }
        match self.verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Listen for connections and serve ping, identify, perf and the Kademlia DHT until Ctrl-C or
    /// --timeout.
    Listen(ListenArgs),
    /// Ping a peer over /ipfs/ping/1.0.0.
    Ping {
        /// The peer's address, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3…
        addr: String,
        /// How many pings (at least 1).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
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
    /// Query or update the Kademlia DHT, entering it through the peer at MULTIADDR.
    Kad(KadArgs),
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
    /// Peer to connect to at start and join the Kademlia DHT through; repeatable.
    #[arg(long = "bootstrap", value_name = "MULTIADDR")]
    pub bootstrap: Vec<String>,
    /// Where to keep persistent state: the identity `identity.key` (made on the first run; not
    /// with --seed/--key) and the DHT record store `kad-store.redb` (default: identity in
    /// ~/.local/share/chain-node/identity.key, store in ~/.local/share/chain-node/<peer id>).
    #[arg(long, value_name = "DIR", conflicts_with = "memory")]
    pub data_dir: Option<PathBuf>,
    /// Keep all state in memory: a fresh identity (unless --seed/--key) and records, nothing
    /// written.
    #[arg(long)]
    pub memory: bool,
    /// Kademlia client mode: query the DHT but neither serve nor advertise it.
    #[arg(long)]
    pub client_mode: bool,
    /// Resource limits and the connection manager.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Print the resource manager's usage every SECS seconds:
    /// {"event":"stats","connections":N,"inbound":N,"pending":N,"streams":N,"memory_reserved":N,"refused":{"connections":N,"streams":N}}.
    #[arg(long, value_name = "SECS", value_parser = positive_secs)]
    pub stats: Option<f64>,
}

/// The resource manager's limits (defaults: go-libp2p's, scaled to 1/8 of this machine's RAM)
/// and the connection manager's water marks (kubo's defaults).
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Connections in every state and direction, handshakes included (go: 128 + 128 per GiB).
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Inbound connections, handshakes included (go: 64 + 64 per GiB).
    #[arg(long, value_name = "N")]
    pub max_inbound: Option<usize>,
    /// Connections to or from one peer (go: 8).
    #[arg(long, value_name = "N")]
    pub max_connections_per_peer: Option<usize>,
    /// Inbound connections in their handshake at once (go: 64 + 32 per GiB).
    #[arg(long, value_name = "N")]
    pub max_pending: Option<usize>,
    /// Inbound handshakes from one IP address at once (go: 8).
    #[arg(long, value_name = "N")]
    pub max_pending_per_ip: Option<usize>,
    /// Open substreams in total (go: 2048 + 2048 per GiB).
    #[arg(long, value_name = "N")]
    pub max_streams: Option<usize>,
    /// Open substreams with one peer (go: 512).
    #[arg(long, value_name = "N")]
    pub max_streams_per_peer: Option<usize>,
    /// Open substreams of one application protocol (go: 2048).
    #[arg(long, value_name = "N")]
    pub max_streams_per_protocol: Option<usize>,
    /// Open substreams of one application protocol with one peer (go: 256).
    #[arg(long, value_name = "N")]
    pub max_streams_per_protocol_per_peer: Option<usize>,
    /// Memory the muxers' windows may reserve in total, in bytes (go: 128 MiB + 1/8 of RAM).
    #[arg(long, value_name = "BYTES")]
    pub memory_limit: Option<u64>,
    /// Connection manager: trim down to this many connections (kubo: 32).
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub conn_low: usize,
    /// Connection manager: start trimming above this many connections (kubo: 96).
    #[arg(long, value_name = "N", default_value_t = 96)]
    pub conn_high: usize,
    /// Connection manager: new connections are never trimmed for this long (kubo: 20 s).
    #[arg(long, value_name = "SECS", default_value_t = 20.0)]
    pub conn_grace: f64,
}

fn positive_secs(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

/// `chain-node kad` options.
#[derive(Debug, Args)]
pub struct KadArgs {
    /// Address to listen on while the command runs (the addresses `provide` announces);
    /// repeatable (default /ip4/127.0.0.1/tcp/0).
    #[arg(long = "listen", value_name = "MULTIADDR", global = true)]
    pub listen: Vec<String>,
    /// The operation.
    #[command(subcommand)]
    pub op: KadOp,
}

/// `chain-node kad` operations. KEY and VALUE are UTF-8 text taken as bytes; for `provide` and
/// `get-providers` a KEY that parses as a CID means its multihash bytes (as IPFS does).
#[derive(Debug, Subcommand)]
pub enum KadOp {
    /// The k peers closest to PEER_ID.
    FindNode {
        /// The entry peer, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3…
        addr: String,
        /// The peer id to look for.
        peer_id: String,
    },
    /// Store KEY = VALUE at the k peers closest to KEY (the value: VALUE as UTF-8 text,
    /// --value-file or --value-hex; exactly one).
    #[command(group(ArgGroup::new("value_source").required(true).multiple(false)))]
    Put {
        /// The entry peer.
        addr: String,
        /// The record key.
        #[arg(id = "record_key", value_name = "KEY")]
        key: String,
        /// The value, as UTF-8 text.
        #[arg(group = "value_source")]
        value: Option<String>,
        /// The value: the bytes of FILE.
        #[arg(long, value_name = "FILE", group = "value_source")]
        value_file: Option<PathBuf>,
        /// The value: HEX decoded to bytes.
        #[arg(long, value_name = "HEX", group = "value_source")]
        value_hex: Option<String>,
    },
    /// Find the record under KEY (exit 3 if nobody has it).
    Get {
        /// The entry peer.
        addr: String,
        /// The record key.
        #[arg(id = "record_key", value_name = "KEY")]
        key: String,
        /// Also write the value's raw bytes to FILE.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Announce this command's peer as a provider of KEY to the k closest peers.
    Provide {
        /// The entry peer.
        addr: String,
        /// The key (a CID means its multihash).
        #[arg(id = "record_key", value_name = "KEY")]
        key: String,
    },
    /// Find the providers of KEY (exit 3 if there are none).
    GetProviders {
        /// The entry peer.
        addr: String,
        /// The key (a CID means its multihash).
        #[arg(id = "record_key", value_name = "KEY")]
        key: String,
    },
}
