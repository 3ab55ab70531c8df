//! FINs held back toward old peers: on a frame-per-write (secio) session, a FIN on a stream the
//! peer opened waits until we know whether the peer is c-ipfs, whose FIN handler frees a stream
//! its reader thread still uses (c-ipfs crashed on about half of them). Identify tells
//! ([`Session::peer_agent_known`]: the held FINs go out; [`Session::set_dialect`] to
//! [`Dialect::CLibp2p`]: they never do); without an answer they go out after [`FIN_HOLD`].
//! c-ipfs asks who we are on the one stream it opens, at about the time we ask it, so our
//! answer there can come before we know.

use std::time::{Duration, Instant};

use super::{Session, StreamId};
use crate::codec::{Flags, FrameType};
use crate::config::Dialect;
use crate::stream_state::Origin;

/// How long a FIN waits for the peer's agent (c-ipfs answers identify about 5 s after it
/// connected, its reader thread stalling once per stream).
pub const FIN_HOLD: Duration = Duration::from_secs(10);

/// Most FINs held at once; beyond, they go out at once (c-ipfs opens one stream per
/// connection; a peer opening and closing streams in a flood does not grow the stream table).
pub const MAX_HELD_FINS: usize = 64;

/// The held FINs and until when.
#[derive(Debug, Default)]
pub(super) struct HeldFins {
    ids: Vec<StreamId>,
    until: Option<Instant>,
    /// The peer's agent is known: nothing is held any more.
    decided: bool,
}

impl HeldFins {
    /// When the held FINs go out if nobody decides earlier.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.until
    }
}

impl Session {
    /// Whether `close_write(id)` holds its FIN back (and records it).
    pub(super) fn hold_fin(&mut self, id: StreamId) -> bool {
        if self.config.dialect != Dialect::FramePerWrite
            || self.held_fins.decided
            || self.held_fins.ids.len() >= MAX_HELD_FINS
        {
            return false;
        }
        match self.streams.get_mut(&id) {
            Some(s) if s.origin == Origin::Remote => s.fin_held = true,
            _ => return false,
        }
        self.held_fins.ids.push(id);
        if self.held_fins.until.is_none() {
            self.held_fins.until = self.now.and_then(|now| now.checked_add(FIN_HOLD));
        }
        true
    }

    /// The peer's agent is known and it is not c-ipfs: held FINs go out, later ones at once.
    pub fn peer_agent_known(&mut self) {
        self.held_fins.decided = true;
        self.send_held_fins();
    }

    /// Sends the held FINs (the deadline passed, or the peer is not c-ipfs).
    pub(super) fn send_held_fins(&mut self) {
        self.held_fins.until = None;
        for id in std::mem::take(&mut self.held_fins.ids) {
            let Some(s) = self.streams.get_mut(&id) else {
                continue;
            };
            s.fin_held = false;
            if !s.reset && self.termination.is_none() {
                self.push_header(FrameType::Data, Flags::FIN, id, 0);
            }
            self.remove_if_done(id);
        }
    }

    /// The peer is c-ipfs: held FINs are dropped, none is sent again.
    pub(super) fn drop_held_fins(&mut self) {
        self.held_fins.decided = true;
        self.held_fins.until = None;
        for id in std::mem::take(&mut self.held_fins.ids) {
            if let Some(s) = self.streams.get_mut(&id) {
                s.fin_held = false;
            }
            self.remove_if_done(id);
        }
    }
}
