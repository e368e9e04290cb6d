//! Regressions found by running `cairn diff` over real specifications
//! (the APIs.guru directory, GitHub's published descriptions): each test
//! names the bug, on a small pair written for it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cairn_contract::openapi::{Docs, Options};

fn fixture(dir: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(file)
}

/// `level id: text` of every change, one a line.
fn lines(docs: &Docs, b: cairn_source::FileId, r: cairn_source::FileId) -> Vec<String> {
    let (changes, diags) = cairn_contract::compare(docs, b, r, &Options::default());
    assert!(
        docs.diagnostics.is_empty() && diags.is_empty(),
        "{:?} {diags:?}",
        docs.diagnostics
    );
    changes
        .iter()
        .map(|c| format!("{} {}: {}", c.level.as_str(), c.id, c.text))
        .collect()
}

fn diff(dir: &str) -> Vec<String> {
    let mut docs = Docs::new();
    let b = docs.load(&fixture(dir, "v1.yaml")).expect("base reads");
    let r = docs.load(&fixture(dir, "v2.yaml")).expect("revision reads");
    lines(&docs, b, r)
}

/// A specification compared with a copy of itself (the same text read as
/// two files, so that no node is shared between the versions).
fn self_diff_text(text: &str) -> Vec<String> {
    let mut docs = Docs::new();
    let read = |_: &Path| Ok(text.as_bytes().to_vec());
    let b = docs
        .load_with(Path::new("api.yaml"), "base/api.yaml".into(), 1, &read)
        .expect("base reads");
    let r = docs
        .load_with(Path::new("api.yaml"), "api.yaml".into(), 0, &read)
        .expect("revision reads");
    lines(&docs, b, r)
}

fn diff_text(base: &str, rev: &str) -> Vec<String> {
    let mut docs = Docs::new();
    let rb = |_: &Path| Ok(base.as_bytes().to_vec());
    let rr = |_: &Path| Ok(rev.as_bytes().to_vec());
    let b = docs
        .load_with(Path::new("api.yaml"), "base/api.yaml".into(), 1, &rb)
        .expect("base reads");
    let r = docs
        .load_with(Path::new("api.yaml"), "api.yaml".into(), 0, &rr)
        .expect("revision reads");
    lines(&docs, b, r)
}

#[test]
fn security_requirements_with_the_same_schemes_are_not_compared_crosswise() {
    // Google's specifications list `[{Oauth2: [a]}, {Oauth2: [b]}]`: every
    // requirement was compared with the first one of the same schemes, so a
    // specification compared with itself reported scopes added and removed.
    let text = std::fs::read_to_string(fixture("security_alternatives", "v1.yaml")).unwrap();
    assert_eq!(self_diff_text(&text), Vec::<String>::new());
    // Reordered, and `admin` added to the `read` alternative: only that.
    assert_eq!(
        diff("security_alternatives"),
        ["INFO api-security-scope-added: added the scope `admin` to the security scheme `oauth`"]
    );
}

/// A specification whose `n` schemas each refer to every other one.
fn schema_graph(n: usize, changed: bool) -> String {
    let mut s = String::from(
        "openapi: 3.0.3\ninfo: {title: graph, version: '1'}\npaths:\n  /nodes:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/S0'}\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/S0'}\ncomponents:\n  schemas:\n",
    );
    for i in 0..n {
        let ty = if changed && i == n / 2 {
            "integer"
        } else {
            "string"
        };
        let _ = writeln!(
            s,
            "    S{i}:\n      type: object\n      properties:\n        name: {{type: {ty}}}"
        );
        for j in 0..n {
            let _ = writeln!(s, "        p{j}: {{$ref: '#/components/schemas/S{j}'}}");
        }
    }
    s
}

#[test]
fn a_graph_of_schemas_that_refer_to_each_other_is_compared_in_polynomial_time() {
    // Stripe's, Microsoft Graph's and presalytics' schemas refer to each
    // other: the comparison walked every path through the graph and did not
    // end (Stripe compared with itself ran for minutes).
    let start = Instant::now();
    assert_eq!(
        self_diff_text(&schema_graph(12, false)),
        Vec::<String>::new()
    );
    let changed = diff_text(&schema_graph(12, false), &schema_graph(12, true));
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    // The change is found, in the request and in the response, once each.
    assert_eq!(
        changed
            .iter()
            .filter(|c| c.contains("type-changed") && c.contains("/name"))
            .count(),
        2,
        "{changed:#?}"
    );
    assert!(
        changed
            .iter()
            .any(|c| c.starts_with("ERR request-property-type-changed"))
    );
    assert!(
        changed
            .iter()
            .any(|c| c.starts_with("ERR response-property-type-changed"))
    );
}

#[test]
fn a_schema_first_compared_as_read_only_is_still_compared_where_it_is_not() {
    // The cache of equal schema pairs held a pair whose type change had been
    // skipped because the property was read-only; the same pair used in a
    // property clients send was then taken as unchanged.
    assert_eq!(
        diff("read_only_cache"),
        [
            "ERR request-property-type-changed: the request property `b` (application/json) type/format changed from `string` to `integer`"
        ]
    );
}

#[test]
fn a_schema_wrapped_in_a_one_member_all_of_is_that_schema() {
    // GitHub's description moved `items: {$ref: repository}` into
    // `items: {allOf: [{$ref: repository}]}`: reported as the type changed
    // to `any` and every required property removed (74 ERR for one operation).
    // AWS's wraps a reference with a description: `allOf: [{$ref}, {description}]`.
    assert_eq!(
        diff("allof_wrapper"),
        [
            "ERR response-property-type-changed: the response property `items/id` (200, application/json) type/format changed from `integer` to `string`"
        ]
    );
}

#[test]
fn an_all_of_member_that_refers_to_a_renamed_component_is_compared_with_it() {
    // AWS's `allOf: [{$ref: FeatureGroupName}, …]` became
    // `allOf: [{$ref: FeatureGroupNameOrArn}, …]`: reported as a new `allOf`
    // subschema (ERR) instead of the change in the referenced schema.
    assert_eq!(
        diff("allof_renamed_ref"),
        [
            "INFO request-property-max-increased: the request property `maxItems` (application/json) `maximum` increased from 100 to 1000"
        ]
    );
}

#[test]
fn stating_the_type_that_properties_or_items_imply_is_no_change() {
    // `properties` without `type` became `type: object` with the same
    // properties (HubSpot, Adyen): reported as a type change from `any`.
    assert_eq!(diff("implied_type"), Vec::<String>::new());
}

#[test]
fn stating_int64_on_an_integer_is_not_a_breaking_type_change() {
    // GitHub's description added `format: int64` to every id parameter
    // (`job_id`, `check_run_id`): reported as an ERR type change, though no
    // JSON client sends an integer beyond 64 bits. `int32` still narrows.
    assert_eq!(
        diff("int64_format"),
        [
            "ERR request-parameter-type-changed: the query request parameter `radius` type/format changed from `integer` to `integer/int32`",
            "INFO request-parameter-type-generalized: the path request parameter `job_id` type/format changed from `integer` to `integer/int64`",
            "INFO response-property-type-specialized: the response property `id` (200, application/json) type/format changed from `integer/int64` to `integer`",
        ]
    );
}
