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
    assert!(p.join("cases.json").is_file(), "the contract corpus is missing at {}: CI must have ../shared beside the repo", p.display());
    p
}

fn strs(v: &Value, key: &str) -> Vec<String> {
    v.get(key).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
}

/// oasdiff's test configuration, where a test changed it.
fn options(case: &Value) -> Options {
    let mut o = Options::default();
    for note in strs(case, "config_notes") {
        if let Some(args) = note.strip_prefix("WithDeprecation(").and_then(|s| s.strip_suffix(')')) {
            let n: Vec<u32> = args.split(',').filter_map(|x| x.trim().parse().ok()).collect();
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
    all: BTreeSet<String>,
}

fn run(root: &Path, case: &Value) -> Outcome {
    let base = root.join(case["base"].as_str().unwrap());
    let rev = root.join(case["revision"].as_str().unwrap());
    let (_docs, changes) = diff_files(&base, &rev, &options(case));
    Outcome {
        err: changes.iter().filter(|c| c.level == Level::Err).map(|c| c.id.to_owned()).collect(),
        all: changes.iter().map(|c| c.id.to_owned()).collect(),
    }
}

#[test]
fn oasdiff_tested_pairs() {
    let root = corpus();
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(root.join("cases.json")).unwrap()).unwrap();
    let (mut expected, mut found) = (0, 0);
    let mut absent_bad = Vec::new();
    let (mut exact, mut exact_ok) = (0, 0);
    let (mut quiet, mut quiet_ok) = (0, 0);
    let mut misses = Vec::new();
    for case in cases.iter().filter(|c| c.get("derived").is_none()) {
        let out = run(&root, case);
        let name = format!("{} -> {}", case["base"].as_str().unwrap(), case["revision"].as_str().unwrap());
        let expect = strs(case, "expect");
        let default = case["default_config"].as_bool() == Some(true);
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
                    absent_bad.push(format!("reported {id}, which oasdiff asserts absent: {name}"));
                }
            }
        }
        if case["exact"].as_bool() == Some(true) {
            exact += 1;
            let want: BTreeSet<String> = expect.iter().cloned().collect();
            if want == out.err {
                exact_ok += 1;
            } else {
                misses.push(format!("exact pair differs: {name}: want {want:?}, got {:?}", out.err));
            }
        }
        let no_change = ["expect", "expect_warn", "expect_info", "expect_absent"].iter().all(|k| strs(case, k).is_empty());
        if no_change {
            quiet += 1;
            if out.err.is_empty() {
                quiet_ok += 1;
            } else {
                misses.push(format!("no-change pair reports ERR {:?}: {name}", out.err));
            }
        }
    }
    let recall = f64::from(found) / f64::from(expected);
    println!("recall of expected ERR ids (default config): {found}/{expected} = {recall:.3}");
    println!("expect_absent violations: {}", absent_bad.len());
    println!("exact pairs matching: {exact_ok}/{exact}");
    println!("no-change pairs without ERR: {quiet_ok}/{quiet}");
    for m in misses.iter().chain(&absent_bad) {
        println!("  {m}");
    }
    assert_eq!(exact, 55, "the corpus changed: 55 exact pairs expected");
    assert_eq!(quiet, 31, "the corpus changed: 31 no-change pairs expected");
    assert!(recall >= 0.97, "recall {recall:.3} is below 0.97");
    assert!(absent_bad.is_empty(), "ids reported that oasdiff asserts absent");
    assert!(exact_ok >= 52, "only {exact_ok} of 55 exact pairs match");
    assert_eq!(quiet_ok, quiet, "a no-change pair reports an ERR change");
}
