//! The swarm's Prometheus metrics (feature `metrics`): two swarms in memory, each with its own
//! registry; a ping between them; the encoded registries say what happened.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use chainp2p_swarm::prometheus_client::encoding::text::encode;
use chainp2p_swarm::prometheus_client::registry::Registry;
use chainp2p_swarm::{identity::Keypair, Multiaddr, Swarm, SwarmBuilder};
use chainp2p_transport_memory::MemoryTransport;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

fn node(registry: &mut Registry) -> Swarm {
    SwarmBuilder::new(Keypair::generate_ed25519())
        .transports([MemoryTransport::default()])
        .metrics(registry)
        .build()
}

fn text(registry: &Registry) -> String {
    let mut out = String::new();
    encode(&mut out, registry).unwrap();
    out
}

/// The value of the sample `name` whose labels include every one of `labels` (`k="v"`), if any.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            let (metric, _) = l.split_once(' ').unwrap_or((l, ""));
            let bare = metric.split('{').next().unwrap_or("");
            bare == name && labels.iter().all(|lab| metric.contains(lab))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Polls until `check` holds on the encoded registry (closing is seen by a task).
async fn eventually(registry: &Registry, check: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let t = text(registry);
        if check(&t) || tokio::time::Instant::now() > deadline {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_ping_is_counted_on_both_sides() {
    let mut reg_listener = Registry::default();
    let mut reg_dialer = Registry::default();
    let listener = node(&mut reg_listener);
    let dialer = node(&mut reg_dialer);
    let addr = listener
        .listen(&"/memory/0".parse().unwrap())
        .await
        .unwrap();
    let full: Multiaddr = format!("{addr}/p2p/{}", listener.local_peer_id())
        .parse()
        .unwrap();
    timeout(LIMIT, async {
        let conn = dialer.dial(&full).await.unwrap();
        let mut stream = conn.open_stream(chainp2p_ping::PROTOCOL).await.unwrap();
        chainp2p_ping::ping(&mut stream).await.unwrap();
    })
    .await
    .unwrap();

    let conn = [r#"security="/noise""#, r#"muxer="/yamux/1.0.0""#];
    let inbound = [&conn[..], &[r#"direction="inbound""#]].concat();
    let outbound = [&conn[..], &[r#"direction="outbound""#]].concat();
    let ping = [r#"protocol="/ipfs/ping/1.0.0""#];

    let l = eventually(&reg_listener, |t| {
        sample(t, "chainp2p_swarm_substreams_opened_total", &ping) == Some(1.0)
    })
    .await;
    assert_eq!(
        sample(&l, "chainp2p_swarm_connections_opened_total", &inbound),
        Some(1.0),
        "{l}"
    );
    assert_eq!(
        sample(&l, "chainp2p_swarm_connections_open", &inbound),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &l,
            "chainp2p_swarm_substreams_opened_total",
            &[ping[0], r#"direction="inbound""#]
        ),
        Some(1.0)
    );
    for (layer, protocol) in [
        ("transport", "memory"),
        ("security", "/noise"),
        ("muxer", "/yamux/1.0.0"),
    ] {
        let labels = [
            format!(r#"layer="{layer}""#),
            format!(r#"protocol="{protocol}""#),
        ];
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        assert_eq!(
            sample(
                &l,
                "chainp2p_swarm_handshake_duration_seconds_count",
                &labels
            ),
            Some(1.0),
            "{layer}: {l}"
        );
    }
    let bytes_in = sample(
        &l,
        "chainp2p_swarm_transport_bytes_total",
        &[r#"direction="in""#],
    )
    .unwrap();
    let bytes_out = sample(
        &l,
        "chainp2p_swarm_transport_bytes_total",
        &[r#"direction="out""#],
    )
    .unwrap();
    // A noise handshake and a ping are well over 100 bytes each way.
    assert!(bytes_in > 100.0 && bytes_out > 100.0, "{l}");
    // The resource manager's view, read at scrape time.
    assert_eq!(
        sample(&l, "chainp2p_swarm_resource_connections", &[]),
        Some(1.0),
        "{l}"
    );
    assert_eq!(
        sample(&l, "chainp2p_swarm_resource_refused_connections_total", &[]),
        Some(0.0),
        "{l}"
    );

    let d = text(&reg_dialer);
    assert_eq!(
        sample(&d, "chainp2p_swarm_connections_opened_total", &outbound),
        Some(1.0),
        "{d}"
    );
    assert_eq!(
        sample(
            &d,
            "chainp2p_swarm_substreams_opened_total",
            &[ping[0], r#"direction="outbound""#]
        ),
        Some(1.0),
        "{d}"
    );
    // The dialer's ping stream is dropped: nothing of it is open any more.
    assert_eq!(
        sample(
            &d,
            "chainp2p_swarm_substreams_open",
            &[ping[0], r#"direction="outbound""#]
        ),
        Some(0.0),
        "{d}"
    );

    // Closing is counted on both sides, and the open gauges go back to zero.
    dialer.shutdown().await;
    let l = eventually(&reg_listener, |t| {
        sample(t, "chainp2p_swarm_connections_closed_total", &inbound) == Some(1.0)
    })
    .await;
    assert_eq!(
        sample(&l, "chainp2p_swarm_connections_closed_total", &inbound),
        Some(1.0),
        "{l}"
    );
    assert_eq!(
        sample(&l, "chainp2p_swarm_connections_open", &inbound),
        Some(0.0)
    );
    let d = text(&reg_dialer);
    assert_eq!(
        sample(&d, "chainp2p_swarm_connections_closed_total", &outbound),
        Some(1.0),
        "{d}"
    );
    listener.shutdown().await;
}

#[tokio::test]
async fn without_a_registry_nothing_is_recorded() {
    // A swarm built without `.metrics` still works, and a registry given to another swarm
    // only sees that swarm.
    let mut registry = Registry::default();
    let observed = node(&mut registry);
    let plain = SwarmBuilder::new(Keypair::generate_ed25519())
        .transports([MemoryTransport::default()])
        .build();
    let addr = plain.listen(&"/memory/0".parse().unwrap()).await.unwrap();
    let other = SwarmBuilder::new(Keypair::generate_ed25519())
        .transports([MemoryTransport::default()])
        .build();
    let full: Multiaddr = format!("{addr}/p2p/{}", plain.local_peer_id())
        .parse()
        .unwrap();
    timeout(LIMIT, other.dial(&full)).await.unwrap().unwrap();
    let t = text(&registry);
    assert_eq!(
        sample(
            &t,
            "chainp2p_swarm_transport_bytes_total",
            &[r#"direction="in""#]
        ),
        Some(0.0),
        "{t}"
    );
    assert!(
        sample(&t, "chainp2p_swarm_connections_opened_total", &[]).is_none(),
        "{t}"
    );
    assert_eq!(
        sample(&t, "chainp2p_swarm_resource_connections", &[]),
        Some(0.0),
        "{t}"
    );
    other.shutdown().await;
    plain.shutdown().await;
    observed.shutdown().await;
}
