//! Interop: our noise against rust-libp2p's libp2p-noise 0.47 (placeholder while building).
fn main() {}
