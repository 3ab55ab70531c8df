//! Criterion bench of the ciphers that bound the security layers' throughput, every
//! implementation side by side in one run, per 64 KiB:
//!
//! - `noise_chachapoly_*`: ChaCha20-Poly1305 of one maximal noise transport message (65519
//!   plaintext bytes + 16-byte tag = 65535) through snow's `TransportState::write_message` /
//!   `read_message` (what chainp2p-noise calls, so snow's own copies count), with snow's
//!   default resolver (RustCrypto), its ring resolver, and an aws-lc-rs cipher given to snow
//!   through a small resolver below; beside them RustCrypto's `chacha20poly1305` called
//!   directly, in place, as the floor without snow.
//! - `secio_aes_ctr_*`: AES-128/256-CTR, the keystream running on across calls, in RustCrypto
//!   (`aes` + `ctr`, what chainp2p-secio uses; in place and buffer to buffer), aws-lc-rs streaming (out of place, state kept
//!   by aws-lc) and aws-lc-rs in place (one counter block per call: the caller tracks the
//!   position). ring has no public AES-CTR.
//! - `secio_hmac_*`: HMAC-SHA256 and HMAC-SHA512 (both negotiable in secio) in RustCrypto,
//!   aws-lc-rs and ring.
//!
//! Time is the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time: the
//! code measured does no I/O and never waits, and on a shared machine wall time also counts the
//! time other processes hold the core.
//!
//! The aws-lc-rs rows need `--features aws-lc` (its C build is slow; see benches/Cargo.toml):
//! `cargo bench -p chain-benches --features aws-lc --bench ciphers`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use aes::{Aes128, Aes256};
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};
use snow::resolvers::{CryptoResolver, DefaultResolver, RingResolver};
use snow::types::{Cipher, Dh, Hash, Random};

/// Criterion measurement: CPU time of the calling thread, formatted as durations.
struct ThreadCpu;

static WALL: WallTime = WallTime;

fn thread_cpu_now() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

impl Measurement for ThreadCpu {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        thread_cpu_now()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_now().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // the same nanosecond values as wall time, so its formatter fits
        WALL.formatter()
    }
}

type Crit = Criterion<ThreadCpu>;

/// The largest noise message and the plaintext it carries.
const NOISE_MSG: usize = 65535;
const NOISE_PLAIN: usize = NOISE_MSG - 16;
/// The secio buffer size.
const SECIO: usize = 64 * 1024;

/// ChaCha20-Poly1305 from aws-lc-rs behind snow's `Cipher` trait (the nonce layout is the
/// noise spec's: 32 zero bits then the 64-bit counter little-endian).
#[cfg(feature = "aws-lc")]
struct AwsLcChaChaPoly {
    key: aws_lc_rs::aead::LessSafeKey,
}

#[cfg(feature = "aws-lc")]
impl AwsLcChaChaPoly {
    fn key(k: &[u8; 32]) -> aws_lc_rs::aead::LessSafeKey {
        aws_lc_rs::aead::LessSafeKey::new(
            aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::CHACHA20_POLY1305, k).unwrap(),
        )
    }

    fn nonce(n: u64) -> aws_lc_rs::aead::Nonce {
        let mut b = [0u8; 12];
        b[4..].copy_from_slice(&n.to_le_bytes());
        aws_lc_rs::aead::Nonce::assume_unique_for_key(b)
    }
}

#[cfg(feature = "aws-lc")]
impl Cipher for AwsLcChaChaPoly {
    fn name(&self) -> &'static str {
        "ChaChaPoly"
    }

    fn set(&mut self, key: &[u8; 32]) {
        self.key = Self::key(key);
    }

    fn encrypt(&self, nonce: u64, authtext: &[u8], plaintext: &[u8], out: &mut [u8]) -> usize {
        let n = plaintext.len();
        out[..n].copy_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Self::nonce(nonce),
                aws_lc_rs::aead::Aad::from(authtext),
                &mut out[..n],
            )
            .unwrap();
        out[n..n + 16].copy_from_slice(tag.as_ref());
        n + 16
    }

    fn decrypt(
        &self,
        nonce: u64,
        authtext: &[u8],
        ciphertext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, snow::Error> {
        let n = ciphertext
            .len()
            .checked_sub(16)
            .ok_or(snow::Error::Decrypt)?;
        // decrypt straight into `out`: no copy of the ciphertext first
        self.key
            .open_separate_gather(
                Self::nonce(nonce),
                aws_lc_rs::aead::Aad::from(authtext),
                &ciphertext[..n],
                &ciphertext[n..],
                out.get_mut(..n).ok_or(snow::Error::Decrypt)?,
            )
            .map_err(|_| snow::Error::Decrypt)?;
        Ok(n)
    }
}

#[cfg(feature = "aws-lc")]
fn aws_lc_cipher(choice: &snow::params::CipherChoice) -> Option<Box<dyn Cipher>> {
    match choice {
        snow::params::CipherChoice::ChaChaPoly => Some(Box::new(AwsLcChaChaPoly {
            key: AwsLcChaChaPoly::key(&[0; 32]),
        })),
        _ => None,
    }
}

/// The cipher from `cipher`; the RNG from ring and curve25519 + SHA-256 from snow's default
/// resolver, for every variant alike (as chainp2p-noise's builder: the default resolver has
/// no RNG without getrandom).
struct Mixed {
    cipher: fn(&snow::params::CipherChoice) -> Option<Box<dyn Cipher>>,
}

impl CryptoResolver for Mixed {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        RingResolver.resolve_rng()
    }
    fn resolve_dh(&self, choice: &snow::params::DHChoice) -> Option<Box<dyn Dh>> {
        DefaultResolver.resolve_dh(choice)
    }
    fn resolve_hash(&self, choice: &snow::params::HashChoice) -> Option<Box<dyn Hash>> {
        DefaultResolver.resolve_hash(choice)
    }
    fn resolve_cipher(&self, choice: &snow::params::CipherChoice) -> Option<Box<dyn Cipher>> {
        (self.cipher)(choice)
    }
}

fn resolver(name: &str) -> Box<dyn CryptoResolver + Send> {
    let cipher = match name {
        "snow_default_rustcrypto" => |c: &_| DefaultResolver.resolve_cipher(c),
        "snow_ring" => |c: &_| RingResolver.resolve_cipher(c),
        #[cfg(feature = "aws-lc")]
        "snow_aws_lc" => aws_lc_cipher,
        _ => unreachable!(),
    };
    Box::new(Mixed { cipher })
}

/// A finished NN handshake (the transport phase is the same for every pattern).
fn transport_pair(name: &str) -> (snow::TransportState, snow::TransportState) {
    let params: snow::params::NoiseParams = "Noise_NN_25519_ChaChaPoly_SHA256".parse().unwrap();
    let mut i = snow::Builder::with_resolver(params.clone(), resolver(name))
        .build_initiator()
        .unwrap();
    let mut r = snow::Builder::with_resolver(params, resolver(name))
        .build_responder()
        .unwrap();
    let (mut m, mut p) = (vec![0u8; 1024], vec![0u8; 1024]);
    let n = i.write_message(&[], &mut m).unwrap();
    r.read_message(&m[..n], &mut p).unwrap();
    let n = r.write_message(&[], &mut m).unwrap();
    i.read_message(&m[..n], &mut p).unwrap();
    (
        i.into_transport_mode().unwrap(),
        r.into_transport_mode().unwrap(),
    )
}

fn noise(c: &mut Crit) {
    let plain = vec![0x5au8; NOISE_PLAIN];
    let mut g = c.benchmark_group("noise_chachapoly_65535B_msg");
    g.throughput(Throughput::Bytes(NOISE_PLAIN as u64));
    let names = [
        "snow_default_rustcrypto",
        "snow_ring",
        #[cfg(feature = "aws-lc")]
        "snow_aws_lc",
    ];
    for name in names {
        let (mut tx, _) = transport_pair(name);
        let mut msg = vec![0u8; NOISE_MSG];
        g.bench_function(BenchmarkId::new("encrypt", name), |b| {
            b.iter(|| tx.write_message(&plain, &mut msg).unwrap())
        });
        // one message at a known nonce, read again and again at that nonce
        let (mut tx2, mut rx2) = transport_pair(name);
        let n = tx2.write_message(&plain, &mut msg).unwrap();
        assert_eq!(n, NOISE_MSG);
        let mut out = vec![0u8; NOISE_MSG];
        g.bench_function(BenchmarkId::new("decrypt", name), |b| {
            b.iter(|| {
                rx2.set_receiving_nonce(0);
                rx2.read_message(&msg, &mut out).unwrap()
            })
        });
        assert_eq!(&out[..NOISE_PLAIN], &plain[..]);
    }
    // RustCrypto directly, in place: no snow, no copy.
    let aead = ChaCha20Poly1305::new(&[7u8; 32].into());
    let nonce = [0u8; 12];
    let mut buf = plain.clone();
    g.bench_function(
        BenchmarkId::new("encrypt", "rustcrypto_direct_in_place"),
        |b| {
            b.iter(|| {
                aead.encrypt_in_place_detached(&nonce.into(), &[], &mut buf)
                    .unwrap()
            })
        },
    );
    let mut ct = plain.clone();
    let tag = aead
        .encrypt_in_place_detached(&nonce.into(), &[], &mut ct)
        .unwrap();
    g.bench_function(
        BenchmarkId::new("decrypt", "rustcrypto_direct_in_place"),
        |b| {
            b.iter_batched_ref(
                || ct.clone(),
                |buf| {
                    aead.decrypt_in_place_detached(&nonce.into(), &[], buf, &tag)
                        .unwrap()
                },
                criterion::BatchSize::LargeInput,
            )
        },
    );
    g.finish();
}

/// AES-CTR in aws-lc-rs in place: the caller keeps the stream position and derives each
/// call's counter block from it (whole blocks only here: 64 KiB calls).
#[cfg(feature = "aws-lc")]
struct AwsLcCtrInPlace {
    key: aws_lc_rs::cipher::EncryptingKey,
    iv: u128,
    blocks: u128,
}

#[cfg(feature = "aws-lc")]
impl AwsLcCtrInPlace {
    fn new(alg: &'static aws_lc_rs::cipher::Algorithm, key: &[u8], iv: [u8; 16]) -> Self {
        let key = aws_lc_rs::cipher::UnboundCipherKey::new(alg, key).unwrap();
        AwsLcCtrInPlace {
            key: aws_lc_rs::cipher::EncryptingKey::ctr(key).unwrap(),
            iv: u128::from_be_bytes(iv),
            blocks: 0,
        }
    }

    fn apply(&mut self, buf: &mut [u8]) {
        let ctr = self.iv.wrapping_add(self.blocks).to_be_bytes();
        self.key
            .less_safe_encrypt(buf, aws_lc_rs::cipher::EncryptionContext::Iv128(ctr.into()))
            .unwrap();
        self.blocks += buf.len().div_ceil(16) as u128;
    }
}

fn aes_ctr(c: &mut Crit) {
    let mut g = c.benchmark_group("secio_aes_ctr_64KiB");
    g.throughput(Throughput::Bytes(SECIO as u64));
    let iv = [3u8; 16];
    for (bits, klen) in [("AES-128", 16usize), ("AES-256", 32)] {
        let key = vec![7u8; klen];
        let mut buf = vec![0x5au8; SECIO];
        let mut out = vec![0u8; SECIO];
        // RustCrypto: in place, and buffer to buffer (the copy into the send buffer fused in)
        match klen {
            16 => {
                let mut c = ctr::Ctr128BE::<Aes128>::new_from_slices(&key, &iv).unwrap();
                g.bench_function(BenchmarkId::new(bits, "rustcrypto_in_place"), |b| {
                    b.iter(|| c.apply_keystream(&mut buf))
                });
                g.bench_function(BenchmarkId::new(bits, "rustcrypto_b2b"), |b| {
                    b.iter(|| c.apply_keystream_b2b(&buf, &mut out).unwrap())
                });
            }
            _ => {
                let mut c = ctr::Ctr128BE::<Aes256>::new_from_slices(&key, &iv).unwrap();
                g.bench_function(BenchmarkId::new(bits, "rustcrypto_in_place"), |b| {
                    b.iter(|| c.apply_keystream(&mut buf))
                });
                g.bench_function(BenchmarkId::new(bits, "rustcrypto_b2b"), |b| {
                    b.iter(|| c.apply_keystream_b2b(&buf, &mut out).unwrap())
                });
            }
        }
        #[cfg(feature = "aws-lc")]
        aws_lc_ctr(&mut g, bits, &key, iv, &mut buf);
    }
    #[cfg(feature = "aws-lc")]
    aws_lc_ctr_matches_rustcrypto();
    g.finish();
}

#[cfg(feature = "aws-lc")]
fn aws_lc_ctr(
    g: &mut criterion::BenchmarkGroup<'_, ThreadCpu>,
    bits: &str,
    key: &[u8],
    iv: [u8; 16],
    buf: &mut [u8],
) {
    {
        let alg = if key.len() == 16 {
            &aws_lc_rs::cipher::AES_128
        } else {
            &aws_lc_rs::cipher::AES_256
        };
        // aws-lc-rs streaming (EVP context keeps the position; output buffer separate)
        let mut s = aws_lc_rs::cipher::StreamingEncryptingKey::less_safe_ctr(
            aws_lc_rs::cipher::UnboundCipherKey::new(alg, key).unwrap(),
            aws_lc_rs::cipher::EncryptionContext::Iv128(iv.into()),
        )
        .unwrap();
        let mut out = vec![0u8; SECIO + 15];
        g.bench_function(BenchmarkId::new(bits, "aws_lc_streaming"), |b| {
            b.iter(|| s.update(buf, &mut out).unwrap().written().len())
        });
        // aws-lc-rs in place
        let mut ip = AwsLcCtrInPlace::new(alg, key, iv);
        g.bench_function(BenchmarkId::new(bits, "aws_lc_in_place"), |b| {
            b.iter(|| ip.apply(buf))
        });
    }
}

/// The in-place aws-lc-rs CTR gives RustCrypto's keystream, counter wrap included.
#[cfg(feature = "aws-lc")]
fn aws_lc_ctr_matches_rustcrypto() {
    let mut a = vec![0u8; SECIO * 3];
    ctr::Ctr128BE::<Aes256>::new_from_slices(&[7u8; 32], &[0xff; 16])
        .unwrap()
        .apply_keystream(&mut a);
    let mut b = vec![0u8; SECIO * 3];
    let mut ip = AwsLcCtrInPlace::new(&aws_lc_rs::cipher::AES_256, &[7u8; 32], [0xff; 16]);
    for chunk in b.chunks_mut(SECIO) {
        ip.apply(chunk);
    }
    assert_eq!(a, b, "aws-lc in place CTR differs from RustCrypto's");
}

fn hmacs(c: &mut Crit) {
    let mut g = c.benchmark_group("secio_hmac_64KiB");
    g.throughput(Throughput::Bytes(SECIO as u64));
    let data = vec![0x5au8; SECIO];
    let key = [9u8; 20];
    let rc256 = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
    g.bench_function(BenchmarkId::new("SHA256", "rustcrypto"), |b| {
        b.iter(|| rc256.clone().chain_update(&data).finalize().into_bytes())
    });
    let rc512 = <Hmac<Sha512> as Mac>::new_from_slice(&key).unwrap();
    g.bench_function(BenchmarkId::new("SHA512", "rustcrypto"), |b| {
        b.iter(|| rc512.clone().chain_update(&data).finalize().into_bytes())
    });
    #[cfg(feature = "aws-lc")]
    for (name, alg) in [
        ("SHA256", aws_lc_rs::hmac::HMAC_SHA256),
        ("SHA512", aws_lc_rs::hmac::HMAC_SHA512),
    ] {
        let k = aws_lc_rs::hmac::Key::new(alg, &key);
        g.bench_function(BenchmarkId::new(name, "aws_lc"), |b| {
            b.iter(|| aws_lc_rs::hmac::sign(&k, &data))
        });
    }
    for (name, alg) in [
        ("SHA256", ring::hmac::HMAC_SHA256),
        ("SHA512", ring::hmac::HMAC_SHA512),
    ] {
        let k = ring::hmac::Key::new(alg, &key);
        g.bench_function(BenchmarkId::new(name, "ring"), |b| {
            b.iter(|| ring::hmac::sign(&k, &data))
        });
    }
    // same MACs everywhere
    let rc = rc256.clone().chain_update(&data).finalize().into_bytes();
    #[cfg(feature = "aws-lc")]
    {
        let aws = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key),
            &data,
        );
        assert_eq!(rc.as_slice(), aws.as_ref());
    }
    let rg = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key), &data);
    assert_eq!(rc.as_slice(), rg.as_ref());
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .with_measurement(ThreadCpu)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = noise, aes_ctr, hmacs
}
criterion_main!(benches);
