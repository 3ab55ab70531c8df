#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! IPNS and `/pk/` validation against records made by another implementation: the fixtures in
//! `tests/fixtures/ipns/` were written by the official JS `ipns` package (see its README and
//! `gen.mjs`), with js-ipns's own verdict on each in `manifest.json`. Each test asserts the
//! concrete outcome (the decoded fields, or the exact error variant).

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chainp2p_core::identity::{Keypair, PeerId};
use chainp2p_kad::store::ipns::{self, IpnsEntry, MAX_IPNS_RECORD_SIZE};
use chainp2p_kad::store::{
    validate_and_put, IpfsValidator, IpnsError, MemoryStore, Record, RecordStore, RecordValidator,
    StoreConfig, StoreError,
};
use prost::Message as _;

/// One fixture's bytes.
fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ipns")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// 2025-01-01T00:00:00Z: after every fixture's creation, before the 2125 expiries.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_735_689_600)
}

/// The routing key js-ipns derived for the Ed25519 key of seed `0x01` (no pubKey in records).
fn ed_name() -> Vec<u8> {
    fixture("ed25519.name")
}

/// `/ipns/` + the peer id of the Ed25519 key whose secret is 32 bytes of `seed`.
fn our_name(seed: u8) -> Vec<u8> {
    let kp = Keypair::ed25519_from_bytes([seed; 32]).unwrap();
    let mut key = ipns::IPNS_PREFIX.to_vec();
    key.extend_from_slice(&kp.public().to_peer_id().to_bytes());
    key
}

const VALUE: &[u8] = b"/ipfs/bafkqaddwgevxmmraojswg33smq";
const FAR: &[u8] = b"2125-01-01T00:00:00.000000000Z";

#[test]
fn js_names_are_ours() {
    // The name js-ipns derives (identity multihash of the protobuf key) is our peer id's bytes.
    assert_eq!(ed_name(), our_name(1));
    assert_eq!(fixture("ed25519-2.name"), our_name(2));
    let rsa = fixture("rsa.name");
    let peer = ipns::name_of(&rsa).unwrap();
    let mh: &multihash::Multihash<64> = peer.as_ref();
    assert_eq!(mh.code(), 0x12, "RSA names are sha2-256 multihashes");
}

#[test]
fn v1_v2_ed25519_record_with_the_key_in_the_name_is_valid() {
    let rec = fixture("ed25519-v1v2.ipns-record");
    let entry = IpnsEntry::decode(rec.as_slice()).unwrap();
    // js-ipns wrote the fields at the spec's numbers: value 1, signatureV1 2, validityType 3,
    // validity 4, sequence 5, ttl 6, signatureV2 8, data 9 (no pubKey 7 for Ed25519).
    assert_eq!(entry.value.as_deref(), Some(VALUE));
    assert_eq!(entry.signature_v1.as_ref().map(Vec::len), Some(64));
    assert_eq!(entry.validity_type, Some(0));
    assert_eq!(entry.validity.as_deref(), Some(FAR));
    assert_eq!(entry.sequence, Some(1));
    assert_eq!(entry.ttl, Some(86_400_000_000_000));
    assert_eq!(entry.pub_key, None);
    assert_eq!(entry.signature_v2.as_ref().map(Vec::len), Some(64));
    assert!(entry.data.is_some());

    let got = ipns::verify(&ed_name(), &rec, now()).unwrap();
    assert_eq!(got.data.value, VALUE);
    assert_eq!(got.data.validity, FAR);
    assert_eq!(got.data.validity_type, 0);
    assert_eq!(got.data.sequence, 1);
    assert_eq!(got.data.ttl, 86_400_000_000_000);
    assert_eq!(got.eol, UNIX_EPOCH + Duration::from_secs(4_891_363_200));
}

#[test]
fn v2_only_record_is_valid() {
    let rec = fixture("ed25519-v2.ipns-record");
    let entry = IpnsEntry::decode(rec.as_slice()).unwrap();
    assert_eq!(
        (entry.value.as_ref(), entry.signature_v1.as_ref()),
        (None, None)
    );
    let got = ipns::verify(&ed_name(), &rec, now()).unwrap();
    assert_eq!((got.data.value.as_slice(), got.data.sequence), (VALUE, 2));
}

#[test]
fn rsa_record_with_the_key_in_pub_key_is_valid() {
    let rec = fixture("rsa-v1v2.ipns-record");
    let entry = IpnsEntry::decode(rec.as_slice()).unwrap();
    let pk = chainp2p_core::identity::PublicKey::try_decode_protobuf(
        entry.pub_key.as_deref().expect("RSA records embed pubKey"),
    )
    .unwrap();
    assert_eq!(pk.key_type(), chainp2p_core::identity::KeyType::RSA);
    let name = fixture("rsa.name");
    let got = ipns::verify(&name, &rec, now()).unwrap();
    assert_eq!((got.data.value.as_slice(), got.data.sequence), (VALUE, 5));
    // The same record under the Ed25519 name: its pubKey is not that name's key.
    assert!(matches!(
        ipns::verify(&ed_name(), &rec, now()),
        Err(IpnsError::KeyMismatch { .. })
    ));
}

#[test]
fn expired_record_is_refused() {
    let rec = fixture("ed25519-expired.ipns-record");
    assert_eq!(
        ipns::verify(&ed_name(), &rec, now()),
        Err(IpnsError::Expired("2020-01-01T00:00:00.000000000Z".into()))
    );
    // Valid up to its end of life, refused a nanosecond after: the time is the caller's.
    let eol = UNIX_EPOCH + Duration::from_secs(1_577_836_800);
    assert!(ipns::verify(&ed_name(), &rec, eol).is_ok());
    assert!(ipns::verify(&ed_name(), &rec, eol - Duration::from_secs(3600)).is_ok());
    assert!(matches!(
        ipns::verify(&ed_name(), &rec, eol + Duration::from_nanos(1)),
        Err(IpnsError::Expired(_))
    ));
    // A valid record, judged in 2126.
    let later = UNIX_EPOCH + Duration::from_secs(4_922_899_200);
    assert!(matches!(
        ipns::verify(&ed_name(), &fixture("ed25519-v1v2.ipns-record"), later),
        Err(IpnsError::Expired(_))
    ));
}

#[test]
fn tampered_signature_v2_is_refused() {
    let rec = fixture("ed25519-bad-signature-v2.ipns-record");
    assert_eq!(
        ipns::verify(&ed_name(), &rec, now()),
        Err(IpnsError::BadSignature)
    );
    // And the valid record with one byte of `data` changed (a different Sequence digit is
    // not possible without re-encoding; flip the last byte of the CBOR instead).
    let mut entry = IpnsEntry::decode(fixture("ed25519-v2.ipns-record").as_slice()).unwrap();
    let data = entry.data.as_mut().unwrap();
    *data.last_mut().unwrap() ^= 0x01;
    assert!(matches!(
        ipns::verify(&ed_name(), &entry.encode_to_vec(), now()),
        Err(IpnsError::BadSignature | IpnsError::MalformedCbor(_))
    ));
}

/// A change to one protobuf field of a record.
type Change = fn(&mut IpnsEntry);

#[test]
fn protobuf_fields_differing_from_the_signed_data_are_refused() {
    assert_eq!(
        ipns::verify(
            &ed_name(),
            &fixture("ed25519-v1-value-mismatch.ipns-record"),
            now()
        ),
        Err(IpnsError::V1Mismatch("Value"))
    );
    assert_eq!(
        ipns::verify(
            &ed_name(),
            &fixture("ed25519-v1-sequence-mismatch.ipns-record"),
            now()
        ),
        Err(IpnsError::V1Mismatch("Sequence"))
    );
    // The other three fields, each changed in turn in the valid V1+V2 record.
    let base = IpnsEntry::decode(fixture("ed25519-v1v2.ipns-record").as_slice()).unwrap();
    let cases: [(&str, Change); 3] = [
        ("Validity", |e| {
            e.validity = Some(b"2125-01-02T00:00:00.000000000Z".to_vec())
        }),
        ("ValidityType", |e| e.validity_type = Some(1)),
        ("TTL", |e| e.ttl = Some(1)),
    ];
    for (field, change) in cases {
        let mut e = base.clone();
        change(&mut e);
        assert_eq!(
            ipns::verify(&ed_name(), &e.encode_to_vec(), now()),
            Err(IpnsError::V1Mismatch(field))
        );
    }
}

#[test]
fn record_under_another_name_is_refused() {
    let rec = fixture("ed25519-v1v2.ipns-record");
    // No pubKey: the key is the one inlined in the (other) name, and the signature fails.
    assert_eq!(
        ipns::verify(&our_name(2), &rec, now()),
        Err(IpnsError::BadSignature)
    );
    // The right key embedded in pubKey does not help under another name.
    let mut e = IpnsEntry::decode(rec.as_slice()).unwrap();
    e.pub_key = Some(
        Keypair::ed25519_from_bytes([1; 32])
            .unwrap()
            .public()
            .encode_protobuf(),
    );
    let with_key = e.encode_to_vec();
    assert!(ipns::verify(&ed_name(), &with_key, now()).is_ok());
    match ipns::verify(&our_name(2), &with_key, now()) {
        Err(IpnsError::KeyMismatch { name, key_peer }) => {
            assert_eq!(*name, ipns::name_of(&our_name(2)).unwrap());
            assert_eq!(*key_peer, ipns::name_of(&ed_name()).unwrap());
        }
        other => panic!("{other:?}"),
    }
    // Not a peer id at all.
    assert_eq!(
        ipns::verify(b"/ipns/xyz", &rec, now()),
        Err(IpnsError::BadName)
    );
    let sha_name = fixture("rsa.name");
    // A sha2-256 name without pubKey: nothing to verify with.
    assert_eq!(
        ipns::verify(&sha_name, &fixture("ed25519-v2.ipns-record"), now()),
        Err(IpnsError::NoPublicKey)
    );
}

#[test]
fn oversize_record_is_refused() {
    let rec = fixture("ed25519-oversize.ipns-record");
    assert_eq!(rec.len(), 10_403);
    assert_eq!(
        ipns::verify(&ed_name(), &rec, now()),
        Err(IpnsError::Oversize {
            len: 10_403,
            max: MAX_IPNS_RECORD_SIZE
        })
    );
}

#[test]
fn v1_only_record_is_refused() {
    let rec = fixture("ed25519-v1-only.ipns-record");
    let entry = IpnsEntry::decode(rec.as_slice()).unwrap();
    assert!(entry.signature_v1.is_some() && entry.value.is_some());
    assert_eq!(
        ipns::verify(&ed_name(), &rec, now()),
        Err(IpnsError::MissingSignatureV2)
    );
    // signatureV2 kept, data dropped.
    let mut e = IpnsEntry::decode(fixture("ed25519-v1v2.ipns-record").as_slice()).unwrap();
    e.data = None;
    assert_eq!(
        ipns::verify(&ed_name(), &e.encode_to_vec(), now()),
        Err(IpnsError::MissingData)
    );
}

#[test]
fn selector_prefers_the_higher_sequence_then_the_later_eol() {
    let far = fixture("select-seq3-eol-far.ipns-record");
    let later = fixture("select-seq3-eol-later.ipns-record");
    let seq4 = fixture("select-seq4.ipns-record");
    let name = fixture("ed25519-2.name");
    for r in [&far, &later, &seq4] {
        ipns::verify(&name, r, now()).unwrap();
    }
    // js-ipns's ipnsSelector on the same sets (manifest.json): 2, 1, 0.
    assert_eq!(ipns::select(&[&far, &later, &seq4]), 2);
    assert_eq!(ipns::select(&[&seq4, &far, &later]), 0);
    assert_eq!(ipns::select(&[&far, &later]), 1);
    assert_eq!(ipns::select(&[&later, &far]), 0);
    // Garbage never wins.
    assert_eq!(ipns::select(&[b"garbage", &far]), 1);
    assert_eq!(ipns::select(&[&far, b"garbage"]), 0);

    // Through the validator and the store: an older record does not replace a newer one.
    let v = IpfsValidator::default();
    assert_eq!(v.select(&name, &[&far, &seq4]), 1);
    let store = MemoryStore::new(None, StoreConfig::default());
    let rec = |value: &[u8]| Record {
        key: name.clone(),
        value: value.to_vec(),
        publisher: None,
        expires: now() + Duration::from_secs(3600),
    };
    assert!(validate_and_put(&store, &v, rec(&later), now()).unwrap());
    assert!(!validate_and_put(&store, &v, rec(&far), now()).unwrap());
    assert!(validate_and_put(&store, &v, rec(&seq4), now()).unwrap());
    assert!(!validate_and_put(&store, &v, rec(&later), now()).unwrap());
    assert_eq!(store.get(&name, now()).unwrap().unwrap().value, seq4);
}

#[test]
fn pk_records_valid_and_mismatched() {
    let v = IpfsValidator {
        only_ipfs_namespaces: true,
    };
    for kind in ["ed25519", "rsa"] {
        let key = fixture(&format!("pk-{kind}.key"));
        let value = fixture(&format!("pk-{kind}.value"));
        assert!(key.starts_with(b"/pk/"));
        assert_eq!(v.validate(&key, &value, now()), Ok(()), "{kind}");
        // The key's multihash is the peer id of the value's key.
        let peer = PeerId::from_bytes(&key[4..]).unwrap();
        let pk = chainp2p_core::identity::PublicKey::try_decode_protobuf(&value).unwrap();
        assert_eq!(peer, pk.to_peer_id());
    }
    // Each value under the other key, and a value cut short.
    let (ek, ev) = (fixture("pk-ed25519.key"), fixture("pk-ed25519.value"));
    let (rk, rv) = (fixture("pk-rsa.key"), fixture("pk-rsa.value"));
    assert!(v.validate(&ek, &rv, now()).unwrap_err().contains("not of"));
    assert!(v.validate(&rk, &ev, now()).unwrap_err().contains("not of"));
    assert!(v.validate(&rk, &rv[..rv.len() - 1], now()).is_err());
    assert!(v.validate(b"/pk/not-a-multihash", &ev, now()).is_err());
}

#[test]
fn ipfs_validator_refuses_other_namespaces_only_when_asked() {
    let strict = IpfsValidator {
        only_ipfs_namespaces: true,
    };
    let lax = IpfsValidator::default();
    let err = strict.validate(b"/foo/bar", b"v", now()).unwrap_err();
    assert!(err.contains("only /pk/ and /ipns/"), "{err}");
    assert!(strict.validate(b"plain", b"v", now()).is_err());
    assert_eq!(lax.validate(b"/foo/bar", b"v", now()), Ok(()));
    // /ipns/ is verified either way.
    let rec = fixture("ed25519-v1v2.ipns-record");
    for v in [strict, lax] {
        assert_eq!(v.validate(&ed_name(), &rec, now()), Ok(()));
        assert!(v
            .validate(&ed_name(), &fixture("ed25519-expired.ipns-record"), now())
            .unwrap_err()
            .contains("expired"));
    }
    // Through the store: a refused record is StoreError::Invalid and is not stored.
    let store = MemoryStore::new(None, StoreConfig::default());
    let r = Record {
        key: b"/foo/bar".to_vec(),
        value: b"v".to_vec(),
        publisher: None,
        expires: now() + Duration::from_secs(3600),
    };
    assert!(matches!(
        validate_and_put(&store, &strict, r, now()),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.get(b"/foo/bar", now()).unwrap(), None);
}
