//! Keep-alive, window auto-tuning (with a fake clock) and per-stream memory of the session.

use super::tests::{read_all, Pair};
use super::*;
use chainp2p_core::LayerError;

// ----- keep-alive -----

#[test]
fn keepalive_pings_at_start_then_every_interval_and_measures_rtt() {
    let cfg = YamuxConfig::new().with_ping_interval(Some(Duration::from_secs(10)));
    let mut p = Pair::with(cfg);
    let t0 = p.now;
    assert_eq!(p.client.poll_timeout(), None, "no time passed in yet");
    p.client.handle_timeout(t0);
    let out = p.client.take_output();
    assert_eq!(&out[..4], &[0, 2, 0, 1], "a ping SYN right at start");
    let mut out = out;
    p.server.handle_bytes(&mut out, t0).unwrap();
    let mut pong = p.server.take_output();
    p.client
        .handle_bytes(&mut pong, t0 + Duration::from_millis(40))
        .unwrap();
    assert_eq!(p.client.rtt(), Some(Duration::from_millis(40)));
    // Next ping due one interval after the first.
    assert_eq!(p.client.poll_timeout(), Some(t0 + Duration::from_secs(10)));
    p.client.handle_timeout(t0 + Duration::from_secs(5));
    assert!(p.client.take_output().is_empty(), "not yet due");
    p.client.handle_timeout(t0 + Duration::from_secs(10));
    assert_eq!(&p.client.take_output()[..4], &[0, 2, 0, 1]);
}

#[test]
fn keepalive_timeout_ends_the_session_with_a_typed_error() {
    let cfg = YamuxConfig::new()
        .with_ping_interval(Some(Duration::from_secs(10)))
        .with_keepalive_timeout(Some(Duration::from_secs(30)));
    let mut s = Session::new(Mode::Client, cfg);
    let t0 = Instant::now();
    s.handle_timeout(t0);
    s.take_output();
    // Unanswered: the interval passes without a second ping (one outstanding at most).
    s.handle_timeout(t0 + Duration::from_secs(10));
    assert!(s.take_output().is_empty());
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(20)));
    s.handle_timeout(t0 + Duration::from_secs(20));
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(30)));
    s.handle_timeout(t0 + Duration::from_secs(30));
    let want = YamuxError::KeepAliveTimeout(Duration::from_secs(30));
    assert_eq!(s.termination(), Some(&Termination::Error(want.clone())));
    assert_eq!(want.kind(), chainp2p_core::ErrorKind::Timeout);
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(s.open_stream(), Err(want));
}

#[test]
fn keepalive_off_sends_nothing_and_schedules_nothing() {
    let cfg = YamuxConfig::new()
        .with_ping_interval(None)
        .with_keepalive_timeout(None);
    let mut s = Session::new(Mode::Client, cfg);
    s.handle_timeout(Instant::now());
    assert!(s.take_output().is_empty());
    assert_eq!(s.poll_timeout(), None);
}

// ----- window auto-tuning (fake clock) -----

/// Gives the server (the receiver below) an RTT of `rtt` with one keep-alive ping.
fn measure_rtt(p: &mut Pair, rtt: Duration) {
    p.server.handle_timeout(p.now);
    p.now += rtt;
    p.drive();
    assert_eq!(p.server.rtt(), Some(rtt));
}

/// `rounds` times: the client fills the window, the server reads everything at `p.now`,
/// then the clock advances by `step`. Returns the bytes moved.
fn pump(p: &mut Pair, id: StreamId, rounds: usize, step: Duration) -> usize {
    let data = vec![0x5au8; 1 << 20];
    let mut moved = 0;
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..rounds {
        while p.client.write(id, &data, usize::MAX).unwrap() > 0 {}
        p.drive();
        while let ReadOutcome::Data(n) = p.server.read_at(id, &mut buf, p.now).unwrap() {
            moved += n;
        }
        p.drive();
        p.now += step;
    }
    moved
}

#[test]
fn autotune_grows_the_window_when_the_reader_keeps_up_within_two_rtt() {
    let mut p = Pair::new();
    measure_rtt(&mut p, Duration::from_millis(10));
    let id = p.open();
    assert_eq!(p.server.receive_window(id), 256 * 1024);
    pump(&mut p, id, 1, Duration::from_millis(1));
    assert_eq!(p.server.receive_window(id), 512 * 1024, "doubled once");
    assert_eq!(p.client.send_window(id), 512 * 1024, "growth granted");
    pump(&mut p, id, 3, Duration::from_millis(1));
    assert_eq!(p.server.receive_window(id), 4 << 20);
    assert_eq!(p.server.window_growth(), (4 << 20) - 256 * 1024);
}

#[test]
fn autotune_does_not_grow_when_updates_are_slower_than_two_rtt() {
    let mut p = Pair::new();
    measure_rtt(&mut p, Duration::from_millis(10));
    let id = p.open();
    p.now += Duration::from_millis(25);
    let moved = pump(&mut p, id, 10, Duration::from_millis(25));
    assert!(moved >= 10 * 128 * 1024);
    assert_eq!(p.server.receive_window(id), 256 * 1024);
    assert_eq!(p.server.window_growth(), 0);
}

#[test]
fn autotune_needs_an_rtt() {
    let mut p = Pair::new();
    let id = p.open();
    pump(&mut p, id, 5, Duration::ZERO);
    assert_eq!(p.server.receive_window(id), 256 * 1024);
}

#[test]
fn autotune_caps_at_the_stream_maximum() {
    let mut p = Pair::new();
    measure_rtt(&mut p, Duration::from_millis(10));
    let id = p.open();
    pump(&mut p, id, 12, Duration::from_millis(1));
    assert_eq!(p.server.receive_window(id), 16 << 20);
    assert_eq!(p.client.send_window(id), 16 << 20);
    // An odd cap is reached exactly, never passed.
    let cfg = YamuxConfig::new().with_max_stream_receive_window(1_000_000);
    let mut p = Pair::with(cfg);
    measure_rtt(&mut p, Duration::from_millis(10));
    let id = p.open();
    pump(&mut p, id, 6, Duration::from_millis(1));
    assert_eq!(p.server.receive_window(id), 1_000_000);
}

/// A memory scope with a fixed limit, recording what is reserved.
#[derive(Debug)]
struct Budget {
    limit: usize,
    reserved: std::sync::Mutex<usize>,
}

impl chainp2p_core::MemoryBudget for Budget {
    fn reserve(&self, bytes: usize) -> bool {
        let mut r = self.reserved.lock().unwrap();
        if *r + bytes > self.limit {
            return false;
        }
        *r += bytes;
        true
    }

    fn release(&self, bytes: usize) {
        let mut r = self.reserved.lock().unwrap();
        *r = r.checked_sub(bytes).expect("released more than reserved");
    }
}

#[test]
fn window_growth_is_reserved_from_the_memory_scope_and_a_refusal_only_stops_growth() {
    let budget = Arc::new(Budget {
        limit: 1 << 20,
        reserved: std::sync::Mutex::new(0),
    });
    let mut p = Pair::new();
    p.server.set_memory_budget(budget.clone());
    measure_rtt(&mut p, Duration::from_millis(10));
    let a = p.open();
    let moved = pump(&mut p, a, 8, Duration::from_millis(1));
    // 256 KiB -> 512 KiB -> 1 MiB -> 1.25 MiB: the last doubling (1 MiB more) was refused
    // and halved until it fit the 1 MiB scope (768 KiB reserved before it: 256 KiB more).
    let window = p.server.receive_window(a);
    assert_eq!(
        window,
        256 * 1024 + (1 << 20),
        "grew as far as the scope allowed"
    );
    assert_eq!(*budget.reserved.lock().unwrap(), 1 << 20);
    assert_eq!(p.server.window_growth(), 1 << 20);
    assert!(
        moved >= 8 * 256 * 1024,
        "the stream kept working at the window it had"
    );
    // A second stream gets no growth at all, and still moves data.
    let b = p.open();
    assert!(pump(&mut p, b, 3, Duration::from_millis(1)) >= 3 * 128 * 1024);
    assert_eq!(p.server.receive_window(b), 256 * 1024);
    // A forgotten stream gives its reservation back; dropping the session the rest.
    p.client.close_write(a).unwrap();
    p.drive();
    p.server.close_write(a).unwrap();
    p.client.release(a);
    p.server.release(a);
    p.drive();
    assert!(!p.server.has_stream(a));
    assert_eq!(*budget.reserved.lock().unwrap(), 0);
    pump(&mut p, b, 4, Duration::from_millis(1));
    assert!(
        *budget.reserved.lock().unwrap() > 0,
        "b grows into the freed scope"
    );
    drop(p);
    assert_eq!(
        *budget.reserved.lock().unwrap(),
        0,
        "all given back with the session"
    );
}

#[test]
fn autotune_stops_at_the_connection_budget_and_gets_it_back() {
    let cfg = YamuxConfig::new()
        .with_max_stream_receive_window(1 << 20)
        .with_max_connection_receive_window(768 * 1024);
    let mut p = Pair::with(cfg);
    measure_rtt(&mut p, Duration::from_millis(10));
    let a = p.open();
    let b = p.open();
    pump(&mut p, a, 4, Duration::from_millis(1));
    assert_eq!(
        p.server.receive_window(a),
        1 << 20,
        "a took the whole budget"
    );
    pump(&mut p, b, 4, Duration::from_millis(1));
    assert_eq!(
        p.server.receive_window(b),
        256 * 1024,
        "no budget left for b"
    );
    assert_eq!(p.server.window_growth(), 768 * 1024);
    // Closing a returns its growth; b can grow again.
    p.client.close_write(a).unwrap();
    p.drive();
    p.server.close_write(a).unwrap();
    p.client.release(a);
    p.server.release(a);
    p.drive();
    assert!(!p.server.has_stream(a));
    assert_eq!(p.server.window_growth(), 0);
    pump(&mut p, b, 3, Duration::from_millis(1));
    assert_eq!(p.server.receive_window(b), 1 << 20);
}

#[test]
fn configured_receive_window_is_limited_by_the_budget() {
    let cfg = YamuxConfig::new()
        .with_receive_window(1 << 20)
        .with_max_stream_receive_window(1 << 20)
        .with_max_connection_receive_window(1 << 20);
    let mut p = Pair::with(cfg);
    let ids: Vec<_> = (0..3).map(|_| p.open()).collect();
    let windows: Vec<_> = ids.iter().map(|&id| p.client.send_window(id)).collect();
    // 768 KiB extra each: the first gets it, the second the remaining 256 KiB.
    assert_eq!(windows, vec![1 << 20, 512 * 1024, 256 * 1024]);
}

// ----- memory -----

#[test]
fn idle_streams_are_small_and_own_no_buffers() {
    assert!(
        std::mem::size_of::<StreamState>() <= 72,
        "StreamState is {} bytes",
        std::mem::size_of::<StreamState>()
    );
    let mut p = Pair::new();
    let id = p.open();
    for s in [&p.client, &p.server] {
        let st = s.streams.get(&id).unwrap();
        assert_eq!(st.recv_buf.capacity(), 0, "no preallocated receive buffer");
    }
    // After a message was received and read, the stream holds no buffer again.
    p.client.write(id, b"x", usize::MAX).unwrap();
    p.drive();
    assert!(p.server.streams.get(&id).unwrap().recv_buf.capacity() > 0);
    assert_eq!(read_all(&mut p.server, id).0, b"x");
    assert_eq!(p.server.streams.get(&id).unwrap().recv_buf.capacity(), 0);
}
