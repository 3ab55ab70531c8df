//! The hex of every message of the spec (<https://github.com/multiformats/multistream-select>: a uvarint length, the
//! text, `\n`): every message encodes to exactly these bytes and decodes back, also when fed one
//! byte at a time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use bytes::BytesMut;
use chainp2p_multistream::{Message, MessageCodec};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const TABLE: &[(&str, &str)] = &[
    (
        "/multistream/1.0.0",
        "13 2f6d756c746973747265616d2f312e302e30 0a",
    ),
    ("na", "03 6e61 0a"),
    ("ls", "03 6c73 0a"),
    ("/secio/1.0.0", "0d 2f736563696f2f312e302e30 0a"),
    ("/noise", "07 2f6e6f697365 0a"),
    ("/yamux/1.0.0", "0d 2f79616d75782f312e302e30 0a"),
    ("/mplex/6.7.0", "0d 2f6d706c65782f362e372e30 0a"),
    ("/ipfs/kad/1.0.0", "10 2f697066732f6b61642f312e302e30 0a"),
    ("/ipfs/id/1.0.0", "0f 2f697066732f69642f312e302e30 0a"),
    ("/ipfs/ping/1.0.0", "11 2f697066732f70696e672f312e302e30 0a"),
];

fn message(text: &str) -> Message {
    match text {
        "/multistream/1.0.0" => Message::Header,
        "na" => Message::Na,
        "ls" => Message::Ls,
        p => Message::Protocol(p.to_owned()),
    }
}

#[test]
fn spec_table_encodes_byte_for_byte() {
    for (text, bytes) in TABLE {
        let mut out = BytesMut::new();
        MessageCodec::new(16383)
            .encode(&message(text), &mut out)
            .unwrap();
        assert_eq!(out.to_vec(), hex(bytes), "{text}");
    }
}

#[test]
fn spec_table_decodes_whole_and_byte_by_byte() {
    let all: Vec<u8> = TABLE.iter().flat_map(|(_, b)| hex(b)).collect();
    let mut codec = MessageCodec::new(16383);
    let mut buf = BytesMut::from(&all[..]);
    for (text, _) in TABLE {
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(message(text)));
    }
    assert!(buf.is_empty());

    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for b in all {
        buf.extend_from_slice(&[b]);
        if let Some(m) = codec.decode(&mut buf).unwrap() {
            got.push(m);
        }
    }
    assert_eq!(
        got,
        TABLE.iter().map(|(t, _)| message(t)).collect::<Vec<_>>()
    );
}
