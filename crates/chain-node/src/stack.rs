//! Turns `--security` / `--muxer` lists into the swarm's chain configuration.

use std::sync::Arc;

use anyhow::{bail, Result};
use chain_core::{MuxerLayer, SecurityLayer, StreamHandler};

/// Every security protocol this node supports, by CLI name.
pub const SECURITY_NAMES: &[&str] = &["noise"];
/// Every muxer this node supports, by CLI name.
pub const MUXER_NAMES: &[&str] = &["yamux"];

/// The security handlers named in `list` (e.g. `noise`), in that order.
pub fn security_handlers(list: &str) -> Result<Vec<Arc<dyn StreamHandler>>> {
    names(list)?
        .into_iter()
        .map(|name| -> Result<Arc<dyn StreamHandler>> {
            match name.as_str() {
                "noise" | "/noise" => Ok(Arc::new(SecurityLayer(noise::NoiseConfig::new()))),
                other => bail!(
                    "unsupported security protocol {other:?} (supported: {})",
                    SECURITY_NAMES.join(", ")
                ),
            }
        })
        .collect()
}

/// The muxer handlers named in `list` (e.g. `yamux`), in that order.
pub fn muxer_handlers(list: &str) -> Result<Vec<Arc<dyn StreamHandler>>> {
    names(list)?
        .into_iter()
        .map(|name| -> Result<Arc<dyn StreamHandler>> {
            match name.as_str() {
                "yamux" | "/yamux/1.0.0" => Ok(Arc::new(MuxerLayer(yamux::YamuxConfig::default()))),
                other => bail!(
                    "unsupported muxer {other:?} (supported: {})",
                    MUXER_NAMES.join(", ")
                ),
            }
        })
        .collect()
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
    }

    #[test]
    fn unknown_names_are_refused_with_the_supported_list() {
        let err = security_handlers("noise,tls").err().unwrap().to_string();
        assert!(err.contains("\"tls\"") && err.contains("noise"), "{err}");
        assert!(muxer_handlers(",").is_err());
    }
}
