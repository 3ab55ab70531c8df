//! The à la carte check: a user crate taking only `chainp2p-multistream` and `chainp2p-yamux`
//! (the `alacarte-check` member, `tests/alacarte/`) must build no tokio, no redb and no RSA
//! (`rsa`, or `ring` that libp2p-identity's RSA brings). Reads
//! `cargo tree -p alacarte-check -e normal`: with resolver 2 the features of the selected
//! package alone decide the tree, so another member enabling something does not hide a
//! regression, and one of these two crates depending on any of them does show.
//!
//! The same check holds the swarm thin: `chainp2p-swarm` with `--no-default-features` must
//! build none of the protocol crates its default features bring (transport-tcp, noise, yamux,
//! ping, identify), nor kad or redb.

use std::process::Command;

use crate::cargo;

/// The package whose normal dependency tree is checked.
const PACKAGE: &str = "alacarte-check";

/// Crates that must not be in its tree, and why.
const FORBIDDEN: &[(&str, &str)] = &[
    (
        "tokio",
        "a runtime: multistream and yamux are runtime-agnostic",
    ),
    ("redb", "kad's persistent store"),
    ("rsa", "RSA keys"),
    (
        "ring",
        "RSA keys of libp2p-identity (or another crypto backend)",
    ),
];

/// What the thin swarm must not build without its default features.
const SWARM_FORBIDDEN: &[(&str, &str)] = &[
    ("chainp2p-transport-tcp", "the `tcp` feature"),
    ("chainp2p-noise", "the `noise` feature"),
    ("chainp2p-yamux", "the `yamux` feature"),
    ("chainp2p-ping", "the `ping` feature"),
    ("chainp2p-identify", "the `identify` feature"),
    (
        "chainp2p-kad",
        "Kademlia: chainp2p-kad-swarm, not the swarm",
    ),
    ("redb", "kad's persistent store"),
    ("snow", "noise's crypto"),
];

/// Runs both checks; fails naming each forbidden crate found and the path that brings it in.
pub(crate) fn check() -> anyhow::Result<()> {
    check_tree(PACKAGE, &[], FORBIDDEN)?;
    check_tree(
        "chainp2p-swarm",
        &["--no-default-features"],
        SWARM_FORBIDDEN,
    )
}

/// Checks that none of `forbidden` is in the normal tree of `package` built with `features`.
fn check_tree(package: &str, features: &[&str], forbidden: &[(&str, &str)]) -> anyhow::Result<()> {
    let tree = cargo_tree(package, features, &["--prefix", "none"])?;
    let culprits: Vec<&(&str, &str)> = forbidden
        .iter()
        .filter(|(name, _)| {
            tree.lines()
                .any(|line| line.split_whitespace().next() == Some(*name))
        })
        .collect();
    let listed: Vec<&str> = forbidden.iter().map(|(name, _)| *name).collect();
    if culprits.is_empty() {
        eprintln!(
            "xtask: à la carte check passed: none of {} in {package} {}",
            listed.join(", "),
            features.join(" ")
        );
        return Ok(());
    }
    let mut report = String::new();
    for (name, why) in &culprits {
        // The inverted tree (indented) shows who depends on the culprit, and through what.
        let path = cargo_tree(package, features, &["--invert", name])
            .unwrap_or_else(|e| format!("(cargo tree --invert {name} failed: {e:#})"));
        report.push_str(&format!(
            "\n`{name}` ({why}) is in the normal dependency tree of {package}, via:\n{path}"
        ));
    }
    let names: Vec<&str> = culprits.iter().map(|(name, _)| *name).collect();
    anyhow::bail!(
        "à la carte check failed: {} in {package} {} (it must not need them){report}",
        names.join(", "),
        features.join(" ")
    )
}

/// `cargo tree -p PACKAGE -e normal --locked` plus `features` and `extra`, as text.
fn cargo_tree(package: &str, features: &[&str], extra: &[&str]) -> anyhow::Result<String> {
    let mut cmd: Command = cargo();
    cmd.args(["tree", "-p", package, "-e", "normal", "--locked"])
        .args(features)
        .args(extra);
    eprintln!("xtask: running {cmd:?}");
    let out = cmd.output()?;
    if !out.status.success() {
        anyhow::bail!(
            "{cmd:?} failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}
