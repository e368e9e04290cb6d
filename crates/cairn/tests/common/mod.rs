//! Helpers shared by the end-to-end tests.

// Each test file uses the helpers it needs; the rest are unused there.
#![allow(dead_code)]

use std::path::Path;

/// Runs Python's `jsonschema` (installed by `.ci/run`) over `instance`; a
/// missing Python or module is a failure, not a skip.
pub fn validate_with_python(schema: &Path, instance: &str) {
    let dir = tempfile::tempdir().unwrap();
    let inst = dir.path().join("out.sarif");
    std::fs::write(&inst, instance).unwrap();
    let script = "import json,sys\nimport jsonschema\nschema=json.load(open(sys.argv[1]))\ninst=json.load(open(sys.argv[2]))\ncls=jsonschema.validators.validator_for(schema)\ncls.check_schema(schema)\nerrors=sorted(cls(schema).iter_errors(inst), key=lambda e: list(e.path))\nfor e in errors[:20]:\n    print(list(e.path), e.message)\nsys.exit(1 if errors else 0)\n";
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(schema)
        .arg(&inst)
        .output()
        .expect("python3 runs (installed with the jsonschema module by .ci/run)");
    assert!(
        out.status.success(),
        "SARIF does not validate:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs git in `dir` with a fixed identity; a failure fails the test.
pub fn git(dir: &Path, args: &[&str]) {
    let o = std::process::Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=cairn",
            "-c",
            "user.email=cairn@example.com",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `git init` in `dir` and a first commit of everything in it.
pub fn git_commit_all(dir: &Path) {
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "v1"]);
}
