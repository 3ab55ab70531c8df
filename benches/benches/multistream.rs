//! Criterion bench: multistream beside its rust-libp2p counterpart (to be written).
fn main() {}
