//! `cairn check --env production` on the real systems in `../shared/corpus`:
//! the number of findings per rule per system is pinned (a snapshot per
//! system), so a rule change that adds or loses findings on real input shows
//! up in review. The closing notes of the check work list the network-policy
//! and cross-object findings on online-boutique and sock-shop with why each
//! is true. The API rules find one contract in these systems, bookinfo's
//! Swagger 2.0 file: its four operations declare no `security` (true: the
//! sample has no authentication), and its paths follow the conventions
//! under `basePath: /api/v1`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn check(system: &str) -> Value {
    let dir = corpus().join(system);
    assert!(
        dir.is_dir(),
        "corpus system {system} is missing at {}",
        dir.display()
    );
    let out = Command::cargo_bin("cairn")
        .unwrap()
        .current_dir(&dir)
        .args(["check", ".", "--env", "production", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{system}: cairn check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn tally(v: &Value) -> String {
    // by code number: CA951 before CA1001
    let mut per_rule: BTreeMap<(usize, String), usize> = BTreeMap::new();
    for f in v["findings"].as_array().unwrap() {
        let code = f["code"].as_str().unwrap();
        *per_rule
            .entry((
                code.len(),
                format!("{code} {}", f["rule"].as_str().unwrap()),
            ))
            .or_default() += 1;
    }
    per_rule
        .iter()
        .map(|((_, rule), n)| format!("{rule}: {n}"))
        .collect::<Vec<_>>()
        .join("\n")
}

macro_rules! pinned {
    ($test:ident, $system:literal) => {
        #[test]
        fn $test() {
            let v = check($system);
            insta::assert_snapshot!(concat!("check-", $system), tally(&v));
        }
    };
}

pinned!(online_boutique, "online-boutique");
pinned!(sock_shop, "sock-shop");
pinned!(bank_of_anthos, "bank-of-anthos");
pinned!(bookinfo, "bookinfo");
pinned!(opentelemetry_demo, "opentelemetry-demo");
pinned!(petclinic, "petclinic");
