//! Waiting for the signal to stop: Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when
//! [`Shutdown::install`] is called, so a signal that arrives while the node is still starting
//! (e.g. right after it printed its `listening` line) is not lost.

use anyhow::Result;

/// Installed signal handlers; [`Shutdown::wait`] completes once one of the signals arrived.
pub struct Shutdown {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Shutdown {
    /// Installs the handlers now.
    pub fn install() -> Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Shutdown {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Shutdown {})
        }
    }

    /// Completes when Ctrl-C or SIGTERM arrives.
    pub async fn wait(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
