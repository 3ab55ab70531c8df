//! Pieces shared by the sans-IO [`crate::Dialer`] and [`crate::Listener`]: the input buffer
//! that cuts frames, the output queue of writes, and the events both report.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::codec::{put_frame, FrameCodec};
use crate::error::MultistreamError;
use crate::message::Message;

/// Something a negotiation reports besides bytes to send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A proposal was answered with `na` (dialer: ours; listener: the peer's).
    Rejected {
        /// The rejected protocol id.
        protocol: String,
    },
    /// The listener's protocols, in answer to our `ls` (dialer built with
    /// [`crate::Dialer::list`]); the negotiation is over.
    Listed {
        /// The protocol ids as the listener sent them.
        protocols: Vec<String>,
    },
    /// Both sides agreed: the stream now carries `protocol`.
    Selected {
        /// The agreed protocol id.
        protocol: String,
    },
}

/// Received bytes not yet consumed, cut into frames.
#[derive(Debug)]
pub(crate) struct Inbox {
    buf: BytesMut,
    codec: FrameCodec,
}

impl Inbox {
    pub(crate) fn new(max_len: usize) -> Self {
        Inbox {
            buf: BytesMut::new(),
            codec: FrameCodec::new(max_len),
        }
    }

    pub(crate) fn extend(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame body (with its `\n`), if one has fully arrived.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Bytes>, MultistreamError> {
        self.codec.decode(&mut self.buf)
    }

    /// [`Inbox::next_frame`] without checking the trailing `\n`.
    pub(crate) fn next_frame_unchecked(&mut self) -> Result<Option<Bytes>, MultistreamError> {
        self.codec.decode_unchecked(&mut self.buf)
    }

    /// How many received bytes are buffered.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// The error for an EOF now: mid-message if bytes are pending, else a clean EOF.
    pub(crate) fn eof_error(&self) -> MultistreamError {
        if self.buf.is_empty() {
            MultistreamError::Eof
        } else {
            MultistreamError::EofMidMessage {
                buffered: self.buf.len(),
            }
        }
    }

    /// Puts one uvarint-delimited message with `payload` in front of what is buffered.
    pub(crate) fn unread_message(&mut self, payload: &[u8]) -> Result<(), MultistreamError> {
        let mut front = BytesMut::with_capacity(payload.len() + 10 + self.buf.len());
        chainp2p_framing::uvi::UviFramed::new(usize::MAX)
            .encode_header(payload.len(), &mut front)
            .map_err(|e| MultistreamError::InvalidInput(e.to_string()))?;
        front.extend_from_slice(payload);
        front.extend_from_slice(&self.buf);
        self.buf = front;
        Ok(())
    }

    /// Everything received and not consumed by the negotiation.
    pub(crate) fn take(&mut self) -> BytesMut {
        std::mem::take(&mut self.buf)
    }
}

/// Messages waiting to be written, grouped into writes.
#[derive(Debug)]
pub(crate) struct Outbox {
    writes: VecDeque<BytesMut>,
    one_message_per_write: bool,
}

impl Outbox {
    pub(crate) fn new(one_message_per_write: bool) -> Self {
        Outbox {
            writes: VecDeque::new(),
            one_message_per_write,
        }
    }

    /// Queues a message: its own write, or appended to the last pending write.
    pub(crate) fn push(&mut self, msg: &Message) -> Result<(), MultistreamError> {
        match self.writes.back_mut() {
            Some(last) if !self.one_message_per_write => msg.encode(last),
            _ => {
                let mut buf = BytesMut::with_capacity(64);
                msg.encode(&mut buf)?;
                self.writes.push_back(buf);
                Ok(())
            }
        }
    }

    /// Queues a protocol id (already checked) as a message, without building a [`Message`].
    pub(crate) fn push_protocol(&mut self, protocol: &str) -> Result<(), MultistreamError> {
        match self.writes.back_mut() {
            Some(last) if !self.one_message_per_write => put_frame(last, protocol.as_bytes()),
            _ => {
                let mut buf = BytesMut::with_capacity(protocol.len() + 3);
                put_frame(&mut buf, protocol.as_bytes())?;
                self.writes.push_back(buf);
                Ok(())
            }
        }
    }

    pub(crate) fn pop(&mut self) -> Option<Bytes> {
        self.writes.pop_front().map(BytesMut::freeze)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// Lossy, bounded text of a frame body, for error messages.
pub(crate) fn show(body: &[u8]) -> String {
    let end = body.len().min(64);
    String::from_utf8_lossy(body.get(..end).unwrap_or_default()).into_owned()
}
