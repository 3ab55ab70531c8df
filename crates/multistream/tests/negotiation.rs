//! Our dialer against our listener over an in-memory pipe: the happy paths, `na` fallback,
//! leftovers, `ls`, lazy mode, one message per write, and dispatch to a handler.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;

use chainp2p_core::{ErrorKind, Next, Role, StreamHandler};
use chainp2p_multistream::{
    list_protocols, Multistream, MultistreamConfig, MultistreamError, PROTOCOL,
};
use common::*;
use futures::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

#[tokio::test]
async fn dialer_and_listener_agree_on_the_first_common_protocol() {
    timeout(BOUND, async {
        let (a, b) = pipe();
        let (a, dialer_log) = recording(a);
        let (b, listener_log) = recording(b);
        let cfg = MultistreamConfig::default();
        let (d, l) = tokio::join!(
            dial(a, &["/yamux/1.0.0", "/mplex/6.7.0"], cfg.clone()),
            listen(b, &["/mplex/6.7.0"], cfg.clone()),
        );
        let (d, l) = (d.unwrap(), l.unwrap());
        assert_eq!(d.protocol, "/mplex/6.7.0");
        assert_eq!(l.protocol, "/mplex/6.7.0");
        // the spec's example exchange, byte for byte
        assert_eq!(
            dialer_log.writes(),
            vec![
                [HEADER, b"\x0d/yamux/1.0.0\n"].concat(),
                b"\x0d/mplex/6.7.0\n".to_vec(),
            ]
        );
        assert_eq!(
            listener_log.all(),
            [HEADER, b"\x03na\n", b"\x0d/mplex/6.7.0\n"].concat()
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn no_common_protocol_is_negotiation_failed_on_both_sides() {
    timeout(BOUND, async {
        let (a, b) = pipe();
        let cfg = MultistreamConfig::default();
        let (d, l) = tokio::join!(
            async {
                let r = dial(a, &["/a", "/b"], cfg.clone()).await;
                r.map(|_| ()) // dropping the stream closes it
            },
            listen(b, &["/c"], cfg.clone()),
        );
        let d = d.unwrap_err();
        assert_eq!(d.kind(), ErrorKind::NegotiationFailed);
        assert!(matches!(
            d.downcast_ref(),
            Some(MultistreamError::NegotiationFailed)
        ));
        let l = l.unwrap_err();
        assert_eq!(l.kind(), ErrorKind::NegotiationFailed, "{l}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn bytes_past_the_proposal_reach_the_listeners_protocol() {
    timeout(BOUND, async {
        let (mut a, b) = pipe();
        // a V1Lazy-style dialer: header, proposal and payload in one write
        a.write_all(&[HEADER, b"\x07/noise\n", b"payload"].concat())
            .await
            .unwrap();
        let mut l = listen(b, &["/noise"], MultistreamConfig::default())
            .await
            .unwrap();
        let mut got = [0u8; 7];
        l.io.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"payload");
        // the echo went back, then the protocol's own bytes flow both ways
        l.io.write_all(b"back").await.unwrap();
        l.io.flush().await.unwrap();
        let mut answer = vec![0u8; HEADER.len() + 8 + 4];
        a.read_exact(&mut answer).await.unwrap();
        assert_eq!(answer, [HEADER, b"\x07/noise\n", b"back"].concat());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn bytes_past_the_echo_reach_the_dialers_protocol() {
    timeout(BOUND, async {
        let (a, mut b) = pipe();
        let peer = tokio::spawn(async move {
            b.write_all(&[HEADER, b"\x07/noise\n", b"early"].concat())
                .await
                .unwrap();
            b.flush().await.unwrap();
            b
        });
        let mut d = dial(a, &["/noise"], MultistreamConfig::default())
            .await
            .unwrap();
        let mut got = [0u8; 5];
        d.io.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"early");
        drop(peer.await.unwrap());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn ls_lists_the_listeners_protocols() {
    timeout(BOUND, async {
        let (a, b) = pipe();
        let cfg = MultistreamConfig::default();
        let (list, l) = tokio::join!(
            list_protocols(a, &cfg),
            listen(b, &["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"], cfg.clone()),
        );
        assert_eq!(list.unwrap(), ids(&["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"]));
        // the dialer hung up after the list: the listener ends without a protocol
        assert!(l.is_err());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn lazy_dialer_sends_negotiation_with_the_first_write() {
    timeout(BOUND, async {
        let (a, b) = pipe();
        let (a, log) = recording(a);
        let cfg = MultistreamConfig {
            lazy: true,
            ..MultistreamConfig::default()
        };
        let mut d = dial(a, &["/ipfs/ping/1.0.0"], cfg.clone()).await.unwrap();
        assert_eq!(d.protocol, "/ipfs/ping/1.0.0");
        assert!(
            log.writes().is_empty(),
            "nothing is sent before the first write"
        );
        d.io.write_all(b"ping!").await.unwrap();
        d.io.flush().await.unwrap();
        assert_eq!(
            log.writes()[0],
            [HEADER, b"\x11/ipfs/ping/1.0.0\n", b"ping!"].concat(),
            "0-RTT: one write"
        );
        let mut l = listen(b, &["/ipfs/ping/1.0.0"], cfg.clone()).await.unwrap();
        let mut got = [0u8; 5];
        l.io.read_exact(&mut got).await.unwrap();
        l.io.write_all(&got).await.unwrap();
        l.io.flush().await.unwrap();
        let mut back = [0u8; 5];
        d.io.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"ping!");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn lazy_dialer_reports_na_on_the_first_read() {
    timeout(BOUND, async {
        let (a, b) = pipe();
        let cfg = MultistreamConfig {
            lazy: true,
            ..MultistreamConfig::default()
        };
        let mut d = dial(a, &["/x"], cfg.clone()).await.unwrap();
        let listener =
            tokio::spawn(async move { listen(b, &["/y"], MultistreamConfig::default()).await });
        // reading first must still send the proposal, or both sides would wait forever
        let mut buf = [0u8; 4];
        let err = d.io.read(&mut buf).await.unwrap_err();
        let err = chainp2p_core::ChainError::from_io("test", err);
        assert_eq!(err.kind(), ErrorKind::NegotiationFailed);
        assert_eq!(err.layer().as_str(), "multistream");
        drop(d);
        let l = listener.await.unwrap().unwrap_err();
        assert_eq!(l.kind(), ErrorKind::NegotiationFailed);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn lazy_with_several_protocols_negotiates_normally() {
    timeout(BOUND, async {
        let (a, b) = pipe();
        let cfg = MultistreamConfig {
            lazy: true,
            ..MultistreamConfig::default()
        };
        let (d, l) = tokio::join!(
            dial(a, &["/x", "/y"], cfg.clone()),
            listen(b, &["/y"], cfg.clone()),
        );
        assert_eq!(d.unwrap().protocol, "/y");
        assert_eq!(l.unwrap().protocol, "/y");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn one_message_per_write_splits_header_and_proposal() {
    timeout(BOUND, async {
        let (a, b) = pipe();
        let (a, log) = recording(a);
        let cfg = MultistreamConfig {
            one_message_per_write: true,
            ..MultistreamConfig::default()
        };
        let (d, l) = tokio::join!(
            dial(a, &["/noise"], cfg.clone()),
            listen(b, &["/noise"], MultistreamConfig::default()),
        );
        assert_eq!(d.unwrap().protocol, "/noise");
        assert_eq!(l.unwrap().protocol, "/noise");
        assert_eq!(
            log.writes(),
            vec![HEADER.to_vec(), b"\x07/noise\n".to_vec()]
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn one_message_per_write_overrides_lazy() {
    timeout(BOUND, async {
        let (a, b) = pipe();
        let (a, log) = recording(a);
        let cfg = MultistreamConfig {
            lazy: true,
            one_message_per_write: true,
            ..MultistreamConfig::default()
        };
        let (d, l) = tokio::join!(
            dial(a, &["/noise"], cfg.clone()),
            listen(b, &["/noise"], MultistreamConfig::default()),
        );
        assert!(d.is_ok() && l.is_ok());
        // negotiated before returning, each message in its own write
        assert_eq!(
            log.writes(),
            vec![HEADER.to_vec(), b"\x07/noise\n".to_vec()]
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn multistream_dispatches_to_the_chosen_handler() {
    timeout(BOUND, async {
        let (a, b) = pipe();
        let dial_echo = Echo::new("/echo/1.0.0");
        let listen_echo = Echo::new("/echo/1.0.0");
        let dialer = Multistream::new(
            vec![
                Echo::new("/other/1.0.0") as Arc<dyn StreamHandler>,
                dial_echo.clone(),
            ],
            MultistreamConfig::default(),
        );
        let listener = Multistream::new(vec![listen_echo.clone()], MultistreamConfig::default());
        assert_eq!(dialer.protocols(), ids(&["/other/1.0.0", "/echo/1.0.0"]));
        assert_eq!(
            StreamHandler::protocols(&dialer),
            vec![PROTOCOL.to_string()]
        );
        let (d, l) = tokio::join!(
            dialer.dispatch(a, ctx(Role::Dialer)),
            listener.dispatch(b, ctx(Role::Listener)),
        );
        let (d, l) = (d.unwrap(), l.unwrap());
        assert_eq!(d.protocol, "/echo/1.0.0");
        assert_eq!(l.protocol, "/echo/1.0.0");
        assert!(matches!(d.next, Next::Done));
        // each handler ran once, with the negotiation step recorded in its context
        assert_eq!(
            dial_echo.seen.lock().unwrap().clone(),
            vec![("/echo/1.0.0".to_string(), 1)]
        );
        assert_eq!(listen_echo.seen.lock().unwrap().len(), 1);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn stream_handler_impl_runs_the_whole_step() {
    timeout(BOUND, async {
        let (a, b) = pipe();
        let ms_d: Arc<dyn StreamHandler> = Arc::new(Multistream::new(
            vec![Echo::new("/e")],
            MultistreamConfig::default(),
        ));
        let ms_l: Arc<dyn StreamHandler> = Arc::new(Multistream::new(
            vec![Echo::new("/e")],
            MultistreamConfig::default(),
        ));
        let (d, l) = tokio::join!(
            ms_d.handle(PROTOCOL, a, ctx(Role::Dialer)),
            ms_l.handle(PROTOCOL, b, ctx(Role::Listener)),
        );
        assert!(matches!(d.unwrap(), Next::Done));
        assert!(matches!(l.unwrap(), Next::Done));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn listener_answers_a_lazy_dialer_with_its_first_write() {
    timeout(BOUND, async {
        let (a, b) = pipe();
        let (b, log) = recording(b);
        let cfg = MultistreamConfig::default();
        let mut dialer = a;
        dialer
            .write_all(&[HEADER, b"\x11/ipfs/ping/1.0.0\n", b"ping!"].concat())
            .await
            .unwrap();
        dialer.flush().await.unwrap();
        let mut l = listen(b, &["/ipfs/ping/1.0.0"], cfg).await.unwrap();
        assert!(
            log.writes().is_empty(),
            "the answer waits for the first write: {:?}",
            log.writes()
        );
        let mut got = [0u8; 5];
        l.io.read_exact(&mut got).await.unwrap();
        l.io.write_all(&got).await.unwrap();
        l.io.flush().await.unwrap();
        assert_eq!(
            log.writes(),
            vec![[HEADER, b"\x11/ipfs/ping/1.0.0\n", b"ping!"].concat()],
            "header, echo and the first answer in one write"
        );
        let mut back = vec![0u8; HEADER.len() + 18 + 5];
        dialer.read_exact(&mut back).await.unwrap();
        assert!(back.ends_with(b"ping!"));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn listener_sends_a_deferred_answer_before_it_waits_for_more() {
    timeout(BOUND, async {
        let (a, b) = pipe();
        let cfg = MultistreamConfig::default();
        let mut dialer = a;
        // Part of the first message came with the proposal; the rest only after the echo.
        dialer
            .write_all(&[HEADER, b"\x11/ipfs/ping/1.0.0\n", b"pi"].concat())
            .await
            .unwrap();
        dialer.flush().await.unwrap();
        let mut l = listen(b, &["/ipfs/ping/1.0.0"], cfg).await.unwrap();
        let reader = tokio::spawn(async move {
            let mut got = [0u8; 5];
            l.io.read_exact(&mut got).await.unwrap();
            got
        });
        let mut answer = vec![0u8; HEADER.len() + 18];
        dialer.read_exact(&mut answer).await.unwrap();
        assert_eq!(answer, [HEADER, b"\x11/ipfs/ping/1.0.0\n"].concat());
        dialer.write_all(b"ng!").await.unwrap();
        dialer.flush().await.unwrap();
        assert_eq!(&reader.await.unwrap(), b"ping!");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn listener_flushes_its_header_at_once_for_a_dialer_that_waits() {
    timeout(BOUND, async {
        let (a, b) = pipe();
        let cfg = MultistreamConfig::default();
        let mut dialer = a;
        let listener = tokio::spawn(async move {
            listen(b, &["/ipfs/ping/1.0.0"], cfg)
                .await
                .unwrap()
                .protocol
        });
        // A dialer that reads the listener's header before it says anything.
        let mut header = vec![0u8; HEADER.len()];
        dialer.read_exact(&mut header).await.unwrap();
        assert_eq!(header, HEADER);
        dialer
            .write_all(&[HEADER, b"\x11/ipfs/ping/1.0.0\n"].concat())
            .await
            .unwrap();
        dialer.flush().await.unwrap();
        let mut echo = vec![0u8; 18];
        dialer.read_exact(&mut echo).await.unwrap();
        assert_eq!(echo, b"\x11/ipfs/ping/1.0.0\n");
        assert_eq!(listener.await.unwrap(), "/ipfs/ping/1.0.0");
    })
    .await
    .unwrap();
}
