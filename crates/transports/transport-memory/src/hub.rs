//! The process-wide hub: which `/memory` ports are taken, by a listener (with its accept
//! queue) or by a dialer's ephemeral port, and the dial / listen / close operations on it.
//!
//! Lock order: the hub, then an accept queue. Nothing that takes the hub lock (dropping a
//! [`PortGuard`], i.e. a dialer's stream) is dropped while the hub lock is held.

use std::collections::hash_map::{Entry, RandomState};
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::num::NonZeroU64;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use crate::pipe::{pipe_with_port, MemoryStream};
use crate::MemoryError;

/// What holds a port.
#[derive(Debug)]
enum Slot {
    /// A listener, with its accept queue.
    Listening(Arc<AcceptQueue>),
    /// The ephemeral local port of a dialed connection: taken, refuses dials.
    Dialer,
}

/// The hub: the taken ports.
static HUB: LazyLock<Mutex<HashMap<NonZeroU64, Slot>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn hub() -> MutexGuard<'static, HashMap<NonZeroU64, Slot>> {
    // The hub is never left half-updated by a panic: every update is one map operation.
    HUB.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A random non-zero port that is free in `ports`.
fn free_port(ports: &HashMap<NonZeroU64, Slot>) -> Result<NonZeroU64, MemoryError> {
    let state = RandomState::new();
    for attempt in 0u64..64 {
        let mut h = state.build_hasher();
        h.write_u64(attempt);
        if let Some(port) = NonZeroU64::new(h.finish()) {
            if !ports.contains_key(&port) {
                return Ok(port);
            }
        }
    }
    Err(MemoryError::NoFreePort)
}

/// A connection dialed to a listener and not yet accepted.
#[derive(Debug)]
pub(crate) struct Pending {
    /// The listener's end.
    pub stream: MemoryStream,
    /// The dialer's ephemeral port.
    pub remote_port: NonZeroU64,
}

/// The state of an accept queue.
#[derive(Debug, Default)]
pub(crate) struct QueueState {
    /// Dialed, not yet accepted, oldest first.
    pub pending: VecDeque<Pending>,
    /// The listener waiting for a connection.
    pub waker: Option<Waker>,
    /// The listener is gone: dials are refused.
    pub closed: bool,
}

/// A listener's accept queue, shared by the hub (dialers push) and the listener (pops).
#[derive(Debug)]
pub(crate) struct AcceptQueue {
    state: Mutex<QueueState>,
    backlog: usize,
}

impl AcceptQueue {
    /// The queue's state, locked.
    pub fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Takes `port` (0: a free one) for a listener with room for `backlog` pending connections.
pub(crate) fn listen(
    port: u64,
    backlog: usize,
) -> Result<(NonZeroU64, Arc<AcceptQueue>), MemoryError> {
    let queue = Arc::new(AcceptQueue {
        state: Mutex::new(QueueState::default()),
        backlog,
    });
    let mut ports = hub();
    let port = match NonZeroU64::new(port) {
        Some(p) => p,
        None => free_port(&ports)?,
    };
    match ports.entry(port) {
        Entry::Occupied(_) => Err(MemoryError::AddrInUse(port.get())),
        Entry::Vacant(v) => {
            v.insert(Slot::Listening(Arc::clone(&queue)));
            Ok((port, queue))
        }
    }
}

/// Frees a listener's port and refuses what it had not accepted yet.
pub(crate) fn close_listener(port: NonZeroU64, queue: &Arc<AcceptQueue>) {
    {
        let mut ports = hub();
        if let Some(Slot::Listening(q)) = ports.get(&port) {
            if Arc::ptr_eq(q, queue) {
                ports.remove(&port);
            }
        }
    }
    let pending = {
        let mut state = queue.lock();
        state.closed = true;
        state.waker = None;
        std::mem::take(&mut state.pending)
    };
    // Dropping the listener's ends shows the dialers EOF and BrokenPipe.
    drop(pending);
}

/// Holds a dialer's ephemeral port until dropped.
#[derive(Debug)]
pub(crate) struct PortGuard(NonZeroU64);

impl Drop for PortGuard {
    fn drop(&mut self) {
        let mut ports = hub();
        if let Some(Slot::Dialer) = ports.get(&self.0) {
            ports.remove(&self.0);
        }
    }
}

/// Connects to the listener on `port`: queues the listener's end in its accept queue and
/// returns the dialer's end with its ephemeral port.
pub(crate) fn dial(port: u64, capacity: usize) -> Result<(MemoryStream, NonZeroU64), MemoryError> {
    let mut ports = hub();
    let target = NonZeroU64::new(port).ok_or(MemoryError::Refused(port))?;
    let queue = match ports.get(&target) {
        Some(Slot::Listening(q)) => Arc::clone(q),
        _ => return Err(MemoryError::Refused(port)),
    };
    let mut state = queue.lock();
    if state.closed {
        return Err(MemoryError::Refused(port));
    }
    if state.pending.len() >= queue.backlog {
        return Err(MemoryError::BacklogFull {
            port,
            backlog: queue.backlog,
        });
    }
    let local = free_port(&ports)?;
    ports.insert(local, Slot::Dialer);
    let (dialer, listener) = pipe_with_port(capacity, Some(PortGuard(local)));
    state.pending.push_back(Pending {
        stream: listener,
        remote_port: local,
    });
    let waker = state.waker.take();
    drop(state);
    drop(ports);
    if let Some(w) = waker {
        w.wake();
    }
    Ok((dialer, local))
}
