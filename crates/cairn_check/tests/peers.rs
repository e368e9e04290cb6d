//! The peers' own labelled fixtures (`../shared/corpus/peer-tests`): each
//! fixture is checked on its own with the production profile, and cairn must
//! agree with at least 95% of the cases whose mapping is `exact`. Every
//! disagreement is printed; the ones we keep on purpose are explained in the
//! rule's documentation.

// The figures and every disagreement are printed for the closing notes.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cairn_check::{Profile, Settings, config::Selection};
use cairn_ingest::{InputPath, Options};
use serde_json::Value;

fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/peer-tests")
}

/// Whether `rule` reports on `object` (`Kind/name`, `Kind/name#N`, or any object when `None`).
fn fires(fixture: &Path, rule: &'static cairn_check::Rule, object: Option<&str>) -> bool {
    let opts = Options {
        render_kustomize: false,
        ..Options::default()
    };
    let ingest = cairn_ingest::ingest(&[InputPath::Path(fixture.to_owned())], &opts, &|_, _| {});
    let (system, _) = cairn_model::build(&ingest);
    let mut settings = Settings::for_profile(Profile::Production);
    settings.select = vec![Selection::Rule(rule)];
    let outcome = cairn_check::run(&ingest, &system, &settings);
    let mine = outcome
        .findings
        .iter()
        .filter(|f| std::ptr::eq(f.rule, rule));
    let Some(object) = object else {
        return mine.count() > 0;
    };
    let (key, nth) = match object.split_once('#') {
        Some((k, n)) => (k, n.parse::<usize>().ok()),
        None => (object, None),
    };
    let (kind, name) = key.split_once('/').unwrap_or((key, ""));
    let wanted_index = nth.and_then(|n| {
        ingest
            .objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.kind == kind && o.name == name)
            .nth(n - 1)
            .map(|(i, _)| i)
    });
    mine.into_iter().any(|f| match (&f.object, wanted_index) {
        (_, Some(i)) => f.object_index == Some(i),
        (Some(o), None) => o.kind == kind && o.name == name,
        (None, None) => false,
    })
}

#[test]
fn agrees_with_the_peers_own_test_suites() {
    let dir = peer_dir();
    let cases: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("cases.json"))
            .expect("../shared/corpus/peer-tests/cases.json"),
    )
    .expect("cases.json is JSON");
    let only: Option<Vec<String>> = std::env::var("RULES")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    let mut tally: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let mut disagreements = Vec::new();
    let (mut exact_total, mut exact_agree) = (0usize, 0usize);
    for c in &cases {
        let rule_name = c["cairn_rule"].as_str().unwrap_or_default();
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|n| n == rule_name))
        {
            continue;
        }
        let mapping = c["mapping"].as_str().unwrap_or_default().to_owned();
        let expect_fire = c["expect"] == "fire";
        let agree = match cairn_check::rule(rule_name) {
            Some(rule) => {
                let fixture = dir.join(c["fixture"].as_str().unwrap_or_default());
                fires(&fixture, rule, c["object"].as_str()) == expect_fire
            }
            None => false,
        };
        let t = tally
            .entry((rule_name.to_owned(), mapping.clone()))
            .or_default();
        t.1 += 1;
        if agree {
            t.0 += 1;
        } else {
            disagreements.push(format!(
                "{mapping:7} {rule_name}: expected {} on {} {} ({})",
                c["expect"].as_str().unwrap_or_default(),
                c["fixture"].as_str().unwrap_or_default(),
                c["object"].as_str().unwrap_or("(any object)"),
                c["note"].as_str().unwrap_or_default()
            ));
        }
        if mapping == "exact" {
            exact_total += 1;
            exact_agree += usize::from(agree);
        }
    }
    for ((rule, mapping), (agree, total)) in &tally {
        eprintln!("{rule:40} {mapping:7} {agree}/{total}");
    }
    for d in &disagreements {
        eprintln!("DISAGREE {d}");
    }
    let share = exact_agree as f64 / exact_total.max(1) as f64;
    eprintln!(
        "exact cases: {exact_agree}/{exact_total} = {:.1}%",
        share * 100.0
    );
    if only.is_none() {
        assert_eq!(cases.len(), 234, "the peer suite has 234 cases");
        assert!(
            share >= 0.95,
            "cairn agrees with {:.1}% of the exact cases, below 95%",
            share * 100.0
        );
    }
}
