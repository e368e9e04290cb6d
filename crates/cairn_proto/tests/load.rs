//! A tree with a broken file still loads and is compared.

use cairn_proto::{BreakingConfig, diff, load};

fn write(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("temp file is writable");
}

#[test]
fn a_file_that_does_not_compile_is_a_diagnostic_and_the_rest_is_diffed() {
    let prev = tempfile::tempdir().expect("tempdir");
    let cur = tempfile::tempdir().expect("tempdir");
    let good =
        "syntax = \"proto3\";\npackage a;\nmessage M {\n  string one = 1;\n  int32 two = 2;\n}\n";
    write(prev.path(), "good.proto", good);
    write(
        cur.path(),
        "good.proto",
        &good.replace("  int32 two = 2;\n", ""),
    );
    write(
        cur.path(),
        "broken.proto",
        "syntax = \"proto3\";\nmessage N {\n  strin x = 1;\n}\n",
    );
    write(
        cur.path(),
        "imports.proto",
        "syntax = \"proto3\";\nimport \"missing.proto\";\n",
    );
    std::fs::write(cur.path().join("binary.proto"), [0xff, 0xfe, 0x00]).expect("write");

    let (p, pd) = load(prev.path());
    assert!(pd.is_empty(), "{pd:?}");
    let (c, cd) = load(cur.path());
    let codes: Vec<(&str, Option<u32>)> =
        cd.iter().map(|d| (d.code, d.pos.map(|p| p.line))).collect();
    assert!(codes.contains(&("proto-compile", Some(3))), "{cd:?}");
    assert!(codes.iter().any(|(c, _)| *c == "proto-read"), "{cd:?}");
    assert_eq!(
        cd.iter().filter(|d| d.code == "proto-compile").count(),
        2,
        "{cd:?}"
    );
    let broken = cd
        .iter()
        .find(|d| d.pos.is_some_and(|p| p.line == 3))
        .and_then(|d| d.file)
        .expect("diagnostic names its file");
    assert_eq!(c.sources().path(broken), "broken.proto");

    let changes = diff(&p, &c, &BreakingConfig::default());
    assert_eq!(changes.len(), 1, "{changes:?}");
    let ch = &changes[0];
    assert_eq!(ch.rule, "FIELD_NO_DELETE");
    assert_eq!(ch.file.as_deref(), Some("good.proto"));
    assert_eq!((ch.start_line, ch.start_column), (3, 1));
    assert_eq!(
        ch.message,
        "Previously present field \"2\" with name \"two\" on message \"M\" was deleted."
    );
}

#[test]
fn a_missing_directory_is_a_diagnostic() {
    let (tree, diags) = load(std::path::Path::new("/nonexistent/cairn/protos"));
    assert!(tree.is_empty());
    assert_eq!(diags[0].code, "proto-read");
}
