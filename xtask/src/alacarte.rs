//! The à la carte check: a user crate taking only `chainp2p-multistream` and `chainp2p-yamux`
//! (the `alacarte-check` member, `tests/alacarte/`) must build no tokio, no redb and no RSA
//! (`rsa`, or `ring` that libp2p-identity's RSA brings). Reads
//! `cargo tree -p alacarte-check -e normal`: with resolver 2 the features of the selected
//! package alone decide the tree, so another member enabling something does not hide a
//! regression, and one of these two crates depending on any of them does show.

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

/// Runs the check; fails naming each forbidden crate found and the path that brings it in.
pub(crate) fn check() -> anyhow::Result<()> {
    let tree = cargo_tree(&["--prefix", "none"])?;
    let culprits: Vec<&(&str, &str)> = FORBIDDEN
        .iter()
        .filter(|(name, _)| {
            tree.lines()
                .any(|line| line.split_whitespace().next() == Some(*name))
        })
        .collect();
    if culprits.is_empty() {
        eprintln!("xtask: à la carte check passed: no tokio, redb, rsa or ring in {PACKAGE}");
        return Ok(());
    }
    let mut report = String::new();
    for (name, why) in &culprits {
        // The inverted tree (indented) shows who depends on the culprit, and through what.
        let path = cargo_tree(&["--invert", name])
            .unwrap_or_else(|e| format!("(cargo tree --invert {name} failed: {e:#})"));
        report.push_str(&format!(
            "\n`{name}` ({why}) is in the normal dependency tree of {PACKAGE}, via:\n{path}"
        ));
    }
    let names: Vec<&str> = culprits.iter().map(|(name, _)| *name).collect();
    anyhow::bail!(
        "à la carte check failed: {} in {PACKAGE} (chainp2p-multistream + chainp2p-yamux alone \
         must not need them){report}",
        names.join(", ")
    )
}

/// `cargo tree -p alacarte-check -e normal --locked` plus `extra`, as text.
fn cargo_tree(extra: &[&str]) -> anyhow::Result<String> {
    let mut cmd: Command = cargo();
    cmd.args(["tree", "-p", PACKAGE, "-e", "normal", "--locked"])
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
