//! Known-answer tests against two real recorded handshakes (rust-libp2p secio on both sides,
//! recorded once and kept in tests/fixtures): parse the recorded streams, check both proposals and
//! signatures, the order and the chosen algorithms, re-derive the keys from the recorded
//! shared secret, then MAC-check and decrypt every recorded frame of both directions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::cmp::Ordering;
use std::path::PathBuf;

use chainp2p_core::identity::PublicKey;
use chainp2p_secio::algo::{order, select, Algorithm};
use chainp2p_secio::cipher::CipherState;
use chainp2p_secio::proto::{Exchange, Propose};
use chainp2p_secio::stretch::stretch;
use chainp2p_secio::{Cipher, HashAlgo, KeyAgreement};
use prost::Message;
use serde_json::Value;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The whole byte stream of one direction, from the chunk log.
fn stream(name: &str, dir: &str) -> Vec<u8> {
    let log = std::fs::read_to_string(vectors().join(format!("{name}.jsonl"))).unwrap();
    let mut out = vec![];
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["dir"] == dir {
            out.extend(hex(v["hex"].as_str().unwrap()));
        }
    }
    out
}

/// Skips the two varint-prefixed multistream messages, then splits the rest into secio frames.
fn frames(mut s: &[u8]) -> Vec<Vec<u8>> {
    for expected in ["/multistream/1.0.0\n", "/secio/1.0.0\n"] {
        let len = usize::from(s[0]);
        assert_eq!(&s[1..1 + len], expected.as_bytes());
        s = &s[1 + len..];
    }
    let mut out = vec![];
    while s.len() >= 4 {
        let len = u32::from_be_bytes(s[..4].try_into().unwrap()) as usize;
        if s.len() < 4 + len {
            break; // the recording may end mid-frame
        }
        out.push(s[4..4 + len].to_vec());
        s = &s[4 + len..];
    }
    out
}

fn list<A: Algorithm>(s: &str) -> Vec<A> {
    s.split(',').filter_map(A::from_name).collect()
}

struct Expect {
    name: &'static str,
    exchange: KeyAgreement,
    cipher: Cipher,
    hash: HashAlgo,
    order: Ordering,
}

fn check(e: Expect) {
    let decoded: Value = serde_json::from_str(
        &std::fs::read_to_string(vectors().join(format!("{}.decoded.json", e.name))).unwrap(),
    )
    .unwrap();
    let dl = frames(&stream(e.name, "dialer->listener"));
    let ld = frames(&stream(e.name, "listener->dialer"));
    let (d_prop, l_prop) = (&dl[0], &ld[0]);
    assert_eq!(
        *d_prop,
        hex(decoded["dialer->listener"]["propose"]["frame_hex"]
            .as_str()
            .unwrap())
    );
    let dp = Propose::decode(d_prop.as_slice()).unwrap();
    let lp = Propose::decode(l_prop.as_slice()).unwrap();
    let (d_pub, l_pub) = (dp.pubkey.clone().unwrap(), lp.pubkey.clone().unwrap());

    // order and selection, from the dialer's view
    let ord = order(
        &d_pub,
        dp.rand.as_ref().unwrap(),
        &l_pub,
        lp.rand.as_ref().unwrap(),
    );
    assert_eq!(ord, e.order);
    let ex: KeyAgreement = select(
        ord,
        &list(dp.exchanges.as_ref().unwrap()),
        lp.exchanges.as_ref().unwrap(),
    )
    .unwrap();
    let ci: Cipher = select(
        ord,
        &list(dp.ciphers.as_ref().unwrap()),
        lp.ciphers.as_ref().unwrap(),
    )
    .unwrap();
    let ha: HashAlgo = select(
        ord,
        &list(dp.hashes.as_ref().unwrap()),
        lp.hashes.as_ref().unwrap(),
    )
    .unwrap();
    assert_eq!((ex, ci, ha), (e.exchange, e.cipher, e.hash));

    // both signatures: sender proposal ‖ receiver proposal ‖ sender epubkey
    let check_sig = |own: &[u8], other: &[u8], exch: &[u8], pubkey: &[u8]| {
        let x = Exchange::decode(exch).unwrap();
        let epub = x.epubkey.unwrap();
        assert_eq!(epub.len(), chainp2p_secio::ecdh::point_len(e.exchange));
        let corpus = [own, other, &epub].concat();
        let key = PublicKey::try_decode_protobuf(pubkey).unwrap();
        assert!(key.verify(&corpus, &x.signature.clone().unwrap()));
        // a changed corpus must not verify
        assert!(!key.verify(&[other, own, &epub].concat(), &x.signature.unwrap()));
    };
    check_sig(d_prop, l_prop, &dl[1], &d_pub);
    check_sig(l_prop, d_prop, &ld[1], &l_pub);

    // keys from the recorded shared secret
    let kc = &decoded["key_check"];
    let secret = hex(kc["logged"]["shared_secret"].as_str().unwrap());
    let (k1, k2) = stretch(ha, ci, &secret);
    let (dialer_keys, listener_keys) = if ord == Ordering::Greater {
        (k1, k2)
    } else {
        (k2, k1)
    };
    for (keys, which) in [
        (&dialer_keys, "dialer_keys"),
        (&listener_keys, "listener_keys"),
    ] {
        assert_eq!(keys.iv, hex(kc[which]["iv"].as_str().unwrap()), "{which}");
        assert_eq!(
            keys.cipher_key,
            hex(kc[which]["cipher_key"].as_str().unwrap()),
            "{which}"
        );
        assert_eq!(
            keys.mac_key,
            hex(kc[which]["mac_key"].as_str().unwrap()),
            "{which}"
        );
    }

    // every recorded frame opens; the first one of each direction is the peer's nonce
    for (frames, keys, peer_nonce) in [
        (&dl, &dialer_keys, lp.rand.as_ref().unwrap()),
        (&ld, &listener_keys, dp.rand.as_ref().unwrap()),
    ] {
        let mut rx = CipherState::new(ci, ha, keys).unwrap();
        let mut plain = vec![];
        for (i, f) in frames[2..].iter().enumerate() {
            let mut body = f.clone();
            let n = rx
                .open_in_place(&mut body)
                .unwrap_or_else(|err| panic!("frame {i}: {err}"));
            if i == 0 {
                assert_eq!(&body[..n], peer_nonce.as_slice());
            } else {
                plain.extend_from_slice(&body[..n]);
            }
        }
        assert!(frames.len() > 4, "too few frames recorded");
        // the secured channel starts with multistream-select again
        assert_eq!(&plain[..20], b"\x13/multistream/1.0.0\n");
        // and a tampered frame fails the MAC
        let mut rx = CipherState::new(ci, ha, keys).unwrap();
        let mut body = frames[2].clone();
        body[0] ^= 1;
        assert!(matches!(
            rx.open_in_place(&mut body),
            Err(chainp2p_secio::SecioError::MacFailure)
        ));
    }
}

#[test]
fn rust_rust_ed25519_default() {
    check(Expect {
        name: "rust-rust-ed25519-default",
        exchange: KeyAgreement::P256,
        cipher: Cipher::Aes128,
        hash: HashAlgo::Sha256,
        order: Ordering::Less,
    });
}

#[test]
fn rust_rust_rsa_secp256k1_mplex() {
    check(Expect {
        name: "rust-rust-rsa-secp256k1-mplex",
        exchange: KeyAgreement::P384,
        cipher: Cipher::Aes256,
        hash: HashAlgo::Sha512,
        order: Ordering::Greater,
    });
}
