//! `alacarte-check`: a stand-in for a user crate that takes two layers of the chain à la carte,
//! multistream-select and yamux, and nothing else. It exists for its dependency tree (which
//! `cargo xtask test` checks holds no tokio, redb, rsa or ring) and for its test, which runs
//! both layers on `futures`' own executor over an in-memory pipe ([`pipe`]).
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod pipe;
