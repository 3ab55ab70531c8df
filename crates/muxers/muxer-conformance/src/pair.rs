//! Two muxer sessions connected in memory, with their drivers spawned on tokio.

use std::sync::Arc;

use chainp2p_core::identity::Keypair;
use chainp2p_core::{BoxStream, ChainError, HandlerContext, Muxer, MuxerHandler, Role};
use tokio::task::JoinHandle;
use tokio_util::compat::TokioAsyncReadCompatExt;

use crate::util::{within, STEP};

/// The in-memory pipe's buffer per direction used by the cases (256 KiB).
pub const DEFAULT_PIPE_CAPACITY: usize = 256 * 1024;

/// A connected dialer/listener pair of sessions and their running drivers.
pub struct Pair {
    /// The session started with [`Role::Dialer`].
    pub dialer: Arc<dyn Muxer>,
    /// The session started with [`Role::Listener`].
    pub listener: Arc<dyn Muxer>,
    /// The dialer's driver task.
    pub dialer_driver: JoinHandle<Result<(), ChainError>>,
    /// The listener's driver task.
    pub listener_driver: JoinHandle<Result<(), ChainError>>,
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pair")
            .field("dialer", &self.dialer.protocol())
            .field("listener", &self.listener.protocol())
            .finish_non_exhaustive()
    }
}

/// Starts `dialer` and `listener` on the two ends of a `tokio::io::duplex(pipe_capacity)`
/// pipe, each with a fresh ed25519 identity, and spawns both drivers.
pub async fn connected_pair(
    dialer: &dyn MuxerHandler,
    listener: &dyn MuxerHandler,
    pipe_capacity: usize,
) -> Result<Pair, String> {
    let (a, b) = tokio::io::duplex(pipe_capacity);
    let a: BoxStream = Box::new(a.compat());
    let b: BoxStream = Box::new(b.compat());
    let dctx = HandlerContext::new(Role::Dialer, Arc::new(Keypair::generate_ed25519()));
    let lctx = HandlerContext::new(Role::Listener, Arc::new(Keypair::generate_ed25519()));
    let (d, l) = within(
        STEP,
        "multiplex on both sides",
        futures::future::join(dialer.multiplex(a, &dctx), listener.multiplex(b, &lctx)),
    )
    .await?;
    let (dialer, dialer_driver) = d.map_err(|e| format!("dialer multiplex failed: {e}"))?;
    let (listener, listener_driver) = l.map_err(|e| format!("listener multiplex failed: {e}"))?;
    Ok(Pair {
        dialer,
        listener,
        dialer_driver: tokio::spawn(dialer_driver),
        listener_driver: tokio::spawn(listener_driver),
    })
}

impl Pair {
    /// Closes the session from the dialer side and checks that `close` succeeds, both sides
    /// report `is_closed`, and both drivers end with `Ok(())`.
    pub async fn close_cleanly(self) -> Result<(), String> {
        within(STEP, "dialer close()", self.dialer.close())
            .await?
            .map_err(|e| format!("dialer close() failed: {e}"))?;
        self.join_drivers().await
    }

    /// Waits for both drivers to end (after a close) and checks they ended with `Ok(())`
    /// and that both sessions then say `is_closed`.
    pub async fn join_drivers(self) -> Result<(), String> {
        join_driver("dialer", self.dialer_driver).await?;
        join_driver("listener", self.listener_driver).await?;
        if !self.dialer.is_closed() {
            return Err("dialer is_closed() is false after its driver ended".into());
        }
        if !self.listener.is_closed() {
            return Err("listener is_closed() is false after its driver ended".into());
        }
        Ok(())
    }
}

/// Waits (at most [`STEP`]) for a driver task and checks it ended with `Ok(())`.
pub(crate) async fn join_driver(
    side: &str,
    handle: JoinHandle<Result<(), ChainError>>,
) -> Result<(), String> {
    match within(STEP, &format!("{side} driver to end after close"), handle).await? {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!(
            "{side} driver ended with an error after a clean close: {e}"
        )),
        Err(e) => Err(format!("{side} driver task failed: {e}")),
    }
}
