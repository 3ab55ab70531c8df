//! Printing results: one JSON object per line with `--json`, short readable text otherwise.
//!
//! The JSON lines are an external interface (README, "chain-node"): every line is a [`Line`],
//! a node event ([`Event`], tagged `"event"`), an operation result ([`Op`], tagged `"op"`) or
//! an error (`{"error":"…"}`). A line's keys are printed in alphabetical order at every level
//! (the order serde_json's map keeps without its `preserve_order` feature, which is what the
//! earlier `json!` objects printed); `tests/golden/lines.jsonl` pins the exact text of every
//! variant.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

/// One line of `--json` output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Line {
    /// Something the running node reports (`listen`).
    Event(Event),
    /// The result of a one-shot command.
    Op(Op),
    /// A failure: `{"error":"…","exit_code":N}`.
    Error {
        /// The message, on one line.
        error: String,
        /// The process's exit status (README, "Exit codes").
        exit_code: u8,
    },
}

/// A node event: `{"event":"…", …}`. Fields are declared in the order they are printed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event")]
pub enum Event {
    /// `{"event":"listening"}`: a bound listen address.
    #[serde(rename = "listening")]
    Listening {
        /// The address with `/p2p/<our id>`.
        addr: String,
        /// Our peer id.
        peer_id: String,
    },
    /// `{"event":"kad"}`: the Kademlia service is up.
    #[serde(rename = "kad")]
    Kad {
        /// `server` or `client`.
        mode: String,
        /// The Kademlia protocol id.
        protocol: String,
        /// Where records are kept: the database path, or `memory`.
        store: String,
    },
    /// `{"event":"kad-bootstrapped"}`: the DHT was joined through the `--bootstrap` peers.
    #[serde(rename = "kad-bootstrapped")]
    KadBootstrapped {
        /// Peers in the routing table afterwards.
        routing_table: usize,
    },
    /// `{"event":"connection"}`: a connection reached its muxer.
    #[serde(rename = "connection")]
    Connection {
        /// The protocol each layer negotiated, bottom up.
        chain: Vec<String>,
        /// `inbound` or `outbound`.
        direction: String,
        /// The remote peer.
        peer_id: String,
        /// The remote's address.
        remote_addr: String,
    },
    /// `{"event":"stats"}`: the resource manager's usage (every `--stats SECS`).
    #[serde(rename = "stats")]
    Stats {
        /// Connections in every state (handshakes included).
        connections: usize,
        /// Inbound connections (handshakes included).
        inbound: usize,
        /// Bytes the muxers' windows hold reserved.
        memory_reserved: u64,
        /// Inbound connections in their handshake.
        pending: usize,
        /// Refusals since the node started.
        refused: Refused,
        /// Open substreams.
        streams: usize,
    },
    /// `{"event":"connection_closed"}`.
    #[serde(rename = "connection_closed")]
    ConnectionClosed {
        /// `inbound` or `outbound`.
        direction: String,
        /// Why, if it ended with an error (`null` otherwise).
        error: Option<String>,
        /// The remote peer.
        peer_id: String,
    },
}

/// Refusals by the resource manager, in `{"event":"stats"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refused {
    /// Connections refused by a limit.
    pub connections: u64,
    /// Substreams refused by a limit.
    pub streams: u64,
}

/// The result of a command: `{"op":"…", …}`. Fields are declared in the order they are
/// printed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op")]
pub enum Op {
    /// `chain-node ping`: one round trip.
    #[serde(rename = "ping")]
    Ping {
        /// The pinged peer.
        peer_id: String,
        /// Whether the dialed address named the peer (`/p2p/…`), so its id was checked.
        peer_id_checked: bool,
        /// The round-trip time in microseconds.
        rtt_us: u64,
    },
    /// `chain-node identify`.
    #[serde(rename = "identify")]
    Identify {
        /// The peer's agent version.
        agent_version: String,
        /// The addresses it listens on.
        listen_addrs: Vec<String>,
        /// Our address as the peer sees it (`null` if it did not say).
        observed_addr: Option<String>,
        /// The identified peer.
        peer_id: String,
        /// Whether the dialed address named the peer (`/p2p/…`), so its id was checked.
        peer_id_checked: bool,
        /// The peer's protocol version.
        protocol_version: String,
        /// The protocols it serves.
        protocols: Vec<String>,
    },
    /// `chain-node inspect`: the negotiated chain without the negotiation steps.
    #[serde(rename = "inspect")]
    Inspect {
        /// The layers, bottom up.
        chain: Vec<Step>,
        /// The inspected peer.
        peer_id: String,
        /// Whether the dialed address named the peer (`/p2p/…`), so its id was checked.
        peer_id_checked: bool,
    },
    /// `chain-node perf`.
    #[serde(rename = "perf")]
    Perf {
        /// Bytes downloaded.
        download_bytes: u64,
        /// Seconds from closing our write side to the server's EOF.
        download_seconds: f64,
        /// Throughput of the whole run.
        mbit_per_s: f64,
        /// Whether the dialed address named the peer (`/p2p/…`), so its id was checked.
        peer_id_checked: bool,
        /// Seconds of the whole run.
        seconds: f64,
        /// Bytes uploaded.
        upload_bytes: u64,
        /// Seconds until our write side was closed.
        upload_seconds: f64,
    },
    /// `chain-node kad find-node`.
    #[serde(rename = "find-node")]
    FindNode {
        /// Whether the entry peer's address named it (`/p2p/…`).
        peer_id_checked: bool,
        /// The closest peers found.
        peers: Vec<Peer>,
    },
    /// `chain-node kad put`.
    #[serde(rename = "put")]
    Put {
        /// The record key.
        key: String,
        /// Whether the entry peer's address named it (`/p2p/…`).
        peer_id_checked: bool,
        /// How many peers took the record.
        stored_at: usize,
    },
    /// `chain-node kad get`.
    #[serde(rename = "get")]
    Get {
        /// The record key.
        key: String,
        /// Whether the entry peer's address named it (`/p2p/…`).
        peer_id_checked: bool,
        /// The record value as text, `null` when it is not UTF-8.
        value: Option<String>,
        /// The record value's bytes, base64 (standard alphabet, padded).
        value_base64: String,
    },
    /// `chain-node kad provide`.
    #[serde(rename = "provide")]
    Provide {
        /// The provided key.
        key: String,
        /// Whether the entry peer's address named it (`/p2p/…`).
        peer_id_checked: bool,
        /// How many peers took the provider record.
        stored_at: usize,
    },
    /// `chain-node kad get-providers`.
    #[serde(rename = "get-providers")]
    GetProviders {
        /// The key asked about.
        key: String,
        /// Whether the entry peer's address named it (`/p2p/…`).
        peer_id_checked: bool,
        /// The providers found.
        providers: Vec<Peer>,
    },
    /// `chain-node keygen`.
    #[serde(rename = "keygen")]
    Keygen {
        /// The file written.
        path: String,
        /// The new key's peer id.
        peer_id: String,
        /// The key type.
        #[serde(rename = "type")]
        key_type: String,
    },
}

/// One layer of [`Op::Inspect`]'s chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// What the layer negotiated, e.g. secio's exchange, cipher and hash; left out if empty.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    /// `transport`, `security` or `muxer`.
    pub layer: String,
    /// The protocol (or address, for the transport).
    pub protocol: String,
    /// How long the layer took, in microseconds.
    pub us: u64,
}

/// A peer in a Kademlia answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Peer {
    /// Its addresses.
    pub addrs: Vec<String>,
    /// Its id.
    pub peer_id: String,
}

impl From<Event> for Line {
    fn from(e: Event) -> Self {
        Line::Event(e)
    }
}

impl From<Op> for Line {
    fn from(o: Op) -> Self {
        Line::Op(o)
    }
}

impl Line {
    /// The line as printed: compact JSON, keys in alphabetical order at every level.
    pub fn to_json(&self) -> String {
        // Through serde_json's `Value`, whose map (without `preserve_order`) sorts the keys:
        // the tags land where they always were, between the other keys.
        match serde_json::to_value(self) {
            Ok(value) => value.to_string(),
            // Unreachable: every map of a `Line` has string keys.
            Err(e) => {
                serde_json::json!({ "error": format!("cannot render output: {e}") }).to_string()
            }
        }
    }
}

/// Writes results to stdout in the chosen format.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    /// `json`: one JSON object per line.
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    /// Prints `line` (JSON mode) or `text` (text mode), flushing at once so that programs
    /// reading our stdout line by line see it immediately.
    pub fn emit(&self, line: impl Into<Line>, text: impl FnOnce() -> String) {
        let mut out = std::io::stdout().lock();
        let line = if self.json {
            line.into().to_json()
        } else {
            text()
        };
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// Reports a failure: `{"error":"…","exit_code":N}` on stdout in JSON mode, and always one
    /// line on stderr.
    pub fn error(&self, message: &str, exit_code: u8) {
        let one_line = message.replace('\n', " ");
        if self.json {
            self.emit(
                Line::Error {
                    error: one_line.clone(),
                    exit_code,
                },
                String::new,
            );
        }
        eprintln!("error: {one_line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One value of every variant, in the order of `tests/golden/lines.jsonl`.
    fn samples() -> Vec<Line> {
        let id = "12D3KooWPjceQrSwdWXPyLLeABRXmuqt69Rg3sBYbU1Nft9HyQ6X".to_owned();
        let addr = format!("/ip4/127.0.0.1/tcp/4001/p2p/{id}");
        let s = |v: &str| v.to_owned();
        let peer = Peer {
            addrs: vec![s("/ip4/127.0.0.1/tcp/4001"), s("/ip6/::1/tcp/4001")],
            peer_id: id.clone(),
        };
        vec![
            Event::Listening {
                addr: addr.clone(),
                peer_id: id.clone(),
            }
            .into(),
            Event::Kad {
                mode: s("server"),
                protocol: s("/ipfs/kad/1.0.0"),
                store: s("/home/u/.local/share/chain-node/x/kad-store.redb"),
            }
            .into(),
            Event::KadBootstrapped { routing_table: 17 }.into(),
            Event::Connection {
                chain: vec![
                    s("/multistream/1.0.0"),
                    s("/noise"),
                    s("/multistream/1.0.0"),
                    s("/yamux/1.0.0"),
                ],
                direction: s("inbound"),
                peer_id: id.clone(),
                remote_addr: s("/ip4/127.0.0.1/tcp/53412"),
            }
            .into(),
            Event::ConnectionClosed {
                direction: s("outbound"),
                error: None,
                peer_id: id.clone(),
            }
            .into(),
            Event::ConnectionClosed {
                direction: s("inbound"),
                error: Some(s("yamux: closed: connection reset")),
                peer_id: id.clone(),
            }
            .into(),
            Event::Stats {
                connections: 12,
                inbound: 9,
                memory_reserved: 1 << 20,
                pending: 2,
                refused: Refused {
                    connections: 3,
                    streams: 0,
                },
                streams: 40,
            }
            .into(),
            Op::Ping {
                peer_id: id.clone(),
                peer_id_checked: true,
                rtt_us: 412,
            }
            .into(),
            Op::Identify {
                agent_version: s("chain-node/0.1.0"),
                listen_addrs: vec![s("/ip4/127.0.0.1/tcp/4001")],
                observed_addr: Some(s("/ip4/127.0.0.1/tcp/53412")),
                peer_id: id.clone(),
                peer_id_checked: true,
                protocol_version: s("ipfs/0.1.0"),
                protocols: vec![s("/ipfs/ping/1.0.0"), s("/ipfs/id/1.0.0")],
            }
            .into(),
            Op::Identify {
                agent_version: s(""),
                listen_addrs: vec![],
                observed_addr: None,
                peer_id: id.clone(),
                peer_id_checked: false,
                protocol_version: s(""),
                protocols: vec![],
            }
            .into(),
            Op::Inspect {
                chain: vec![
                    Step {
                        details: BTreeMap::new(),
                        layer: s("transport"),
                        protocol: s("/ip4/127.0.0.1/tcp/4001"),
                        us: 0,
                    },
                    Step {
                        details: [
                            ("hash", "SHA256"),
                            ("exchange", "P-256"),
                            ("cipher", "AES-256"),
                        ]
                        .into_iter()
                        .map(|(k, v)| (s(k), s(v)))
                        .collect(),
                        layer: s("security"),
                        protocol: s("/secio/1.0.0"),
                        us: 5321,
                    },
                    Step {
                        details: BTreeMap::new(),
                        layer: s("muxer"),
                        protocol: s("/yamux/1.0.0"),
                        us: 12,
                    },
                ],
                peer_id: id.clone(),
                peer_id_checked: true,
            }
            .into(),
            Op::Perf {
                download_bytes: 1 << 20,
                download_seconds: 0.25,
                mbit_per_s: 67.108864,
                peer_id_checked: true,
                seconds: 0.25,
                upload_bytes: 1 << 20,
                upload_seconds: 0.0,
            }
            .into(),
            Op::FindNode {
                peer_id_checked: true,
                peers: vec![peer.clone()],
            }
            .into(),
            Op::Put {
                key: s("/v/hello"),
                peer_id_checked: true,
                stored_at: 3,
            }
            .into(),
            Op::Get {
                key: s("/v/hello"),
                peer_id_checked: true,
                value: Some(s("world \"quoted\" \u{e9}")),
                value_base64: s("d29ybGQgInF1b3RlZCIgw6k="),
            }
            .into(),
            Op::Get {
                key: s("/v/bin"),
                peer_id_checked: false,
                value: None,
                value_base64: s("/wA="),
            }
            .into(),
            Op::Provide {
                key: s("bafkqaaa"),
                peer_id_checked: true,
                stored_at: 0,
            }
            .into(),
            Op::GetProviders {
                key: s("bafkqaaa"),
                peer_id_checked: true,
                providers: vec![
                    peer,
                    Peer {
                        addrs: vec![],
                        peer_id: id.clone(),
                    },
                ],
            }
            .into(),
            Op::Keygen {
                path: s("/tmp/key"),
                peer_id: id,
                key_type: s("ed25519"),
            }
            .into(),
            Line::Error {
                error: s("tcp: io: connection refused by /ip4/127.0.0.1/tcp/1\ttab"),
                exit_code: 4,
            },
        ]
    }

    #[test]
    fn every_line_renders_exactly_as_the_golden_file_says() {
        let golden = include_str!("../tests/golden/lines.jsonl");
        let rendered: Vec<String> = samples().iter().map(Line::to_json).collect();
        let expected: Vec<&str> = golden.lines().collect();
        for (i, (got, want)) in rendered.iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "line {} of tests/golden/lines.jsonl", i + 1);
        }
        assert_eq!(rendered.len(), expected.len(), "one golden line per sample");
    }

    /// The variant of `line`; an exhaustive match, so a new variant fails to compile here
    /// until it has a sample and a golden line.
    fn variant(line: &Line) -> &'static str {
        match line {
            Line::Event(Event::Listening { .. }) => "listening",
            Line::Event(Event::Kad { .. }) => "kad",
            Line::Event(Event::KadBootstrapped { .. }) => "kad-bootstrapped",
            Line::Event(Event::Connection { .. }) => "connection",
            Line::Event(Event::ConnectionClosed { .. }) => "connection_closed",
            Line::Event(Event::Stats { .. }) => "stats",
            Line::Op(Op::Ping { .. }) => "ping",
            Line::Op(Op::Identify { .. }) => "identify",
            Line::Op(Op::Inspect { .. }) => "inspect",
            Line::Op(Op::Perf { .. }) => "perf",
            Line::Op(Op::FindNode { .. }) => "find-node",
            Line::Op(Op::Put { .. }) => "put",
            Line::Op(Op::Get { .. }) => "get",
            Line::Op(Op::Provide { .. }) => "provide",
            Line::Op(Op::GetProviders { .. }) => "get-providers",
            Line::Op(Op::Keygen { .. }) => "keygen",
            Line::Error { .. } => "error",
        }
    }

    #[test]
    fn the_golden_file_covers_every_variant() {
        let covered: std::collections::BTreeSet<&str> = samples().iter().map(variant).collect();
        assert_eq!(covered.len(), 17, "{covered:?}");
        // Each line names its variant where it always did.
        for line in samples() {
            let json = line.to_json();
            let name = variant(&line);
            let tagged = match line {
                Line::Event(_) => format!("\"event\":\"{name}\""),
                Line::Op(_) => format!("\"op\":\"{name}\""),
                Line::Error { .. } => "{\"error\":".to_owned(),
            };
            assert!(json.contains(&tagged), "{json}");
        }
    }
}
