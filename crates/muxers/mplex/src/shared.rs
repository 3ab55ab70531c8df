//! State shared by the muxer handle, its streams and the driver: the session behind a short
//! `std::sync::Mutex`, plus the wakers of everyone waiting on it (`chainp2p_muxer_shell::Shared`). This
//! file says how mplex's session plugs into that shell.

use std::ops::{Deref, DerefMut};

use bytes::BytesMut;
use chainp2p_muxer_shell::{ShellSession, Wake};

use crate::error::MplexError;
use crate::session::{Event, Session, StreamId, Termination};

pub(crate) use chainp2p_muxer_shell::{lock, register};

/// Everything behind the mutex.
pub(crate) type Shared = chainp2p_muxer_shell::Shared<Core>;
/// How handles and the driver hold it.
pub(crate) type SharedRef = chainp2p_muxer_shell::SharedRef<Core>;

/// The session as the shell sees it (a private wrapper, so the shell trait stays out of the
/// public API of [`Session`]).
#[derive(Debug)]
pub(crate) struct Core(pub(crate) Session);

impl Deref for Core {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.0
    }
}

impl DerefMut for Core {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.0
    }
}

impl ShellSession for Core {
    type StreamId = StreamId;
    type Error = MplexError;

    fn poll_wake(&mut self) -> Option<Wake<StreamId>> {
        Some(match self.0.poll_event()? {
            Event::InboundStream(_) => Wake::Accept,
            Event::Readable(id) => Wake::Read(id),
            Event::StreamClosed(id) | Event::StreamReset(id) => Wake::ReadWrite(id),
            Event::InputResumed => Wake::Driver,
            Event::Terminated => Wake::Everyone,
        })
    }

    fn output_len(&self) -> usize {
        self.0.output_len()
    }

    fn queued_total(&self) -> u64 {
        self.0.queued_total()
    }

    fn swap_output(&mut self, buf: &mut BytesMut) {
        self.0.swap_output(buf)
    }

    fn ended(&self) -> Option<Result<(), &MplexError>> {
        self.0.termination().map(|t| match t {
            Termination::Clean => Ok(()),
            Termination::Error(e) => Err(e),
        })
    }

    fn on_io_error(&mut self, err: MplexError) {
        self.0.on_io_error(err)
    }

    fn on_closed(&mut self) {
        self.0.on_closed()
    }

    fn close_write(&mut self, id: StreamId) -> Result<(), MplexError> {
        self.0.close_write(id)
    }

    fn reset(&mut self, id: StreamId) {
        self.0.reset(id)
    }

    fn release(&mut self, id: StreamId) {
        self.0.release(id)
    }
}

/// The current time as the session sees it: tokio's clock (so paused-time tests work),
/// as a `std::time::Instant`.
pub(crate) fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}
