//! IPNS records (`/ipns/<peer id bytes>`) as kubo and boxo validate and select them, following
//! the IPFS spec "IPNS Record" (specs.ipfs.tech/ipns/ipns-record/), and [`IpfsValidator`], the
//! validator of the namespaces the public IPFS DHT stores (`/pk/` and `/ipns/`).
//!
//! Verification ([`verify`]), in the spec's order: the record is at most
//! [`MAX_IPNS_RECORD_SIZE`] bytes; `signatureV2` and `data` are present; the public key is the
//! record's `pubKey` or, when the name's multihash is an identity hash (Ed25519, secp256k1),
//! the one inlined in the name, and it must be the name's peer id; `data` decodes as a CBOR
//! map (ciborium) with `Value`, `Validity`, `ValidityType`, `Sequence`, `TTL`; the signature
//! verifies over `"ipns-signature:" + data`; when the legacy `value` or `signatureV1` is
//! present, the protobuf's V1 fields equal the CBOR ones (as boxo checks); the validity
//! (ValidityType 0: an RFC 3339 end of life) is not past `now`. Sans-IO: `now` is passed in.
//!
//! Key types: Ed25519 always; RSA (the legacy IPNS keys, which the spec says implementations
//! SHOULD verify), secp256k1 and ECDSA only when `chainp2p-core` is built with their features
//! (`chainp2p-node` enables all three); a record signed with a key type not built in is refused
//! as [`IpnsError::BadPublicKey`]. `tests/ipns.rs` checks all of this against records made by
//! the official JS `ipns` package (`tests/fixtures/ipns/`).
//!
//! Selection ([`select`], as boxo's `Validator.Select`): the highest sequence, then the latest
//! end of life, then the greater record bytes; an unparseable record never wins.

use std::cmp::Ordering;
use std::time::SystemTime;

use chainp2p_core::identity::{PeerId, PublicKey};
use prost::Message as _;

use super::validator::{DefaultValidator, RecordValidator, PK_PREFIX};

/// The key prefix of IPNS records.
pub const IPNS_PREFIX: &[u8] = b"/ipns/";

/// The largest IPNS record accepted (the spec: "IPNS implementations MUST support sending and
/// receiving a serialized IpnsEntry less than or equal to 10 KiB").
pub const MAX_IPNS_RECORD_SIZE: usize = 10 * 1024;

/// What `signatureV2` signs: this prefix, then `data`.
pub const SIGNATURE_V2_PREFIX: &[u8] = b"ipns-signature:";

/// Multicodec of the identity multihash (the public key inlined in the peer id).
const IDENTITY_MULTIHASH: u64 = 0x00;

/// The `IpnsEntry` protobuf (`src/ipns.proto`, proto2: every field optional).
#[derive(Clone, PartialEq, prost::Message)]
pub struct IpnsEntry {
    /// Legacy V1 value (the path the name points to).
    #[prost(bytes = "vec", optional, tag = "1")]
    pub value: Option<Vec<u8>>,
    /// Legacy V1 signature.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub signature_v1: Option<Vec<u8>>,
    /// Legacy V1 validity type (0: EOL).
    #[prost(int32, optional, tag = "3")]
    pub validity_type: Option<i32>,
    /// Legacy V1 validity (an RFC 3339 time for EOL).
    #[prost(bytes = "vec", optional, tag = "4")]
    pub validity: Option<Vec<u8>>,
    /// Legacy V1 sequence number.
    #[prost(uint64, optional, tag = "5")]
    pub sequence: Option<u64>,
    /// Legacy V1 TTL in nanoseconds.
    #[prost(uint64, optional, tag = "6")]
    pub ttl: Option<u64>,
    /// The protobuf-encoded public key (when the name does not inline it).
    #[prost(bytes = "vec", optional, tag = "7")]
    pub pub_key: Option<Vec<u8>>,
    /// The signature over `"ipns-signature:" + data`.
    #[prost(bytes = "vec", optional, tag = "8")]
    pub signature_v2: Option<Vec<u8>>,
    /// The signed DAG-CBOR document.
    #[prost(bytes = "vec", optional, tag = "9")]
    pub data: Option<Vec<u8>>,
}

/// The signed fields of a record (its `data` document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpnsData {
    /// The path the name points to (e.g. `/ipfs/<cid>`).
    pub value: Vec<u8>,
    /// The validity (for EOL: an RFC 3339 time).
    pub validity: Vec<u8>,
    /// The validity type (0: EOL).
    pub validity_type: u64,
    /// The sequence number.
    pub sequence: u64,
    /// The TTL in nanoseconds.
    pub ttl: u64,
}

/// A decoded, verified IPNS record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpnsRecord {
    /// The signed fields.
    pub data: IpnsData,
    /// The end of life.
    pub eol: SystemTime,
}

/// Why an IPNS record (or its key) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IpnsError {
    /// The key is not `/ipns/` followed by a peer id's bytes.
    #[error("the key is not /ipns/<peer id>")]
    BadName,
    /// The record is larger than [`MAX_IPNS_RECORD_SIZE`].
    #[error("IPNS record of {len} bytes exceeds the limit of {max}")]
    Oversize {
        /// The record's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The record is not an `IpnsEntry` protobuf.
    #[error("IPNS record is not a protobuf IpnsEntry: {0}")]
    Malformed(String),
    /// No (or an empty) `signatureV2`: V1-only records are refused, as by boxo.
    #[error("IPNS record without signatureV2")]
    MissingSignatureV2,
    /// No (or an empty) `data`.
    #[error("IPNS record without data")]
    MissingData,
    /// `data` is not the expected CBOR map.
    #[error("IPNS record data is not the expected CBOR map: {0}")]
    MalformedCbor(String),
    /// A V1 protobuf field differs from the signed CBOR one.
    #[error("IPNS record field {0} differs between the protobuf and the signed CBOR data")]
    V1Mismatch(&'static str),
    /// A validity type other than 0 (EOL).
    #[error("IPNS validity type {0} is not supported")]
    UnknownValidityType(u64),
    /// The EOL is not an RFC 3339 time.
    #[error("IPNS validity {0:?} is not an RFC 3339 time")]
    BadValidity(String),
    /// The EOL is past.
    #[error("IPNS record expired at {0}")]
    Expired(String),
    /// No `pubKey` and the name does not inline one.
    #[error("IPNS record without a public key, and the name does not inline one")]
    NoPublicKey,
    /// `pubKey` (or the key inlined in the name) does not decode.
    #[error("IPNS public key does not decode: {0}")]
    BadPublicKey(String),
    /// The public key is not the name's.
    #[error("IPNS record signed by the key of {key_peer}, not of the name {name}")]
    KeyMismatch {
        /// The name's peer id (boxed: keeps the error small).
        name: Box<PeerId>,
        /// The peer id of the record's key.
        key_peer: Box<PeerId>,
    },
    /// `signatureV2` does not verify.
    #[error("IPNS signatureV2 does not verify")]
    BadSignature,
}

/// The peer id of an `/ipns/` key.
pub fn name_of(key: &[u8]) -> Result<PeerId, IpnsError> {
    let id = key.strip_prefix(IPNS_PREFIX).ok_or(IpnsError::BadName)?;
    PeerId::from_bytes(id).map_err(|_| IpnsError::BadName)
}

/// Decodes `record` as an `IpnsEntry` (size checked first).
pub fn decode_entry(record: &[u8]) -> Result<IpnsEntry, IpnsError> {
    if record.len() > MAX_IPNS_RECORD_SIZE {
        return Err(IpnsError::Oversize {
            len: record.len(),
            max: MAX_IPNS_RECORD_SIZE,
        });
    }
    IpnsEntry::decode(record).map_err(|e| IpnsError::Malformed(e.to_string()))
}

/// Decodes the signed CBOR document `data`.
pub fn decode_data(data: &[u8]) -> Result<IpnsData, IpnsError> {
    use ciborium::Value;
    let bad = |m: &str| IpnsError::MalformedCbor(m.to_owned());
    // The document is bounded by the record size; nesting is bounded by the recursion limit.
    let doc: Value = ciborium::de::from_reader_with_recursion_limit(data, 16)
        .map_err(|e| IpnsError::MalformedCbor(e.to_string()))?;
    let Value::Map(entries) = doc else {
        return Err(bad("not a map"));
    };
    let field = |name: &'static str| -> Result<&Value, IpnsError> {
        let mut found = entries
            .iter()
            .filter(|(k, _)| matches!(k, Value::Text(t) if t == name));
        let (_, v) = found
            .next()
            .ok_or_else(|| IpnsError::MalformedCbor(format!("no {name}")))?;
        if found.next().is_some() {
            return Err(IpnsError::MalformedCbor(format!("{name} twice")));
        }
        Ok(v)
    };
    let bytes = |name: &'static str| -> Result<Vec<u8>, IpnsError> {
        match field(name)? {
            Value::Bytes(b) => Ok(b.clone()),
            _ => Err(IpnsError::MalformedCbor(format!("{name} is not bytes"))),
        }
    };
    let uint = |name: &'static str| -> Result<u64, IpnsError> {
        match field(name)? {
            Value::Integer(i) => u64::try_from(*i)
                .map_err(|_| IpnsError::MalformedCbor(format!("{name} is not a u64"))),
            _ => Err(IpnsError::MalformedCbor(format!(
                "{name} is not an integer"
            ))),
        }
    };
    Ok(IpnsData {
        value: bytes("Value")?,
        validity: bytes("Validity")?,
        validity_type: uint("ValidityType")?,
        sequence: uint("Sequence")?,
        ttl: uint("TTL")?,
    })
}

/// The end of life of an EOL validity (RFC 3339, nanoseconds allowed).
pub fn parse_eol(validity: &[u8]) -> Result<SystemTime, IpnsError> {
    let text = String::from_utf8_lossy(validity);
    let t = time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| IpnsError::BadValidity(text.clone().into_owned()))?;
    Ok(SystemTime::from(t))
}

/// The public key that must have signed a record of `name`: the record's `pubKey`, else the key
/// inlined in the name (identity multihash); it must be the name's.
fn public_key(entry: &IpnsEntry, name: &PeerId) -> Result<PublicKey, IpnsError> {
    let pk = match entry.pub_key.as_deref().filter(|k| !k.is_empty()) {
        Some(bytes) => PublicKey::try_decode_protobuf(bytes)
            .map_err(|e| IpnsError::BadPublicKey(e.to_string()))?,
        None => {
            let mh: &multihash::Multihash<64> = name.as_ref();
            if mh.code() != IDENTITY_MULTIHASH {
                return Err(IpnsError::NoPublicKey);
            }
            PublicKey::try_decode_protobuf(mh.digest())
                .map_err(|e| IpnsError::BadPublicKey(e.to_string()))?
        }
    };
    let key_peer = PeerId::from_public_key(&pk);
    if key_peer != *name {
        return Err(IpnsError::KeyMismatch {
            name: Box::new(*name),
            key_peer: Box::new(key_peer),
        });
    }
    Ok(pk)
}

/// Verifies `record` under the key `key` (`/ipns/<peer id>`) at `now`; the record decoded.
pub fn verify(key: &[u8], record: &[u8], now: SystemTime) -> Result<IpnsRecord, IpnsError> {
    let name = name_of(key)?;
    let entry = decode_entry(record)?;
    let sig = entry
        .signature_v2
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or(IpnsError::MissingSignatureV2)?;
    let data_bytes = entry
        .data
        .as_deref()
        .filter(|d| !d.is_empty())
        .ok_or(IpnsError::MissingData)?;
    let pk = public_key(&entry, &name)?;
    let data = decode_data(data_bytes)?;
    let mut signed = Vec::with_capacity(SIGNATURE_V2_PREFIX.len() + data_bytes.len());
    signed.extend_from_slice(SIGNATURE_V2_PREFIX);
    signed.extend_from_slice(data_bytes);
    if !pk.verify(&signed, sig) {
        return Err(IpnsError::BadSignature);
    }
    let has_v1 = entry.signature_v1.as_deref().is_some_and(|s| !s.is_empty())
        || entry.value.as_deref().is_some_and(|v| !v.is_empty());
    if has_v1 {
        check_v1(&entry, &data)?;
    }
    if data.validity_type != 0 {
        return Err(IpnsError::UnknownValidityType(data.validity_type));
    }
    let eol = parse_eol(&data.validity)?;
    if now > eol {
        return Err(IpnsError::Expired(
            String::from_utf8_lossy(&data.validity).into_owned(),
        ));
    }
    Ok(IpnsRecord { data, eol })
}

/// The protobuf's V1 fields equal the signed CBOR ones (absent fields read as their defaults,
/// as in go's getters).
fn check_v1(entry: &IpnsEntry, data: &IpnsData) -> Result<(), IpnsError> {
    if entry.value.as_deref().unwrap_or_default() != data.value.as_slice() {
        return Err(IpnsError::V1Mismatch("Value"));
    }
    if entry.validity.as_deref().unwrap_or_default() != data.validity.as_slice() {
        return Err(IpnsError::V1Mismatch("Validity"));
    }
    if i128::from(entry.validity_type.unwrap_or_default()) != i128::from(data.validity_type) {
        return Err(IpnsError::V1Mismatch("ValidityType"));
    }
    if entry.sequence.unwrap_or_default() != data.sequence {
        return Err(IpnsError::V1Mismatch("Sequence"));
    }
    if entry.ttl.unwrap_or_default() != data.ttl {
        return Err(IpnsError::V1Mismatch("TTL"));
    }
    Ok(())
}

/// Sequence and end of life of a record, without verifying it (for selection).
fn rank(record: &[u8]) -> Option<(u64, SystemTime)> {
    let entry = decode_entry(record).ok()?;
    let data = decode_data(entry.data.as_deref()?).ok()?;
    let eol = parse_eol(&data.validity).ok()?;
    Some((data.sequence, eol))
}

/// Index of the best of `records` (boxo's selection): the highest sequence, then the latest end
/// of life, then the greater bytes; records that do not parse lose. 0 for an empty list.
pub fn select(records: &[&[u8]]) -> usize {
    let ranked: Vec<Option<(u64, SystemTime)>> = records.iter().map(|r| rank(r)).collect();
    let mut best = 0;
    for j in 1..records.len() {
        let (Some(rj), Some(vj)) = (ranked.get(j), records.get(j)) else {
            continue;
        };
        let Some(rj) = rj else { continue };
        let better = match (ranked.get(best).copied().flatten(), records.get(best)) {
            (Some(rb), Some(vb)) => match rj.cmp(&rb) {
                Ordering::Greater => true,
                Ordering::Less => false,
                Ordering::Equal => *vj > *vb,
            },
            _ => true,
        };
        if better {
            best = j;
        }
    }
    best
}

/// The validator of the public IPFS DHT's namespaces: `/pk/` (the key is `/pk/` + the multihash
/// of the protobuf public key, i.e. its peer id; the value that key) and `/ipns/` (see the
/// module). Every other namespace is refused when `only_ipfs_namespaces` (as go-libp2p-kad-dht
/// does on the public DHT), else accepted unchecked.
#[derive(Debug, Clone, Copy, Default)]
pub struct IpfsValidator {
    /// Refuse every key outside `/pk/` and `/ipns/`.
    pub only_ipfs_namespaces: bool,
}

impl RecordValidator for IpfsValidator {
    fn validate(&self, key: &[u8], value: &[u8], now: SystemTime) -> Result<(), String> {
        if key.starts_with(IPNS_PREFIX) {
            return verify(key, value, now)
                .map(|_| ())
                .map_err(|e| e.to_string());
        }
        if key.starts_with(PK_PREFIX) {
            return DefaultValidator.validate(key, value, now);
        }
        if self.only_ipfs_namespaces {
            return Err(format!(
                "namespace of {:?} refused: only /pk/ and /ipns/ records are stored",
                String::from_utf8_lossy(key)
            ));
        }
        Ok(())
    }

    fn select(&self, key: &[u8], values: &[&[u8]]) -> usize {
        if key.starts_with(IPNS_PREFIX) {
            select(values)
        } else {
            0
        }
    }
}
