//! The diagnostic code registry is complete and its documentation fresh.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cairn_source::codes::{SCAN_CODES, markdown};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Codes the sources pass to `Diagnostic::{error,warning,info}` or map YAML errors to.
fn codes_in_sources() -> BTreeSet<String> {
    let mut files = Vec::new();
    for krate in [
        "cairn_source",
        "cairn_yaml",
        "cairn_ingest",
        "cairn_model",
        "cairn_render",
        "cairn_check",
        "cairn_contract",
        "cairn_proto",
        "cairn",
    ] {
        rust_files(&root().join("crates").join(krate).join("src"), &mut files);
    }
    let mut found = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for marker in [
            "Diagnostic::error(",
            "Diagnostic::warning(",
            "Diagnostic::info(",
            "=> \"yaml-",
        ] {
            let mut rest = text.as_str();
            while let Some(i) = rest.find(marker) {
                rest = &rest[i + marker.len()..];
                let lit = if marker.starts_with("=>") {
                    format!("yaml-{}", rest.split('"').next().unwrap_or(""))
                } else {
                    let t = rest.trim_start();
                    if !t.starts_with('"') {
                        continue; // a code passed through a variable
                    }
                    t[1..].split('"').next().unwrap_or("").to_owned()
                };
                found.insert(lit);
            }
        }
    }
    found
}

#[test]
fn every_code_used_is_registered_and_every_registered_code_is_used() {
    let used = codes_in_sources();
    let registered: BTreeSet<String> = SCAN_CODES.iter().map(|c| c.code.to_owned()).collect();
    let unregistered: Vec<&String> = used.difference(&registered).collect();
    let unused: Vec<&String> = registered.difference(&used).collect();
    assert!(
        unregistered.is_empty(),
        "codes used but not in cairn_source::codes::SCAN_CODES: {unregistered:?}"
    );
    assert!(
        unused.is_empty(),
        "registered codes no source emits: {unused:?}"
    );
    assert!(used.len() >= 30);
}

#[test]
fn scan_diagnostics_doc_is_fresh() {
    let path = root().join("docs/scan-diagnostics.md");
    let want = markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        have, want,
        "docs/scan-diagnostics.md is stale: run `UPDATE_DOCS=1 cargo test -p cairn --test registry`"
    );
}
