//! Two sessions in memory, driven to quiescence like quinn-proto's `Pair`.

use super::*;
use crate::codec::Frame;
use bytes::Bytes;
use chainp2p_core::LayerError;

pub(super) struct Pair {
    pub(super) client: Session,
    pub(super) server: Session,
    pub(super) now: Instant,
    client_events: Vec<Event>,
    server_events: Vec<Event>,
    client_err: Option<YamuxError>,
    server_err: Option<YamuxError>,
}

impl Pair {
    pub(super) fn new() -> Self {
        Self::with(YamuxConfig::default())
    }

    pub(super) fn with(config: YamuxConfig) -> Self {
        Pair {
            client: Session::new(Mode::Client, config.clone()),
            server: Session::new(Mode::Server, config),
            now: Instant::now(),
            client_events: Vec::new(),
            server_events: Vec::new(),
            client_err: None,
            server_err: None,
        }
    }

    /// Moves bytes both ways until neither side has output.
    pub(super) fn drive(&mut self) {
        for _ in 0..1000 {
            let mut c = self.client.take_output();
            let mut s = self.server.take_output();
            if c.is_empty() && s.is_empty() {
                break;
            }
            if let Err(e) = self.server.handle_bytes(&mut c, self.now) {
                self.server_err.get_or_insert(e);
            }
            if let Err(e) = self.client.handle_bytes(&mut s, self.now) {
                self.client_err.get_or_insert(e);
            }
            while let Some(e) = self.client.poll_event() {
                self.client_events.push(e);
            }
            while let Some(e) = self.server.poll_event() {
                self.server_events.push(e);
            }
        }
    }

    /// Client opens, server accepts; returns the id.
    pub(super) fn open(&mut self) -> StreamId {
        let id = self.client.open_stream().unwrap().unwrap();
        self.drive();
        assert_eq!(self.server.accept(), Some(id));
        self.drive();
        id
    }
}

pub(super) fn read_all(s: &mut Session, id: StreamId) -> (Vec<u8>, ReadOutcome) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(id, &mut buf).unwrap() {
            ReadOutcome::Data(n) => out.extend_from_slice(&buf[..n]),
            other => return (out, other),
        }
    }
}

/// Raw bytes of one frame.
pub(super) fn raw(frame: Frame) -> BytesMut {
    let mut b = BytesMut::new();
    FrameCodec::new(1 << 30).encode(frame, &mut b).unwrap();
    b
}

#[test]
fn open_accept_and_exchange_both_directions() {
    let mut p = Pair::new();
    let id = p.open();
    assert_eq!(id, 1, "client ids are odd");
    assert!(p.client_events.contains(&Event::StreamAcked(1)));
    assert_eq!(p.client.write(id, b"ping?", usize::MAX).unwrap(), 5);
    p.drive();
    assert_eq!(
        read_all(&mut p.server, id),
        (b"ping?".to_vec(), ReadOutcome::Blocked)
    );
    p.server.write(id, b"pong!", usize::MAX).unwrap();
    p.drive();
    assert_eq!(read_all(&mut p.client, id).0, b"pong!");

    // The server opens too: even ids.
    let sid = p.server.open_stream().unwrap().unwrap();
    assert_eq!(sid, 2);
    p.drive();
    assert!(p.client_events.contains(&Event::InboundStream(2)));
    assert_eq!(p.client.accept(), Some(2));
    p.drive();
    assert!(p.server_events.contains(&Event::StreamAcked(2)));
    assert_eq!(p.client.open_stream().unwrap(), Some(3));
}

#[test]
fn half_close_each_way_then_stream_is_forgotten() {
    let mut p = Pair::new();
    let id = p.open();
    p.client.write(id, b"request", usize::MAX).unwrap();
    p.client.close_write(id).unwrap();
    p.drive();
    assert_eq!(
        read_all(&mut p.server, id),
        (b"request".to_vec(), ReadOutcome::Eof)
    );
    assert!(matches!(
        p.client.write(id, b"x", 10),
        Err(YamuxError::WriteAfterClose(1))
    ));
    // The server can still answer on its half.
    p.server.write(id, b"response", usize::MAX).unwrap();
    p.server.close_write(id).unwrap();
    p.drive();
    assert_eq!(
        read_all(&mut p.client, id),
        (b"response".to_vec(), ReadOutcome::Eof)
    );
    assert!(p.client_events.contains(&Event::StreamClosed(id)));
    p.client.release(id);
    p.server.release(id);
    p.drive();
    assert_eq!((p.client.stream_count(), p.server.stream_count()), (0, 0));
}

#[test]
fn reset_ends_both_directions() {
    let mut p = Pair::new();
    let id = p.open();
    p.client.write(id, b"lost", usize::MAX).unwrap();
    p.client.reset(id);
    p.drive();
    assert!(p.server_events.contains(&Event::StreamReset(id)));
    assert_eq!(
        p.server.read(id, &mut [0; 8]),
        Err(YamuxError::StreamReset(id))
    );
    assert_eq!(
        p.server.write(id, b"x", 10),
        Err(YamuxError::StreamReset(id))
    );
}

#[test]
fn dropping_an_open_stream_resets_it() {
    let mut p = Pair::new();
    let id = p.open();
    p.client.release(id);
    p.drive();
    assert!(p.server_events.contains(&Event::StreamReset(id)));
    assert!(!p.client.has_stream(id));
}

#[test]
fn sender_blocks_on_window_and_resumes_as_reader_reads() {
    let mut p = Pair::new();
    let id = p.open();
    let data = vec![7u8; 300 * 1024];
    let n = p.client.write(id, &data, usize::MAX).unwrap();
    assert_eq!(n, 256 * 1024, "never beyond the peer's window");
    assert_eq!(
        p.client.write(id, &data[n..], usize::MAX).unwrap(),
        0,
        "window exhausted"
    );
    p.drive();
    // The reader has not read: no window update, the sender stays blocked.
    assert_eq!(p.client.send_window(id), 0);
    // Reading less than half the window grants nothing yet.
    let mut buf = vec![0u8; 100 * 1024];
    assert_eq!(
        p.server.read(id, &mut buf).unwrap(),
        ReadOutcome::Data(100 * 1024)
    );
    p.drive();
    assert_eq!(p.client.send_window(id), 0);
    // Past half the window: one update for everything consumed.
    assert_eq!(
        p.server.read(id, &mut buf).unwrap(),
        ReadOutcome::Data(100 * 1024)
    );
    p.drive();
    assert_eq!(p.client.send_window(id), 200 * 1024);
    assert!(p.client_events.contains(&Event::Writable(id)));
    assert_eq!(
        p.client.write(id, &data[n..], usize::MAX).unwrap(),
        data.len() - n
    );
}

#[test]
fn data_frames_are_split_at_split_send_size() {
    let mut p = Pair::with(YamuxConfig::new().with_split_send_size(1000));
    let id = p.open();
    p.client.write(id, &[1u8; 2500], usize::MAX).unwrap();
    let mut out = p.client.take_output();
    let mut codec = FrameCodec::new(1 << 20);
    let sizes: Vec<usize> = std::iter::from_fn(|| codec.decode(&mut out).unwrap())
        .map(|f| f.body.len())
        .collect();
    assert_eq!(sizes, vec![1000, 1000, 500]);
}

#[test]
fn larger_receive_window_is_announced_in_syn() {
    let mut p = Pair::with(YamuxConfig::new().with_receive_window(1 << 20));
    let id = p.open();
    assert_eq!(p.server.send_window(id), 1 << 20);
    assert_eq!(p.client.send_window(id), 1 << 20);
}

#[test]
fn ping_is_answered_and_rtt_reported() {
    let mut p = Pair::new();
    let nonce = p.client.ping(p.now).unwrap();
    let sent = p.client.take_output();
    p.now += Duration::from_millis(30);
    let mut s = sent;
    p.server.handle_bytes(&mut s, p.now).unwrap();
    let mut answer = p.server.take_output();
    assert_eq!(
        &answer[..],
        &[0, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0, nonce as u8][..]
    );
    p.client.handle_bytes(&mut answer, p.now).unwrap();
    assert_eq!(
        p.client.poll_event(),
        Some(Event::Pong {
            nonce,
            rtt: Duration::from_millis(30)
        })
    );
    assert_eq!(p.client.rtt(), Some(Duration::from_millis(30)));
}

#[test]
fn goaway_stops_new_streams_but_existing_ones_finish() {
    let mut p = Pair::new();
    let id = p.open();
    p.server.go_away(GoAwayCode::Normal);
    p.drive();
    assert!(p
        .client_events
        .contains(&Event::GoAwayReceived(GoAwayCode::Normal)));
    assert_eq!(p.client.open_stream(), Err(YamuxError::GoingAway));
    p.client.write(id, b"still", usize::MAX).unwrap();
    p.drive();
    assert_eq!(read_all(&mut p.server, id).0, b"still");
    // A SYN after our GoAway is refused with RST.
    let mut syn = raw(Frame::control(FrameType::WindowUpdate, Flags::SYN, 3, 0));
    p.server.handle_bytes(&mut syn, p.now).unwrap();
    assert_eq!(p.server.stats().refused_streams, 1);
}

#[test]
fn many_streams_interleaved() {
    let mut p = Pair::new();
    let ids: Vec<_> = (0..100)
        .map(|_| p.client.open_stream().unwrap().unwrap())
        .collect();
    p.drive();
    for _ in &ids {
        assert!(p.server.accept().is_some());
    }
    for &id in &ids {
        p.client.write(id, &id.to_be_bytes(), usize::MAX).unwrap();
        p.client.close_write(id).unwrap();
    }
    p.drive();
    for &id in &ids {
        assert_eq!(
            read_all(&mut p.server, id),
            (id.to_be_bytes().to_vec(), ReadOutcome::Eof)
        );
    }
}

#[test]
fn ack_backlog_bounds_unacknowledged_opens() {
    let mut p = Pair::with(YamuxConfig::new().with_ack_backlog(2));
    assert!(p.client.open_stream().unwrap().is_some());
    assert!(p.client.open_stream().unwrap().is_some());
    assert_eq!(p.client.open_stream(), Ok(None));
    p.drive();
    p.server.accept();
    p.drive();
    assert!(p.client.open_stream().unwrap().is_some());
}

#[test]
fn inbound_stream_limit_resets_the_excess_and_keeps_the_session() {
    let mut p = Pair::with(YamuxConfig::new().with_max_inbound_streams(2));
    for _ in 0..3 {
        p.client.open_stream().unwrap();
    }
    p.drive();
    assert!(p.client_events.contains(&Event::StreamReset(5)));
    assert_eq!(p.server.stats().refused_streams, 1);
    assert!(p.server.termination().is_none());
    assert_eq!(p.server.pending_inbound(), 2);
}

// ----- one test per bad input -----

#[test]
fn bad_input_unknown_type_is_a_protocol_error_with_goaway() {
    let mut s = Session::new(Mode::Server, YamuxConfig::default());
    let mut b = BytesMut::from(&[0u8, 9, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0][..]);
    assert_eq!(
        s.handle_bytes(&mut b, Instant::now()),
        Err(YamuxError::UnknownType(9))
    );
    assert_eq!(
        &s.take_output()[..],
        &[0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1][..],
        "GoAway(protocol error)"
    );
    assert!(matches!(
        s.termination(),
        Some(Termination::Error(YamuxError::UnknownType(9)))
    ));
}

#[test]
fn bad_input_unknown_version_is_a_protocol_error() {
    let mut s = Session::new(Mode::Server, YamuxConfig::default());
    let mut b = BytesMut::from(&[1u8, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0][..]);
    assert_eq!(
        s.handle_bytes(&mut b, Instant::now()),
        Err(YamuxError::UnknownVersion(1))
    );
    assert_eq!(s.take_output()[1], 3);
}

#[test]
fn bad_input_data_for_unknown_stream_is_ignored_and_session_lives() {
    let mut p = Pair::new();
    let mut b = raw(Frame::data(Flags::NONE, 41, Bytes::from_static(b"stray")));
    p.server.handle_bytes(&mut b, p.now).unwrap();
    let stats = p.server.stats();
    assert_eq!((stats.ignored_frames, stats.discarded_bytes), (1, 5));
    let id = p.open();
    p.client.write(id, b"ok", 10).unwrap();
    p.drive();
    assert_eq!(read_all(&mut p.server, id).0, b"ok");
}

#[test]
fn bad_input_peer_overrunning_the_window_gets_goaway() {
    let mut p = Pair::new();
    let id = p.open();
    let mut b = raw(Frame::data(
        Flags::NONE,
        id,
        Bytes::from(vec![0u8; 256 * 1024]),
    ));
    p.server.handle_bytes(&mut b, p.now).unwrap();
    let mut b = raw(Frame::data(Flags::NONE, id, Bytes::from_static(b"x")));
    let err = p.server.handle_bytes(&mut b, p.now).unwrap_err();
    assert_eq!(
        err,
        YamuxError::WindowExceeded {
            id,
            len: 1,
            credit: 0
        }
    );
    let out = p.server.take_output();
    assert_eq!(
        &out[out.len() - 12..],
        &[0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1][..]
    );
}

#[test]
fn bad_input_oversize_frame_is_refused() {
    let mut s = Session::new(Mode::Server, YamuxConfig::default());
    let mut b = BytesMut::from(&[0u8, 0, 0, 1, 0, 0, 0, 1, 0, 0x10, 0, 1][..]);
    assert_eq!(
        s.handle_bytes(&mut b, Instant::now()),
        Err(YamuxError::FrameTooLarge {
            len: 0x100001,
            max: 1 << 20
        })
    );
    assert_eq!(s.take_output()[1], 3);
}

#[test]
fn bad_input_wrong_parity_syn_is_a_protocol_error() {
    let mut s = Session::new(Mode::Server, YamuxConfig::default());
    // A server receiving an even (server-parity) SYN: both sides think they are the server.
    let mut b = raw(Frame::control(FrameType::WindowUpdate, Flags::SYN, 2, 0));
    assert_eq!(
        s.handle_bytes(&mut b, Instant::now()),
        Err(YamuxError::WrongParity(2))
    );
    assert_eq!(
        &s.take_output()[..],
        &[0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1][..]
    );
}

#[test]
fn bad_input_duplicate_syn_is_a_protocol_error() {
    let mut s = Session::new(Mode::Server, YamuxConfig::default());
    let mut b = raw(Frame::control(FrameType::WindowUpdate, Flags::SYN, 1, 0));
    b.extend_from_slice(&raw(Frame::control(
        FrameType::WindowUpdate,
        Flags::SYN,
        1,
        0,
    )));
    assert_eq!(
        s.handle_bytes(&mut b, Instant::now()),
        Err(YamuxError::DuplicateStream(1))
    );
}

#[test]
fn c_ipfs_ackless_window_update_is_accepted_and_not_answered() {
    let mut c = Session::new(Mode::Client, YamuxConfig::default().with_ack_backlog(1));
    let id = c.open_stream().unwrap().unwrap();
    c.take_output();
    assert_eq!(
        c.open_stream(),
        Ok(None),
        "backlog full until the SYN is answered"
    );
    // c-libp2p answers our SYN with a WindowUpdate without ACK.
    let mut b = raw(Frame::control(FrameType::WindowUpdate, Flags::NONE, id, 0));
    c.handle_bytes(&mut b, Instant::now()).unwrap();
    assert_eq!(c.poll_event(), Some(Event::StreamAcked(id)));
    assert!(
        c.take_output().is_empty(),
        "a plain WindowUpdate is never answered"
    );
    assert!(c.open_stream().unwrap().is_some());
}

#[test]
fn bad_input_window_update_overflow_is_a_typed_protocol_error() {
    let mut p = Pair::new();
    let id = p.open();
    // The client's send window is 256 KiB; u32::MAX more cannot fit.
    let mut b = raw(Frame::control(
        FrameType::WindowUpdate,
        Flags::NONE,
        id,
        u32::MAX,
    ));
    let err = p.client.handle_bytes(&mut b, p.now).unwrap_err();
    assert_eq!(
        err,
        YamuxError::WindowOverflow {
            id,
            window: 256 * 1024,
            delta: u32::MAX
        }
    );
    assert_eq!(err.kind(), chainp2p_core::ErrorKind::Protocol);
    let out = p.client.take_output();
    assert_eq!(
        &out[out.len() - 12..],
        &[0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1][..],
        "GoAway(protocol error)"
    );
}

#[test]
fn bad_input_eof_mid_frame_is_a_typed_error_not_clean() {
    // Header of a 10-byte data frame plus 3 bytes of its body.
    let mut s = Session::new(Mode::Server, YamuxConfig::default());
    let mut b = raw(Frame::control(FrameType::WindowUpdate, Flags::SYN, 1, 0));
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 10, 1, 2, 3]);
    s.handle_bytes(&mut b, Instant::now()).unwrap();
    s.handle_eof(&b);
    assert_eq!(
        s.termination(),
        Some(&Termination::Error(YamuxError::UnexpectedEof {
            buffered: 15
        }))
    );
    // Half a header.
    let mut s = Session::new(Mode::Server, YamuxConfig::default());
    let mut b = BytesMut::from(&[0u8, 1, 0, 1, 0][..]);
    s.handle_bytes(&mut b, Instant::now()).unwrap();
    s.handle_eof(&b);
    assert_eq!(
        s.termination(),
        Some(&Termination::Error(YamuxError::UnexpectedEof {
            buffered: 5
        }))
    );
    // Between frames: clean.
    let mut s = Session::new(Mode::Server, YamuxConfig::default());
    let mut b = raw(Frame::control(FrameType::WindowUpdate, Flags::SYN, 1, 0));
    s.handle_bytes(&mut b, Instant::now()).unwrap();
    s.handle_eof(&b);
    assert_eq!(s.termination(), Some(&Termination::Clean));
}

#[test]
fn bad_input_syn_after_our_goaway_is_answered_with_rst() {
    let mut s = Session::new(Mode::Server, YamuxConfig::default());
    s.go_away(GoAwayCode::Normal);
    assert_eq!(
        &s.take_output()[..],
        &[0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..]
    );
    let mut b = raw(Frame::data(Flags::SYN, 7, Bytes::from_static(b"hi")));
    s.handle_bytes(&mut b, Instant::now()).unwrap();
    assert_eq!(
        &s.take_output()[..],
        &[0, 1, 0, 8, 0, 0, 0, 7, 0, 0, 0, 0][..],
        "WindowUpdate RST, stream 7"
    );
    assert_eq!(s.pending_inbound(), 0);
    assert_eq!(s.stats().refused_streams, 1);
    assert!(s.termination().is_none());
}

#[test]
fn bad_input_duplicate_syn_sends_goaway() {
    let mut s = Session::new(Mode::Client, YamuxConfig::default());
    let mut b = raw(Frame::control(FrameType::WindowUpdate, Flags::SYN, 2, 0));
    s.handle_bytes(&mut b, Instant::now()).unwrap();
    assert_eq!(s.accept(), Some(2));
    s.take_output();
    let mut b = raw(Frame::data(Flags::SYN, 2, Bytes::from_static(b"again")));
    assert_eq!(
        s.handle_bytes(&mut b, Instant::now()),
        Err(YamuxError::DuplicateStream(2))
    );
    assert_eq!(
        &s.take_output()[..],
        &[0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1][..]
    );
}

#[test]
fn bad_input_first_data_beyond_the_initial_window_is_refused() {
    let mut s = Session::new(Mode::Server, YamuxConfig::default());
    let body = Bytes::from(vec![0u8; 256 * 1024 + 1]);
    let mut b = raw(Frame::data(Flags::SYN, 1, body));
    assert!(matches!(
        s.handle_bytes(&mut b, Instant::now()),
        Err(YamuxError::WindowExceeded { id: 1, .. })
    ));
}

#[test]
fn plain_window_update_on_an_acknowledged_stream_is_not_answered() {
    let mut p = Pair::new();
    let id = p.open();
    for s in [&mut p.client, &mut p.server] {
        let mut b = raw(Frame::control(FrameType::WindowUpdate, Flags::NONE, id, 0));
        s.handle_bytes(&mut b, Instant::now()).unwrap();
        let mut b = raw(Frame::control(FrameType::WindowUpdate, Flags::NONE, id, 5));
        s.handle_bytes(&mut b, Instant::now()).unwrap();
        assert!(s.take_output().is_empty(), "no WindowUpdate ping-pong");
    }
    assert_eq!(p.client.send_window(id), 256 * 1024 + 5);
}

#[test]
fn goaway_codes_are_reported() {
    for (code, want) in [
        (0, GoAwayCode::Normal),
        (1, GoAwayCode::ProtocolError),
        (2, GoAwayCode::InternalError),
    ] {
        let mut s = Session::new(Mode::Client, YamuxConfig::default());
        let mut b = raw(Frame::control(FrameType::GoAway, Flags::NONE, 0, code));
        s.handle_bytes(&mut b, Instant::now()).unwrap();
        assert_eq!(s.goaway_received(), Some(want));
        assert_eq!(s.open_stream(), Err(YamuxError::GoingAway));
    }
}

#[test]
fn handle_input_consumes_whole_frames_and_reports_the_partial_one() {
    let mut p = Pair::new();
    let id = p.open();
    let body: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    let mut written = 0;
    while written < body.len() {
        written += p.client.write(id, &body[written..], usize::MAX).unwrap();
    }
    p.client.close_write(id).unwrap();
    let wire = p.client.take_output();
    // Fed in 7-byte pieces to a buffer the caller keeps, as the driver does.
    let mut buf: Vec<u8> = Vec::new();
    for piece in wire.chunks(7) {
        buf.extend_from_slice(piece);
        let used = p.server.handle_input(&buf, p.now).unwrap();
        buf.drain(..used);
        if !buf.is_empty() {
            assert!(
                p.server.input_wanted() > buf.len(),
                "a partial frame is left"
            );
        }
    }
    assert!(buf.is_empty());
    let (got, end) = read_all(&mut p.server, id);
    assert_eq!(got, body);
    assert_eq!(end, ReadOutcome::Eof);
}

#[test]
fn handle_input_refuses_an_oversize_body_at_its_header() {
    let mut s = Session::new(Mode::Server, YamuxConfig::default());
    let mut header = BytesMut::new();
    Header::new(FrameType::Data, Flags::SYN, 1, (1 << 20) + 1).encode(&mut header);
    assert!(matches!(
        s.handle_input(&header, Instant::now()),
        Err(YamuxError::FrameTooLarge { .. })
    ));
    // GoAway(protocol error) queued, then all further input is discarded.
    assert_eq!(s.take_output()[1], 3);
    assert_eq!(s.handle_input(b"garbage", Instant::now()), Ok(7));
}

#[test]
fn c_libp2p_byte_swapped_pong_answers_our_ping() {
    let mut c = Session::new(Mode::Client, YamuxConfig::default());
    let t0 = Instant::now();
    c.ping(t0).unwrap();
    let nonce = c.ping(t0).unwrap();
    assert_ne!(
        nonce,
        nonce.swap_bytes(),
        "the test needs an asymmetric nonce"
    );
    c.take_output();
    // c-libp2p echoes the header without encoding it: ACK (0x0002) and the opaque arrive in
    // little-endian byte order.
    let mut b = raw(Frame::control(
        FrameType::Ping,
        Flags(0x0200),
        0,
        nonce.swap_bytes(),
    ));
    c.handle_bytes(&mut b, t0 + Duration::from_millis(40))
        .unwrap();
    assert_eq!(
        c.poll_event(),
        Some(Event::Pong {
            nonce,
            rtt: Duration::from_millis(40)
        })
    );
    assert_eq!(c.rtt(), Some(Duration::from_millis(40)));
    assert!(c.take_output().is_empty(), "a pong is not answered");
    // The same flags with an opaque that is none of ours (swapped or not) change nothing.
    let mut b = raw(Frame::control(
        FrameType::Ping,
        Flags(0x0200),
        0,
        0x0fff_fff0,
    ));
    c.handle_bytes(&mut b, t0 + Duration::from_millis(90))
        .unwrap();
    assert_eq!(c.poll_event(), None);
    assert_eq!(c.rtt(), Some(Duration::from_millis(40)));
    assert!(c.take_output().is_empty());
    assert!(c.termination().is_none());
}

/// A stream's half-close as the wire carries it: Data with FIN and no body.
fn fin(id: StreamId) -> BytesMut {
    raw(Frame::control(FrameType::Data, Flags::FIN, id, 0))
}

#[test]
fn standard_and_frame_per_write_close_write_queues_fin() {
    for dialect in [Dialect::Standard, Dialect::FramePerWrite] {
        let mut p = Pair::with(YamuxConfig::default().with_dialect(dialect));
        let id = p.open();
        p.client.close_write(id).unwrap();
        assert_eq!(p.client.take_output(), fin(id), "{dialect:?}");
    }
}

#[test]
fn c_libp2p_close_write_queues_no_fin_but_still_half_closes() {
    let mut p = Pair::new();
    let id = p.open();
    p.client.set_dialect(Dialect::CLibp2p);
    p.client.close_write(id).unwrap();
    assert!(
        p.client.take_output().is_empty(),
        "c-ipfs must not see a FIN"
    );
    assert_eq!(
        p.client.write(id, b"x", 10),
        Err(YamuxError::WriteAfterClose(id))
    );
    // The peer's side of the stream stays usable.
    p.server.write(id, b"answer", usize::MAX).unwrap();
    p.drive();
    assert_eq!(read_all(&mut p.client, id).0, b"answer");
}

#[test]
fn c_libp2p_refuses_stream_ids_from_256() {
    // Client: 1, 3, …, 255 (128 streams); server: 2, 4, …, 254 (127).
    for (mode, last_id, count) in [(Mode::Client, 255, 128), (Mode::Server, 254, 127)] {
        let mut s = Session::new(mode, YamuxConfig::default().with_dialect(Dialect::CLibp2p));
        let mut last = 0;
        while let Some(id) = match s.open_stream() {
            Ok(id) => id,
            Err(e) => {
                assert_eq!(e, YamuxError::StreamIdsExhausted, "{mode:?}");
                None
            }
        } {
            last = id;
        }
        assert_eq!(last, last_id, "{mode:?}");
        assert_eq!(s.open_stream(), Err(YamuxError::StreamIdsExhausted));
        assert_eq!(s.stream_count(), count, "{mode:?}");
        // Not a protocol violation: the session and its streams live on.
        assert!(s.termination().is_none());
        assert!(s.write(last, b"still open", usize::MAX).unwrap() > 0);
    }
}

#[test]
fn standard_and_frame_per_write_go_past_stream_id_256() {
    for dialect in [Dialect::Standard, Dialect::FramePerWrite] {
        let config = YamuxConfig::default()
            .with_dialect(dialect)
            .with_ack_backlog(1000);
        let mut s = Session::new(Mode::Client, config);
        let ids: Vec<_> = (0..200)
            .map(|_| s.open_stream().unwrap().unwrap())
            .collect();
        assert_eq!(ids.last(), Some(&399), "{dialect:?}");
    }
}

#[test]
fn switching_to_c_libp2p_mid_session_caps_the_next_ids() {
    let mut s = Session::new(Mode::Client, YamuxConfig::default().with_ack_backlog(1000));
    for _ in 0..150 {
        s.open_stream().unwrap().unwrap();
    }
    // Ids 1..=299 are in use; c-ipfs could not index the next one.
    s.set_dialect(Dialect::CLibp2p);
    assert_eq!(s.open_stream(), Err(YamuxError::StreamIdsExhausted));
}

/// A FramePerWrite pair whose client opened a stream the server accepted.
fn frame_per_write_stream() -> (Pair, StreamId) {
    let mut p = Pair::with(YamuxConfig::default().with_dialect(Dialect::FramePerWrite));
    let id = p.open();
    p.server.write(id, b"answer", usize::MAX).unwrap();
    p.drive();
    (p, id)
}

#[test]
fn frame_per_write_holds_the_fin_on_a_peer_stream_until_the_agent_is_known() {
    let (mut p, id) = frame_per_write_stream();
    p.server.close_write(id).unwrap();
    assert!(p.server.take_output().is_empty(), "FIN held back");
    assert_eq!(
        p.server.write(id, b"x", 10),
        Err(YamuxError::WriteAfterClose(id))
    );
    p.server.peer_agent_known();
    assert_eq!(p.server.take_output(), fin(id));
    // Later FINs go at once; our own streams never waited.
    let id2 = p.open();
    p.server.close_write(id2).unwrap();
    assert_eq!(p.server.take_output(), fin(id2));
}

#[test]
fn held_fin_goes_out_at_the_deadline_and_the_stream_is_forgotten() {
    let (mut p, id) = frame_per_write_stream();
    p.server.close_write(id).unwrap();
    p.server.release(id);
    let deadline = p
        .server
        .poll_timeout()
        .expect("the hold's deadline is scheduled");
    assert!(deadline <= p.now + FIN_HOLD);
    p.server
        .handle_timeout(p.now + FIN_HOLD - Duration::from_millis(1));
    assert!(p.server.take_output().is_empty(), "not before the deadline");
    p.server.handle_timeout(p.now + FIN_HOLD);
    let out = p.server.take_output();
    assert_eq!(out, fin(id));
    let mut out = out;
    p.client.handle_bytes(&mut out, p.now).unwrap();
    assert_eq!(
        read_all(&mut p.client, id),
        (b"answer".to_vec(), ReadOutcome::Eof)
    );
    p.client.close_write(id).unwrap();
    p.drive();
    assert!(
        !p.server.streams.contains_key(&id),
        "closed both ways and released"
    );
}

#[test]
fn held_fin_is_dropped_once_the_peer_is_c_ipfs() {
    let (mut p, id) = frame_per_write_stream();
    p.server.close_write(id).unwrap();
    p.server.set_dialect(Dialect::CLibp2p);
    p.server.handle_timeout(p.now + FIN_HOLD * 2);
    assert!(
        p.server.take_output().is_empty(),
        "c-ipfs never sees the FIN"
    );
}

#[test]
fn at_most_max_held_fins_are_held() {
    let mut p = Pair::with(YamuxConfig::default().with_dialect(Dialect::FramePerWrite));
    let ids: Vec<StreamId> = (0..MAX_HELD_FINS + 1).map(|_| p.open()).collect();
    for &id in &ids[..MAX_HELD_FINS] {
        p.server.close_write(id).unwrap();
    }
    assert!(
        p.server.take_output().is_empty(),
        "the first {MAX_HELD_FINS} are held"
    );
    let last = ids[MAX_HELD_FINS];
    p.server.close_write(last).unwrap();
    assert_eq!(p.server.take_output(), fin(last), "beyond the cap, at once");
}
