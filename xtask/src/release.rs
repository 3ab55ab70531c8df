//! Release checks that read `cargo metadata`: `cargo xtask package` (every publishable crate
//! packages as it is, and each `.crate` carries its README and both licence files) and
//! `cargo xtask msrv` (no dependency of a publishable crate declares a `rust-version` newer
//! than ours).
//!
//! "Publishable" is every workspace member whose `publish` is not `false` (xtask, the test,
//! bench and à la carte packages set `publish = false`).

// `Value["key"]` on serde_json values never panics (a missing key or a non-object gives `Null`).
#![allow(clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use anyhow::{bail, Context};
use serde_json::Value;

use crate::{cargo, run_checked, target_dir};

/// Files every packaged `.crate` must contain (besides its code and `Cargo.toml`).
const REQUIRED_FILES: &[&str] = &["README.md", "LICENSE-MIT", "LICENSE-APACHE"];

/// `cargo metadata` as JSON; `deps` also resolves the dependency graph.
fn metadata(deps: bool) -> anyhow::Result<Value> {
    let mut cmd = cargo();
    cmd.args(["metadata", "--format-version", "1", "--locked"]);
    if !deps {
        cmd.arg("--no-deps");
    }
    let out = cmd.output().context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).context("parsing cargo metadata")
}

/// A published workspace member: name, version, package id.
struct Member {
    name: String,
    version: String,
    id: String,
}

/// The workspace members whose `publish` is not `[]` (`publish = false`).
fn publishable(meta: &Value) -> anyhow::Result<Vec<Member>> {
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .context("workspace_members")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut out = Vec::new();
    for p in meta["packages"].as_array().context("packages")? {
        let id = p["id"].as_str().context("package id")?;
        if !members.contains(id) {
            continue;
        }
        let unpublished = p["publish"].as_array().is_some_and(Vec::is_empty);
        if unpublished {
            continue;
        }
        out.push(Member {
            name: p["name"].as_str().context("package name")?.to_owned(),
            version: p["version"].as_str().context("package version")?.to_owned(),
            id: id.to_owned(),
        });
    }
    if out.is_empty() {
        bail!("no publishable workspace member found");
    }
    Ok(out)
}

/// `cargo xtask package`: `cargo package --no-verify --locked` of every publishable crate at
/// once, then a look inside each `.crate` for [`REQUIRED_FILES`].
pub(crate) fn package() -> anyhow::Result<()> {
    let meta = metadata(false)?;
    let members = publishable(&meta)?;
    let mut cmd = cargo();
    cmd.args(["package", "--no-verify", "--locked", "--allow-dirty"]);
    for m in &members {
        cmd.args(["-p", &m.name]);
    }
    run_checked(cmd)?;
    let mut missing = Vec::new();
    for m in &members {
        let stem = format!("{}-{}", m.name, m.version);
        let file = target_dir().join("package").join(format!("{stem}.crate"));
        let out = Command::new("tar")
            .arg("tzf")
            .arg(&file)
            .output()
            .with_context(|| format!("listing {}", file.display()))?;
        if !out.status.success() {
            bail!("tar tzf {} failed", file.display());
        }
        let listing = String::from_utf8_lossy(&out.stdout);
        let files: BTreeSet<&str> = listing.lines().collect();
        for want in REQUIRED_FILES {
            if !files.contains(format!("{stem}/{want}").as_str()) {
                missing.push(format!("{stem}.crate has no {want}"));
            }
        }
    }
    if !missing.is_empty() {
        bail!(
            "packaged crates are incomplete:\n  {}",
            missing.join("\n  ")
        );
    }
    eprintln!(
        "xtask: {} crates packaged, each with {}",
        members.len(),
        REQUIRED_FILES.join(", ")
    );
    Ok(())
}

/// A `rust-version` as numbers (`"1.85"` -> `[1, 85]`, `"1.85.1"` -> `[1, 85, 1]`); missing
/// components compare as 0.
fn parse_version(v: &str) -> anyhow::Result<[u64; 3]> {
    let mut out = [0u64; 3];
    let mut parts = v.split('.');
    for slot in &mut out {
        match parts.next() {
            Some(p) => *slot = p.parse().with_context(|| format!("rust-version {v:?}"))?,
            None => break,
        }
    }
    if parts.next().is_some() {
        bail!("rust-version {v:?} has more than three components");
    }
    Ok(out)
}

/// `cargo xtask msrv`: every package reachable from a publishable crate through normal and
/// build dependencies (all targets, all enabled features of this workspace's resolve) must
/// declare no `rust-version` newer than the workspace's. Packages without one pass (nothing
/// to read). This is what can be checked without a second toolchain: clippy's
/// `incompatible_msrv` covers our own calls into std.
pub(crate) fn msrv() -> anyhow::Result<()> {
    let meta = metadata(true)?;
    let members = publishable(&meta)?;
    let mut info: BTreeMap<&str, (&str, Option<&str>)> = BTreeMap::new();
    for p in meta["packages"].as_array().context("packages")? {
        let id = p["id"].as_str().context("package id")?;
        let name = p["name"].as_str().context("package name")?;
        info.insert(id, (name, p["rust_version"].as_str()));
    }
    let ours_str = members
        .iter()
        .filter_map(|m| info.get(m.id.as_str()).and_then(|(_, rv)| *rv))
        .next()
        .context("the publishable crates declare no rust-version")?;
    let ours = parse_version(ours_str)?;
    for m in &members {
        let rv = info.get(m.id.as_str()).and_then(|(_, rv)| *rv);
        if rv != Some(ours_str) {
            bail!(
                "{} declares rust-version {rv:?}, not the workspace's {ours_str}",
                m.name
            );
        }
    }
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().context("resolve")? {
        let id = node["id"].as_str().context("node id")?;
        let mut to = Vec::new();
        for dep in node["deps"].as_array().context("node deps")? {
            let not_dev_only = dep["dep_kinds"]
                .as_array()
                .context("dep_kinds")?
                .iter()
                .any(|k| k["kind"].as_str() != Some("dev"));
            if not_dev_only {
                to.push(dep["pkg"].as_str().context("dep pkg")?);
            }
        }
        edges.insert(id, to);
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut stack: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    while let Some(id) = stack.pop() {
        if seen.insert(id) {
            stack.extend(edges.get(id).into_iter().flatten().copied());
        }
    }
    let mut newer = Vec::new();
    for id in &seen {
        if let Some((name, Some(rv))) = info.get(id) {
            if parse_version(rv)? > ours {
                newer.push(format!("{name} ({id}) needs Rust {rv}"));
            }
        }
    }
    if !newer.is_empty() {
        bail!(
            "dependencies newer than our rust-version {ours_str}:\n  {}",
            newer.join("\n  ")
        );
    }
    eprintln!(
        "xtask: msrv {ours_str}: {} packages reached from {} publishable crates, none declares a newer rust-version",
        seen.len(),
        members.len()
    );
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::parse_version;

    #[test]
    fn versions_compare_by_number() {
        assert!(parse_version("1.100").unwrap() > parse_version("1.90").unwrap());
        assert!(parse_version("1.90.1").unwrap() > parse_version("1.90").unwrap());
        assert_eq!(
            parse_version("1.90").unwrap(),
            parse_version("1.90.0").unwrap()
        );
        assert!(parse_version("1.x").is_err());
        assert!(parse_version("1.2.3.4").is_err());
    }
}
