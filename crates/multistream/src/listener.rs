//! The listener (responder) side as a sans-IO state machine: it sends its header at once
//! (old dialers wait for it), then answers each proposal with an echo (accept) or `na`, and
//! `ls` with its list, until it accepts or a limit is crossed.
//!
//! Drive it like the [`crate::Dialer`]. After our `na`, EOF or garbage from the peer means a
//! lazy dialer gave up: [`MultistreamError::NegotiationFailed`], not a protocol violation.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::config::{MultistreamConfig, MAX_SEND_LEN};
use crate::error::MultistreamError;
use crate::message::{check_protocol, Message};
use crate::state::{show, Event, Inbox, Outbox};

/// The listener's negotiation.
#[derive(Debug)]
pub struct Listener {
    protocols: Vec<String>,
    attempts: usize,
    max_attempts: usize,
    header_received: bool,
    last_sent_na: bool,
    /// Index of the agreed protocol.
    selected: Option<usize>,
    inbox: Inbox,
    outbox: Outbox,
    events: VecDeque<Event>,
}

impl Listener {
    /// Starts a negotiation accepting any of `protocols`; our header is queued at once.
    /// Fails if an id cannot be sent (empty, contains `\n`, too long).
    pub fn new(
        protocols: Vec<String>,
        config: &MultistreamConfig,
    ) -> Result<Self, MultistreamError> {
        for p in &protocols {
            check_protocol(p)?;
        }
        let mut outbox = Outbox::new(config.one_message_per_write);
        outbox.push(&Message::Header)?;
        Ok(Listener {
            protocols,
            attempts: 0,
            max_attempts: config.max_attempts,
            header_received: false,
            last_sent_na: false,
            selected: None,
            inbox: Inbox::new(config.max_message_len),
            outbox,
            events: VecDeque::new(),
        })
    }

    /// Feeds bytes read from the stream. Once a protocol is selected, further bytes are kept
    /// for [`Listener::take_leftover`].
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), MultistreamError> {
        self.inbox.extend(data);
        while self.selected.is_none() {
            let step = match self.inbox.next_frame() {
                Ok(Some(body)) => self.on_frame(&body),
                Ok(None) => break,
                Err(e) => Err(e),
            };
            step.map_err(|e| self.after_na(e))?;
        }
        Ok(())
    }

    /// Reports the end of the stream: an error unless a protocol was selected.
    pub fn handle_eof(&mut self) -> Result<(), MultistreamError> {
        if self.selected.is_some() {
            return Ok(());
        }
        Err(self.after_na(self.inbox.eof_error()))
    }

    /// Right after our `na`, a malformed message or EOF is a lazy dialer that gave up.
    fn after_na(&self, err: MultistreamError) -> MultistreamError {
        if !self.last_sent_na {
            return err;
        }
        match err {
            MultistreamError::TooManyAttempts { .. } | MultistreamError::Io(_) => err,
            other => {
                tracing::trace!(cause = %other, "multistream: peer gave up after na");
                MultistreamError::NegotiationFailed
            }
        }
    }

    fn on_frame(&mut self, body: &[u8]) -> Result<(), MultistreamError> {
        if !self.header_received {
            if body != b"/multistream/1.0.0\n" {
                return Err(MultistreamError::WrongHeader { got: show(body) });
            }
            self.header_received = true;
            return Ok(());
        }
        let text = body.strip_suffix(b"\n").unwrap_or(body);
        // fast path: a proposal we support, found by bytes without allocating
        if let Some(i) = self.protocols.iter().position(|p| p.as_bytes() == text) {
            self.count_attempt()?;
            let protocol = self.protocols.get(i).cloned().unwrap_or_default();
            self.outbox.push_protocol(&protocol)?;
            self.last_sent_na = false;
            self.selected = Some(i);
            self.events.push_back(Event::Selected { protocol });
            return Ok(());
        }
        let msg = Message::decode(body)?;
        if matches!(msg, Message::Protocol(_) | Message::Ls) {
            self.count_attempt()?;
        }
        match msg {
            Message::Protocol(p) => {
                self.outbox.push(&Message::Na)?;
                self.last_sent_na = true;
                self.events.push_back(Event::Rejected { protocol: p });
                Ok(())
            }
            Message::Ls => {
                self.last_sent_na = false;
                self.outbox.push(&Message::LsResponse(self.listable()))
            }
            other => Err(MultistreamError::UnexpectedMessage(format!(
                "{other:?} from a dialer"
            ))),
        }
    }

    fn count_attempt(&mut self) -> Result<(), MultistreamError> {
        self.attempts += 1;
        if self.attempts > self.max_attempts {
            return Err(MultistreamError::TooManyAttempts {
                max: self.max_attempts,
            });
        }
        Ok(())
    }

    /// Our protocols, as many as fit in one message of at most [`MAX_SEND_LEN`] bytes.
    fn listable(&self) -> Vec<String> {
        // outer prefix (2) + final "\n" (1)
        let mut used = 3;
        let mut list = Vec::new();
        for p in &self.protocols {
            let item = p.len() + 1 + if p.len() + 1 < 128 { 1 } else { 2 };
            if used + item > MAX_SEND_LEN {
                tracing::warn!(
                    kept = list.len(),
                    total = self.protocols.len(),
                    "multistream: ls response truncated to 1024 bytes"
                );
                break;
            }
            used += item;
            list.push(p.clone());
        }
        list
    }

    /// The next write to make, if any.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.outbox.pop()
    }

    /// Whether writes are pending.
    pub fn wants_write(&self) -> bool {
        !self.outbox.is_empty()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether a protocol was selected.
    pub fn is_done(&self) -> bool {
        self.selected.is_some()
    }

    /// The agreed protocol, once selected.
    pub fn selected(&self) -> Option<&str> {
        self.selected
            .and_then(|i| self.protocols.get(i))
            .map(String::as_str)
    }

    /// How many bytes were received past the proposal we accepted (what
    /// [`Listener::take_leftover`] would return).
    pub fn leftover_len(&self) -> usize {
        self.inbox.len()
    }

    /// Bytes received past the proposal we accepted: they belong to the next protocol.
    pub fn take_leftover(&mut self) -> BytesMut {
        self.inbox.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &[u8] = b"\x13/multistream/1.0.0\n";

    fn listener(protocols: &[&str]) -> Listener {
        let ps = protocols.iter().map(|p| p.to_string()).collect();
        let mut l = Listener::new(ps, &MultistreamConfig::default()).unwrap();
        assert_eq!(&l.poll_transmit().unwrap()[..], HEADER);
        l
    }

    #[test]
    fn lazy_dialer_bytes_in_one_read() {
        let mut l = listener(&["/noise"]);
        l.handle_input(b"\x13/multistream/1.0.0\n\x07/noise\n\x00\x20payload")
            .unwrap();
        assert_eq!(
            l.poll_event(),
            Some(Event::Selected {
                protocol: "/noise".into()
            })
        );
        assert_eq!(&l.poll_transmit().unwrap()[..], b"\x07/noise\n");
        assert_eq!(&l.take_leftover()[..], b"\x00\x20payload");
    }

    #[test]
    fn na_then_accept_and_simultaneous_connect() {
        let mut l = listener(&["/mplex/6.7.0"]);
        l.handle_input(HEADER).unwrap();
        l.handle_input(b"\x1d/libp2p/simultaneous-connect\n")
            .unwrap();
        assert_eq!(&l.poll_transmit().unwrap()[..], b"\x03na\n");
        l.handle_input(b"\x0d/mplex/6.7.0\n").unwrap();
        assert_eq!(l.selected(), Some("/mplex/6.7.0"));
    }

    #[test]
    fn ls_is_answered_with_the_list() {
        let mut l = listener(&["/a", "/bcd"]);
        l.handle_input(b"\x13/multistream/1.0.0\n\x03ls\n").unwrap();
        assert_eq!(&l.poll_transmit().unwrap()[..], b"\x0b\x03/a\n\x05/bcd\n\n");
        assert!(!l.is_done());
    }

    #[test]
    fn garbage_or_eof_after_na_is_negotiation_failed() {
        let mut l = listener(&["/a"]);
        l.handle_input(b"\x13/multistream/1.0.0\n\x03/b\n").unwrap();
        assert!(matches!(l.handle_input(b"\x05xyz"), Ok(())));
        assert!(matches!(
            l.handle_eof(),
            Err(MultistreamError::NegotiationFailed)
        ));
        let mut l = listener(&["/a"]);
        l.handle_input(b"\x13/multistream/1.0.0\n\x03/b\n").unwrap();
        assert!(matches!(
            l.handle_input(b"\x05xyzw0"),
            Err(MultistreamError::NegotiationFailed)
        ));
    }

    #[test]
    fn first_message_must_be_the_header() {
        let mut l = listener(&["/a"]);
        assert!(matches!(
            l.handle_input(b"\x03/a\n"),
            Err(MultistreamError::WrongHeader { .. })
        ));
        let mut l = listener(&["/a"]);
        l.handle_input(HEADER).unwrap();
        assert!(matches!(
            l.handle_input(HEADER),
            Err(MultistreamError::UnexpectedMessage(_))
        ));
    }

    #[test]
    fn attempts_are_bounded() {
        let config = MultistreamConfig {
            max_attempts: 3,
            ..MultistreamConfig::default()
        };
        let mut l = Listener::new(vec!["/a".into()], &config).unwrap();
        l.handle_input(HEADER).unwrap();
        for _ in 0..3 {
            l.handle_input(b"\x03/b\n").unwrap();
        }
        assert!(matches!(
            l.handle_input(b"\x03/b\n"),
            Err(MultistreamError::TooManyAttempts { max: 3 })
        ));
    }
}
