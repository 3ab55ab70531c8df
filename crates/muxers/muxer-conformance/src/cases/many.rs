//! Many streams at once: 1,000 concurrent request/responses, and both sides opening at the
//! same moment (mplex stream ids collide numerically and must stay distinct).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chainp2p_core::{Muxer, MuxerHandler};
use futures::io::AsyncWriteExt;
use tokio::task::JoinSet;

use crate::pair::{connected_pair, DEFAULT_PIPE_CAPACITY};
use crate::util::{accept, io_err, open, read_all, within};
use crate::Expectations;

/// Streams in [`many_concurrent_streams`].
const MANY: usize = 1000;
/// Streams each side opens in [`concurrent_open_both_sides`].
const EACH_SIDE: usize = 64;
/// Deadline for all streams of one of these cases.
const ALL_DONE: Duration = Duration::from_secs(20);

/// One request/response: sends `tag`, half-closes, expects `re:<tag>` then EOF.
async fn client(m: Arc<dyn Muxer>, tag: String) -> Result<(), String> {
    let mut s = open(m.as_ref(), &tag).await?;
    s.write_all(tag.as_bytes())
        .await
        .map_err(io_err(&format!("{tag}: write")))?;
    s.close().await.map_err(io_err(&format!("{tag}: close")))?;
    let got = read_all(&mut s, 64)
        .await
        .map_err(io_err(&format!("{tag}: read response")))?;
    let want = format!("re:{tag}");
    if got != want.as_bytes() {
        return Err(format!(
            "{tag}: expected {want:?}, got {:?}",
            String::from_utf8_lossy(&got)
        ));
    }
    Ok(())
}

/// Accepts `n` streams, answering each `re:<request>`; returns the requests seen.
async fn server(m: Arc<dyn Muxer>, n: usize, who: &'static str) -> Result<HashSet<String>, String> {
    let mut handlers = JoinSet::new();
    for i in 0..n {
        let mut s = accept(m.as_ref(), &format!("{who} stream #{i}")).await?;
        handlers.spawn(async move {
            let req = read_all(&mut s, 64)
                .await
                .map_err(io_err("server read request"))?;
            let mut resp = b"re:".to_vec();
            resp.extend_from_slice(&req);
            s.write_all(&resp)
                .await
                .map_err(io_err("server write response"))?;
            s.close().await.map_err(io_err("server close"))?;
            Ok::<_, String>(String::from_utf8_lossy(&req).into_owned())
        });
    }
    collect(handlers).await
}

/// Joins every task; the first error (and how many failed) wins.
async fn collect<T>(mut set: JoinSet<Result<T, String>>) -> Result<HashSet<T>, String>
where
    T: std::hash::Hash + Eq + 'static,
{
    let mut out = HashSet::new();
    let mut failed = 0usize;
    let mut first = None;
    while let Some(r) = set.join_next().await {
        match r.map_err(|e| format!("task failed: {e}")).and_then(|r| r) {
            Ok(v) => {
                out.insert(v);
            }
            Err(e) => {
                failed += 1;
                first.get_or_insert(e);
            }
        }
    }
    match first {
        None => Ok(out),
        Some(e) => Err(format!("{failed} stream(s) failed, first: {e}")),
    }
}

/// The dialer opens 1,000 streams at once, each a small request/response; all must complete
/// (with yamux the 256-stream ACK backlog makes opens wait, and they must still complete).
pub async fn many_concurrent_streams(
    h: &dyn MuxerHandler,
    _e: &Expectations,
) -> Result<(), String> {
    let pair = connected_pair(h, h, DEFAULT_PIPE_CAPACITY).await?;
    let srv = tokio::spawn(server(pair.listener.clone(), MANY, "listener"));
    let mut clients = JoinSet::new();
    for i in 0..MANY {
        clients.spawn(client(pair.dialer.clone(), format!("req {i}")));
    }
    within(
        ALL_DONE,
        "1000 concurrent request/responses",
        collect(clients),
    )
    .await??;
    let seen = within(ALL_DONE, "listener handlers", srv)
        .await?
        .map_err(|e| format!("server task failed: {e}"))??;
    if seen.len() != MANY {
        return Err(format!(
            "listener saw {} distinct requests, expected {MANY}",
            seen.len()
        ));
    }
    pair.close_cleanly().await
}

/// Both sides open 64 streams at the same moment while both accept; every stream reaches the
/// other side as a distinct stream carrying its own request and gets its own response.
pub async fn concurrent_open_both_sides(
    h: &dyn MuxerHandler,
    _e: &Expectations,
) -> Result<(), String> {
    let pair = connected_pair(h, h, DEFAULT_PIPE_CAPACITY).await?;
    let lsrv = tokio::spawn(server(pair.listener.clone(), EACH_SIDE, "listener"));
    let dsrv = tokio::spawn(server(pair.dialer.clone(), EACH_SIDE, "dialer"));
    let mut clients = JoinSet::new();
    for i in 0..EACH_SIDE {
        // Interleaved, so both sides' opens race.
        clients.spawn(client(pair.dialer.clone(), format!("from dialer {i}")));
        clients.spawn(client(pair.listener.clone(), format!("from listener {i}")));
    }
    within(
        ALL_DONE,
        "request/responses opened from both sides",
        collect(clients),
    )
    .await??;
    for (srv, who, from) in [(lsrv, "listener", "dialer"), (dsrv, "dialer", "listener")] {
        let seen = within(ALL_DONE, &format!("{who} handlers"), srv)
            .await?
            .map_err(|e| format!("{who} server task failed: {e}"))??;
        let want: HashSet<String> = (0..EACH_SIDE).map(|i| format!("from {from} {i}")).collect();
        if seen != want {
            let stray: Vec<_> = seen.difference(&want).take(3).collect();
            return Err(format!(
                "{who} accepted {} streams whose requests differ from the {EACH_SIDE} the {from} \
                 opened (e.g. {stray:?}): streams of the two sides got mixed up",
                seen.len()
            ));
        }
    }
    pair.close_cleanly().await
}
