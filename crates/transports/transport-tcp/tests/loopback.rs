//! The TCP transport against itself on loopback: listen, dial, echo, and the failure paths.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use chainp2p_core::multiaddr::{Multiaddr, Protocol};
use chainp2p_core::ErrorKind;
use chainp2p_transport_tcp::{TcpConfig, TcpError, TcpTransport};
use futures::{AsyncReadExt, AsyncWriteExt};

const LIMIT: Duration = Duration::from_secs(10);

fn ma(s: &str) -> Multiaddr {
    s.parse().unwrap()
}

fn port_of(addr: &Multiaddr) -> u16 {
    addr.iter()
        .find_map(|p| match p {
            Protocol::Tcp(port) => Some(port),
            _ => None,
        })
        .unwrap()
}

/// Listens on `listen`, dials the listener's real address, and checks bytes and addresses both
/// ways.
async fn echo_round_trip(listen: &str) {
    let t = TcpTransport::new(TcpConfig::default());
    let listener = t.listen(&ma(listen)).await.unwrap();
    let addr = listener.local_addr();
    assert_ne!(port_of(&addr), 0, "real port reported: {addr}");

    let server = tokio::spawn(async move {
        let mut conn = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 5];
        conn.io.read_exact(&mut buf).await.unwrap();
        conn.io.write_all(&buf).await.unwrap();
        conn.io.close().await.unwrap();
        (conn.local_addr, conn.remote_addr)
    });

    let mut conn = t.dial(&addr).await.unwrap();
    assert_eq!(conn.remote_addr, addr);
    conn.io.write_all(b"hello").await.unwrap();
    let mut back = Vec::new();
    conn.io.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, b"hello");

    let (server_local, server_remote) = server.await.unwrap();
    assert_eq!(server_local, addr);
    assert_eq!(server_remote, conn.local_addr);
}

#[tokio::test]
async fn ip4_listen_dial_echo() {
    tokio::time::timeout(LIMIT, echo_round_trip("/ip4/127.0.0.1/tcp/0"))
        .await
        .unwrap();
}

#[tokio::test]
async fn ip6_listen_dial_echo_if_available() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here: skipped");
        return;
    }
    tokio::time::timeout(LIMIT, echo_round_trip("/ip6/::1/tcp/0"))
        .await
        .unwrap();
}

#[tokio::test]
async fn dns_localhost_dial() {
    let t = TcpTransport::new(TcpConfig::default());
    let listener = t.listen(&ma("/ip4/127.0.0.1/tcp/0")).await.unwrap();
    let port = port_of(&listener.local_addr());
    let accept = tokio::spawn(async move { listener.accept().await.map(|c| c.remote_addr) });
    let conn = tokio::time::timeout(LIMIT, t.dial(&ma(&format!("/dns4/localhost/tcp/{port}"))))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conn.remote_addr, ma(&format!("/ip4/127.0.0.1/tcp/{port}")));
    assert_eq!(accept.await.unwrap().unwrap(), conn.local_addr);
}

#[tokio::test]
async fn dial_with_p2p_suffix_works() {
    let t = TcpTransport::new(TcpConfig::default());
    let listener = t.listen(&ma("/ip4/127.0.0.1/tcp/0")).await.unwrap();
    let addr = listener.local_addr().with(Protocol::P2p(
        "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
            .parse()
            .unwrap(),
    ));
    let accept = tokio::spawn(async move { listener.accept().await.map(|_| ()) });
    tokio::time::timeout(LIMIT, t.dial(&addr))
        .await
        .unwrap()
        .unwrap();
    accept.await.unwrap().unwrap();
}

#[tokio::test]
async fn refused_dial_is_a_clear_io_error() {
    let t = TcpTransport::new(TcpConfig::default());
    let addr = {
        let listener = t.listen(&ma("/ip4/127.0.0.1/tcp/0")).await.unwrap();
        listener.local_addr()
    };
    let err = tokio::time::timeout(LIMIT, t.dial(&addr))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(err.layer().as_str(), "tcp");
    assert!(
        matches!(err.downcast_ref::<TcpError>(), Some(TcpError::Refused(a)) if *a == addr),
        "{err}"
    );
    assert!(err.to_string().contains("refused"), "{err}");
}

/// A listener that never accepts and has the smallest backlog: once its queue is full the
/// kernel drops further SYNs, so a dial hangs until our deadline.
#[tokio::test]
async fn dial_times_out_when_the_backlog_is_full() {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(0).unwrap();
    let port = socket.local_addr().unwrap().as_socket().unwrap().port();
    let addr = ma(&format!("/ip4/127.0.0.1/tcp/{port}"));

    let t = TcpTransport::new(TcpConfig {
        dial_timeout: Duration::from_millis(300),
        ..TcpConfig::default()
    });
    let mut held = Vec::new();
    let mut timed_out = None;
    for _ in 0..16 {
        match t.dial(&addr).await {
            Ok(conn) => held.push(conn),
            Err(e) => {
                timed_out = Some(e);
                break;
            }
        }
    }
    let err = timed_out.expect("a dial into a full backlog must time out");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        matches!(
            err.downcast_ref::<TcpError>(),
            Some(TcpError::DialTimeout { .. })
        ),
        "{err}"
    );
    drop(socket);
}

#[tokio::test]
async fn unsupported_addresses_are_refused_up_front() {
    let t = TcpTransport::new(TcpConfig::default());
    for s in [
        "/ip4/127.0.0.1/udp/4001",
        "/ip4/127.0.0.1",
        "/p2p-circuit",
        "/ip4/127.0.0.1/tcp/4001/p2p-circuit",
    ] {
        let err = t.dial(&ma(s)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{s}: {err}");
        assert!(err.to_string().contains(s), "{err}");
        let err = t.listen(&ma(s)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{s}: {err}");
    }
    let err = t.listen(&ma("/dns4/localhost/tcp/0")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}
