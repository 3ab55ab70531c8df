//! yamux interop (stub).
fn main() {}
