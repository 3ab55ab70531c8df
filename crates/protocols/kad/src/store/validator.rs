//! Record validation: the [`RecordValidator`] hook and the [`DefaultValidator`], which checks
//! public-key records (`/pk/<peer id>`) and accepts every other namespace. The validator of
//! the public IPFS DHT's namespaces (`/pk/`, `/ipns/`) is [`super::ipns::IpfsValidator`].

use std::time::SystemTime;

use chainp2p_core::identity::{PeerId, PublicKey};

/// The key prefix of public-key records.
pub const PK_PREFIX: &[u8] = b"/pk/";

/// Decides whether a record may be stored and which of several values is best. Users replace
/// it to add namespaces (e.g. `/ipns/`: [`super::ipns::IpfsValidator`]).
pub trait RecordValidator: Send + Sync {
    /// `Ok(())` if `value` is acceptable under `key` at `now` (records may expire: IPNS);
    /// otherwise why not. Validators read no clock: the caller passes the time.
    fn validate(&self, key: &[u8], value: &[u8], now: SystemTime) -> Result<(), String>;

    /// Index of the best of `values` (all valid under `key`). Default: the first.
    fn select(&self, key: &[u8], values: &[&[u8]]) -> usize {
        let _ = (key, values);
        0
    }
}

/// Checks `/pk/` records: the key is `/pk/` followed by a peer id's bytes, the value the
/// protobuf-encoded public key, and the key's peer id must be derived from that key. Every
/// other key is accepted. Among valid `/pk/` values the first is selected (they are equal).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultValidator;

impl RecordValidator for DefaultValidator {
    fn validate(&self, key: &[u8], value: &[u8], _now: SystemTime) -> Result<(), String> {
        let Some(id) = key.strip_prefix(PK_PREFIX) else {
            return Ok(());
        };
        let peer = PeerId::from_bytes(id).map_err(|e| format!("/pk/ key is not a peer id: {e}"))?;
        let pk = PublicKey::try_decode_protobuf(value)
            .map_err(|e| format!("/pk/ value is not a public key: {e}"))?;
        if PeerId::from_public_key(&pk) != peer {
            return Err(format!(
                "/pk/ value is the key of {}, not of {peer}",
                PeerId::from_public_key(&pk)
            ));
        }
        Ok(())
    }
}
