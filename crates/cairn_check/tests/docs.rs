//! `docs/rules/` is generated from the rule files; this test fails when it is
//! stale (`UPDATE_DOCS=1 cargo test -p cairn_check --test docs` rewrites it),
//! and the registry of codes and names is snapshotted so a rename or a
//! reused code shows up in review.

use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn rule_docs_are_fresh() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    let pages = cairn_check::docs::pages();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &pages {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    let mut stale = Vec::new();
    for (name, text) in &pages {
        if std::fs::read_to_string(dir.join(name)).ok().as_deref() != Some(text.as_str()) {
            stale.push(name.clone());
        }
    }
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    let generated: BTreeSet<String> = pages.iter().map(|(n, _)| n.clone()).collect();
    let extra: Vec<&String> = on_disk.difference(&generated).collect();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "docs/rules is stale ({stale:?} differ, {extra:?} no longer generated): run `UPDATE_DOCS=1 cargo test -p cairn_check --test docs`"
    );
}

#[test]
fn rule_registry() {
    let rules = cairn_check::rules();
    let mut codes = BTreeSet::new();
    let mut names = BTreeSet::new();
    for r in &rules {
        assert!(codes.insert(r.code), "code {} used twice", r.code);
        assert!(names.insert(r.name), "name {} used twice", r.name);
        assert!(
            r.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{} is not kebab-case",
            r.name
        );
        let docs = r.docs();
        for section in ["## Example", "## Fix", "## References"] {
            assert!(
                docs.contains(section),
                "{} has no `{section}` section in its docs",
                r.name
            );
        }
        assert!(
            r.levels[4] != cairn_check::Level::Off,
            "{} is off in production",
            r.name
        );
    }
    let listing: Vec<String> = rules
        .iter()
        .map(|r| format!("{} {} {}", r.code, r.name, r.category))
        .collect();
    insta::assert_snapshot!("registry", listing.join("\n"));
}
