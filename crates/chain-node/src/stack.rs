//! Turns `--security` / `--muxer` lists into the swarm's chain configuration, and
//! `--c-ipfs-compat` into the multistream behaviour c-ipfs needs.

use std::sync::Arc;

use anyhow::{bail, Result};
use chainp2p_core::{MuxerHandler, SecurityHandler};
use chainp2p_multistream::MultistreamConfig;

/// Every security protocol this node supports, by CLI name, in default preference order:
/// noise first (modern peers), secio second (the fallback c-ipfs and old go-ipfs speak),
/// plaintext last (it encrypts nothing; only offered when the `--security` list names it).
pub const SECURITY_NAMES: &[&str] = &["noise", "secio", "plaintext"];
/// The default `--security` list: the protocols that encrypt, in [`SECURITY_NAMES`] order.
/// Plaintext is never a default: multistream negotiation is not authenticated, so an on-path
/// attacker could otherwise downgrade a default node to cleartext.
pub const DEFAULT_SECURITY: &str = "noise,secio";

/// The warning printed when the `--security` list enables plaintext.
pub const PLAINTEXT_WARNING: &str = "warning: --security includes plaintext (/plaintext/2.0.0): \
     connections that negotiate it are not encrypted, and an on-path attacker can force it";

/// Whether `list` enables plaintext (the caller prints [`PLAINTEXT_WARNING`]).
pub fn enables_plaintext(list: &str) -> Result<bool> {
    Ok(canonical_security(list)?.contains(&"plaintext"))
}
/// Every muxer this node supports, by CLI name, in default preference order: yamux first
/// (every current peer and c-ipfs), mplex second (deprecated, but some rust/js/old go peers
/// speak only it).
pub const MUXER_NAMES: &[&str] = &["yamux", "mplex"];
/// The default `--muxer` list: every supported muxer, in [`MUXER_NAMES`] order.
pub const DEFAULT_MUXER: &str = "yamux,mplex";

/// The security handlers named in `list` (e.g. `noise,plaintext`), in that order.
pub fn security_handlers(list: &str) -> Result<Vec<Arc<dyn SecurityHandler>>> {
    canonical_security(list)?
        .into_iter()
        .map(security_handler)
        .collect()
}

fn security_handler(name: &'static str) -> Result<Arc<dyn SecurityHandler>> {
    Ok(match name {
        "noise" => Arc::new(chainp2p_noise::NoiseConfig::new()),
        "secio" => Arc::new(chainp2p_secio::SecioConfig::new()),
        "plaintext" => Arc::new(chainp2p_plaintext::PlaintextConfig::new()),
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

/// The multistream settings: with `--c-ipfs-compat` every multistream message goes in its own
/// write (c-ipfs drops a proposal that shares a secio frame with the header) and nothing is
/// negotiated lazily; without it, the defaults every current peer gets.
pub fn multistream_config(c_ipfs_compat: bool) -> MultistreamConfig {
    if c_ipfs_compat {
        c_ipfs_multistream()
    } else {
        MultistreamConfig::default()
    }
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
pub fn muxer_handlers(list: &str) -> Result<Vec<Arc<dyn MuxerHandler>>> {
    canonical_muxers(list)?
        .into_iter()
        .map(|name| -> Result<Arc<dyn MuxerHandler>> {
            Ok(match name {
                "yamux" => Arc::new(chainp2p_yamux::YamuxConfig::default()),
                "mplex" => Arc::new(chainp2p_mplex::MplexConfig::default()),
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
        assert_eq!(s[0].protocol(), "/noise");
        let m = muxer_handlers(" yamux ").unwrap();
        assert_eq!(m[0].protocol(), "/yamux/1.0.0");
        let m = muxer_handlers("MPLEX,/yamux/1.0.0").unwrap();
        let ids: Vec<_> = m.iter().map(|h| h.protocol()).collect();
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
        let ids: Vec<_> = s.iter().map(|h| h.protocol()).collect();
        assert_eq!(ids, vec!["/plaintext/2.0.0", "/noise", "/secio/1.0.0"]);
        let s = security_handlers("/secio/1.0.0").unwrap();
        assert_eq!(s[0].protocol(), "/secio/1.0.0");
    }

    #[test]
    fn default_list_encrypts_noise_first_and_never_offers_plaintext() {
        assert_eq!(
            canonical_security(DEFAULT_SECURITY).unwrap(),
            ["noise", "secio"]
        );
        assert!(!enables_plaintext(DEFAULT_SECURITY).unwrap());
        assert!(enables_plaintext("noise,/plaintext/2.0.0").unwrap());
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
    fn only_the_explicit_flag_gets_the_c_ipfs_multistream() {
        assert_eq!(multistream_config(false), MultistreamConfig::default());
        let c = multistream_config(true);
        assert_eq!(c, c_ipfs_multistream());
        assert!(c.one_message_per_write && !c.lazy);
    }
}
