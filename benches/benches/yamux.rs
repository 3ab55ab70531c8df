//! Criterion bench: yamux beside its rust-libp2p counterpart (to be written).
fn main() {}
