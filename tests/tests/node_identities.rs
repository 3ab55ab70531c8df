//! End to end: `chain-node keygen` and `--key FILE`. Every key type round-trips (keygen prints a
//! PeerId; `listen --key FILE` announces the same one); a PKCS#8 DER RSA key is accepted as a key
//! file; garbage, an over-large RSA modulus and an existing output file give clear errors. Two
//! chain-nodes with RSA keys talk secio (`--security secio`, the c-ipfs setting) and `inspect`
//! shows the exchange, cipher and hash secio chose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, ensure, Context, Result};
use common::node::{run_node, NodeProcess};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::EncodePrivateKey;

const RUN: Duration = Duration::from_secs(60);

/// A fresh, empty directory for this test's files.
fn scratch_dir(test: &str) -> Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let dir =
        std::env::temp_dir().join(format!("chain-node-{test}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `chain-node keygen --type KIND --out PATH --json`; returns the printed PeerId.
async fn keygen(kind: &str, path: &Path) -> Result<String> {
    let path_s = path.to_string_lossy().into_owned();
    let out = run_node(&["keygen", "--type", kind, "--out", &path_s, "--json"], RUN).await?;
    out.expect_success(&format!("keygen --type {kind}"))?;
    let [line] = out.ops("keygen")[..] else {
        return Err(anyhow!("expected one keygen line, got {:?}", out.json));
    };
    ensure!(line["type"] == kind, "{line}");
    ensure!(line["path"] == path_s.as_str(), "{line}");
    let peer = line["peer_id"]
        .as_str()
        .ok_or_else(|| anyhow!("no peer_id in {line}"))?
        .to_string();
    ensure!(path.is_file(), "keygen did not write {path_s}");
    Ok(peer)
}

/// The PeerId `chain-node listen --key PATH --timeout 1 --json` announces.
async fn listen_peer_id(path: &Path) -> Result<String> {
    let path_s = path.to_string_lossy().into_owned();
    let out = run_node(
        &["listen", "--key", &path_s, "--timeout", "1", "--json"],
        RUN,
    )
    .await?;
    out.expect_success(&format!("listen --key {path_s}"))?;
    out.json
        .iter()
        .find(|v| v["event"] == "listening")
        .and_then(|v| v["peer_id"].as_str())
        .map(str::to_string)
        .ok_or_else(|| anyhow!("no listening event: {:?}", out.json))
}

/// Runs `listen --key PATH` expecting the error contract; returns the error text.
async fn listen_error(path: &Path) -> Result<String> {
    let path_s = path.to_string_lossy().into_owned();
    let out = run_node(
        &["listen", "--key", &path_s, "--timeout", "1", "--json"],
        RUN,
    )
    .await?;
    out.expect_error(&format!("listen --key {path_s}"))
}

#[tokio::test]
async fn every_key_type_round_trips_through_keygen_and_listen() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(180), async {
        let dir = scratch_dir("roundtrip")?;
        let mut seen = Vec::new();
        for kind in ["ed25519", "secp256k1", "ecdsa", "rsa"] {
            let path = dir.join(format!("{kind}.key"));
            let generated = keygen(kind, &path).await?;
            let listened = listen_peer_id(&path).await?;
            ensure!(
                generated == listened,
                "{kind}: keygen printed {generated}, listen --key announced {listened}"
            );
            ensure!(!seen.contains(&generated), "{kind}: PeerId repeated");
            seen.push(generated);
        }
        // Ed25519 and secp256k1 keys are small enough to be inlined (identity multihash, `12D3…`
        // / `16U…`); RSA and ECDSA PeerIds are SHA-256 multihashes (`Qm…`).
        ensure!(seen[0].starts_with("12D3"), "{seen:?}");
        ensure!(seen[3].starts_with("Qm"), "{seen:?}");
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    })
    .await
    .context("test timed out")?
}

#[tokio::test]
async fn pkcs8_rsa_key_file_is_accepted() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(120), async {
        let dir = scratch_dir("pkcs8")?;
        let proto_path = dir.join("rsa.key");
        let generated = keygen("rsa", &proto_path).await?;
        // The same key, re-encoded as PKCS#8 DER: the file format changes, the PeerId must not.
        let bytes = std::fs::read(&proto_path)?;
        let pkcs1 = protobuf_private_key_data(&bytes, 0)?;
        let key = rsa::RsaPrivateKey::from_pkcs1_der(pkcs1)?;
        let pkcs8_path = dir.join("rsa.pk8");
        std::fs::write(&pkcs8_path, key.to_pkcs8_der()?.as_bytes())?;
        let listened = listen_peer_id(&pkcs8_path).await?;
        ensure!(
            generated == listened,
            "PKCS#8 file of the key of {generated} announced {listened}"
        );
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    })
    .await
    .context("test timed out")?
}

#[tokio::test]
async fn bad_key_files_give_clear_errors() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(120), async {
        let dir = scratch_dir("badkeys")?;

        let garbage = dir.join("garbage.key");
        std::fs::write(&garbage, b"certainly not a private key\n")?;
        let err = listen_error(&garbage).await?;
        ensure!(
            err.contains("garbage.key") && err.contains("protobuf") && err.contains("PKCS#8"),
            "garbage key file: {err}"
        );

        let missing = dir.join("missing.key");
        let err = listen_error(&missing).await?;
        ensure!(err.contains("missing.key"), "missing key file: {err}");

        // A protobuf RSA key whose PKCS#1 modulus has 8800 bits (structurally valid, not a real
        // key): refused by size before any RSA math.
        let huge = dir.join("huge-rsa.key");
        std::fs::write(&huge, protobuf_private_key(0, &fake_pkcs1(&[0xc5; 1100])))?;
        let err = listen_error(&huge).await?;
        ensure!(
            err.contains("8800 bits") && err.contains("8192"),
            "oversize RSA: {err}"
        );

        // keygen does not replace an existing file (and says how to).
        let path_s = garbage.to_string_lossy().into_owned();
        let out = run_node(
            &["keygen", "--type", "ed25519", "--out", &path_s, "--json"],
            RUN,
        )
        .await?;
        let err = out.expect_error("keygen onto an existing file")?;
        ensure!(err.contains("--force"), "{err}");
        ensure!(
            std::fs::read(&garbage)? == b"certainly not a private key\n",
            "keygen replaced an existing file"
        );
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    })
    .await
    .context("test timed out")?
}

#[tokio::test]
async fn rsa_nodes_talk_secio_and_inspect_shows_its_choices() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(120), async {
        let dir = scratch_dir("secio")?;
        let (a, b) = (dir.join("a.key"), dir.join("b.key"));
        let a_id = keygen("rsa", &a).await?;
        keygen("rsa", &b).await?;
        let a_s = a.to_string_lossy().into_owned();
        let b_s = b.to_string_lossy().into_owned();
        let mut listener = NodeProcess::spawn(&[
            "listen",
            "--json",
            "--key",
            &a_s,
            "--security",
            "secio",
            "--timeout",
            "60",
        ])?;
        let (peer, addr) = listener.listening().await?;
        ensure!(
            peer == a_id,
            "listener announced {peer}, keygen said {a_id}"
        );
        let out = run_node(
            &[
                "inspect",
                &addr,
                "--json",
                "--key",
                &b_s,
                "--security",
                "secio",
            ],
            RUN,
        )
        .await?;
        out.expect_success("inspect over secio")?;
        let [line] = out.ops("inspect")[..] else {
            return Err(anyhow!("expected one inspect line: {:?}", out.json));
        };
        let security = line["chain"]
            .as_array()
            .and_then(|c| c.iter().find(|l| l["layer"] == "security"))
            .ok_or_else(|| anyhow!("no security layer in {line}"))?;
        ensure!(security["protocol"] == "/secio/1.0.0", "{line}");
        let details = &security["details"];
        // Both sides propose go-libp2p's order, so the first entries win.
        ensure!(details["exchange"] == "P-256", "{line}");
        ensure!(details["cipher"] == "AES-256", "{line}");
        ensure!(details["hash"] == "SHA256", "{line}");
        drop(listener);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    })
    .await
    .context("test timed out")?
}

/// `PrivateKey { Type = key_type; Data = data }` in libp2p's protobuf encoding.
fn protobuf_private_key(key_type: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x08, key_type, 0x12];
    let mut len = data.len();
    while len >= 0x80 {
        out.push((len as u8) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(data);
    out
}

/// The `Data` of a protobuf `PrivateKey` of type `key_type` (as `protobuf_private_key` lays it out,
/// which is also how keygen writes RSA keys).
fn protobuf_private_key_data(bytes: &[u8], key_type: u8) -> Result<&[u8]> {
    ensure!(
        bytes.len() > 4 && bytes[..3] == [0x08, key_type, 0x12],
        "unexpected key file layout"
    );
    let mut len = 0usize;
    let mut i = 3;
    for shift in (0..).step_by(7).take(4) {
        let b = *bytes.get(i).ok_or_else(|| anyhow!("truncated"))?;
        i += 1;
        len |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
    }
    bytes
        .get(i..i + len)
        .ok_or_else(|| anyhow!("truncated key data"))
}

/// A structurally valid PKCS#1 `RSAPrivateKey` with the given modulus (not a usable key).
fn fake_pkcs1(modulus: &[u8]) -> Vec<u8> {
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = body.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
        }
        out.extend_from_slice(body);
        out
    }
    let mut seq = tlv(0x02, &[0]);
    let mut n = vec![0u8];
    n.extend_from_slice(modulus);
    seq.extend(tlv(0x02, &n));
    for _ in 0..7 {
        seq.extend(tlv(0x02, &[0x03]));
    }
    tlv(0x30, &seq)
}
