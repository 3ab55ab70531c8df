//! The negotiated-chain record: which protocol each layer picked, on which side, and how long
//! it took, so a user can see the chain a connection runs on.

use std::fmt;
use std::time::Duration;

use crate::context::Role;

/// What kind of layer a [`ChainStep`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LayerKind {
    /// The transport (e.g. TCP); the protocol is the transport address.
    Transport,
    /// A multistream-select negotiation step.
    Negotiation,
    /// A security layer (noise, secio, plaintext).
    Security,
    /// A stream muxer (yamux, mplex).
    Muxer,
    /// An application protocol on a substream.
    Application,
}

impl LayerKind {
    /// Lower-case name: `transport`, `negotiation`, `security`, `muxer`, `application`.
    pub fn as_str(self) -> &'static str {
        match self {
            LayerKind::Transport => "transport",
            LayerKind::Negotiation => "negotiation",
            LayerKind::Security => "security",
            LayerKind::Muxer => "muxer",
            LayerKind::Application => "application",
        }
    }
}

/// One layer of a negotiated chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainStep {
    /// What kind of layer this is.
    pub kind: LayerKind,
    /// The protocol id it runs (`/multistream/1.0.0`, `/noise`, `/yamux/1.0.0`, ...) or, for the
    /// transport, the address.
    pub protocol: String,
    /// Our side in this layer.
    pub role: Role,
    /// Wall time this layer took to set up (handshake, negotiation).
    pub elapsed: Duration,
    /// Layer-specific details (e.g. secio's chosen cipher), as key/value pairs.
    pub details: Vec<(String, String)>,
}

/// The layers a connection runs on, bottom (transport) first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NegotiatedChain {
    steps: Vec<ChainStep>,
}

impl NegotiatedChain {
    /// Appends a layer on top.
    pub fn push(
        &mut self,
        kind: LayerKind,
        protocol: impl Into<String>,
        role: Role,
        elapsed: Duration,
    ) {
        self.steps.push(ChainStep {
            kind,
            protocol: protocol.into(),
            role,
            elapsed,
            details: Vec::new(),
        });
    }

    /// Appends a fully built step.
    pub fn push_step(&mut self, step: ChainStep) {
        self.steps.push(step);
    }

    /// All steps, bottom first.
    pub fn steps(&self) -> &[ChainStep] {
        &self.steps
    }

    /// The protocol ids of every step except the transport, bottom first: e.g.
    /// `["/multistream/1.0.0", "/noise", "/multistream/1.0.0", "/yamux/1.0.0"]`.
    pub fn protocols(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter(|s| s.kind != LayerKind::Transport)
            .map(|s| s.protocol.clone())
            .collect()
    }

    /// The first step of the given kind (e.g. the security layer).
    pub fn find(&self, kind: LayerKind) -> Option<&ChainStep> {
        self.steps.iter().find(|s| s.kind == kind)
    }
}

impl fmt::Display for NegotiatedChain {
    /// `tcp(/ip4/…) -> /multistream/1.0.0 -> /noise (1.2ms) -> …`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_str(" -> ")?;
            }
            write!(
                f,
                "{} [{} {}, {:?}]",
                s.protocol,
                s.kind.as_str(),
                s.role,
                s.elapsed
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_skip_transport_and_keep_order() {
        let mut c = NegotiatedChain::default();
        c.push(
            LayerKind::Transport,
            "/ip4/127.0.0.1/tcp/1",
            Role::Dialer,
            Duration::ZERO,
        );
        c.push(
            LayerKind::Negotiation,
            "/multistream/1.0.0",
            Role::Dialer,
            Duration::ZERO,
        );
        c.push(
            LayerKind::Security,
            "/noise",
            Role::Dialer,
            Duration::from_millis(2),
        );
        assert_eq!(c.protocols(), vec!["/multistream/1.0.0", "/noise"]);
        assert_eq!(c.find(LayerKind::Security).unwrap().protocol, "/noise");
        let shown = c.to_string();
        assert!(shown.contains("/noise [security dialer"), "{shown}");
    }
}
