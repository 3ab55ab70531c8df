//! Interop tests of our multistream-select against rust-libp2p's `multistream-select` crate (to be written).
