//! The multistream-select messages (header, protocol, `na`, `ls`, `ls` response) and their
//! encoding into and parsing out of a frame body.

use bytes::{BufMut, BytesMut};
use chainp2p_framing::uvi;

use crate::codec::{put_frame, read_varint, Varint};
use crate::config::{MAX_LS_PROTOCOLS, MAX_SEND_LEN};
use crate::error::MultistreamError;

/// The multistream-select 1.0.0 protocol id, sent as the header.
pub const PROTOCOL: &str = "/multistream/1.0.0";

/// One multistream-select message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The header `/multistream/1.0.0`.
    Header,
    /// A proposal (dialer) or its echo (listener).
    Protocol(String),
    /// `na`: the proposal is not available.
    Na,
    /// `ls`: asks the listener for its protocols.
    Ls,
    /// The answer to `ls`.
    LsResponse(Vec<String>),
}

impl Message {
    /// Parses a frame body (ending with `\n`, as [`crate::FrameCodec`] yields it). A body
    /// with an inner `\n` is taken as an `ls` response.
    pub fn decode(body: &[u8]) -> Result<Message, MultistreamError> {
        let text = body
            .strip_suffix(b"\n")
            .ok_or(MultistreamError::MissingNewline)?;
        if text.contains(&b'\n') || text.is_empty() {
            return parse_ls_response(body).map(Message::LsResponse);
        }
        match text {
            b"/multistream/1.0.0" => Ok(Message::Header),
            b"na" => Ok(Message::Na),
            b"ls" => Ok(Message::Ls),
            _ => std::str::from_utf8(text)
                .map(|p| Message::Protocol(p.to_owned()))
                .map_err(|_| MultistreamError::NotUtf8),
        }
    }

    /// Appends the framed message. Fails for a message we must not send: longer than
    /// [`MAX_SEND_LEN`], or a protocol id that is empty or contains `\n`.
    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), MultistreamError> {
        match self {
            Message::Header => put_frame(dst, PROTOCOL.as_bytes()),
            Message::Na => put_frame(dst, b"na"),
            Message::Ls => put_frame(dst, b"ls"),
            Message::Protocol(p) => {
                check_protocol(p)?;
                put_frame(dst, p.as_bytes())
            }
            Message::LsResponse(list) => {
                let mut items = BytesMut::new();
                for p in list {
                    check_protocol(p)?;
                    uvi::put(p.len() + 1, &mut items);
                    items.put_slice(p.as_bytes());
                    items.put_u8(b'\n');
                }
                put_frame(dst, &items)
            }
        }
    }
}

/// Checks that `p` can be sent as a protocol id: non-empty, no `\n`, message ≤ 1024 bytes.
pub fn check_protocol(p: &str) -> Result<(), MultistreamError> {
    if p.is_empty() || p.contains('\n') {
        return Err(MultistreamError::InvalidInput(format!("protocol id {p:?}")));
    }
    if p.len() + 1 > MAX_SEND_LEN {
        return Err(MultistreamError::InvalidInput(format!(
            "protocol id of {} bytes: messages are limited to {MAX_SEND_LEN}",
            p.len()
        )));
    }
    Ok(())
}

/// Parses an `ls` response body leniently: the spec/rust format `{uvarint p \n}* \n`, or the
/// old go format `uvarint(count) {uvarint p \n}*`. At most [`MAX_LS_PROTOCOLS`] entries.
pub fn parse_ls_response(body: &[u8]) -> Result<Vec<String>, MultistreamError> {
    if let Some(list) = parse_items(body, None)? {
        return Ok(list);
    }
    if let Ok(Varint::Value(count, used)) = read_varint(body, None) {
        let rest = body.get(used..).unwrap_or_default();
        if let Some(list) = parse_items(rest, Some(count))? {
            return Ok(list);
        }
    }
    Err(MultistreamError::InvalidLsResponse)
}

/// Reads `{uvarint(len) p \n}` items: with `count`, exactly that many up to the end; without,
/// up to a final lone `\n`. `Ok(None)` if the bytes are not in that shape.
fn parse_items(
    mut rest: &[u8],
    count: Option<u64>,
) -> Result<Option<Vec<String>>, MultistreamError> {
    let mut list = Vec::new();
    loop {
        match count {
            Some(n) if list.len() as u64 == n => return Ok(rest.is_empty().then_some(list)),
            None if rest == b"\n" => return Ok(Some(list)),
            _ => {}
        }
        if list.len() == MAX_LS_PROTOCOLS {
            return Err(MultistreamError::LsResponseTooLarge {
                max: MAX_LS_PROTOCOLS,
            });
        }
        let Ok(Varint::Value(len, used)) = read_varint(rest, Some(rest.len())) else {
            return Ok(None);
        };
        let len = len as usize; // <= rest.len()
        let Some(item) = rest.get(used..used + len) else {
            return Ok(None);
        };
        let Some(text) = item.strip_suffix(b"\n") else {
            return Ok(None);
        };
        if text.is_empty() || text.contains(&b'\n') {
            return Ok(None);
        }
        let Ok(p) = std::str::from_utf8(text) else {
            return Err(MultistreamError::NotUtf8);
        };
        list.push(p.to_owned());
        rest = rest.get(used + len..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(m: &Message) -> Vec<u8> {
        let mut b = BytesMut::new();
        m.encode(&mut b).unwrap();
        b.to_vec()
    }

    #[test]
    fn ls_response_round_trip_in_spec_format() {
        let list = vec!["/noise".to_owned(), "/yamux/1.0.0".to_owned()];
        let bytes = enc(&Message::LsResponse(list.clone()));
        // outer len = 8 + 14 + 1
        assert_eq!(bytes[0], 23);
        assert_eq!(&bytes[1..9], b"\x07/noise\n");
        assert_eq!(&bytes[bytes.len() - 2..], b"\n\n");
        assert_eq!(
            Message::decode(&bytes[1..]).unwrap(),
            Message::LsResponse(list)
        );
    }

    #[test]
    fn ls_response_old_go_format() {
        let body = b"\x02\x07/noise\n\x0d/yamux/1.0.0\n";
        assert_eq!(
            parse_ls_response(body).unwrap(),
            vec!["/noise", "/yamux/1.0.0"]
        );
        assert_eq!(parse_ls_response(b"\n").unwrap(), Vec::<String>::new());
        assert!(matches!(
            parse_ls_response(b"\x05ab\n"),
            Err(MultistreamError::InvalidLsResponse)
        ));
    }

    #[test]
    fn ls_response_limit() {
        let mut body = Vec::new();
        for _ in 0..=MAX_LS_PROTOCOLS {
            body.extend_from_slice(b"\x03/a\n");
        }
        body.push(b'\n');
        assert!(matches!(
            parse_ls_response(&body),
            Err(MultistreamError::LsResponseTooLarge { .. })
        ));
    }

    #[test]
    fn special_messages_and_bad_text() {
        assert_eq!(Message::decode(b"na\n").unwrap(), Message::Na);
        assert_eq!(Message::decode(b"ls\n").unwrap(), Message::Ls);
        assert_eq!(
            Message::decode(b"/multistream/1.0.0\n").unwrap(),
            Message::Header
        );
        assert!(matches!(
            Message::decode(b"/\xff\n"),
            Err(MultistreamError::NotUtf8)
        ));
        assert!(matches!(
            Message::decode(b"/a"),
            Err(MultistreamError::MissingNewline)
        ));
        assert!(Message::Protocol("a\nb".into())
            .encode(&mut BytesMut::new())
            .is_err());
        assert!(Message::Protocol(String::new())
            .encode(&mut BytesMut::new())
            .is_err());
    }
}
