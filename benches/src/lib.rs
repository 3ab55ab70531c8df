//! Support code for the criterion benchmarks in `benches/`: [`alloc`], the counting allocator
//! the muxer benches use to measure memory per idle stream.

pub mod alloc;
