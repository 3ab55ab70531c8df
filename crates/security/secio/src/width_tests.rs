//! Tests of the shared-secret width choice on a secret that starts with a zero byte (forced by
//! seeding both ephemeral keys): the sans-IO session alone, then whole handshakes over an
//! in-memory pipe between every pair of modes.

use std::time::{Duration, Instant};

use chainp2p_core::identity::Keypair;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use rand::SeedableRng;
use tokio_util::compat::TokioAsyncReadCompatExt;

use crate::algo::KeyAgreement;
use crate::ecdh::{EphemeralKey, SharedSecretWidth};
use crate::error::SecioError;
use crate::handshake::{has_auto_tag, Handshake, Session, NONCE_LEN};
use crate::upgrade::RemoteInfo;
use crate::SecioConfig;

use SharedSecretWidth::{Auto, Fixed, StripLeadingZeros as Strip};

const A_SEED: u64 = 1;

fn key(seed: u64) -> EphemeralKey {
    EphemeralKey::generate_with(
        KeyAgreement::P256,
        &mut rand::rngs::StdRng::seed_from_u64(seed),
    )
}

/// A seed for B whose P-256 secret with A's key (seed [`A_SEED`]) starts with 0x00, and one
/// whose secret does not.
fn seeds() -> (u64, u64) {
    let a = key(A_SEED);
    let first = |s: u64| a.agree_fixed(key(s).public()).unwrap()[0];
    let zero = (2..20_000u64).find(|&s| first(s) == 0).expect("no seed");
    let nonzero = (2..20_000u64).find(|&s| first(s) != 0).expect("no seed");
    assert_eq!(key(zero).agree_fixed(a.public()).unwrap()[0], 0);
    (zero, nonzero)
}

fn cfg(width: SharedSecretWidth) -> SecioConfig {
    SecioConfig::new()
        .with_exchanges(&[KeyAgreement::P256])
        .with_shared_secret_width(width)
}

/// A fresh nonce without the `Auto` tag.
fn untagged() -> [u8; NONCE_LEN] {
    let n: [u8; NONCE_LEN] = rand::random();
    assert!(!has_auto_tag(&n));
    n
}

fn handshake(c: &SecioConfig, seed: u64, tag: bool) -> Handshake {
    let id = Keypair::generate_ed25519();
    let hs = if tag {
        Handshake::new(c, &id, None)
    } else {
        Handshake::with_nonce(c, &id, None, untagged())
    };
    hs.with_ephemeral_seed(seed)
}

/// Both sessions, driven in memory without I/O.
fn sessions(a: Handshake, b: Handshake) -> (Session, Session) {
    let (mut a, mut b) = (a, b);
    let (pa, pb) = (a.local_proposal().to_vec(), b.local_proposal().to_vec());
    let ea = a.on_proposal(&pb).unwrap();
    let eb = b.on_proposal(&pa).unwrap();
    (a.on_exchange(&eb).unwrap(), b.on_exchange(&ea).unwrap())
}

fn body(frame: Vec<u8>) -> Vec<u8> {
    frame[4..].to_vec()
}

#[test]
fn sans_io_auto_learns_the_peers_width_from_its_first_frame() {
    let (zero, nonzero) = seeds();
    for peer in [Fixed, Strip] {
        let (mut a, mut b) = sessions(
            handshake(&cfg(Auto), A_SEED, true),
            handshake(&cfg(peer), zero, false),
        );
        assert!(a.awaits_remote_first() && !b.awaits_remote_first());
        assert_eq!(a.secret_width(), Auto);
        a.check_nonce(&mut body(b.nonce_frame().unwrap())).unwrap();
        assert_eq!(a.secret_width(), peer);
        assert!(!a.awaits_remote_first());
        b.check_nonce(&mut body(a.nonce_frame().unwrap())).unwrap();
    }
    // no leading zero: nothing open, fixed width at once
    let (a, _) = sessions(
        handshake(&cfg(Auto), A_SEED, true),
        handshake(&cfg(Strip), nonzero, false),
    );
    assert!(!a.awaits_remote_first());
    assert_eq!(a.secret_width(), Fixed);
}

#[test]
fn sans_io_two_tagged_auto_peers_settle_on_fixed_without_waiting() {
    let (zero, _) = seeds();
    let (mut a, mut b) = sessions(
        handshake(&cfg(Auto), A_SEED, true),
        handshake(&cfg(Auto), zero, true),
    );
    assert!(!a.awaits_remote_first() && !b.awaits_remote_first());
    assert_eq!((a.secret_width(), b.secret_width()), (Fixed, Fixed));
    b.check_nonce(&mut body(a.nonce_frame().unwrap())).unwrap();
    a.check_nonce(&mut body(b.nonce_frame().unwrap())).unwrap();
}

#[test]
fn sans_io_sending_first_then_meeting_a_stripping_peer_is_a_width_mismatch() {
    let (zero, _) = seeds();
    let (mut a, mut b) = sessions(
        handshake(&cfg(Auto), A_SEED, true),
        handshake(&cfg(Strip), zero, false),
    );
    // the wait ran out: ours goes fixed-width, the stripping peer cannot read it
    let mut ours = body(a.nonce_frame().unwrap());
    assert!(matches!(
        b.check_nonce(&mut ours),
        Err(SecioError::MacFailure)
    ));
    let err = a
        .check_nonce(&mut body(b.nonce_frame().unwrap()))
        .unwrap_err();
    assert!(matches!(err, SecioError::SecretWidthMismatch), "{err}");
    // a tampered frame verifies under neither candidate
    let (mut a, mut b) = sessions(
        handshake(&cfg(Auto), A_SEED, true),
        handshake(&cfg(Strip), zero, false),
    );
    let mut theirs = body(b.nonce_frame().unwrap());
    theirs[3] ^= 1;
    assert!(matches!(
        a.check_nonce(&mut theirs),
        Err(SecioError::MacFailure)
    ));
}

type Outcome = Result<RemoteInfo, SecioError>;

/// A whole handshake over a pipe, then 100 KB each way; returns both outcomes and the time.
async fn run(
    a: (SecioConfig, Handshake),
    b: (SecioConfig, Handshake),
) -> (Outcome, Outcome, Duration) {
    let (pa, pb) = tokio::io::duplex(64 * 1024);
    let start = Instant::now();
    let side = |(c, hs): (SecioConfig, Handshake), io: tokio::io::DuplexStream| async move {
        let (s, info) = c.upgrade_with(io.compat(), hs).await?;
        let (mut r, mut w) = s.split();
        let data = vec![0x5au8; 100_000];
        let mut got = vec![0u8; data.len()];
        let (wrote, read) = futures::join!(
            async {
                w.write_all(&data).await?;
                w.flush().await
            },
            r.read_exact(&mut got)
        );
        wrote?;
        read?;
        assert_eq!(got, data);
        Ok::<_, SecioError>(info)
    };
    let (ra, rb) = tokio::time::timeout(Duration::from_secs(20), async {
        tokio::join!(side(a, pa), side(b, pb))
    })
    .await
    .expect("bounded");
    (ra, rb, start.elapsed())
}

fn with_wait(w: SecioConfig, wait: Duration) -> SecioConfig {
    w.with_ambiguous_width_wait(wait)
}

#[tokio::test]
async fn auto_dials_a_stripping_peer() {
    let (zero, _) = seeds();
    let ca = with_wait(cfg(Auto), Duration::from_secs(5));
    let cb = cfg(Strip);
    let (ra, rb, took) = run(
        (ca.clone(), handshake(&ca, A_SEED, true)),
        (cb.clone(), handshake(&cb, zero, false)),
    )
    .await;
    assert_eq!(ra.unwrap().secret_width, Strip);
    assert_eq!(rb.unwrap().secret_width, Strip);
    assert!(took < Duration::from_secs(3), "waited: {took:?}");
}

#[tokio::test]
async fn auto_dials_a_fixed_peer() {
    let (zero, _) = seeds();
    let ca = with_wait(cfg(Auto), Duration::from_secs(5));
    let cb = cfg(Fixed);
    let (ra, rb, took) = run(
        (cb.clone(), handshake(&cb, zero, false)),
        (ca.clone(), handshake(&ca, A_SEED, true)),
    )
    .await;
    assert_eq!(ra.unwrap().secret_width, Fixed);
    assert_eq!(rb.unwrap().secret_width, Fixed);
    assert!(took < Duration::from_secs(3), "waited: {took:?}");
}

#[tokio::test]
async fn two_tagged_auto_peers_do_not_wait() {
    let (zero, _) = seeds();
    let c = with_wait(cfg(Auto), Duration::from_secs(5));
    let (ra, rb, took) = run(
        (c.clone(), handshake(&c, A_SEED, true)),
        (c.clone(), handshake(&c, zero, true)),
    )
    .await;
    assert_eq!(ra.unwrap().secret_width, Fixed);
    assert_eq!(rb.unwrap().secret_width, Fixed);
    assert!(took < Duration::from_secs(3), "waited: {took:?}");
}

#[tokio::test]
async fn two_untagged_auto_peers_meet_after_the_bounded_wait() {
    let (zero, _) = seeds();
    let wait = Duration::from_millis(300);
    let c = with_wait(cfg(Auto), wait);
    let (ra, rb, took) = run(
        (c.clone(), handshake(&c, A_SEED, false)),
        (c.clone(), handshake(&c, zero, false)),
    )
    .await;
    assert_eq!(ra.unwrap().secret_width, Fixed);
    assert_eq!(rb.unwrap().secret_width, Fixed);
    assert!(took >= wait, "did not wait: {took:?}");
}

#[tokio::test]
async fn control_fixed_against_stripping_fails_the_mac() {
    let (zero, nonzero) = seeds();
    let (cf, cs) = (cfg(Fixed), cfg(Strip));
    let (ra, rb, _) = run(
        (cf.clone(), handshake(&cf, A_SEED, false)),
        (cs.clone(), handshake(&cs, zero, false)),
    )
    .await;
    assert!(matches!(ra, Err(SecioError::MacFailure)), "{ra:?}");
    assert!(matches!(rb, Err(SecioError::MacFailure)), "{rb:?}");
    // the same pair of modes agrees when the secret has no leading zero
    let (ra, rb, _) = run(
        (cf.clone(), handshake(&cf, A_SEED, false)),
        (cs.clone(), handshake(&cs, nonzero, false)),
    )
    .await;
    assert_eq!(ra.unwrap().secret_width, Fixed);
    assert_eq!(rb.unwrap().secret_width, Strip);
}
