//! The dialer (initiator) side as a sans-IO state machine: it sends the header and its first
//! proposal at once, then walks its list on each `na` until the listener echoes one.
//!
//! Drive it with [`Dialer::handle_input`] / [`Dialer::handle_eof`], then drain
//! [`Dialer::poll_transmit`] (each item is one write) and [`Dialer::poll_event`]. After an
//! error the machine must be dropped.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::config::MultistreamConfig;
use crate::error::MultistreamError;
use crate::message::{check_protocol, parse_ls_response, Message};
use crate::state::{show, Event, Inbox, Outbox};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the answer to `protocols[current]`.
    Proposing,
    /// Waiting for the answer to `ls`.
    Listing,
    /// Finished (selected or listed).
    Done,
}

/// The dialer's negotiation.
#[derive(Debug)]
pub struct Dialer {
    protocols: Vec<String>,
    current: usize,
    attempts: usize,
    max_attempts: usize,
    header_received: bool,
    /// See [`MultistreamConfig::accept_glued_echo`].
    accept_glued_echo: bool,
    phase: Phase,
    /// Index of the agreed protocol.
    selected: Option<usize>,
    inbox: Inbox,
    outbox: Outbox,
    events: VecDeque<Event>,
}

impl Dialer {
    /// Starts a negotiation proposing `protocols` in this order; the header and the first
    /// proposal are queued at once. Fails if the list is empty or an id cannot be sent.
    pub fn new(
        protocols: Vec<String>,
        config: &MultistreamConfig,
    ) -> Result<Self, MultistreamError> {
        if protocols.is_empty() {
            return Err(MultistreamError::InvalidInput(
                "no protocol to propose".into(),
            ));
        }
        for p in &protocols {
            check_protocol(p)?;
        }
        let mut dialer = Dialer::empty(protocols, config, Phase::Proposing);
        dialer.outbox.push(&Message::Header)?;
        if let Some(first) = dialer.protocols.first() {
            dialer.outbox.push_protocol(first)?;
        }
        dialer.attempts = 1;
        Ok(dialer)
    }

    /// Starts an `ls` exchange: header and `ls` are queued; ends with [`Event::Listed`].
    pub fn list(config: &MultistreamConfig) -> Result<Self, MultistreamError> {
        let mut dialer = Dialer::empty(Vec::new(), config, Phase::Listing);
        dialer.outbox.push(&Message::Header)?;
        dialer.outbox.push(&Message::Ls)?;
        Ok(dialer)
    }

    fn empty(protocols: Vec<String>, config: &MultistreamConfig, phase: Phase) -> Self {
        Dialer {
            protocols,
            current: 0,
            attempts: 0,
            max_attempts: config.max_attempts,
            header_received: false,
            accept_glued_echo: config.accept_glued_echo,
            phase,
            selected: None,
            inbox: Inbox::new(config.max_message_len),
            outbox: Outbox::new(config.one_message_per_write),
            events: VecDeque::new(),
        }
    }

    /// Feeds bytes read from the stream. Once the negotiation is done, further bytes are
    /// kept for [`Dialer::take_leftover`].
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), MultistreamError> {
        self.inbox.extend(data);
        while self.phase != Phase::Done {
            let frame = match self.accept_glued_echo {
                // Checked in `on_frame`, after the glued echo had its chance.
                true => self.inbox.next_frame_unchecked()?,
                false => self.inbox.next_frame()?,
            };
            match frame {
                Some(body) => self.on_frame(body)?,
                None => break,
            }
        }
        Ok(())
    }

    /// Reports the end of the stream: an error unless the negotiation is done.
    pub fn handle_eof(&mut self) -> Result<(), MultistreamError> {
        match self.phase {
            Phase::Done => Ok(()),
            _ => Err(self.inbox.eof_error()),
        }
    }

    fn on_frame(&mut self, body: Bytes) -> Result<(), MultistreamError> {
        if self.accept_glued_echo {
            if self.glued_echo(&body)? {
                return Ok(());
            }
            // The check `next_frame_unchecked` left out.
            if body.last() != Some(&b'\n') {
                return Err(MultistreamError::MissingNewline);
            }
        }
        let body = &body[..];
        if !self.header_received {
            if body != b"/multistream/1.0.0\n" {
                return Err(MultistreamError::WrongHeader { got: show(body) });
            }
            self.header_received = true;
            return Ok(());
        }
        if self.phase == Phase::Listing {
            if body == b"na\n" {
                return Err(MultistreamError::NegotiationFailed);
            }
            let protocols = parse_ls_response(body)?;
            self.phase = Phase::Done;
            self.events.push_back(Event::Listed { protocols });
            return Ok(());
        }
        let proposed = self.protocols.get(self.current).map_or("", String::as_str);
        // fast path: the echo, compared as bytes
        if body.strip_suffix(b"\n") == Some(proposed.as_bytes()) {
            let protocol = proposed.to_owned();
            self.phase = Phase::Done;
            self.selected = Some(self.current);
            self.events.push_back(Event::Selected { protocol });
            return Ok(());
        }
        match Message::decode(body)? {
            Message::Na => {
                let protocol = proposed.to_owned();
                self.events.push_back(Event::Rejected { protocol });
                self.current += 1;
                let Some(next) = self.protocols.get(self.current) else {
                    return Err(MultistreamError::NegotiationFailed);
                };
                if self.attempts >= self.max_attempts {
                    return Err(MultistreamError::TooManyAttempts {
                        max: self.max_attempts,
                    });
                }
                self.attempts += 1;
                self.outbox.push_protocol(next)
            }
            other => Err(MultistreamError::UnexpectedMessage(format!(
                "{other:?} in answer to the proposal {proposed:?}"
            ))),
        }
    }

    /// c-libp2p's answer to a proposal: the echo and the first application message in one
    /// multistream message. `Ok(true)` if `body` was one (the protocol is selected and the
    /// payload is put back as one uvarint-delimited message for the application).
    fn glued_echo(&mut self, body: &[u8]) -> Result<bool, MultistreamError> {
        if !self.header_received || self.phase != Phase::Proposing {
            return Ok(false);
        }
        let Some(proposed) = self.protocols.get(self.current) else {
            return Ok(false);
        };
        let echo_len = proposed.len() + 1;
        let glued = body.len() > echo_len
            && body.starts_with(proposed.as_bytes())
            && body.get(proposed.len()) == Some(&b'\n');
        if !glued {
            return Ok(false);
        }
        self.inbox
            .unread_message(body.get(echo_len..).unwrap_or_default())?;
        self.phase = Phase::Done;
        self.selected = Some(self.current);
        self.events.push_back(Event::Selected {
            protocol: proposed.clone(),
        });
        Ok(true)
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

    /// Whether the negotiation finished (a protocol was selected or the list received).
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The agreed protocol, once selected.
    pub fn selected(&self) -> Option<&str> {
        self.selected
            .and_then(|i| self.protocols.get(i))
            .map(String::as_str)
    }

    /// Bytes received past the end of the negotiation: they belong to the next protocol.
    pub fn take_leftover(&mut self) -> BytesMut {
        self.inbox.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> MultistreamConfig {
        MultistreamConfig::default()
    }

    #[test]
    fn header_and_proposal_in_one_write_then_echo() {
        let mut d = Dialer::new(vec!["/noise".into()], &cfg()).unwrap();
        assert_eq!(
            &d.poll_transmit().unwrap()[..],
            b"\x13/multistream/1.0.0\n\x07/noise\n"
        );
        assert!(d.poll_transmit().is_none());
        d.handle_input(b"\x13/multistream/1.0.0\n\x07/noi").unwrap();
        assert!(!d.is_done());
        d.handle_input(b"se\nhello").unwrap();
        assert_eq!(
            d.poll_event(),
            Some(Event::Selected {
                protocol: "/noise".into()
            })
        );
        assert_eq!(&d.take_leftover()[..], b"hello");
    }

    #[test]
    fn one_message_per_write() {
        let config = MultistreamConfig {
            one_message_per_write: true,
            ..cfg()
        };
        let mut d = Dialer::new(vec!["/noise".into()], &config).unwrap();
        assert_eq!(&d.poll_transmit().unwrap()[..], b"\x13/multistream/1.0.0\n");
        assert_eq!(&d.poll_transmit().unwrap()[..], b"\x07/noise\n");
    }

    #[test]
    fn na_moves_to_the_next_then_fails() {
        let mut d = Dialer::new(vec!["/a".into(), "/b".into()], &cfg()).unwrap();
        d.poll_transmit();
        d.handle_input(b"\x13/multistream/1.0.0\n\x03na\n").unwrap();
        assert_eq!(
            d.poll_event(),
            Some(Event::Rejected {
                protocol: "/a".into()
            })
        );
        assert_eq!(&d.poll_transmit().unwrap()[..], b"\x03/b\n");
        assert!(matches!(
            d.handle_input(b"\x03na\n"),
            Err(MultistreamError::NegotiationFailed)
        ));
    }

    #[test]
    fn wrong_header_and_wrong_echo() {
        let mut d = Dialer::new(vec!["/a".into()], &cfg()).unwrap();
        assert!(matches!(
            d.handle_input(b"\x03/b\n"),
            Err(MultistreamError::WrongHeader { .. })
        ));
        let mut d = Dialer::new(vec!["/a".into()], &cfg()).unwrap();
        assert!(matches!(
            d.handle_input(b"\x13/multistream/1.0.0\n\x03/b\n"),
            Err(MultistreamError::UnexpectedMessage(_))
        ));
    }

    #[test]
    fn eof_before_and_mid_message() {
        let mut d = Dialer::new(vec!["/a".into()], &cfg()).unwrap();
        assert!(matches!(d.handle_eof(), Err(MultistreamError::Eof)));
        d.handle_input(b"\x13/multi").unwrap();
        assert!(matches!(
            d.handle_eof(),
            Err(MultistreamError::EofMidMessage { buffered: 7 })
        ));
    }

    #[test]
    fn list() {
        let mut d = Dialer::list(&cfg()).unwrap();
        assert_eq!(
            &d.poll_transmit().unwrap()[..],
            b"\x13/multistream/1.0.0\n\x03ls\n"
        );
        d.handle_input(b"\x13/multistream/1.0.0\n\x0b\x03/a\n\x05/bcd\n\n")
            .unwrap();
        assert_eq!(
            d.poll_event(),
            Some(Event::Listed {
                protocols: vec!["/a".into(), "/bcd".into()]
            })
        );
    }

    const IDENTIFY: &str = "/ipfs/id/1.0.0";
    const HEADER: &[u8] = b"\x13/multistream/1.0.0\n";

    fn glued() -> MultistreamConfig {
        MultistreamConfig {
            accept_glued_echo: true,
            ..cfg()
        }
    }

    /// One multistream message: `uvarint(body.len()) body`.
    fn message(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        chainp2p_framing::uvi::put(body.len(), &mut out);
        out.extend_from_slice(body);
        out
    }

    /// 200 bytes (a two-byte uvarint), the last not a `\n`.
    fn payload() -> Vec<u8> {
        (0..200u8).map(|i| i.wrapping_mul(7) | 1).collect()
    }

    /// The header, then c-libp2p's echo glued to `payload` in one message.
    fn glued_answer(protocol: &str, payload: &[u8]) -> Vec<u8> {
        let mut body = format!("{protocol}\n").into_bytes();
        body.extend_from_slice(payload);
        [HEADER, &message(&body)[..]].concat()
    }

    #[test]
    fn glued_echo_selects_and_leaves_the_payload_as_one_message() {
        let mut d = Dialer::new(vec![IDENTIFY.into()], &glued()).unwrap();
        d.poll_transmit();
        let mut input = glued_answer(IDENTIFY, &payload());
        input.extend_from_slice(b"after");
        d.handle_input(&input).unwrap();
        assert!(d.is_done());
        assert_eq!(d.selected(), Some(IDENTIFY));
        assert_eq!(
            d.poll_event(),
            Some(Event::Selected {
                protocol: IDENTIFY.into()
            })
        );
        let expected = [&message(&payload())[..], b"after"].concat();
        assert_eq!(&d.take_leftover()[..], &expected[..]);
    }

    #[test]
    fn glued_echo_arriving_in_pieces() {
        let mut d = Dialer::new(vec![IDENTIFY.into()], &glued()).unwrap();
        d.poll_transmit();
        let input = glued_answer(IDENTIFY, b"\x08\x01");
        for byte in &input {
            d.handle_input(std::slice::from_ref(byte)).unwrap();
        }
        assert_eq!(d.selected(), Some(IDENTIFY));
        assert_eq!(&d.take_leftover()[..], b"\x02\x08\x01");
    }

    #[test]
    fn glued_echo_without_the_option_is_missing_newline() {
        let mut d = Dialer::new(vec![IDENTIFY.into()], &cfg()).unwrap();
        d.poll_transmit();
        assert!(matches!(
            d.handle_input(&glued_answer(IDENTIFY, &payload())),
            Err(MultistreamError::MissingNewline)
        ));
    }

    #[test]
    fn with_the_option_other_messages_without_newline_are_still_refused() {
        let not_glued: [&[u8]; 4] = [
            b"/ipfs/id/1.0.0",          // the echo without its `\n`
            b"/ipfs/id/1.0.0X payload", // the id as a prefix only
            b"/other/1.0.0\npayload",   // another protocol's echo
            b"na",
        ];
        for body in not_glued {
            let mut d = Dialer::new(vec![IDENTIFY.into()], &glued()).unwrap();
            d.poll_transmit();
            let input = [HEADER, &message(body)[..]].concat();
            assert!(
                matches!(
                    d.handle_input(&input),
                    Err(MultistreamError::MissingNewline)
                ),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // Nor is a header glued to anything.
        let mut d = Dialer::new(vec![IDENTIFY.into()], &glued()).unwrap();
        assert!(d
            .handle_input(&message(b"/multistream/1.0.0\n/ipfs/id/1.0.0\n"))
            .is_err());
        assert!(!d.is_done());
    }

    #[test]
    fn with_the_option_na_and_plain_echoes_still_work() {
        let mut d = Dialer::new(vec!["/a".into(), IDENTIFY.into()], &glued()).unwrap();
        d.poll_transmit();
        d.handle_input(&[HEADER, b"\x03na\n"].concat()).unwrap();
        assert_eq!(
            d.poll_event(),
            Some(Event::Rejected {
                protocol: "/a".into()
            })
        );
        assert_eq!(
            &d.poll_transmit().unwrap()[..],
            &message(b"/ipfs/id/1.0.0\n")[..]
        );
        // The second proposal's echo, glued.
        let body = [b"/ipfs/id/1.0.0\n", &payload()[..]].concat();
        d.handle_input(&message(&body)).unwrap();
        assert_eq!(d.selected(), Some(IDENTIFY));
        assert_eq!(&d.take_leftover()[..], &message(&payload())[..]);

        // A plain echo: the bytes after it are left as they came.
        let mut d = Dialer::new(vec![IDENTIFY.into()], &glued()).unwrap();
        d.poll_transmit();
        d.handle_input(&[HEADER, &message(b"/ipfs/id/1.0.0\n")[..], b"rest"].concat())
            .unwrap();
        assert_eq!(d.selected(), Some(IDENTIFY));
        assert_eq!(&d.take_leftover()[..], b"rest");
    }
}
