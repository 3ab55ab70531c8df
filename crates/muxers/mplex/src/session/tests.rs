//! Two sessions in memory, driven to quiescence like quinn-proto's `Pair`.

use super::*;
use crate::codec::Frame;
use std::sync::OnceLock;
use std::time::Duration;
use tokio_util::codec::Encoder;

/// The fake clock's origin; tests move time by adding to it.
fn t0() -> Instant {
    static T0: OnceLock<Instant> = OnceLock::new();
    *T0.get_or_init(Instant::now)
}

struct Pair {
    a: Session,
    b: Session,
    /// Bytes each side has not consumed yet (input blocked).
    a_in: BytesMut,
    b_in: BytesMut,
    a_events: Vec<Event>,
    b_events: Vec<Event>,
    a_err: Option<MplexError>,
    b_err: Option<MplexError>,
    /// The fake clock both sides see.
    now: Instant,
}

impl Pair {
    fn new() -> Self {
        Self::with(MplexConfig::default())
    }

    fn with(config: MplexConfig) -> Self {
        Pair {
            a: Session::new(config.clone()),
            b: Session::new(config),
            a_in: BytesMut::new(),
            b_in: BytesMut::new(),
            a_events: Vec::new(),
            b_events: Vec::new(),
            a_err: None,
            b_err: None,
            now: t0(),
        }
    }

    /// Moves bytes both ways until neither side has output (or input it can take).
    fn drive(&mut self) {
        for _ in 0..1000 {
            let a_out = self.a.take_output();
            let b_out = self.b.take_output();
            self.b_in.extend_from_slice(&a_out);
            self.a_in.extend_from_slice(&b_out);
            if let Err(e) = self.b.handle_bytes(&mut self.b_in, self.now) {
                self.b_err.get_or_insert(e);
            }
            if let Err(e) = self.a.handle_bytes(&mut self.a_in, self.now) {
                self.a_err.get_or_insert(e);
            }
            self.a_events
                .extend(std::iter::from_fn(|| self.a.poll_event()));
            self.b_events
                .extend(std::iter::from_fn(|| self.b.poll_event()));
            if self.a.output_len() == 0 && self.b.output_len() == 0 {
                break;
            }
        }
    }

    /// Moves the fake clock forward, lets both sides handle their timers (as the driver does
    /// when `poll_timeout` passes), and drives.
    fn advance(&mut self, by: Duration) {
        self.now += by;
        for s in [&mut self.a, &mut self.b] {
            if s.poll_timeout().is_some_and(|t| t <= self.now) {
                s.handle_timeout(self.now);
            }
        }
        self.drive();
    }

    /// A opens, B accepts; returns (A's id, B's id) of the stream.
    fn open(&mut self) -> (StreamId, StreamId) {
        let id = self.a.open_stream().unwrap();
        self.drive();
        let remote = self.b.accept(self.now).unwrap();
        assert_eq!(remote, StreamId::new(id.num, Endpoint::Remote));
        (id, remote)
    }
}

fn read_all(s: &mut Session, id: StreamId) -> (Vec<u8>, Result<ReadOutcome, MplexError>) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(id, &mut buf, t0()) {
            Ok(ReadOutcome::Data(n)) => out.extend_from_slice(&buf[..n]),
            other => return (out, other),
        }
    }
}

fn raw(frame: Frame) -> BytesMut {
    let mut b = BytesMut::new();
    FrameCodec::new(1 << 20).encode(frame, &mut b).unwrap();
    b
}

fn local(num: u64) -> StreamId {
    StreamId::new(num, Endpoint::Local)
}

fn remote(num: u64) -> StreamId {
    StreamId::new(num, Endpoint::Remote)
}

#[test]
fn open_accept_and_exchange_both_directions() {
    let mut p = Pair::new();
    let id = p.a.open_stream().unwrap();
    assert_eq!(id, local(0));
    assert_eq!(
        &p.a.take_output()[..],
        &[0x00, 0x01, b'0'],
        "NewStream id0 \"0\""
    );
    // Re-send what we took: a NewStream with the same bytes.
    p.b_in.extend_from_slice(&[0x00, 0x01, b'0']);
    p.drive();
    assert!(p.b_events.contains(&Event::InboundStream(remote(0))));
    assert_eq!(p.b.accept(t0()), Some(remote(0)));
    assert_eq!(p.a.write(id, b"hi", usize::MAX).unwrap(), 2);
    assert_eq!(&p.a.take_output()[..], &[0x02, 0x02, b'h', b'i']);
    p.b_in.extend_from_slice(&[0x02, 0x02, b'h', b'i']);
    p.drive();
    assert_eq!(read_all(&mut p.b, remote(0)).0, b"hi");
    p.b.write(remote(0), b"yo", usize::MAX).unwrap();
    assert_eq!(&p.b.take_output()[..], &[0x01, 0x02, b'y', b'o']);
    p.a_in.extend_from_slice(&[0x01, 0x02, b'y', b'o']);
    p.drive();
    assert_eq!(read_all(&mut p.a, id).0, b"yo");

    // B opens its own stream 0: a different stream on both sides.
    let bid = p.b.open_stream().unwrap();
    assert_eq!(bid, local(0));
    p.drive();
    assert_eq!(p.a.accept(t0()), Some(remote(0)));
    assert_eq!(p.a.open_stream().unwrap(), local(1), "ids count up by one");
}

#[test]
fn same_number_opened_by_both_sides_at_once_stays_distinct() {
    let mut p = Pair::new();
    let a0 = p.a.open_stream().unwrap();
    let b0 = p.b.open_stream().unwrap();
    assert_eq!((a0, b0), (local(0), local(0)));
    p.a.write(a0, b"from a's stream", usize::MAX).unwrap();
    p.b.write(b0, b"from b's stream", usize::MAX).unwrap();
    p.drive();
    assert_eq!(p.a.accept(t0()), Some(remote(0)));
    assert_eq!(p.b.accept(t0()), Some(remote(0)));
    assert_eq!(read_all(&mut p.a, remote(0)).0, b"from b's stream");
    assert_eq!(read_all(&mut p.b, remote(0)).0, b"from a's stream");
    // Answers travel back on the right stream.
    p.a.write(remote(0), b"answer to b", usize::MAX).unwrap();
    p.b.write(remote(0), b"answer to a", usize::MAX).unwrap();
    p.drive();
    assert_eq!(read_all(&mut p.a, a0).0, b"answer to a");
    assert_eq!(read_all(&mut p.b, b0).0, b"answer to b");
    assert!(p.a_err.is_none() && p.b_err.is_none());
}

#[test]
fn half_close_each_way_then_stream_is_forgotten() {
    let mut p = Pair::new();
    let (a, b) = p.open();
    p.a.write(a, b"request", usize::MAX).unwrap();
    p.a.close_write(a).unwrap();
    p.drive();
    assert_eq!(
        read_all(&mut p.b, b),
        (b"request".to_vec(), Ok(ReadOutcome::Eof))
    );
    assert_eq!(p.a.write(a, b"x", 10), Err(MplexError::WriteAfterClose(a)));
    // B can still answer on its half.
    p.b.write(b, b"response", usize::MAX).unwrap();
    p.b.close_write(b).unwrap();
    p.drive();
    assert_eq!(
        read_all(&mut p.a, a),
        (b"response".to_vec(), Ok(ReadOutcome::Eof))
    );
    assert!(p.a_events.contains(&Event::StreamClosed(a)));
    assert!(p.b_events.contains(&Event::StreamClosed(b)));
    p.a.release(a);
    p.b.release(b);
    p.drive();
    assert_eq!((p.a.stream_count(), p.b.stream_count()), (0, 0));
}

#[test]
fn reset_by_opener_ends_both_directions() {
    let mut p = Pair::new();
    let (a, b) = p.open();
    p.a.write(a, b"lost", usize::MAX).unwrap();
    p.drive();
    p.a.reset(a);
    p.drive();
    assert!(p.b_events.contains(&Event::StreamReset(b)));
    assert_eq!(
        p.b.read(b, &mut [0; 8], t0()),
        Err(MplexError::StreamReset(b))
    );
    assert_eq!(p.b.write(b, b"x", 10), Err(MplexError::StreamReset(b)));
    assert_eq!(
        p.a.read(a, &mut [0; 8], t0()),
        Err(MplexError::StreamReset(a))
    );
    assert!(p.b.stats().discarded_bytes >= 4, "queued data dropped");
}

#[test]
fn reset_by_receiver_ends_both_directions_and_late_frames_are_skipped() {
    let mut p = Pair::new();
    let (a, b) = p.open();
    p.b.reset(b);
    p.b.release(b);
    assert!(!p.b.has_stream(b));
    // A writes before it sees the Reset: the late frame is skipped, B lives.
    p.a.write(a, b"late", usize::MAX).unwrap();
    p.drive();
    assert!(p.a_events.contains(&Event::StreamReset(a)));
    assert_eq!(p.a.write(a, b"x", 10), Err(MplexError::StreamReset(a)));
    assert_eq!(p.b.stats().ignored_frames, 1);
    assert_eq!(p.b.stats().discarded_bytes, 4);
    assert!(p.b_err.is_none() && p.b.termination().is_none());
}

#[test]
fn dropping_an_open_stream_resets_it_and_after_remote_close_closes_it() {
    let mut p = Pair::new();
    let (a, b) = p.open();
    p.a.release(a);
    p.drive();
    assert!(p.b_events.contains(&Event::StreamReset(b)));
    assert!(!p.a.has_stream(a));

    let (a, b) = p.open();
    p.b.close_write(b).unwrap();
    p.drive();
    p.a.release(a);
    p.drive();
    assert_eq!(read_all(&mut p.b, b).1, Ok(ReadOutcome::Eof), "graceful");
}

#[test]
fn overflow_resets_the_stream_and_the_reader_gets_buffered_bytes_then_an_error() {
    let mut p = Pair::with(
        MplexConfig::new()
            .with_max_buffer_per_stream(1000)
            .with_overflow(OverflowBehaviour::ResetStream),
    );
    let (a, b) = p.open();
    let (a2, b2) = p.open();
    p.a.write(a, &[1u8; 600], usize::MAX).unwrap();
    p.a.write(a, &[2u8; 600], usize::MAX).unwrap();
    p.a.write(a2, b"other stream lives", usize::MAX).unwrap();
    p.drive();
    assert!(p.b_events.contains(&Event::StreamReset(b)));
    assert_eq!(p.b.stats().overflow_resets, 1);
    // The peer got our Reset.
    assert!(p.a_events.contains(&Event::StreamReset(a)));
    assert_eq!(p.a.write(a, b"x", 10), Err(MplexError::StreamReset(a)));
    // Nothing silently lost: the 600 buffered bytes, then a typed error (not EOF).
    let (got, end) = read_all(&mut p.b, b);
    assert_eq!(got, vec![1u8; 600]);
    assert_eq!(end, Err(MplexError::BufferOverflow { id: b, limit: 1000 }));
    assert_eq!(read_all(&mut p.b, b2).0, b"other stream lives");
    assert!(p.b.termination().is_none());
}

#[test]
fn block_mode_pauses_input_until_the_reader_drains() {
    let cfg = MplexConfig::new()
        .with_max_buffer_per_stream(1000)
        .with_overflow(OverflowBehaviour::Block);
    let mut p = Pair::with(cfg);
    let (a, b) = p.open();
    let (a2, b2) = p.open();
    p.a.write(a, &[1u8; 600], usize::MAX).unwrap();
    p.a.write(a, &[2u8; 600], usize::MAX).unwrap();
    p.a.write(a2, b"behind", usize::MAX).unwrap();
    p.drive();
    assert!(p.b.input_blocked());
    assert_eq!(p.b.buffered(b), 600);
    assert!(!p.b_in.is_empty(), "later frames wait in the input buffer");
    assert_eq!(p.b.read(b2, &mut [0; 8], t0()), Ok(ReadOutcome::Blocked));
    // Reading frees room: the held frame is delivered and input resumes.
    let mut buf = [0u8; 600];
    assert_eq!(p.b.read(b, &mut buf, t0()), Ok(ReadOutcome::Data(600)));
    assert!(!p.b.input_blocked());
    p.drive();
    assert!(p.b_events.contains(&Event::InputResumed));
    assert_eq!(read_all(&mut p.b, b).0, vec![2u8; 600]);
    assert_eq!(read_all(&mut p.b, b2).0, b"behind");
    assert_eq!(p.b.stats().overflow_resets, 0);
}

#[test]
fn block_mode_drops_the_held_frame_when_its_stream_is_reset() {
    let cfg = MplexConfig::new()
        .with_max_buffer_per_stream(1000)
        .with_overflow(OverflowBehaviour::Block);
    let mut p = Pair::with(cfg);
    let (a, b) = p.open();
    p.a.write(a, &[1u8; 600], usize::MAX).unwrap();
    p.a.write(a, &[2u8; 600], usize::MAX).unwrap();
    p.drive();
    assert!(p.b.input_blocked());
    p.b.reset(b);
    assert!(!p.b.input_blocked());
}

#[test]
fn too_many_inbound_streams_are_reset_and_the_session_lives() {
    // The hard cap applies even with room in the accept queue.
    let mut p = Pair::with(MplexConfig::new().with_max_inbound_streams(2));
    let ids: Vec<StreamId> = (0..3).map(|_| p.a.open_stream().unwrap()).collect();
    for id in &ids {
        p.a.write(*id, b"data", usize::MAX).unwrap();
    }
    p.drive();
    assert_eq!(p.b.accept(t0()), Some(remote(0)));
    assert_eq!(p.b.accept(t0()), Some(remote(1)));
    assert_eq!(p.b.accept(t0()), None);
    assert!(p.a_events.contains(&Event::StreamReset(local(2))));
    assert!(!p.a_events.contains(&Event::StreamReset(local(1))));
    let stats = p.b.stats();
    assert_eq!(stats.refused_streams, 1);
    assert_eq!(
        stats.ignored_frames, 1,
        "the refused stream's data is skipped"
    );
    assert!(p.b.termination().is_none() && p.b_err.is_none());
    // Once one inbound stream is gone, a new one is accepted.
    p.b.reset(remote(0));
    p.b.release(remote(0));
    let id = p.a.open_stream().unwrap();
    p.drive();
    assert_eq!(
        p.b.accept(t0()),
        Some(StreamId::new(id.num, Endpoint::Remote))
    );
}

#[test]
fn data_for_an_unknown_stream_is_skipped() {
    let mut s = Session::new(MplexConfig::default());
    let mut b = raw(Frame::new(5, Flag::MessageInitiator, &b"who?"[..]));
    b.extend_from_slice(&raw(Frame::new(9, Flag::CloseReceiver, Bytes::new())));
    s.handle_bytes(&mut b, t0()).unwrap();
    assert_eq!(s.stats().ignored_frames, 2);
    assert_eq!(s.stats().discarded_bytes, 4);
    assert!(s.termination().is_none());
}

#[test]
fn zero_length_messages_are_legal() {
    let mut s = Session::new(MplexConfig::default());
    let mut b = raw(Frame::new(3, Flag::NewStream, Bytes::new()));
    b.extend_from_slice(&raw(Frame::new(3, Flag::MessageInitiator, Bytes::new())));
    b.extend_from_slice(&raw(Frame::new(3, Flag::MessageInitiator, &b"x"[..])));
    s.handle_bytes(&mut b, t0()).unwrap();
    let id = s.accept(t0()).unwrap();
    assert_eq!(
        read_all(&mut s, id),
        (b"x".to_vec(), Ok(ReadOutcome::Blocked))
    );
}

#[test]
fn duplicate_new_stream_ends_the_session() {
    let mut s = Session::new(MplexConfig::default());
    let mut b = raw(Frame::new(4, Flag::NewStream, Bytes::new()));
    b.extend_from_slice(&raw(Frame::new(4, Flag::NewStream, &b"4"[..])));
    assert_eq!(
        s.handle_bytes(&mut b, t0()),
        Err(MplexError::DuplicateStream(4))
    );
    assert_eq!(
        s.termination(),
        Some(&Termination::Error(MplexError::DuplicateStream(4)))
    );
    assert!(s.open_stream().is_err());
}

#[test]
fn malformed_input_ends_the_session_with_a_typed_error() {
    let cases: [(&[u8], MplexError); 3] = [
        (&[0x07, 0x00], MplexError::UnknownFlag(7)),
        (
            &[0x02, 0x81, 0x80, 0x40],
            MplexError::FrameTooLarge {
                len: (1 << 20) + 1,
                max: 1 << 20,
            },
        ),
        (
            &[0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
            MplexError::InvalidVarint("longer than 9 bytes"),
        ),
    ];
    for (bytes, want) in cases {
        let mut s = Session::new(MplexConfig::default());
        let mut b = BytesMut::from(bytes);
        assert_eq!(s.handle_bytes(&mut b, t0()), Err(want.clone()));
        assert_eq!(s.termination(), Some(&Termination::Error(want)));
        assert_eq!(s.poll_event(), Some(Event::Terminated));
    }
}

#[test]
fn eof_mid_frame_is_an_error_and_at_a_boundary_is_clean() {
    let mut s = Session::new(MplexConfig::default());
    let mut b = raw(Frame::new(1, Flag::NewStream, Bytes::new()));
    b.extend_from_slice(&raw(Frame::new(1, Flag::MessageInitiator, &b"abc"[..])));
    b.extend_from_slice(&[0x0a, 0x05, b'x']);
    s.handle_bytes(&mut b, t0()).unwrap();
    s.on_eof(&b);
    assert_eq!(
        s.termination(),
        Some(&Termination::Error(MplexError::EofMidFrame))
    );

    let mut s = Session::new(MplexConfig::default());
    let mut b = raw(Frame::new(1, Flag::NewStream, Bytes::new()));
    b.extend_from_slice(&raw(Frame::new(1, Flag::MessageInitiator, &b"abc"[..])));
    s.handle_bytes(&mut b, t0()).unwrap();
    s.on_eof(&b);
    assert_eq!(s.termination(), Some(&Termination::Clean));
    // Buffered data is still readable; then the stream fails (the peer never closed it).
    let id = s.accept(t0()).unwrap();
    assert_eq!(
        read_all(&mut s, id),
        (b"abc".to_vec(), Err(MplexError::SessionClosed))
    );
}

#[test]
fn writes_are_split_at_split_send_size() {
    let mut p = Pair::with(MplexConfig::new().with_split_send_size(1000));
    let (a, _) = p.open();
    p.a.write(a, &[1u8; 2500], usize::MAX).unwrap();
    let mut out = p.a.take_output();
    let mut codec = FrameCodec::new(1 << 20);
    let frames: Vec<(usize, Flag)> = std::iter::from_fn(|| codec.decode(&mut out).unwrap())
        .map(|f| (f.body.len(), f.flag))
        .collect();
    let m = Flag::MessageInitiator;
    assert_eq!(frames, vec![(1000, m), (1000, m), (500, m)]);
    // `max` bounds what one write takes.
    assert_eq!(p.a.write(a, &[1u8; 2500], 700).unwrap(), 700);
}

#[test]
fn closed_session_refuses_new_streams_both_ways() {
    let mut p = Pair::new();
    p.b.close();
    assert_eq!(p.b.open_stream(), Err(MplexError::SessionClosed));
    let id = p.a.open_stream().unwrap();
    p.drive();
    assert_eq!(p.b.accept(t0()), None);
    assert!(p.a_events.contains(&Event::StreamReset(id)));
}

#[test]
fn a_stream_reset_for_overflow_before_accept_is_still_handed_out() {
    let mut s = Session::new(
        MplexConfig::new()
            .with_max_buffer_per_stream(4)
            .with_overflow(OverflowBehaviour::ResetStream),
    );
    let mut b = raw(Frame::new(0, Flag::NewStream, Bytes::new()));
    b.extend_from_slice(&raw(Frame::new(0, Flag::MessageInitiator, &b"abc"[..])));
    b.extend_from_slice(&raw(Frame::new(0, Flag::MessageInitiator, &b"de"[..])));
    s.handle_bytes(&mut b, t0()).unwrap();
    let id = s.accept(t0()).unwrap();
    assert_eq!(
        read_all(&mut s, id),
        (
            b"abc".to_vec(),
            Err(MplexError::BufferOverflow { id, limit: 4 })
        )
    );
    // A Reset (ResetReceiver, number 0) went out.
    assert_eq!(&s.take_output()[..], &[0x05, 0x00]);
}

/// The default policy with a 1000-byte buffer (timeout 5 s).
fn block_then_reset() -> MplexConfig {
    let cfg = MplexConfig::new().with_max_buffer_per_stream(1000);
    assert_eq!(
        cfg.overflow,
        OverflowBehaviour::BlockThenReset(Duration::from_secs(5)),
        "the default"
    );
    cfg
}

#[test]
fn block_then_reset_never_resets_an_alive_slow_reader_and_it_gets_every_byte() {
    let mut p = Pair::with(block_then_reset().with_split_send_size(300));
    let (a, b) = p.open();
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    p.a.write(a, &data, usize::MAX).unwrap();
    p.a.close_write(a).unwrap();
    p.drive();
    assert!(p.b.input_blocked(), "a full buffer stops input");
    let mut got = Vec::new();
    for _ in 0..10_000 {
        // One small read every 4.9 s: slower than the network, faster than the timeout.
        p.advance(Duration::from_millis(4900));
        let mut buf = [0u8; 100];
        match p.b.read(b, &mut buf, p.now).unwrap() {
            ReadOutcome::Data(n) => got.extend_from_slice(&buf[..n]),
            ReadOutcome::Eof => break,
            ReadOutcome::Blocked => {}
        }
        p.drive();
    }
    assert!(
        got == data,
        "every byte, in order ({} of {})",
        got.len(),
        data.len()
    );
    let stats = p.b.stats();
    assert_eq!(stats.overflow_resets, 0);
    assert!(stats.input_stalls > 10, "{stats:?}");
    assert!(!p.a_events.contains(&Event::StreamReset(a)));
}

#[test]
fn block_then_reset_resets_a_stuck_reader_after_the_timeout_then_others_at_once() {
    let mut p = Pair::with(block_then_reset());
    let (a1, b1) = p.open();
    let (a2, b2) = p.open();
    let (a3, b3) = p.open();
    // Both stuck streams get their first bytes at t0 and are never read.
    p.a.write(a1, &[1u8; 600], usize::MAX).unwrap();
    p.a.write(a2, &[2u8; 600], usize::MAX).unwrap();
    p.drive();
    p.advance(Duration::from_secs(1));
    // Stream 1 overflows at t0+1s: input stalls (it has been idle only 1 s).
    p.a.write(a1, &[1u8; 600], usize::MAX).unwrap();
    p.a.write(a2, &[2u8; 600], usize::MAX).unwrap();
    p.a.write(a3, b"behind the stall", usize::MAX).unwrap();
    p.drive();
    assert!(p.b.input_blocked());
    assert_eq!(p.b.poll_timeout(), Some(t0() + Duration::from_secs(5)));
    assert_eq!(p.b.handle_timeout(t0() + Duration::from_millis(4999)), None);
    assert_eq!(p.b.read(b3, &mut [0; 8], p.now), Ok(ReadOutcome::Blocked));
    // The timeout passes: stream 1 is reset, input resumes, and stream 2 (idle 5 s by now)
    // overflows and is reset at once, without a second stall.
    p.advance(Duration::from_secs(4));
    assert!(p.b.input_blocked() || p.b.stats().overflow_resets == 2);
    assert!(!p.b.input_blocked());
    let stats = p.b.stats();
    assert_eq!(
        (stats.overflow_resets, stats.input_stalls),
        (2, 1),
        "{stats:?}"
    );
    assert_eq!(p.b.poll_timeout(), None);
    assert!(p.a_events.contains(&Event::StreamReset(a1)));
    assert!(p.a_events.contains(&Event::StreamReset(a2)));
    assert_eq!(p.a.write(a1, b"x", 10), Err(MplexError::StreamReset(a1)));
    // The connection resumed: data behind the stall arrives, a new stream works.
    assert_eq!(read_all(&mut p.b, b3).0, b"behind the stall");
    let (a4, b4) = p.open();
    p.a.write(a4, b"new stream", usize::MAX).unwrap();
    p.drive();
    assert_eq!(read_all(&mut p.b, b4).0, b"new stream");
    // Nothing silently lost: the stuck readers get their buffered bytes, then the error.
    for (b, byte) in [(b1, 1u8), (b2, 2u8)] {
        assert_eq!(
            read_all(&mut p.b, b),
            (
                vec![byte; 600],
                Err(MplexError::BufferOverflow { id: b, limit: 1000 })
            )
        );
    }
}

/// The flake of the conformance case `never_reading_peer`: a stream accepted before its
/// writer sent anything gets its first bytes only after another stream's stall ended. Data
/// arriving into its empty buffer is no progress of a reader that never read, so it is reset
/// at once when it overflows, not after a second stall of a whole timeout. A reader that
/// waits in `read` keeps the grace: data arriving for it is its progress.
#[test]
fn block_then_reset_data_held_behind_a_stall_restarts_no_clock_of_a_never_read_stream() {
    let mut p = Pair::with(block_then_reset());
    let (a1, _b1) = p.open();
    let (a2, b2) = p.open();
    let (a3, b3) = p.open();
    // Stream 3's reader waits for data; stream 2's is never read.
    assert_eq!(p.b.read(b3, &mut [0; 8], p.now), Ok(ReadOutcome::Blocked));
    p.a.write(a1, &[1u8; 600], usize::MAX).unwrap();
    p.drive();
    p.advance(Duration::from_secs(1));
    // Stream 1 overflows: input stalls; streams 2 and 3 get their first bytes behind it.
    p.a.write(a1, &[1u8; 600], usize::MAX).unwrap();
    p.a.write(a2, &[2u8; 600], usize::MAX).unwrap();
    p.a.write(a3, &[3u8; 600], usize::MAX).unwrap();
    p.a.write(a2, &[2u8; 600], usize::MAX).unwrap();
    p.drive();
    assert!(p.b.input_blocked());
    assert_eq!(p.b.poll_timeout(), Some(t0() + Duration::from_secs(5)));
    // At t0+5s stream 1 is reset; stream 2 (accepted at t0, never read) overflows and is
    // reset at once: no second stall.
    p.advance(Duration::from_secs(4));
    assert!(
        !p.b.input_blocked(),
        "a second stall: {:?}",
        p.b.poll_timeout()
    );
    let stats = p.b.stats();
    assert_eq!(
        (stats.overflow_resets, stats.input_stalls),
        (2, 1),
        "{stats:?}"
    );
    assert!(p.a_events.contains(&Event::StreamReset(a2)));
    assert_eq!(p.b.buffered(b2), 600);
    // Stream 3's data arrived while its reader waited: that was progress, so it overflowing
    // now stalls (its reader gets a full timeout), and is not reset at once.
    p.a.write(a3, &[3u8; 600], usize::MAX).unwrap();
    p.drive();
    assert!(p.b.input_blocked());
    assert_eq!(p.b.poll_timeout(), Some(t0() + Duration::from_secs(10)));
    let mut buf = [0u8; 600];
    assert_eq!(p.b.read(b3, &mut buf, p.now), Ok(ReadOutcome::Data(600)));
    p.drive();
    assert!(!p.b.input_blocked());
    assert_eq!(p.b.stats().overflow_resets, 2);
}

#[test]
fn block_then_reset_deadline_moves_with_reader_progress() {
    let mut p = Pair::with(block_then_reset());
    let (a, b) = p.open();
    p.a.write(a, &[1u8; 600], usize::MAX).unwrap();
    p.a.write(a, &[2u8; 600], usize::MAX).unwrap();
    p.a.write(a, &[3u8; 600], usize::MAX).unwrap();
    p.drive();
    assert_eq!(p.b.poll_timeout(), Some(t0() + Duration::from_secs(5)));
    // A read at t0+3s makes room for the held frame; the next one stalls with a deadline
    // counted from that read.
    p.advance(Duration::from_secs(3));
    let mut buf = [0u8; 600];
    assert_eq!(p.b.read(b, &mut buf, p.now), Ok(ReadOutcome::Data(600)));
    p.drive();
    assert!(p.b.input_blocked());
    assert_eq!(p.b.poll_timeout(), Some(t0() + Duration::from_secs(8)));
    p.advance(Duration::from_secs(4));
    assert_eq!(
        p.b.stats().overflow_resets,
        0,
        "7 s after the first stall, alive"
    );
    p.advance(Duration::from_secs(1));
    assert_eq!(p.b.stats().overflow_resets, 1, "5 s after the last read");
}

#[test]
fn block_mode_never_resets() {
    let cfg = block_then_reset().with_overflow(OverflowBehaviour::Block);
    let mut p = Pair::with(cfg);
    let (a, _b) = p.open();
    p.a.write(a, &[1u8; 600], usize::MAX).unwrap();
    p.a.write(a, &[1u8; 600], usize::MAX).unwrap();
    p.drive();
    assert!(p.b.input_blocked());
    assert_eq!(p.b.poll_timeout(), None);
    p.advance(Duration::from_secs(3600));
    assert!(p.b.input_blocked());
    assert_eq!(p.b.stats().overflow_resets, 0);
}

/// A opens `n` streams, each carrying one byte.
fn open_many(p: &mut Pair, n: usize) -> Vec<StreamId> {
    let ids: Vec<StreamId> = (0..n).map(|_| p.a.open_stream().unwrap()).collect();
    for id in &ids {
        p.a.write(*id, b"x", usize::MAX).unwrap();
    }
    p.drive();
    ids
}

#[test]
fn a_full_accept_queue_stops_input_until_the_application_accepts() {
    let mut p = Pair::with(MplexConfig::new().with_max_pending_accept(2));
    open_many(&mut p, 5);
    assert_eq!(p.b.pending_inbound(), 2);
    assert!(p.b.input_blocked());
    let mut got = Vec::new();
    for _ in 0..5 {
        // Slower than the timeout overall, but each accept is progress.
        p.advance(Duration::from_secs(4));
        got.push(p.b.accept(p.now).expect("a stream"));
        p.drive();
    }
    assert_eq!(got, (0..5).map(remote).collect::<Vec<_>>());
    assert!(!p.b.input_blocked());
    for id in got {
        assert_eq!(read_all(&mut p.b, id).0, b"x", "the data behind the opens");
    }
    let stats = p.b.stats();
    assert_eq!(stats.refused_streams, 0);
    assert!(stats.input_stalls >= 3, "{stats:?}");
}

#[test]
fn an_accept_queue_stuck_for_the_timeout_refuses_new_streams_and_input_resumes() {
    let mut p = Pair::with(MplexConfig::new().with_max_pending_accept(2));
    let ids = open_many(&mut p, 5);
    assert!(p.b.input_blocked());
    assert_eq!(p.b.poll_timeout(), Some(t0() + Duration::from_secs(5)));
    p.advance(Duration::from_secs(5));
    // The held NewStream and the two behind it are refused (the queue is stuck): one stall.
    assert!(!p.b.input_blocked());
    let stats = p.b.stats();
    assert_eq!(
        (stats.refused_streams, stats.input_stalls),
        (3, 1),
        "{stats:?}"
    );
    for id in &ids[2..] {
        assert!(p.a_events.contains(&Event::StreamReset(*id)));
    }
    // The queued ones are intact.
    for num in 0..2 {
        let id = p.b.accept(p.now).unwrap();
        assert_eq!(id, remote(num));
        assert_eq!(read_all(&mut p.b, id).0, b"x");
    }
    // An accept is progress: the next burst blocks again instead of being refused.
    open_many(&mut p, 3);
    assert!(p.b.input_blocked());
    assert_eq!(p.b.stats().refused_streams, 3);
}

#[test]
fn reset_mode_refuses_streams_beyond_the_accept_queue_at_once() {
    let cfg = MplexConfig::new()
        .with_max_pending_accept(2)
        .with_overflow(OverflowBehaviour::ResetStream);
    let mut p = Pair::with(cfg);
    open_many(&mut p, 4);
    assert!(!p.b.input_blocked());
    assert_eq!(p.b.stats().refused_streams, 2);
    assert_eq!(p.b.pending_inbound(), 2);
}

#[test]
fn closing_refuses_a_stream_held_for_the_accept_queue() {
    let mut p = Pair::with(MplexConfig::new().with_max_pending_accept(1));
    let ids = open_many(&mut p, 2);
    assert!(p.b.input_blocked());
    p.b.close();
    assert!(!p.b.input_blocked());
    p.drive();
    assert!(p.a_events.contains(&Event::StreamReset(ids[1])));
}

/// Hostile input: random bytes, and random mutations of valid traffic, never panic; the
/// session either lives or ends with a typed error.
#[test]
fn random_input_never_panics() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut valid = BytesMut::new();
    for num in 0..4u64 {
        valid.extend_from_slice(&raw(Frame::new(num, Flag::NewStream, Bytes::new())));
        valid.extend_from_slice(&raw(Frame::new(num, Flag::MessageInitiator, &b"data"[..])));
        valid.extend_from_slice(&raw(Frame::new(num, Flag::CloseInitiator, Bytes::new())));
    }
    for round in 0..2000 {
        let cfg = MplexConfig::new()
            .with_max_buffer_per_stream(8)
            .with_max_inbound_streams(2)
            .with_max_frame_body(64);
        let mut s = Session::new(cfg);
        let mut input = if round % 2 == 0 {
            let len = (next() % 64) as usize;
            BytesMut::from(&(0..len).map(|_| next() as u8).collect::<Vec<_>>()[..])
        } else {
            let mut v = valid.clone();
            for _ in 0..(next() % 4) {
                let i = (next() as usize) % v.len();
                v[i] = next() as u8;
            }
            v
        };
        // Feed in random pieces.
        let mut buf = BytesMut::new();
        while !input.is_empty() {
            let k = 1 + (next() as usize) % input.len();
            buf.extend_from_slice(&input.split_to(k));
            let _ = s.handle_bytes(&mut buf, t0());
            while let Some(id) = s.accept(t0()) {
                let _ = s.read(id, &mut [0u8; 3], t0());
                let _ = s.write(id, b"x", 10);
            }
        }
        s.on_eof(&buf);
        assert!(s.termination().is_some());
    }
}

#[test]
fn swap_output_hands_over_the_frames_and_reuses_the_spare_buffer() {
    let mut s = Session::new(MplexConfig::default());
    let id = s.open_stream().unwrap();
    s.write(id, b"abc", usize::MAX).unwrap();
    let mut spare = BytesMut::with_capacity(4096);
    spare.extend_from_slice(b"stale");
    s.swap_output(&mut spare);
    assert_eq!(
        &spare[..],
        &[0x00, 0x01, b'0', 0x02, 0x03, b'a', b'b', b'c']
    );
    assert_eq!(s.output_len(), 0);
    s.write(id, b"d", usize::MAX).unwrap();
    assert_eq!(
        &s.take_output()[..],
        &[0x02, 0x01, b'd'],
        "the stale bytes were cleared"
    );
}
