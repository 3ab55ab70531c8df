//! Security-layer interop steps shared by the noise and plaintext tests: one handshake between our
//! [`SecurityHandler`] and a rust-libp2p upgrade over an in-memory pipe (checking the identity each side
//! authenticated), and a two-way byte exchange over the secured streams.

use std::fmt::Debug;
use std::sync::Arc;

use chainp2p_core::{BoxStream, HandlerContext, Role, SecurityHandler};
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::core::upgrade::{InboundConnectionUpgrade, OutboundConnectionUpgrade, UpgradeInfo};
use libp2p::identity::Keypair;
use libp2p::PeerId;
use tokio::io::DuplexStream;
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

/// Runs our handler `ours` as `ours_role` (a dialer expecting `theirs_key`'s peer) against the rust
/// upgrade `theirs` in the other role over a pipe of `pipe_capacity` bytes, speaking `protocol`. Asserts
/// that each side authenticated the other's key; returns `(our secured stream, their secured stream)`.
pub async fn handshake<U, S, E>(
    ours: &dyn SecurityHandler,
    ours_role: Role,
    ours_key: &Keypair,
    theirs_key: &Keypair,
    theirs: U,
    protocol: &'static str,
    pipe_capacity: usize,
) -> (BoxStream, S)
where
    U: UpgradeInfo<Info = &'static str>
        + InboundConnectionUpgrade<Compat<DuplexStream>, Output = (PeerId, S), Error = E>
        + OutboundConnectionUpgrade<Compat<DuplexStream>, Output = (PeerId, S), Error = E>,
    E: Debug,
{
    let (a, b) = tokio::io::duplex(pipe_capacity);
    let ours_io: BoxStream = Box::new(a.compat());
    let theirs_io = b.compat();
    let mut ctx = HandlerContext::new(ours_role, Arc::new(ours_key.clone()));
    if ours_role == Role::Dialer {
        ctx.remote_peer = Some(theirs_key.public().to_peer_id());
    }
    let theirs = async move {
        match ours_role {
            Role::Dialer => theirs.upgrade_inbound(theirs_io, protocol).await,
            Role::Listener => theirs.upgrade_outbound(theirs_io, protocol).await,
        }
    };
    let (ours, theirs) = tokio::join!(ours.secure(ours_io, &ctx), theirs);
    let ours = ours.unwrap();
    let (their_view, their_stream) = theirs.unwrap();
    assert_eq!(
        ours.remote_peer,
        theirs_key.public().to_peer_id(),
        "our view of them"
    );
    assert_eq!(ours.remote_key, theirs_key.public());
    assert_eq!(
        their_view,
        ours_key.public().to_peer_id(),
        "their view of us"
    );
    (ours.io, their_stream)
}

/// Writes `send` while reading `expect_len` bytes on the same stream; returns what was read.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    send: Vec<u8>,
    expect_len: usize,
) -> Vec<u8> {
    let (mut r, mut w) = io.split();
    let mut got = vec![0u8; expect_len];
    tokio::join!(
        async {
            w.write_all(&send).await.unwrap();
            w.flush().await.unwrap();
        },
        async { r.read_exact(&mut got).await.unwrap() }
    );
    got
}

/// Sends `to_them` from `ours` and `to_us` from `theirs` at once; asserts each side received the other's
/// bytes exactly.
pub async fn exchange_both_ways<S: AsyncRead + AsyncWrite + Unpin>(
    ours: BoxStream,
    theirs: S,
    to_them: Vec<u8>,
    to_us: Vec<u8>,
) {
    let (got_them, got_us) = tokio::join!(
        exchange(theirs, to_us.clone(), to_them.len()),
        exchange(ours, to_them.clone(), to_us.len())
    );
    assert_eq!(got_them, to_them, "bytes they received from us");
    assert_eq!(got_us, to_us, "bytes we received from them");
}
