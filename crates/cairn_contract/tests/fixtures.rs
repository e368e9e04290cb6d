//! Small contract pairs written for cairn: AsyncAPI 3, Swagger 2.0, and a
//! recursive schema split across files. The snapshot lists every change as
//! a user sees it: level, id, file:line:column, operation, path and text.

use std::fmt::Write as _;
use std::path::Path;

use cairn_contract::openapi::{Docs, Options};

fn render(dir: &str, base: &str, rev: &str) -> String {
    render_with(dir, base, rev, &Options::default())
}

fn render_with(dir: &str, base: &str, rev: &str, opts: &Options) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut docs = Docs::new();
    let b = docs.load(&root.join(base)).expect("base reads");
    let r = docs.load(&root.join(rev)).expect("revision reads");
    let (changes, diags) = cairn_contract::compare(&docs, b, r, opts);
    assert!(
        docs.diagnostics.is_empty() && diags.is_empty(),
        "{:?} {diags:?}",
        docs.diagnostics
    );
    let mut out = String::new();
    for c in &changes {
        let at = c.loc.map(|l| {
            let path = docs.sources.path(l.file);
            let short = path.rsplit_once("fixtures/").map_or(path, |(_, p)| p);
            format!("{short}:{}:{}", l.pos.line, l.pos.column)
        });
        let _ = writeln!(
            out,
            "{} {} at {} in {} {}: {}",
            c.level.as_str(),
            c.id,
            at.unwrap_or_default(),
            c.operation.as_deref().unwrap_or("-"),
            c.path.as_deref().unwrap_or("-"),
            c.text
        );
    }
    out
}

#[test]
fn asyncapi_3_payloads_are_compared_in_the_direction_the_app_uses_them() {
    insta::assert_snapshot!(render("asyncapi3", "v1.yaml", "v2.yaml"));
}

#[test]
fn swagger_2_bodies_parameters_and_x_nullable() {
    insta::assert_snapshot!(render("swagger2", "v1.yaml", "v2.yaml"));
}

#[test]
fn a_recursive_schema_in_another_file_is_compared_once_and_ends() {
    insta::assert_snapshot!(render("recursive", "v1/api.yaml", "v2/api.yaml"));
}

#[test]
fn flattening_all_of_makes_moving_properties_into_it_no_change() {
    let plain = render("flatten", "v1.yaml", "v2.yaml");
    assert!(plain.contains("request-body-all-of-added"), "{plain}");
    let flat = render_with(
        "flatten",
        "v1.yaml",
        "v2.yaml",
        &Options {
            flatten_allof: true,
            ..Options::default()
        },
    );
    assert_eq!(flat, "");
}
