//! The memory transport end to end: the hub (listen, ports, refusals, backlog) and the pipes
//! (echo, backpressure, half-close, drop, many connections).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::future::Future;
use std::io;
use std::time::Duration;

use chainp2p_core::multiaddr::{Multiaddr, Protocol};
use chainp2p_core::{ChainError, ErrorKind, Transport, TransportIo};
use chainp2p_transport_memory::{
    MemoryConfig, MemoryConnection, MemoryError, MemoryTransport, LAYER,
};
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};

/// Runs `f`, failing the test if it takes longer than `secs`.
async fn bounded<T>(secs: u64, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("test exceeded its time bound")
}

/// The typed cause of a memory-layer error.
fn cause(e: &ChainError) -> &MemoryError {
    assert_eq!(e.layer().as_str(), LAYER, "{e}");
    e.downcast_ref::<MemoryError>()
        .unwrap_or_else(|| panic!("no MemoryError in {e}"))
}

fn port_of(addr: &Multiaddr) -> u64 {
    match addr.iter().next() {
        Some(Protocol::Memory(p)) => p,
        _ => panic!("not a memory address: {addr}"),
    }
}

fn zero() -> Multiaddr {
    "/memory/0".parse().unwrap()
}

/// A listener and one connection accepted from it: (dialer end, listener end).
async fn connected(t: &MemoryTransport) -> (MemoryConnection, MemoryConnection) {
    let mut l = t.listen_on(&zero()).unwrap();
    let d = t.connect(&l.local_addr()).unwrap();
    let a = l.accept().await;
    (d, a)
}

#[tokio::test]
async fn listen_on_zero_then_dial_and_echo_both_ways() {
    bounded(10, async {
        let t: Box<dyn Transport> = Box::new(MemoryTransport::default());
        assert_eq!(t.name(), "memory");
        let mut listener = t.listen(&zero()).await.unwrap();
        let port = port_of(&listener.local_addr);
        assert_ne!(port, 0);
        assert!(t.handles(&listener.local_addr));

        // A trailing /p2p/<id> is ignored by the transport.
        let id = chainp2p_core::identity::Keypair::generate_ed25519()
            .public()
            .to_peer_id();
        let target = listener.local_addr.clone().with(Protocol::P2p(id));
        assert!(t.handles(&target));
        let dialed = t.dial(&target).await.unwrap();
        let accepted = listener.incoming.next().await.unwrap().unwrap();

        assert_eq!(dialed.remote_addr, listener.local_addr);
        assert_eq!(accepted.local_addr, listener.local_addr);
        assert_eq!(accepted.remote_addr, dialed.local_addr);
        assert_ne!(port_of(&dialed.local_addr), 0);
        assert_ne!(dialed.local_addr, listener.local_addr);

        let (TransportIo::Raw(mut d), TransportIo::Raw(mut a)) = (dialed.io, accepted.io) else {
            panic!("memory connections are raw");
        };
        d.write_all(b"hello listener").await.unwrap();
        let mut buf = [0u8; 14];
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello listener");
        a.write_all(b"hello dialer").await.unwrap();
        let mut buf = [0u8; 12];
        d.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello dialer");
    })
    .await
}

#[tokio::test]
async fn a_second_listener_on_a_taken_port_is_refused() {
    bounded(10, async {
        let t = MemoryTransport::default();
        let l = t.listen_on(&zero()).unwrap();
        let err = t.listen_on(&l.local_addr()).unwrap_err();
        assert_eq!(cause(&err), &MemoryError::AddrInUse(l.port()));
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(err.to_string().contains("already in use"), "{err}");

        // A dialer's ephemeral port is taken too.
        let d = t.connect(&l.local_addr()).unwrap();
        let err = t.listen_on(&d.local_addr).unwrap_err();
        assert!(matches!(cause(&err), MemoryError::AddrInUse(_)), "{err}");
    })
    .await
}

#[tokio::test]
async fn dropping_the_listener_frees_the_port_and_refuses_queued_and_new_dials() {
    bounded(10, async {
        let t = MemoryTransport::default();
        let l = t.listen_on(&zero()).unwrap();
        let addr = l.local_addr();
        let mut queued = t.connect(&addr).unwrap();
        drop(l);

        // The connection that was never accepted is closed.
        let mut buf = [0u8; 8];
        assert_eq!(queued.io.read(&mut buf).await.unwrap(), 0);
        let e = queued.io.write_all(b"x").await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);

        // New dials are refused, and the port can be listened on again.
        let err = t.connect(&addr).unwrap_err();
        assert_eq!(cause(&err), &MemoryError::Refused(port_of(&addr)));
        let mut again = t.listen_on(&addr).unwrap();
        assert_eq!(again.local_addr(), addr);
        let mut d = t.connect(&addr).unwrap();
        let mut a = again.accept().await;
        d.io.write_all(b"ok").await.unwrap();
        let mut buf = [0u8; 2];
        a.io.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
    })
    .await
}

#[tokio::test]
async fn dialing_a_port_nobody_listens_on_fails_at_once() {
    bounded(10, async {
        let t = MemoryTransport::default();
        let port = {
            let l = t.listen_on(&zero()).unwrap();
            l.port()
        };
        let addr: Multiaddr = format!("/memory/{port}").parse().unwrap();
        let err = Transport::dial(&t, &addr).await.unwrap_err();
        assert_eq!(cause(&err), &MemoryError::Refused(port));
        assert_eq!(err.kind(), ErrorKind::Io);
        assert_eq!(err.layer().as_str(), "memory");
        assert!(chainp2p_core::repeated_segment(&chainp2p_core::report(&err)).is_none());

        let err = t.connect(&zero()).unwrap_err();
        assert_eq!(cause(&err), &MemoryError::Refused(0));

        let tcp: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
        assert!(!t.handles(&tcp));
        let err = t.connect(&tcp).unwrap_err();
        assert!(matches!(cause(&err), MemoryError::Unsupported { .. }));
        assert_eq!(err.kind(), ErrorKind::Unsupported);
    })
    .await
}

/// The byte at `offset` of the test stream `seed`.
fn pattern(seed: u8, offset: usize) -> u8 {
    (offset.wrapping_mul(31) ^ (offset >> 13)).wrapping_add(usize::from(seed)) as u8
}

async fn send(mut w: impl futures::AsyncWrite + Unpin, seed: u8, total: usize) {
    let mut sent = 0;
    let mut chunk = vec![0u8; 7919];
    while sent < total {
        let n = chunk.len().min(total - sent);
        for (i, b) in chunk[..n].iter_mut().enumerate() {
            *b = pattern(seed, sent + i);
        }
        w.write_all(&chunk[..n]).await.unwrap();
        sent += n;
    }
    w.close().await.unwrap();
}

async fn receive(mut r: impl futures::AsyncRead + Unpin, seed: u8, total: usize) {
    let mut got = 0;
    let mut buf = vec![0u8; 5003];
    loop {
        let n = r.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        for (i, b) in buf[..n].iter().enumerate() {
            assert_eq!(*b, pattern(seed, got + i), "byte {}", got + i);
        }
        got += n;
    }
    assert_eq!(got, total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_mib_each_way_at_once_through_a_small_buffer() {
    const TOTAL: usize = 64 << 20;
    const BUFFER: usize = 4096;
    bounded(120, async {
        let t = MemoryTransport::new(MemoryConfig::new().with_buffer_size(BUFFER));
        let (d, a) = connected(&t).await;
        let (d_r, d_w) = d.io.split();
        let (a_r, a_w) = a.io.split();
        let tasks = [
            tokio::spawn(send(d_w, 1, TOTAL)),
            tokio::spawn(receive(a_r, 1, TOTAL)),
            tokio::spawn(send(a_w, 2, TOTAL)),
            tokio::spawn(receive(d_r, 2, TOTAL)),
        ];
        for task in tasks {
            task.await.unwrap();
        }
    })
    .await
}

#[tokio::test]
async fn writers_wait_when_their_direction_is_full() {
    bounded(10, async {
        let t = MemoryTransport::new(MemoryConfig::new().with_buffer_size(100));
        let (mut d, mut a) = connected(&t).await;
        assert_eq!(d.io.write(&[7u8; 250]).await.unwrap(), 100);
        assert_eq!(d.io.buffered(), (0, 100));
        // Full: the next write waits until the reader makes room.
        let blocked = tokio::time::timeout(Duration::from_millis(50), d.io.write(&[8u8; 10])).await;
        assert!(blocked.is_err(), "a write to a full direction must wait");
        let mut buf = [0u8; 30];
        a.io.read_exact(&mut buf).await.unwrap();
        assert_eq!(d.io.write(&[8u8; 50]).await.unwrap(), 30);
        assert_eq!(a.io.buffered(), (100, 0));
    })
    .await
}

#[tokio::test]
async fn half_close_each_way_keeps_the_other_direction() {
    bounded(10, async {
        let t = MemoryTransport::default();
        for dialer_closes_first in [true, false] {
            let (d, a) = connected(&t).await;
            let (mut closer, mut other) = if dialer_closes_first { (d, a) } else { (a, d) };
            closer.io.write_all(b"last words").await.unwrap();
            closer.io.close().await.unwrap();
            // Writing after our own close fails; reading still works.
            assert_eq!(
                closer.io.write(b"x").await.unwrap_err().kind(),
                io::ErrorKind::BrokenPipe
            );
            let mut got = Vec::new();
            other.io.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"last words");
            // The other direction keeps working.
            other.io.write_all(b"reply").await.unwrap();
            other.io.close().await.unwrap();
            let mut got = Vec::new();
            closer.io.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"reply");
        }
    })
    .await
}

#[tokio::test]
async fn dropping_one_end_shows_eof_and_broken_pipe_on_the_other() {
    bounded(10, async {
        let t = MemoryTransport::default();
        for drop_dialer in [true, false] {
            let (d, a) = connected(&t).await;
            let (mut gone, mut other) = if drop_dialer { (d, a) } else { (a, d) };
            gone.io.write_all(b"buffered").await.unwrap();
            // A reader already waiting is woken by the drop.
            let mut buf = [0u8; 8];
            other.io.read_exact(&mut buf).await.unwrap();
            let waiting = tokio::spawn(async move {
                let mut rest = Vec::new();
                other.io.read_to_end(&mut rest).await.unwrap();
                (other, rest)
            });
            tokio::time::sleep(Duration::from_millis(20)).await;
            drop(gone);
            let (mut other, rest) = waiting.await.unwrap();
            assert!(rest.is_empty());
            let e = other.io.write_all(b"anyone?").await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
            assert_eq!(other.io.buffer_capacity(), 0);
        }
    })
    .await
}

#[tokio::test]
async fn bytes_buffered_before_a_drop_are_still_delivered() {
    bounded(10, async {
        let t = MemoryTransport::default();
        let (mut d, mut a) = connected(&t).await;
        d.io.write_all(b"goodbye").await.unwrap();
        drop(d);
        let mut got = Vec::new();
        a.io.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"goodbye");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections() {
    const N: usize = 1000;
    bounded(60, async {
        let t = MemoryTransport::new(MemoryConfig::new().with_backlog(64));
        let mut l = t.listen_on(&zero()).unwrap();
        let addr = l.local_addr();
        let server = tokio::spawn(async move {
            let mut conns = Vec::new();
            for _ in 0..N {
                let mut c = l.accept().await;
                // Echo one message, then keep the connection open (idle).
                let mut buf = [0u8; 8];
                c.io.read_exact(&mut buf).await.unwrap();
                c.io.write_all(&buf).await.unwrap();
                conns.push(c);
            }
            conns
        });
        let mut clients = Vec::new();
        for i in 0..N {
            let t = t.clone();
            let addr = addr.clone();
            clients.push(tokio::spawn(async move {
                // The backlog is smaller than N: retry while it is full.
                let mut c = loop {
                    match t.connect(&addr) {
                        Ok(c) => break c,
                        Err(e) if matches!(cause(&e), MemoryError::BacklogFull { .. }) => {
                            tokio::time::sleep(Duration::from_millis(1)).await
                        }
                        Err(e) => panic!("{e}"),
                    }
                };
                let msg = (i as u64).to_be_bytes();
                c.io.write_all(&msg).await.unwrap();
                let mut buf = [0u8; 8];
                c.io.read_exact(&mut buf).await.unwrap();
                assert_eq!(buf, msg);
                c
            }));
        }
        let mut dialers = Vec::new();
        for c in clients {
            dialers.push(c.await.unwrap());
        }
        let accepted = server.await.unwrap();
        assert_eq!(accepted.len(), N);
        // All idle now: no connection holds a buffer.
        for c in dialers.iter().chain(accepted.iter()) {
            assert_eq!(c.io.buffer_capacity(), 0);
            assert_eq!(c.io.buffered(), (0, 0));
        }
        let mut ports: Vec<_> = dialers.iter().map(|c| c.local_addr.clone()).collect();
        ports.sort_by_key(port_of);
        ports.dedup();
        assert_eq!(ports.len(), N, "every dialer has its own ephemeral port");
    })
    .await
}

#[tokio::test]
async fn a_full_backlog_refuses_with_a_typed_error() {
    bounded(10, async {
        let t = MemoryTransport::new(MemoryConfig::new().with_backlog(2));
        let mut l = t.listen_on(&zero()).unwrap();
        let addr = l.local_addr();
        let _one = t.connect(&addr).unwrap();
        let _two = t.connect(&addr).unwrap();
        let err = t.connect(&addr).unwrap_err();
        assert_eq!(
            cause(&err),
            &MemoryError::BacklogFull {
                port: l.port(),
                backlog: 2
            }
        );
        assert_eq!(err.kind(), ErrorKind::LimitExceeded);
        // Accepting one makes room for one.
        let _accepted = l.accept().await;
        let _three = t.connect(&addr).unwrap();
        assert!(t.connect(&addr).is_err());
    })
    .await
}
