//! The `Exchange` message of `/plaintext/2.0.0`, mirroring the spec's protobuf:
//!
//! ```protobuf
//! syntax = "proto2";
//! message Exchange {
//!   optional bytes id = 1;         // the sender's PeerId, binary
//!   optional PublicKey pubkey = 2; // the sender's public key, libp2p protobuf encoding
//! }
//! ```
//!
//! `pubkey` is an embedded message; it is kept as bytes here (same wire type) and decoded by
//! `libp2p-identity`.

/// One side's identity, sent once by each side.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exchange {
    /// The sender's PeerId (multihash bytes).
    #[prost(bytes = "vec", optional, tag = "1")]
    pub id: Option<Vec<u8>>,
    /// The sender's public key (libp2p `PublicKey` protobuf).
    #[prost(bytes = "vec", optional, tag = "2")]
    pub pubkey: Option<Vec<u8>>,
}
