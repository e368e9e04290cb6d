//! The generated pair compiles, and its breaking edits are found where
//! they are (the 1,000-file version is compared with buf by
//! `bench-vs-buf.sh`).

use std::collections::BTreeSet;

use cairn_proto::{BreakingConfig, diff, load, load_pair, synth_pair};

#[test]
fn the_generated_pair_compiles_and_its_edits_are_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    synth_pair(dir.path(), 120).expect("write trees");
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    let ((p, pd), (c, cd)) = load_pair(&old, &new);
    assert!(pd.is_empty() && cd.is_empty(), "{pd:?} {cd:?}");
    assert_eq!(p.len(), 120);
    assert!(c.len() < 120, "some files are deleted");
    let (cfg, diags) = BreakingConfig::from_buf_yaml(&new);
    assert!(diags.is_empty(), "{diags:?}");
    let changes = diff(&p, &c, &cfg.expect("buf.yaml"));
    let rules: BTreeSet<&str> = changes.iter().map(|c| c.rule).collect();
    for rule in [
        "FIELD_NO_DELETE",
        "FIELD_SAME_TYPE",
        "FIELD_SAME_NAME",
        "FIELD_SAME_CARDINALITY",
        "FIELD_SAME_ONEOF",
        "ONEOF_NO_DELETE",
        "MESSAGE_NO_DELETE",
        "RESERVED_MESSAGE_NO_DELETE",
        "ENUM_VALUE_NO_DELETE",
        "ENUM_VALUE_SAME_NAME",
        "RPC_NO_DELETE",
        "RPC_SAME_REQUEST_TYPE",
        "SERVICE_NO_DELETE",
        "FILE_NO_DELETE",
        "FILE_SAME_GO_PACKAGE",
    ] {
        assert!(rules.contains(rule), "{rule} not found in {rules:?}");
    }
    // Changed fields and options are located; option positions come back
    // from the descriptor pool's rewritten paths.
    for ch in &changes {
        if ch.rule.starts_with("FIELD_SAME_") || ch.rule == "FILE_SAME_GO_PACKAGE" {
            assert!(
                ch.start_line > 0 && ch.end_column > ch.start_column,
                "{ch:?}"
            );
        }
    }
    // Loading one tree alone gives what the pair load gave.
    let (again, _) = load(&new);
    assert_eq!(
        diff(&p, &again, &BreakingConfig::default()),
        diff(&p, &c, &BreakingConfig::default())
    );
}

#[test]
fn one_seed_writes_the_same_tree_as_the_old_side_of_the_pair() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    cairn_proto::synth_tree(a.path(), 20, 1).expect("write");
    synth_pair(b.path(), 20).expect("write");
    let (p, _) = load(a.path());
    let (q, _) = load(&b.path().join("old"));
    assert!(diff(&p, &q, &BreakingConfig::default()).is_empty());
}
