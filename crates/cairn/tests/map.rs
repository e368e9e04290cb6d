//! `cairn map`: every corpus system drawn in every format; DOT checked by
//! Graphviz's own parser (`dot`, installed by `.ci/run`), Mermaid checked for
//! a node per service and edges between declared nodes; focus and grouping.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus(system: &str) -> PathBuf {
    let dir = root().join("../shared/corpus").join(system);
    assert!(
        dir.is_dir(),
        "corpus system {system} is missing at {}",
        dir.display()
    );
    dir
}

fn map(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("cairn")
        .unwrap()
        .current_dir(dir)
        .arg("map")
        .arg(".")
        .args(args)
        .output()
        .unwrap()
}

fn services(dir: &Path) -> usize {
    let out = Command::cargo_bin("cairn")
        .unwrap()
        .current_dir(dir)
        .args(["scan", ".", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["services"].as_array().unwrap().len()
}

/// Runs Graphviz on DOT text; a missing `dot` is a failure, not a skip.
fn graphviz_accepts(dot: &str) -> Result<(), String> {
    let mut child = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Graphviz `dot` runs (installed by .ci/run)");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), dot.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() && out.stdout.starts_with(b"<?xml") {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Parses Mermaid files with the official parser (`tests/mermaid/check.mjs`
/// on node, packages installed by `.ci/run` into `target/mermaid-check`);
/// missing packages are a failure, not a skip.
fn mermaid_accepts(files: &[PathBuf]) -> Result<(), String> {
    let modules = root().join("target/mermaid-check");
    assert!(
        modules.join("node_modules/mermaid").is_dir(),
        "the Mermaid parser is missing: run .ci/run, or `npm install --prefix target/mermaid-check mermaid@11 jsdom@24`"
    );
    // Node resolves the packages from the script's folder upwards: copy it there.
    let script = modules.join("check.mjs");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mermaid/check.mjs"),
        &script,
    )
    .unwrap();
    let out = std::process::Command::new("node")
        .arg(&script)
        .args(files)
        .output()
        .expect("node runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
fn mermaid_output_parses_with_the_official_parser() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for system in SYSTEMS {
        for group in ["context", "namespace"] {
            let o = map(
                &corpus(system),
                &["--format", "mermaid", "--group-by", group],
            );
            assert!(o.status.success());
            let f = dir.path().join(format!("{system}-{group}.mmd"));
            std::fs::write(&f, &o.stdout).unwrap();
            files.push(f);
        }
    }
    let o = map(&root().join("examples/shopfront"), &["--format", "mermaid"]);
    let f = dir.path().join("shopfront.mmd");
    std::fs::write(&f, &o.stdout).unwrap();
    files.push(f);
    mermaid_accepts(&files).unwrap_or_else(|e| panic!("Mermaid rejects cairn's output:\n{e}"));
    // The check can fail: a broken flowchart is rejected.
    let bad = dir.path().join("bad.mmd");
    std::fs::write(&bad, "flowchart LR\n  a --> b[\n").unwrap();
    assert!(mermaid_accepts(&[bad]).is_err());
}

const SYSTEMS: &[&str] = &[
    "online-boutique",
    "opentelemetry-demo",
    "sock-shop",
    "bank-of-anthos",
    "bookinfo",
    "petclinic",
];

#[test]
fn every_corpus_system_draws_in_every_format() {
    for system in SYSTEMS {
        let dir = corpus(system);
        let n = services(&dir);
        for group in ["context", "namespace", "none"] {
            let o = map(&dir, &["--format", "dot", "--group-by", group]);
            assert!(
                o.status.success(),
                "{system}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let dot = String::from_utf8(o.stdout).unwrap();
            graphviz_accepts(&dot).unwrap_or_else(|e| {
                panic!("{system} --group-by {group}: Graphviz rejects the DOT: {e}\n{dot}")
            });
            let nodes = dot.lines().filter(|l| l.contains("[shape=")).count();
            assert_eq!(nodes, n, "{system}: one node per service");
        }
        let o = map(&dir, &["--format", "mermaid", "--group-by", "namespace"]);
        let mm = String::from_utf8(o.stdout).unwrap();
        assert!(mm.starts_with("flowchart LR\n"));
        let declared: Vec<String> = mm
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with('n') && !l.contains("-->") && !l.contains("-.->"))
            .map(|l| l.chars().take_while(char::is_ascii_alphanumeric).collect())
            .collect();
        assert_eq!(declared.len(), n, "{system}: one Mermaid node per service");
        for l in mm
            .lines()
            .map(str::trim)
            .filter(|l| l.contains("-->") || l.contains("-.->"))
        {
            let ends: Vec<&str> = l
                .split_whitespace()
                .filter(|w| w.starts_with('n') && w[1..].chars().all(|c| c.is_ascii_digit()))
                .collect();
            assert_eq!(ends.len(), 2, "{system}: edge line {l}");
            assert!(
                ends.iter().all(|e| declared.iter().any(|d| d == e)),
                "{system}: edge to an undeclared node: {l}"
            );
        }
        for format in ["c4", "plantuml"] {
            let o = map(&dir, &["--format", format]);
            assert!(
                o.status.success() && !o.stdout.is_empty(),
                "{system} {format}"
            );
        }
    }
}

#[test]
fn focus_keeps_the_neighbourhood() {
    let dir = corpus("online-boutique");
    let o = map(
        &dir,
        &[
            "--format",
            "dot",
            "--focus",
            "cartservice",
            "--depth",
            "1",
            "--group-by",
            "none",
        ],
    );
    let dot = String::from_utf8(o.stdout).unwrap();
    for near in [
        "\"cartservice\"",
        "\"redis-cart\"",
        "\"frontend\"",
        "\"checkoutservice\"",
    ] {
        assert!(
            dot.contains(&format!("{near} [shape=")),
            "{near} missing:\n{dot}"
        );
    }
    assert!(dot.contains("\"redis-cart\" [shape=cylinder"), "{dot}");
    assert!(
        !dot.contains("\"emailservice\""),
        "emailservice is two hops away:\n{dot}"
    );
    graphviz_accepts(&dot).unwrap();
    // A name that is not a service is a usage error with a suggestion.
    let o = map(&dir, &["--focus", "cartservise"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `cartservice`?"));
}

#[test]
fn the_example_system_as_mermaid() {
    let o = map(&root().join("examples/shopfront"), &["--format", "mermaid"]);
    assert!(o.status.success());
    insta::assert_snapshot!(
        "map_shopfront_mermaid",
        String::from_utf8(o.stdout).unwrap()
    );
}
