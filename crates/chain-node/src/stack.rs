//! Turns `--security` / `--muxer` lists into the swarm's chain configuration, including the
//! multistream behaviour c-ipfs needs when secio is the only security protocol.

use std::sync::Arc;

use anyhow::{bail, Result};
use chain_core::{MuxerLayer, SecurityLayer, StreamHandler};
use multistream::MultistreamConfig;

/// Every security protocol this node supports, by CLI name, in default preference order:
/// noise first (modern peers), secio second (the fallback c-ipfs and old go-ipfs speak),
/// plaintext last (it encrypts nothing: a peer only gets it by refusing the rest).
pub const SECURITY_NAMES: &[&str] = &["noise", "secio", "plaintext"];
/// The default `--security` list: every supported protocol, in [`SECURITY_NAMES`] order.
pub const DEFAULT_SECURITY: &str = "noise,secio,plaintext";
/// Every muxer this node supports, by CLI name, in default preference order: yamux first
/// (every current peer and c-ipfs), mplex second (deprecated, but some rust/js/old go peers
/// speak only it).
pub const MUXER_NAMES: &[&str] = &["yamux", "mplex"];
/// The default `--muxer` list: every supported muxer, in [`MUXER_NAMES`] order.
pub const DEFAULT_MUXER: &str = "yamux,mplex";

/// The security handlers named in `list` (e.g. `noise,plaintext`), in that order.
pub fn security_handlers(list: &str) -> Result<Vec<Arc<dyn StreamHandler>>> {
    canonical_security(list)?
        .into_iter()
        .map(security_handler)
        .collect()
}

fn security_handler(name: &'static str) -> Result<Arc<dyn StreamHandler>> {
    Ok(match name {
        "noise" => Arc::new(SecurityLayer(noise::NoiseConfig::new())),
        "secio" => Arc::new(SecurityLayer(secio::SecioConfig::new())),
        "plaintext" => Arc::new(SecurityLayer(plaintext::PlaintextConfig::new())),
        other => bail!("security protocol {other:?} is not built into this node"),
    })
}

/// The CLI names of the protocols in `list` (names or protocol ids, any case), in order;
/// refuses unknown and repeated entries.
pub fn canonical_security(list: &str) -> Result<Vec<&'static str>> {
    let mut out: Vec<&'static str> = Vec::new();
    for name in names(list)? {
        let canonical = match name.as_str() {
            "noise" | "/noise" => "noise",
            "secio" | "/secio/1.0.0" => "secio",
            "plaintext" | "/plaintext/2.0.0" => "plaintext",
            other => bail!(
                "unsupported security protocol {other:?} (supported: {})",
                SECURITY_NAMES.join(", ")
            ),
        };
        if out.contains(&canonical) {
            bail!("security protocol {canonical:?} is listed twice in {list:?}");
        }
        out.push(canonical);
    }
    Ok(out)
}

/// The multistream settings for a `--security` list. With secio as the only security protocol
/// the peer is presumably c-ipfs, which needs every multistream message in its own write (it
/// drops a proposal that shares a secio frame with the header) and no lazy negotiation; the
/// rest of the world gets the defaults.
pub fn multistream_config(list: &str) -> Result<MultistreamConfig> {
    let c_ipfs = canonical_security(list)? == ["secio"];
    Ok(if c_ipfs {
        c_ipfs_multistream()
    } else {
        MultistreamConfig::default()
    })
}

/// Multistream settings c-ipfs gets through: one message per write, never lazy.
pub fn c_ipfs_multistream() -> MultistreamConfig {
    MultistreamConfig {
        one_message_per_write: true,
        lazy: false,
        ..MultistreamConfig::default()
    }
}

/// The muxer handlers named in `list` (e.g. `yamux,mplex`), in that order.
pub fn muxer_handlers(list: &str) -> Result<Vec<Arc<dyn StreamHandler>>> {
    canonical_muxers(list)?
        .into_iter()
        .map(|name| -> Result<Arc<dyn StreamHandler>> {
            Ok(match name {
                "yamux" => Arc::new(MuxerLayer(yamux::YamuxConfig::default())),
                "mplex" => Arc::new(MuxerLayer(mplex::MplexConfig::default())),
                other => bail!("muxer {other:?} is not built into this node"),
            })
        })
        .collect()
}

/// The CLI names of the muxers in `list` (names or protocol ids, any case), in order; refuses
/// unknown and repeated entries.
pub fn canonical_muxers(list: &str) -> Result<Vec<&'static str>> {
    let mut out: Vec<&'static str> = Vec::new();
    for name in names(list)? {
        let canonical = match name.as_str() {
            "yamux" | "/yamux/1.0.0" => "yamux",
            "mplex" | "/mplex/6.7.0" => "mplex",
            other => bail!(
                "unsupported muxer {other:?} (supported: {})",
                MUXER_NAMES.join(", ")
            ),
        };
        if out.contains(&canonical) {
            bail!("muxer {canonical:?} is listed twice in {list:?}");
        }
        out.push(canonical);
    }
    Ok(out)
}

fn names(list: &str) -> Result<Vec<String>> {
    let names: Vec<String> = list
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        bail!("empty protocol list {list:?}");
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_map_to_handlers_in_order() {
        let s = security_handlers("noise").unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].protocols(), vec!["/noise".to_string()]);
        let m = muxer_handlers(" yamux ").unwrap();
        assert_eq!(m[0].protocols(), vec!["/yamux/1.0.0".to_string()]);
        let m = muxer_handlers("MPLEX,/yamux/1.0.0").unwrap();
        let ids: Vec<_> = m.iter().flat_map(|h| h.protocols()).collect();
        assert_eq!(ids, vec!["/mplex/6.7.0", "/yamux/1.0.0"]);
    }

    #[test]
    fn default_muxers_are_yamux_then_mplex() {
        assert_eq!(canonical_muxers(DEFAULT_MUXER).unwrap(), MUXER_NAMES);
        let err = muxer_handlers("yamux,quic").err().unwrap().to_string();
        assert!(err.contains("\"quic\"") && err.contains("mplex"), "{err}");
        let err = muxer_handlers("mplex,/mplex/6.7.0")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("twice"), "{err}");
    }

    #[test]
    fn names_and_ids_in_any_order() {
        let s = security_handlers("/plaintext/2.0.0, NOISE,secio").unwrap();
        let ids: Vec<_> = s.iter().flat_map(|h| h.protocols()).collect();
        assert_eq!(ids, vec!["/plaintext/2.0.0", "/noise", "/secio/1.0.0"]);
        let s = security_handlers("/secio/1.0.0").unwrap();
        assert_eq!(s[0].protocols(), vec!["/secio/1.0.0".to_string()]);
    }

    #[test]
    fn default_list_is_every_supported_protocol_noise_first() {
        assert_eq!(
            canonical_security(DEFAULT_SECURITY).unwrap(),
            SECURITY_NAMES
        );
        assert_eq!(SECURITY_NAMES.first(), Some(&"noise"));
        assert_eq!(SECURITY_NAMES.get(1), Some(&"secio"));
        assert_eq!(SECURITY_NAMES.last(), Some(&"plaintext"));
    }

    #[test]
    fn unknown_and_repeated_names_are_refused_with_the_supported_list() {
        let err = security_handlers("noise,tls").err().unwrap().to_string();
        assert!(err.contains("\"tls\"") && err.contains("noise"), "{err}");
        let err = security_handlers("noise,/noise").err().unwrap().to_string();
        assert!(err.contains("twice"), "{err}");
        assert!(muxer_handlers(",").is_err());
    }

    #[test]
    fn only_a_secio_only_list_gets_the_c_ipfs_multistream() {
        assert_eq!(
            multistream_config(DEFAULT_SECURITY).unwrap(),
            MultistreamConfig::default()
        );
        assert_eq!(
            multistream_config("noise,secio").unwrap(),
            MultistreamConfig::default()
        );
        let c = multistream_config("/secio/1.0.0").unwrap();
        assert_eq!(c, c_ipfs_multistream());
        assert!(c.one_message_per_write && !c.lazy);
    }
}
