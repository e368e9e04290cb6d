//! Collects the rule files: every `src/rules/*.rs` is one rule, listed in
//! the registry in file-name order, with its source kept for its documentation.

use std::fmt::Write;

fn main() {
    let dir = std::path::Path::new("src/rules");
    println!("cargo::rerun-if-changed=src/rules");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("src/rules exists")
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "rs").then(|| p.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    let root = std::env::var("CARGO_MANIFEST_DIR")
        .expect("CARGO_MANIFEST_DIR")
        .replace('\\', "/");
    let mut out = String::new();
    for n in &names {
        let _ = writeln!(out, "#[path = \"{root}/src/rules/{n}.rs\"]\nmod {n};");
    }
    out.push_str("/// Every rule with the text of its file, in file-name order.\npub(crate) static RULE_FILES: &[(&Rule, &str)] = &[\n");
    for n in &names {
        let _ = writeln!(
            out,
            "    (&{n}::RULE, include_str!(\"{root}/src/rules/{n}.rs\")),"
        );
    }
    out.push_str("];\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("rules.rs");
    std::fs::write(dest, out).expect("writing the rule list");
}
