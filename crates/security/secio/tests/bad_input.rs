//! One test per hostile input: each asserts the typed error and that it arrives in bounded time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::time::{Duration, Instant};

use chainp2p_core::identity::Keypair;
use chainp2p_core::{ChainError, ErrorKind, Role, SecuredStream, SecurityHandler};
use chainp2p_secio::proto::{Exchange, KeyType, Propose};
use chainp2p_secio::{AlgorithmList, KeyAgreement, SecioConfig, SecioError};
use common::*;
use futures::io::AsyncReadExt;
use prost::Message;
use tokio::io::AsyncWriteExt;

async fn dial(
    ours: chainp2p_core::BoxStream,
    key: &Keypair,
    cfg: SecioConfig,
) -> Result<SecuredStream, ChainError> {
    cfg.secure(ours, &ctx(Role::Dialer, key)).await
}

/// A peer whose Exchange carries `epubkey`, signed (validly, or not) by `key`.
async fn peer_with_exchange(
    raw: &mut tokio::io::DuplexStream,
    key: &Keypair,
    epubkey: Vec<u8>,
    sign_right_bytes: bool,
) {
    let cfg = SecioConfig::new().with_exchanges(&[KeyAgreement::P256]);
    let hs = chainp2p_secio::Handshake::new(&cfg, key, None);
    let ours = hs.local_proposal().to_vec();
    write_frame(raw, &ours).await;
    let theirs = read_frame(raw).await;
    let corpus = if sign_right_bytes {
        [ours.as_slice(), &theirs, &epubkey].concat()
    } else {
        [theirs.as_slice(), &ours, &epubkey].concat()
    };
    let x = Exchange {
        epubkey: Some(epubkey),
        signature: Some(key.sign(&corpus).unwrap()),
    };
    write_frame(raw, &x.encode_to_vec()).await;
    let _their_exchange = read_frame(raw).await;
}

fn valid_p256_point() -> Vec<u8> {
    chainp2p_secio::ecdh::EphemeralKey::generate(KeyAgreement::P256)
        .public()
        .to_vec()
}

#[tokio::test]
async fn wrong_signature_fails_authentication() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let (key, evil) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let peer = async { peer_with_exchange(&mut raw, &evil, valid_p256_point(), false).await };
        let (res, ()) = tokio::join!(dial(ours, &key, SecioConfig::new()), peer);
        let err = res.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert!(matches!(secio_err(&err), SecioError::BadSignature { peer } if **peer == evil.public().to_peer_id()), "{err}");
    })
    .await;
}

#[tokio::test]
async fn unexpected_peer_id_fails_and_names_both() {
    bounded(async {
        let (a, b) = boxed_pipe();
        let (ka, kb, kc) = (Keypair::generate_ed25519(), Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let (expected, actual) = (kc.public().to_peer_id(), kb.public().to_peer_id());
        let mut dctx = ctx(Role::Dialer, &ka);
        dctx.remote_peer = Some(expected);
        let cfg = SecioConfig::new().with_handshake_timeout(Duration::from_secs(2));
        let lctx = ctx(Role::Listener, &kb);
        let (d, _l) = tokio::join!(cfg.secure(a, &dctx), cfg.secure(b, &lctx));
        let err = d.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert!(matches!(secio_err(&err), SecioError::PeerIdMismatch { expected: e, actual: a } if **e == expected && **a == actual));
        let msg = err.to_string();
        assert!(msg.contains(&expected.to_string()) && msg.contains(&actual.to_string()), "{msg}");
    })
    .await;
}

#[tokio::test]
async fn no_common_algorithm_is_a_negotiation_failure_naming_the_list() {
    bounded(async {
        let (a, b) = boxed_pipe();
        let (ka, kb) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let ca = SecioConfig::new().with_ciphers(&[chainp2p_secio::Cipher::Aes128]);
        let cb = SecioConfig::new().with_ciphers(&[chainp2p_secio::Cipher::Aes256]);
        let (actx, bctx) = (ctx(Role::Dialer, &ka), ctx(Role::Listener, &kb));
        let (d, l) = tokio::join!(ca.secure(a, &actx), cb.secure(b, &bctx));
        for err in [d.unwrap_err(), l.unwrap_err()] {
            assert_eq!(err.kind(), ErrorKind::NegotiationFailed);
            assert!(
                matches!(
                    secio_err(&err),
                    SecioError::NoCommonAlgorithm {
                        which: AlgorithmList::Ciphers,
                        ..
                    }
                ),
                "{err}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn point_off_the_curve_is_rejected() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let (key, peer_key) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let mut point = valid_p256_point();
        point[64] ^= 1; // same x, wrong y: not on P-256
        let peer = async { peer_with_exchange(&mut raw, &peer_key, point, true).await };
        let (res, ()) = tokio::join!(dial(ours, &key, SecioConfig::new()), peer);
        let err = res.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(
            matches!(
                secio_err(&err),
                SecioError::InvalidCurvePoint {
                    curve: "P-256",
                    len: 65
                }
            ),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn tampered_nonce_frame_is_a_mac_failure() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let (key, peer_key) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let peer = async {
            let mut s = manual_peer(&mut raw, &peer_key, &SecioConfig::new()).await;
            let nonce = s.remote_nonce;
            let mut frame = seal(&mut s, &nonce);
            frame[6] ^= 0x40;
            raw.write_all(&frame).await.unwrap();
        };
        let (res, ()) = tokio::join!(dial(ours, &key, SecioConfig::new()), peer);
        let err = res.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(matches!(secio_err(&err), SecioError::MacFailure), "{err}");
    })
    .await;
}

#[tokio::test]
async fn wrong_nonce_echo_is_rejected() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let (key, peer_key) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let peer = async {
            let mut s = manual_peer(&mut raw, &peer_key, &SecioConfig::new()).await;
            // its own nonce instead of ours
            let own = s.local_nonce;
            let frame = seal(&mut s, &own);
            raw.write_all(&frame).await.unwrap();
        };
        let (res, ()) = tokio::join!(dial(ours, &key, SecioConfig::new()), peer);
        let err = res.unwrap_err();
        assert!(
            matches!(secio_err(&err), SecioError::WrongNonce { len: 16 }),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn nonce_merged_with_data_is_rejected() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let (key, peer_key) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let peer = async {
            let mut s = manual_peer(&mut raw, &peer_key, &SecioConfig::new()).await;
            let mut plain = s.remote_nonce.to_vec();
            plain.extend_from_slice(b"data");
            raw.write_all(&seal(&mut s, &plain)).await.unwrap();
        };
        let (res, ()) = tokio::join!(dial(ours, &key, SecioConfig::new()), peer);
        let err = res.unwrap_err();
        assert!(
            matches!(secio_err(&err), SecioError::WrongNonce { len: 20 }),
            "{err}"
        );
    })
    .await;
}

/// A completed handshake against a hand-driven peer; returns our stream and the raw end.
async fn established() -> (SecuredStream, tokio::io::DuplexStream) {
    let (ours, mut raw) = raw_pipe();
    let (key, peer_key) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
    let peer = async {
        let mut s = manual_peer(&mut raw, &peer_key, &SecioConfig::new()).await;
        let nonce = s.remote_nonce;
        raw.write_all(&seal(&mut s, &nonce)).await.unwrap();
        let _our_nonce_frame = read_frame(&mut raw).await;
    };
    let (res, ()) = tokio::join!(dial(ours, &key, SecioConfig::new()), peer);
    (res.unwrap(), raw)
}

#[tokio::test]
async fn eof_mid_frame_is_truncation_not_eof() {
    bounded(async {
        let (mut s, mut raw) = established().await;
        raw.write_all(&[0, 0, 0, 100, 1, 2, 3, 4, 5, 6])
            .await
            .unwrap(); // claims 100, sends 6
        raw.shutdown().await.unwrap();
        let err = ChainError::from_io("test", s.io.read(&mut [0u8; 64]).await.unwrap_err());
        assert_eq!(err.kind(), ErrorKind::Closed);
        assert!(
            matches!(
                secio_err(&err),
                SecioError::FrameTruncated {
                    have: 10,
                    need: 104
                }
            ),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn oversize_frame_is_refused_from_its_header() {
    bounded(async {
        let (mut s, mut raw) = established().await;
        raw.write_all(&[0x00, 0x80, 0x00, 0x01]).await.unwrap(); // 8 MiB + 1, nothing after
        let err = ChainError::from_io("test", s.io.read(&mut [0u8; 64]).await.unwrap_err());
        assert_eq!(err.kind(), ErrorKind::LimitExceeded);
        assert!(
            matches!(
                secio_err(&err),
                SecioError::Oversize {
                    len: 0x80_0001,
                    max: 0x80_0000
                }
            ),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn tampered_data_frame_is_a_mac_failure() {
    bounded(async {
        let (mut s, mut raw) = established().await;
        raw.write_all(&[0, 0, 0, 40]).await.unwrap();
        raw.write_all(&[0x55; 40]).await.unwrap(); // 8 bytes of "ciphertext" + a bogus MAC
        let err = ChainError::from_io("test", s.io.read(&mut [0u8; 64]).await.unwrap_err());
        assert!(matches!(secio_err(&err), SecioError::MacFailure), "{err}");
    })
    .await;
}

#[tokio::test]
async fn stalled_handshake_times_out() {
    bounded(async {
        let (ours, _raw) = raw_pipe(); // the peer never says anything
        let key = Keypair::generate_ed25519();
        let start = Instant::now();
        let cfg = SecioConfig::new().with_handshake_timeout(Duration::from_millis(200));
        let err = dial(ours, &key, cfg).await.unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(
            matches!(secio_err(&err), SecioError::HandshakeTimeout(_)),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn rsa_key_above_8192_bits_is_refused_before_verification() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let key = Keypair::generate_ed25519();
        // a 16384-bit "modulus": never parsed by the identity crate, never verified with
        let pubkey = chainp2p_secio::proto::PublicKey {
            r#type: KeyType::Rsa as i32,
            data: chainp2p_secio::keysize::rsa_spki(&[0xc3; 2048]),
        }
        .encode_to_vec();
        let peer = async {
            let p = Propose {
                rand: Some(vec![7; 16]),
                pubkey: Some(pubkey),
                exchanges: Some("P-256".into()),
                ciphers: Some("AES-128".into()),
                hashes: Some("SHA256".into()),
            };
            write_frame(&mut raw, &p.encode_to_vec()).await;
            let _ours = read_frame(&mut raw).await;
        };
        let start = Instant::now();
        let (res, ()) = tokio::join!(dial(ours, &key, SecioConfig::new()), peer);
        assert!(start.elapsed() < Duration::from_secs(2));
        let err = res.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded);
        assert!(
            matches!(
                secio_err(&err),
                SecioError::RsaKeyTooLarge {
                    bits: 16384,
                    max: 8192
                }
            ),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn reflected_proposal_is_talking_to_self() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let key = Keypair::generate_ed25519();
        let peer = async {
            let ours = read_frame(&mut raw).await;
            write_frame(&mut raw, &ours).await; // a mirror
        };
        let (res, ()) = tokio::join!(dial(ours, &key, SecioConfig::new()), peer);
        let err = res.unwrap_err();
        assert!(
            matches!(secio_err(&err), SecioError::TalkingToSelf),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn oversize_handshake_message_is_refused() {
    bounded(async {
        let (ours, mut raw) = raw_pipe();
        let key = Keypair::generate_ed25519();
        let peer = async {
            raw.write_all(&[0x00, 0x01, 0x00, 0x01]).await.unwrap(); // 64 KiB + 1
        };
        let (res, ()) = tokio::join!(dial(ours, &key, SecioConfig::new()), peer);
        let err = res.unwrap_err();
        assert!(
            matches!(
                secio_err(&err),
                SecioError::Oversize {
                    len: 65537,
                    max: 65536
                }
            ),
            "{err}"
        );
    })
    .await;
}
