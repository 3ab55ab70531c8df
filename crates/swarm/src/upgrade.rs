//! Walks a connection up the chain: one multistream negotiation per stage, each stage's chosen
//! handler returning what the next stage works on, until a muxer yields a session.

use std::sync::Arc;
use std::time::Instant;

use chainp2p_core::{
    BoxStream, ChainError, ChainStep, ErrorKind, HandlerContext, LayerKind, MuxedConnection, Muxer,
    Next,
};
use chainp2p_multistream::Multistream;
use futures::future::BoxFuture;
use tracing::Instrument;

use crate::LAYER;

/// A connection that reached a muxer: the session, its I/O driver and the final context
/// (authenticated remote, the whole negotiated chain).
pub(crate) struct Upgraded {
    pub muxer: Arc<dyn Muxer>,
    pub driver: BoxFuture<'static, Result<(), ChainError>>,
    pub ctx: HandlerContext,
}

/// A connection its transport already secured and muxed (QUIC): no stage runs; the transport's
/// own steps go into the chain record, and a dialer that knows whom it dialed checks the peer.
pub(crate) fn from_muxed(
    muxed: MuxedConnection,
    mut ctx: HandlerContext,
) -> Result<Upgraded, ChainError> {
    if let Some(expected) = ctx.remote_peer {
        if expected != muxed.remote_peer {
            return Err(ChainError::new(
                LAYER,
                ErrorKind::Authentication,
                format!(
                    "dialed peer {expected} but the transport authenticated {}",
                    muxed.remote_peer
                ),
            ));
        }
    }
    ctx.remote_peer = Some(muxed.remote_peer);
    ctx.remote_key = Some(muxed.remote_key);
    for step in muxed.steps {
        ctx.chain.push_step(step);
    }
    Ok(Upgraded {
        muxer: muxed.muxer,
        driver: muxed.driver,
        ctx,
    })
}

/// Runs every stage on `io`. A stage whose handler returns [`Next::Secured`] hands the secured
/// stream to the next stage; [`Next::Muxed`] ends the walk.
pub(crate) async fn walk_chain(
    stages: &[Multistream],
    mut io: BoxStream,
    mut ctx: HandlerContext,
) -> Result<Upgraded, ChainError> {
    for stage in stages {
        let started = Instant::now();
        let span = tracing::debug_span!("layer", offered = ?stage.protocols());
        let dispatched = stage.dispatch(io, ctx.clone()).instrument(span).await?;
        let layer_time = started.elapsed().saturating_sub(dispatched.negotiation);
        ctx.chain.push(
            LayerKind::Negotiation,
            chainp2p_multistream::PROTOCOL,
            ctx.role,
            dispatched.negotiation,
        );
        match dispatched.next {
            Next::Secured(secured) => {
                if let Some(expected) = ctx.remote_peer {
                    if expected != secured.remote_peer {
                        return Err(ChainError::new(
                            LAYER,
                            ErrorKind::Authentication,
                            format!(
                                "dialed peer {expected} but {} authenticated as {}",
                                dispatched.protocol, secured.remote_peer
                            ),
                        ));
                    }
                }
                tracing::debug!(protocol = %dispatched.protocol, peer = %secured.remote_peer, ?layer_time, "secured");
                ctx.remote_peer = Some(secured.remote_peer);
                ctx.remote_key = Some(secured.remote_key);
                ctx.peer_framing = secured.peer_framing;
                ctx.chain.push_step(ChainStep {
                    kind: LayerKind::Security,
                    protocol: dispatched.protocol,
                    role: ctx.role,
                    elapsed: layer_time,
                    details: secured.details,
                });
                io = secured.io;
            }
            Next::Muxed { muxer, driver } => {
                tracing::debug!(protocol = %dispatched.protocol, ?layer_time, "muxed");
                ctx.chain
                    .push(LayerKind::Muxer, dispatched.protocol, ctx.role, layer_time);
                if ctx.remote_peer.is_none() || ctx.remote_key.is_none() {
                    return Err(ChainError::new(
                        LAYER,
                        ErrorKind::Authentication,
                        "the chain reached a muxer without authenticating the peer",
                    ));
                }
                return Ok(Upgraded { muxer, driver, ctx });
            }
            Next::Done => {
                return Err(ChainError::new(
                    LAYER,
                    ErrorKind::Protocol,
                    format!(
                        "{} ended the connection chain without a muxer",
                        dispatched.protocol
                    ),
                ));
            }
            // `Next` is non-exhaustive: a kind of next step this swarm does not know.
            other => {
                return Err(ChainError::new(
                    LAYER,
                    ErrorKind::Unsupported,
                    format!(
                        "{} returned a next step this swarm cannot run: {other:?}",
                        dispatched.protocol
                    ),
                ));
            }
        }
    }
    Err(ChainError::new(
        LAYER,
        ErrorKind::InvalidInput,
        "the configured chain has no muxer stage",
    ))
}
