//! A counting global allocator for the memory benchmarks: [`Counting`] wraps the system
//! allocator and tracks live heap bytes with atomics (via the `cap` crate, so this crate stays
//! free of `unsafe`). A bench binary that wants it declares it itself:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: chain_benches::alloc::Counting = chain_benches::alloc::counting();
//! ```
//!
//! and reads [`live_bytes`]`(&ALLOC)`. Only binaries that declare it pay for the counting.

use std::alloc::System;

/// The system allocator with live-byte accounting.
pub type Counting = cap::Cap<System>;

/// A [`Counting`] allocator with no limit, usable in a `static`.
pub const fn counting() -> Counting {
    cap::Cap::new(System, usize::MAX)
}

/// Heap bytes currently allocated (and not yet freed) through `alloc`.
pub fn live_bytes(alloc: &Counting) -> usize {
    alloc.allocated()
}
