//! Our dialer against our listener over an in-memory pipe: every algorithm combination and
//! every identity key type, with data both ways, the chain details, and both shared-secret
//! widths.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use chainp2p_core::identity::Keypair;
use chainp2p_core::{Role, SecuredStream, SecurityHandler};
use chainp2p_secio::{Cipher, HashAlgo, KeyAgreement, SecioConfig, SharedSecretWidth};
use common::*;
use futures::io::{AsyncReadExt, AsyncWriteExt};

async fn pair(
    dcfg: &SecioConfig,
    lcfg: &SecioConfig,
    dkey: &Keypair,
    lkey: &Keypair,
) -> (SecuredStream, SecuredStream) {
    let (a, b) = boxed_pipe();
    let mut dctx = ctx(Role::Dialer, dkey);
    dctx.remote_peer = Some(lkey.public().to_peer_id());
    let lctx = ctx(Role::Listener, lkey);
    let (d, l) = tokio::join!(dcfg.secure(a, &dctx), lcfg.secure(b, &lctx));
    let (d, l) = (d.unwrap(), l.unwrap());
    assert_eq!(d.remote_peer, lkey.public().to_peer_id());
    assert_eq!(l.remote_peer, dkey.public().to_peer_id());
    assert_eq!(d.details, l.details);
    (d, l)
}

/// Sends `n` bytes each way at once (in 64 KiB writes) and checks them.
async fn both_ways(d: &mut SecuredStream, l: &mut SecuredStream, n: usize) {
    let data: Vec<u8> = (0..n).map(|i| (i * 31 % 251) as u8).collect();
    let (dw, lw) = (data.clone(), data.clone());
    let (mut dr, mut dwr) = futures::io::AsyncReadExt::split(&mut d.io);
    let (mut lr, mut lwr) = futures::io::AsyncReadExt::split(&mut l.io);
    let send_d = async {
        for c in dw.chunks(64 * 1024) {
            dwr.write_all(c).await.unwrap();
        }
        dwr.flush().await.unwrap();
    };
    let send_l = async {
        for c in lw.chunks(64 * 1024) {
            lwr.write_all(c).await.unwrap();
        }
        lwr.flush().await.unwrap();
    };
    let recv_d = async {
        let mut got = vec![0u8; n];
        dr.read_exact(&mut got).await.unwrap();
        got
    };
    let recv_l = async {
        let mut got = vec![0u8; n];
        lr.read_exact(&mut got).await.unwrap();
        got
    };
    let (_, _, gd, gl) = tokio::join!(send_d, send_l, recv_d, recv_l);
    assert!(gd == data && gl == data, "data corrupted");
}

#[tokio::test]
async fn every_algorithm_combination_works_both_ways() {
    tokio::time::timeout(BOUND, async {
        let (dk, lk) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        for ex in [KeyAgreement::P256, KeyAgreement::P384, KeyAgreement::P521] {
            for ci in [Cipher::Aes128, Cipher::Aes256] {
                for ha in [HashAlgo::Sha256, HashAlgo::Sha512] {
                    let cfg = SecioConfig::new()
                        .with_exchanges(&[ex])
                        .with_ciphers(&[ci])
                        .with_hashes(&[ha]);
                    let (mut d, mut l) = pair(&cfg, &SecioConfig::new(), &dk, &lk).await;
                    let want: Vec<(String, String)> = vec![
                        ("exchange".into(), ex.to_string()),
                        ("cipher".into(), ci.to_string()),
                        ("hash".into(), ha.to_string()),
                    ];
                    assert_eq!(d.details, want);
                    both_ways(&mut d, &mut l, 100_000).await;
                }
            }
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn every_key_type_works_both_ways() {
    tokio::time::timeout(BOUND, async {
        let keys = all_key_types();
        for (dn, dk) in &keys {
            for (ln, lk) in &keys {
                let (mut d, mut l) = pair(&SecioConfig::new(), &SecioConfig::new(), dk, lk).await;
                assert_eq!(d.remote_key, lk.public(), "{dn} -> {ln}");
                both_ways(&mut d, &mut l, 10_000).await;
            }
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn defaults_pick_the_preferred_sides_first_choices() {
    tokio::time::timeout(BOUND, async {
        let (dk, lk) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let (d, _l) = pair(&SecioConfig::new(), &SecioConfig::new(), &dk, &lk).await;
        let get = |k: &str| d.details.iter().find(|(n, _)| n == k).unwrap().1.clone();
        assert_eq!(
            (get("exchange"), get("cipher"), get("hash")),
            ("P-256".into(), "AES-256".into(), "SHA256".into())
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn one_write_is_one_frame_and_large_frames_pass() {
    tokio::time::timeout(BOUND, async {
        let (dk, lk) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let (mut d, mut l) = pair(&SecioConfig::new(), &SecioConfig::new(), &dk, &lk).await;
        // 3 MiB in one write: one frame (under the 8 MiB limit), read back in small pieces
        let big = vec![0xabu8; 3 << 20];
        let w = async {
            let n = futures::io::AsyncWriteExt::write(&mut d.io, &big)
                .await
                .unwrap();
            assert_eq!(n, big.len());
            d.io.flush().await.unwrap();
        };
        let r = async {
            let mut got = vec![0u8; 3 << 20];
            l.io.read_exact(&mut got).await.unwrap();
            assert!(got.iter().all(|&b| b == 0xab));
        };
        tokio::join!(w, r);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn frames_read_in_odd_pieces_decrypt_in_order() {
    tokio::time::timeout(BOUND, async {
        let (dk, lk) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let (mut d, mut l) = pair(&SecioConfig::new(), &SecioConfig::new(), &dk, &lk).await;
        // frames of odd lengths (partial keystream blocks at every boundary), read through
        // buffers of other odd lengths, so reads end inside frames and span none
        let sizes = [1usize, 15, 17, 4096, 33, 100_003, 2];
        let data: Vec<u8> = (0..sizes.iter().sum::<usize>())
            .map(|i| (i * 7 % 253) as u8)
            .collect();
        let w = async {
            let mut at = 0;
            for n in sizes {
                let wrote = futures::io::AsyncWriteExt::write(&mut d.io, &data[at..at + n])
                    .await
                    .unwrap();
                assert_eq!(wrote, n, "one write is one whole frame");
                at += n;
            }
            d.io.flush().await.unwrap();
        };
        let r = async {
            let mut got = Vec::new();
            let mut buf = [0u8; 1000];
            for piece in [3usize, 1, 16, 999, 5, 1000].iter().cycle() {
                if got.len() == data.len() {
                    break;
                }
                let n = l.io.read(&mut buf[..*piece]).await.unwrap();
                assert!(n > 0 && n <= *piece);
                got.extend_from_slice(&buf[..n]);
            }
            assert!(got == data, "plaintext differs");
        };
        tokio::join!(w, r);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn stripped_shared_secret_works_between_two_stripping_peers() {
    tokio::time::timeout(BOUND, async {
        let (dk, lk) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let go = SecioConfig::new().with_shared_secret_width(SharedSecretWidth::StripLeadingZeros);
        for _ in 0..5 {
            let (mut d, mut l) = pair(&go, &go, &dk, &lk).await;
            both_ways(&mut d, &mut l, 1000).await;
        }
    })
    .await
    .unwrap();
}
