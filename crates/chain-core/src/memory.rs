//! [`MemoryBudget`]: where a layer asks before it grows a buffer or a window. The owner of the
//! connection (the swarm's resource manager) hands one to the chain in
//! [`crate::HandlerContext::memory`]; a muxer reserves from it before it lets a receive window
//! grow beyond its initial size, and a refused reservation means a smaller window, never a
//! failure (go-yamux asks its memory manager the same way).

use std::fmt;

/// A memory scope (a connection's, inside its peer's and the system's). Thread-safe; shared
/// by everything on one connection.
pub trait MemoryBudget: Send + Sync + fmt::Debug + 'static {
    /// Reserves `bytes`: `true` if granted (give them back with [`MemoryBudget::release`]),
    /// `false` if any enclosing scope would cross its limit (nothing is reserved then).
    fn reserve(&self, bytes: usize) -> bool;

    /// Gives back `bytes` reserved earlier.
    fn release(&self, bytes: usize);
}
