//! Every rule has a bad fixture that fires on exactly the marked lines and a
//! good fixture that stays silent, and the rendered findings are snapshotted.
//!
//! Fixtures live in `tests/rules/<rule-name>/`: `bad.yaml` (or a `bad/`
//! folder) and `good.yaml` (or `good/`). A line of a bad fixture where the
//! rule must report carries the comment `# expect: <rule-name>`, or the
//! line above it a comment line `# expect-next-line: <rule-name>`. A rule
//! that compares with an older version of the tree (`--baseline`) finds it
//! in a `bad.baseline/` (or `good.baseline/`) folder beside the fixture.

use std::path::{Path, PathBuf};

use cairn_check::config::{Baseline, Selection};
use cairn_check::{Profile, Settings, output};
use cairn_ingest::{InputPath, Options};

fn fixture(rule: &str, which: &str) -> PathBuf {
    let dir = Path::new("tests/rules").join(rule);
    let file = dir.join(format!("{which}.yaml"));
    if file.exists() { file } else { dir.join(which) }
}

struct Run {
    ingest: cairn_ingest::Ingest,
    outcome: cairn_check::Outcome,
}

fn check(path: &Path, rule: &'static cairn_check::Rule) -> Run {
    let opts = Options {
        render_kustomize: false,
        ..Options::default()
    };
    let ingest = cairn_ingest::ingest(&[InputPath::Path(path.to_owned())], &opts, &|_, _| {});
    let (system, _) = cairn_model::build(&ingest);
    let mut settings = Settings::from_config(ingest.configs.first(), Some(Profile::Production));
    let old = path.with_extension("baseline");
    if old.is_dir() {
        settings.baseline = Some(folder_baseline(path, &old));
    }
    // a suppression rule is about the others, so they all run
    if rule.category != cairn_check::Category::Suppression {
        settings.select = vec![Selection::Rule(rule)];
    }
    let mut outcome = cairn_check::run(&ingest, &system, &settings);
    outcome.findings.retain(|f| std::ptr::eq(f.rule, rule));
    Run { ingest, outcome }
}

/// The old tree in `old` for the fixture at `root`: a file's old version is
/// at its path relative to `root`, under `old`.
fn folder_baseline(root: &Path, old: &Path) -> Baseline {
    let (root, old) = (root.to_owned(), old.to_owned());
    let (root2, old2) = (root.clone(), old.clone());
    Baseline::new(
        old.display().to_string(),
        move |p: &Path| match p.strip_prefix(&root) {
            Ok(rel) => std::fs::read(old.join(rel)),
            Err(_) => Err(std::io::Error::other("outside the fixture")),
        },
        move |p: &Path| {
            old2.join(p.strip_prefix(&root2).unwrap_or(p))
                .display()
                .to_string()
        },
    )
}

fn files_under(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `(path, line)` of every `# expect: <rule>` marker.
fn expected(path: &Path, rule: &str) -> Vec<(String, u32)> {
    let marker = format!("# expect: {rule}");
    let next = format!("# expect-next-line: {rule}");
    let mut out = Vec::new();
    for f in files_under(path) {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            if line.contains(&marker) {
                out.push((f.to_string_lossy().into_owned(), i as u32 + 1));
            }
            if line.trim_start().starts_with(&next) {
                out.push((f.to_string_lossy().into_owned(), i as u32 + 2));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_rule_fires_on_its_bad_fixture_and_not_on_its_good_one() {
    let mut problems = Vec::new();
    // RULES=a,b limits the run to some rules while working on them
    let only: Option<Vec<String>> = std::env::var("RULES")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    for rule in cairn_check::rules() {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|n| n == rule.name))
        {
            continue;
        }
        let bad = fixture(rule.name, "bad");
        let good = fixture(rule.name, "good");
        if !bad.exists() || !good.exists() {
            problems.push(format!(
                "{}: no bad/good fixture in tests/rules/{}/",
                rule.name, rule.name
            ));
            continue;
        }
        let want = expected(&bad, rule.name);
        if want.is_empty() {
            problems.push(format!(
                "{}: the bad fixture marks no line with `# expect: {}`",
                rule.name, rule.name
            ));
        }
        let run = check(&bad, rule);
        let mut got: Vec<(String, u32)> = run
            .outcome
            .findings
            .iter()
            .filter(|f| std::ptr::eq(f.rule, rule))
            .map(|f| {
                (
                    f.file
                        .map(|id| run.ingest.sources.path(id).to_owned())
                        .unwrap_or_default(),
                    f.pos.map_or(0, |p| p.line),
                )
            })
            .collect();
        got.sort();
        got.dedup();
        if got != want {
            problems.push(format!(
                "{}: fired at {got:?}, expected {want:?}",
                rule.name
            ));
        }
        let report = output::Report {
            outcome: &run.outcome,
            scan: &[],
            sources: &run.ingest.sources,
            profile: Profile::Production,
        };
        // the findings as a person sees them (the summary line, which counts
        // every rule that ran, is left out so adding a rule changes no snapshot)
        let human = output::human(&report, false);
        let shown = human
            .trim_end()
            .rsplit_once('\n')
            .map_or("", |(findings, _)| findings);
        insta::assert_snapshot!(rule.name, shown);
        let run = check(&good, rule);
        let fired: Vec<String> = run
            .outcome
            .findings
            .iter()
            .filter(|f| std::ptr::eq(f.rule, rule))
            .map(|f| format!("{:?} {}", f.pos.map(|p| p.line), f.message))
            .collect();
        if !fired.is_empty() {
            problems.push(format!(
                "{}: fired on the good fixture: {fired:?}",
                rule.name
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
