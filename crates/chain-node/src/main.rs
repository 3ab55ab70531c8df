//! `chain-node`: the command line of the stack.
fn main() {}
