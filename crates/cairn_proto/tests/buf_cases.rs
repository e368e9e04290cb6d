//! buf's own breaking-change test cases: for each case, the (rule, file,
//! start line) multiset cairn reports must equal the one buf's test expects.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cairn_proto::{BreakingConfig, ProtoChange, diff, load};
use serde_json::Value;

/// Cases that need the `buf-plugin-suffix` check plugin, which is not here.
const NEEDS_PLUGIN: &[&str] = &["breaking_custom_plugins", "breaking_policy_local"];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/contracts/proto")
}

/// `(rule, file, start line, start column, end line, end column)`; no file
/// is `""`, no position is zeros (buf prints that as 1:1-1:1).
type Key = (String, String, u32, u32, u32, u32);

fn expected(case: &Value) -> Vec<Key> {
    let mut out: Vec<Key> = case["annotations"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    let n = |k: &str| x[k].as_u64().unwrap_or(0) as u32;
                    let mut pos = (
                        n("start_line"),
                        n("start_column"),
                        n("end_line"),
                        n("end_column"),
                    );
                    if pos == (1, 1, 1, 1) {
                        pos = (0, 0, 0, 0);
                    }
                    (
                        x["rule"].as_str().unwrap_or("").to_owned(),
                        x["file"].as_str().unwrap_or("").to_owned(),
                        pos.0,
                        pos.1,
                        pos.2,
                        pos.3,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn actual(changes: &[ProtoChange]) -> Vec<Key> {
    let mut out: Vec<Key> = changes
        .iter()
        .map(|c| {
            let file = if c.previous {
                String::new()
            } else {
                c.file.clone().unwrap_or_default()
            };
            (
                c.rule.to_owned(),
                file,
                c.start_line,
                c.start_column,
                c.end_line,
                c.end_column,
            )
        })
        .collect();
    out.sort();
    out
}

fn short(k: &[Key]) -> Vec<(String, String, u32)> {
    k.iter()
        .map(|(r, f, l, ..)| (r.clone(), f.clone(), *l))
        .collect()
}

#[test]
fn buf_breaking_cases_match() {
    let root = corpus();
    assert!(
        root.join("cases.json").is_file(),
        "the fixtures are missing: {} (shared/corpus must be beside the repository)",
        root.display()
    );
    let text = std::fs::read_to_string(root.join("cases.json")).expect("cases.json is readable");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("cases.json is JSON");
    assert_eq!(cases.len(), 57);
    let mut matched = 0;
    let mut exact_columns = 0;
    let mut misses: BTreeMap<String, String> = BTreeMap::new();
    for case in &cases {
        let name = case["current"]
            .as_str()
            .and_then(|s| s.rsplit('/').next())
            .unwrap_or("?")
            .to_owned();
        let prev_dir = root.join(case["previous"].as_str().unwrap_or(""));
        let cur_dir = root.join(case["current"].as_str().unwrap_or(""));
        let (cfg, cfg_diags) = BreakingConfig::from_buf_yaml(&cur_dir);
        let cfg = cfg.unwrap_or_default();
        let (prev, prev_diags) = load(&prev_dir);
        let (cur, cur_diags) = load(&cur_dir);
        let changes = diff(&prev, &cur, &cfg);
        let want = expected(case);
        let got = actual(&changes);
        if short(&want) == short(&got) {
            matched += 1;
            if want == got {
                exact_columns += 1;
            } else {
                println!("{name}: lines match, columns differ\n  want {want:?}\n  got  {got:?}");
            }
            continue;
        }
        let mut reason = String::new();
        for d in cfg_diags.iter().chain(&prev_diags).chain(&cur_diags) {
            let _ = writeln!(reason, "  diagnostic: {} {}", d.code, d.message);
        }
        let w = short(&want);
        let g = short(&got);
        for k in &w {
            if !g.contains(k) {
                let _ = writeln!(reason, "  missing: {k:?}");
            }
        }
        for k in &g {
            if !w.contains(k) {
                let _ = writeln!(reason, "  unexpected: {k:?}");
            }
        }
        if w.len() != g.len() {
            let _ = writeln!(reason, "  count: want {}, got {}", w.len(), g.len());
        }
        if NEEDS_PLUGIN.contains(&name.as_str()) {
            reason.push_str("  (needs the buf-plugin-suffix check plugin)\n");
        }
        misses.insert(name, reason);
    }
    for (name, reason) in &misses {
        println!("MISS {name}\n{reason}");
    }
    println!(
        "{matched}/{} cases match on (rule, file, line); {exact_columns} also on columns",
        cases.len()
    );
    assert!(matched >= 55, "only {matched}/57 cases match");
    let unexpected: Vec<&String> = misses
        .keys()
        .filter(|n| !NEEDS_PLUGIN.contains(&n.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "cases that must match do not: {unexpected:?}"
    );
}
