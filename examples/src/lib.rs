//! `chainp2p-examples`: no library code, only the programs in `examples/` (each also a test).
//!
//! | example | what it shows |
//! |---|---|
//! | `ping` | two nodes in one process, a dial and a ping |
//! | `echo` | a custom `/echo/1.0.0` protocol served with `serve_fn`, a stream opened to it |
//! | `kad` | three Kademlia nodes (`chainp2p-kad-swarm`, in-memory store), a put and a get |
//! | `swap` | yamux -> mplex and noise -> secio, one line each, and the negotiated chain |
//! | `yamux-alone` | the yamux muxer alone over an in-memory pipe, no swarm |
//!
//! Run one with `cargo run -p chainp2p-examples --example echo`.
