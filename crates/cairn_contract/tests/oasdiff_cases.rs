//! oasdiff's own tested file pairs (`../shared/corpus/contracts/openapi`):
//! cairn must report the check ids oasdiff's tests assert, at the same level.
//!
//! The figures the issue fixes are computed here and asserted: recall of
//! the expected ERR ids over the pairs with oasdiff's default
//! configuration, the absent ids, the exact pairs and the no-change pairs.
//! Every miss is printed with the pair, so a regression names itself.

#![allow(clippy::print_stdout)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cairn_contract::Level;
use cairn_contract::openapi::{Options, diff_files};
use serde_json::Value;

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/contracts/openapi");
    assert!(
        p.join("cases.json").is_file(),
        "the contract corpus is missing at {}: CI must have ../shared beside the repo",
        p.display()
    );
    p
}

fn strs(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// oasdiff's test configuration, where a test changed it.
fn options(case: &Value) -> Options {
    let mut o = Options::default();
    for note in strs(case, "config_notes") {
        if let Some(args) = note
            .strip_prefix("WithDeprecation(")
            .and_then(|s| s.strip_suffix(')'))
        {
            let n: Vec<u32> = args
                .split(',')
                .filter_map(|x| x.trim().parse().ok())
                .collect();
            o.deprecation_days_beta = n[0];
            o.deprecation_days_stable = n[1];
        }
        for (word, level) in [("Draft", 0), ("Alpha", 1), ("Beta", 2), ("Stable", 3)] {
            if note.contains("StabilityLevel") && note.ends_with(&format!("StabilityLevel{word}")) {
                o.stability_level = Some(level);
            }
        }
    }
    o
}

struct Outcome {
    err: BTreeSet<String>,
    warn: BTreeSet<String>,
    info: BTreeSet<String>,
    all: BTreeSet<String>,
}

/// "No change" pairs where cairn deliberately reports a breaking change,
/// with the ids it reports and why oasdiff's test saw none.
const DELIBERATE: &[(&str, &str, &str)] = &[
    (
        "data/deprecation/deprecated-future.yaml -> data/deprecation/deprecated-future-2.yaml",
        "response-success-status-removed",
        "the revision also renames the 200 response to 201; oasdiff's test ran only its sunset check",
    ),
    (
        "data/checker/common_request_parameter_max_items_updated_revision.yaml -> data/checker/common_request_parameter_max_items_updated_base.yaml",
        "request-parameter-max-items-decreased",
        "a path-level parameter's maxItems drops from 20 to 10; oasdiff skips path-level parameters unless \
         --flatten-params, cairn always merges them into each operation so that moving a parameter to the \
         path level is no change and changing it there is",
    ),
];

fn run(root: &Path, case: &Value) -> Outcome {
    let base = root.join(case["base"].as_str().unwrap());
    let rev = root.join(case["revision"].as_str().unwrap());
    let (_docs, changes) = diff_files(&base, &rev, &options(case));
    Outcome {
        err: changes
            .iter()
            .filter(|c| c.level == Level::Err)
            .map(|c| c.id.to_owned())
            .collect(),
        warn: changes
            .iter()
            .filter(|c| c.level == Level::Warn)
            .map(|c| c.id.to_owned())
            .collect(),
        info: changes
            .iter()
            .filter(|c| c.level == Level::Info)
            .map(|c| c.id.to_owned())
            .collect(),
        all: changes.iter().map(|c| c.id.to_owned()).collect(),
    }
}

#[test]
fn oasdiff_tested_pairs() {
    let root = corpus();
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(root.join("cases.json")).unwrap()).unwrap();
    let (mut expected, mut found) = (0, 0);
    let mut absent_bad = Vec::new();
    let (mut exact, mut exact_ok) = (0, 0);
    let (mut quiet, mut quiet_ok) = (0, 0);
    let mut misses = Vec::new();
    let (mut other_expected, mut other_found) = (0, 0);
    let (mut config_expected, mut config_found) = (0, 0);
    for case in cases.iter().filter(|c| c.get("derived").is_none()) {
        let out = run(&root, case);
        let name = format!(
            "{} -> {}",
            case["base"].as_str().unwrap(),
            case["revision"].as_str().unwrap()
        );
        let expect = strs(case, "expect");
        let default = case["default_config"].as_bool() == Some(true);
        if default {
            for (key, got) in [("expect_warn", &out.warn), ("expect_info", &out.info)] {
                for id in strs(case, key) {
                    other_expected += 1;
                    if got.contains(&id) {
                        other_found += 1;
                    } else {
                        misses.push(format!("(not asserted) missed {key} {id}: {name}"));
                    }
                }
            }
        } else {
            for id in &expect {
                config_expected += 1;
                if out.err.contains(id) {
                    config_found += 1;
                } else {
                    misses.push(format!(
                        "(not asserted) missed {id} under {:?}: {name}",
                        strs(case, "config_notes")
                    ));
                }
            }
        }
        if default {
            for id in &expect {
                expected += 1;
                if out.err.contains(id) {
                    found += 1;
                } else {
                    misses.push(format!("missed {id}: {name} (got ERR {:?})", out.err));
                }
            }
            for id in strs(case, "expect_absent") {
                if out.all.contains(&id) {
                    absent_bad.push(format!(
                        "reported {id}, which oasdiff asserts absent: {name}"
                    ));
                }
            }
        }
        if case["exact"].as_bool() == Some(true) {
            exact += 1;
            let want: BTreeSet<String> = expect.iter().cloned().collect();
            if want == out.err {
                exact_ok += 1;
            } else {
                misses.push(format!(
                    "exact pair differs: {name}: want {want:?}, got {:?}",
                    out.err
                ));
            }
        }
        let no_change = ["expect", "expect_warn", "expect_info", "expect_absent"]
            .iter()
            .all(|k| strs(case, k).is_empty());
        if no_change {
            quiet += 1;
            let deliberate = DELIBERATE.iter().find(|(pair, _, _)| *pair == name);
            if out.err.is_empty() {
                quiet_ok += 1;
            } else if let Some((_, id, why)) = deliberate {
                assert_eq!(out.err, BTreeSet::from([(*id).to_owned()]), "{name}");
                misses.push(format!(
                    "no-change pair reports {id} on purpose: {why}: {name}"
                ));
            } else {
                misses.push(format!("no-change pair reports ERR {:?}: {name}", out.err));
            }
        }
    }
    let recall = f64::from(found) / f64::from(expected);
    println!("recall of expected ERR ids (default config): {found}/{expected} = {recall:.3}");
    println!("expect_absent violations: {}", absent_bad.len());
    println!("exact pairs matching: {exact_ok}/{exact}");
    println!(
        "no-change pairs without ERR: {quiet_ok}/{quiet} ({} deliberate, listed below)",
        DELIBERATE.len()
    );
    println!(
        "(not asserted) WARN/INFO ids found: {other_found}/{other_expected}; ERR ids under a test's own config: {config_found}/{config_expected}"
    );
    for m in misses.iter().chain(&absent_bad) {
        println!("  {m}");
    }
    // Pairs made by cairn's research from oasdiff's in-code spec mutations:
    // each names the one ERR id its mutation should produce.
    let (mut derived, mut derived_ok) = (0, 0);
    for case in cases.iter().filter(|c| c.get("derived").is_some()) {
        let out = run(&root, case);
        for id in strs(case, "expect_unverified") {
            derived += 1;
            if out.err.contains(&id) {
                derived_ok += 1;
            } else {
                println!("  derived pair misses {id}: {}", case["revision"]);
            }
        }
    }
    println!("derived pairs reporting their id at ERR: {derived_ok}/{derived}");
    assert_eq!(derived_ok, derived, "a derived pair misses its id");
    assert_eq!(exact, 55, "the corpus changed: 55 exact pairs expected");
    assert_eq!(quiet, 31, "the corpus changed: 31 no-change pairs expected");
    assert!(recall >= 0.97, "recall {recall:.3} is below 0.97");
    assert!(
        absent_bad.is_empty(),
        "ids reported that oasdiff asserts absent"
    );
    assert!(exact_ok >= 52, "only {exact_ok} of 55 exact pairs match");
    assert_eq!(
        quiet_ok + DELIBERATE.len(),
        quiet,
        "a no-change pair reports an ERR change"
    );
}
