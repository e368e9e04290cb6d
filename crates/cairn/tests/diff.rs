//! `cairn diff` end to end: the example's contracts (OpenAPI, AsyncAPI and a
//! .proto tree), every output format (SARIF validated against the official
//! schema), exit codes, severity and ignore files, a git base, and bad
//! input that is reported while the rest of the comparison still runs.

mod common;
use common::{git_commit_all, validate_with_python};

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cairn_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("cairn")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn cairn(args: &[&str]) -> std::process::Output {
    cairn_in(&root(), args)
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stdout(o)))
}

/// `(id, level, file:line)` of every change.
fn changes(v: &Value) -> Vec<(String, String, String)> {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let src = &c["source"];
            let at = if src.is_null() {
                String::new()
            } else {
                format!("{}:{}", src["file"].as_str().unwrap(), src["line"])
            };
            (
                c["id"].as_str().unwrap().to_owned(),
                c["level"].as_str().unwrap().to_owned(),
                at,
            )
        })
        .collect()
}

const OLD: &str = "examples/shopfront/contracts";
const NEW: &str = "examples/shopfront-next/contracts";

#[test]
fn the_example_release_is_compared_contract_by_contract() {
    let o = cairn(&["diff", OLD, NEW, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    let got = changes(&v);
    let has = |id: &str, level: &str, at: &str| {
        got.iter()
            .any(|(i, l, a)| i == id && l == level && a.ends_with(at))
    };
    let n = "examples/shopfront-next/contracts/";
    // OpenAPI
    assert!(
        has(
            "new-required-request-property",
            "ERR",
            &format!("{n}orders.openapi.yaml:118")
        ),
        "{got:#?}"
    );
    assert!(has(
        "request-parameter-max-length-decreased",
        "ERR",
        &format!("{n}orders.openapi.yaml:109")
    ));
    assert!(has(
        "response-property-type-changed",
        "ERR",
        &format!("{n}orders.openapi.yaml:146")
    ));
    assert!(has(
        "response-property-enum-value-added",
        "WARN",
        &format!("{n}orders.openapi.yaml:158")
    ));
    // A removal points into the base.
    assert!(has(
        "response-non-success-status-removed",
        "INFO",
        "examples/shopfront/contracts/orders.openapi.yaml:73"
    ));
    assert!(has(
        "endpoint-added",
        "INFO",
        &format!("{n}orders.openapi.yaml:74")
    ));
    // `{orderId}` renamed to `{id}` is no change.
    assert!(
        !got.iter()
            .any(|(i, _, _)| i.contains("path-parameter") || i.starts_with("api-path-removed"))
    );
    // AsyncAPI: orders sends OrderPlaced; a property no longer required breaks consumers.
    assert!(has(
        "sent-property-became-optional",
        "ERR",
        &format!("{n}order-events.asyncapi.yaml:115")
    ));
    assert!(has(
        "message-added",
        "INFO",
        &format!("{n}order-events.asyncapi.yaml:76")
    ));
    // .proto, with buf's rule ids and positions.
    assert!(has(
        "FIELD_NO_DELETE",
        "ERR",
        &format!("{n}inventory.proto:28")
    ));
    assert!(has(
        "FIELD_SAME_TYPE",
        "ERR",
        &format!("{n}inventory.proto:30")
    ));
    assert_eq!(v["summary"]["ERR"], 7);
    // Every change has the documented fields.
    for c in v["changes"].as_array().unwrap() {
        for key in ["id", "level", "text", "operation", "path", "source"] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
    }
}

#[test]
fn text_output_names_the_change_and_shows_the_line() {
    let o = cairn(&[
        "diff",
        "examples/shopfront/contracts/orders.openapi.yaml",
        "examples/shopfront-next/contracts/orders.openapi.yaml",
        "--level",
        "ERR",
    ]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!("diff_text_orders", stdout(&o));
}

#[test]
fn fail_on_and_levels_decide_the_exit_code() {
    let a = "examples/shopfront/contracts/order-events.asyncapi.yaml";
    let b = "examples/shopfront-next/contracts/order-events.asyncapi.yaml";
    // One ERR change: fails by default.
    assert_eq!(cairn(&["diff", a, b]).status.code(), Some(1));
    // Re-levelled to WARN it passes at the default fail level, fails at WARN.
    let relevel = ["--set-level", "sent-property-became-optional=WARN"];
    assert_eq!(
        cairn(&[&["diff", a, b][..], &relevel].concat())
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        cairn(&[&["diff", a, b, "--fail-on", "WARN"][..], &relevel].concat())
            .status
            .code(),
        Some(1)
    );
    // A version compared with itself has no change.
    assert_eq!(
        cairn(&["diff", a, a, "--fail-on", "INFO"]).status.code(),
        Some(0)
    );
    // Usage errors.
    assert_eq!(cairn(&["diff", a]).status.code(), Some(2));
    assert_eq!(
        cairn(&["diff", a, b, "--fail-on", "LOUD"]).status.code(),
        Some(2)
    );
    assert_eq!(cairn(&["diff", "no/such.yaml", b]).status.code(), Some(2));
}

#[test]
fn ignore_and_severity_files_apply_and_report_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let ignore = dir.path().join("ignore.txt");
    std::fs::write(
        &ignore,
        "# accepted in review\nnew-required-request-property POST /v1/orders\nresponse-property-type-changed\nno-such-id\n",
    )
    .unwrap();
    let levels = dir.path().join("levels.txt");
    std::fs::write(&levels, "request-parameter-max-length-decreased WARN\n").unwrap();
    let o = cairn(&[
        "diff",
        "examples/shopfront/contracts/orders.openapi.yaml",
        "examples/shopfront-next/contracts/orders.openapi.yaml",
        "--ignore-file",
        ignore.to_str().unwrap(),
        "--severity-levels",
        levels.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v = json(&o);
    let ids: Vec<_> = changes(&v)
        .into_iter()
        .map(|(i, l, _)| format!("{i} {l}"))
        .collect();
    assert!(
        !ids.iter()
            .any(|i| i.starts_with("new-required-request-property")
                || i.starts_with("response-property-type-changed")),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"request-parameter-max-length-decreased WARN".to_owned()),
        "{ids:?}"
    );
    let diag = v["diagnostics"].as_array().unwrap();
    assert!(
        diag.iter().any(|d| d["code"] == "diff-config-invalid"
            && d["line"] == 4
            && d["file"].as_str().unwrap().ends_with("ignore.txt")),
        "{diag:?}"
    );
    // The bad line is an error in the configuration: the run fails.
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn every_format_carries_the_changes() {
    let schema = root().join("../shared/schemas/sarif-schema-2.1.0.json");
    assert!(
        schema.exists(),
        "../shared/schemas/sarif-schema-2.1.0.json is missing"
    );
    let o = cairn(&["diff", OLD, NEW, "--format", "sarif"]);
    validate_with_python(&schema, &stdout(&o));
    let v = json(&o);
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 16);
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                > 0
        );
    }
    let md = stdout(&cairn(&["diff", OLD, NEW, "--format", "markdown"]));
    assert!(
        md.contains("| ERR | `new-required-request-property` | `POST /v1/orders` |"),
        "{md}"
    );
    let gh = stdout(&cairn(&["diff", OLD, NEW, "--format", "github"]));
    assert!(gh.lines().any(|l| l.starts_with("::error file=examples/shopfront-next/contracts/inventory.proto,line=28,col=1,title=FIELD_NO_DELETE::")), "{gh}");
    let junit = stdout(&cairn(&["diff", OLD, NEW, "--format", "junit"]));
    assert!(junit.contains("tests=\"16\" failures=\"11\""), "{junit}");
}

#[test]
fn a_git_revision_is_a_base_with_its_refs_read_from_the_same_revision() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("api/schemas")).unwrap();
    let spec = "openapi: 3.1.0\ninfo: {title: pets, version: '1'}\npaths:\n  /pets/{id}:\n    get:\n      parameters:\n        - {name: id, in: path, required: true, schema: {type: string}}\n      responses:\n        '200':\n          description: a pet\n          content:\n            application/json:\n              schema: {$ref: './schemas/pet.yaml'}\n";
    std::fs::write(d.join("api/openapi.yaml"), spec).unwrap();
    std::fs::write(
        d.join("api/schemas/pet.yaml"),
        "type: object\nrequired: [name]\nproperties:\n  name: {type: string}\n",
    )
    .unwrap();
    git_commit_all(d);
    // v2: the referenced schema no longer promises `name`.
    std::fs::write(
        d.join("api/schemas/pet.yaml"),
        "type: object\nproperties:\n  name: {type: string}\n",
    )
    .unwrap();
    let o = cairn_in(
        d,
        &[
            "diff",
            "--base",
            "git:HEAD:api/openapi.yaml",
            "api/openapi.yaml",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let got = changes(&json(&o));
    assert!(
        got.contains(&(
            "response-property-became-optional".into(),
            "ERR".into(),
            "api/schemas/pet.yaml:3".into()
        )),
        "{got:?}"
    );
    // A revision or path git does not have is a clear error.
    let o = cairn_in(
        d,
        &[
            "diff",
            "--base",
            "git:HEAD:api/missing.yaml",
            "api/openapi.yaml",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("api/missing.yaml"), "{}", stderr(&o));
}

#[test]
fn bad_input_is_reported_where_it_is_and_the_rest_is_compared() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200': {description: ok}\n  /b:\n    get:\n      responses:\n        '200': {description: ok}\n";
    // The revision drops /b, refers to a missing file, and has a reference cycle.
    let rev = "openapi: 3.0.3\ninfo: {title: t, version: '2'}\npaths:\n  /a:\n    get:\n      parameters:\n        - $ref: './missing.yaml#/Limit'\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/A'}\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}\n";
    std::fs::write(d.join("base.yaml"), base).unwrap();
    std::fs::write(d.join("rev.yaml"), rev).unwrap();
    let o = cairn_in(d, &["diff", "base.yaml", "rev.yaml", "--format", "json"]);
    let v = json(&o);
    let got = changes(&v);
    assert!(
        got.contains(&(
            "api-path-removed-without-deprecation".into(),
            "ERR".into(),
            "base.yaml:9".into()
        )),
        "{got:?}"
    );
    let diags = v["diagnostics"].as_array().unwrap();
    let has = |code: &str, line: u64| {
        diags
            .iter()
            .any(|x| x["code"] == code && x["line"] == line && x["file"] == "rev.yaml")
    };
    assert!(has("contract-ref-unresolved", 7), "{diags:#?}");
    assert!(
        has("contract-ref-cycle", 16) || has("contract-ref-cycle", 17),
        "{diags:#?}"
    );
    assert_eq!(o.status.code(), Some(1));
    // YAML that does not parse: a diagnostic at its line, exit 1, no panic.
    std::fs::write(
        d.join("broken.yaml"),
        "openapi: 3.0.3\npaths:\n  /a: [unclosed\n",
    )
    .unwrap();
    let o = cairn_in(d, &["diff", "base.yaml", "broken.yaml"]);
    assert!(stderr(&o).contains("broken.yaml:"), "{}", stderr(&o));
    assert!(o.status.code() != Some(0));
    // A .proto that does not compile: reported, and the other files still compared.
    let old = d.join("old");
    let new = d.join("new");
    for p in [&old, &new] {
        std::fs::create_dir_all(p).unwrap();
    }
    std::fs::write(
        old.join("a.proto"),
        "syntax = \"proto3\";\npackage p;\nmessage A { string x = 1; string y = 2; }\n",
    )
    .unwrap();
    std::fs::write(
        new.join("a.proto"),
        "syntax = \"proto3\";\npackage p;\nmessage A { string x = 1; }\n",
    )
    .unwrap();
    std::fs::write(
        old.join("b.proto"),
        "syntax = \"proto3\";\npackage p;\nmessage B {}\n",
    )
    .unwrap();
    std::fs::write(
        new.join("b.proto"),
        "syntax = \"proto3\";\npackage p;\nmessage B { strin g = 1 }\n",
    )
    .unwrap();
    let o = cairn_in(d, &["diff", "old", "new", "--format", "json"]);
    let v = json(&o);
    assert!(
        changes(&v)
            .iter()
            .any(|(i, _, at)| i == "FIELD_NO_DELETE" && at == "new/a.proto:3"),
        "{v:#}"
    );
    assert!(
        v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["code"] == "proto-compile" && x["file"] == "new/b.proto" && x["line"] == 3),
        "{v:#}"
    );
}

#[test]
fn a_git_tree_is_a_base_for_a_folder_of_contracts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("contracts/pets")).unwrap();
    std::fs::write(
        d.join("contracts/pets/pets.proto"),
        "syntax = \"proto3\";\npackage pets.v1;\nimport \"pets/common.proto\";\nmessage Pet {\n  string id = 1;\n  Owner owner = 2;\n}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("contracts/pets/common.proto"),
        "syntax = \"proto3\";\npackage pets.v1;\nmessage Owner { string name = 1; }\n",
    )
    .unwrap();
    std::fs::write(
        d.join("contracts/events.yaml"),
        "asyncapi: 2.6.0\ninfo: {title: e, version: '1'}\nchannels:\n  pets:\n    subscribe:\n      message:\n        name: PetAdded\n        payload: {type: object, required: [id], properties: {id: {type: string}}}\n",
    )
    .unwrap();
    git_commit_all(d);
    std::fs::write(
        d.join("contracts/pets/common.proto"),
        "syntax = \"proto3\";\npackage pets.v1;\nmessage Owner {}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("contracts/events.yaml"),
        "asyncapi: 2.6.0\ninfo: {title: e, version: '2'}\nchannels:\n  pets:\n    subscribe:\n      message:\n        name: PetAdded\n        payload: {type: object, properties: {id: {type: string}}}\n",
    )
    .unwrap();
    let o = cairn_in(
        d,
        &[
            "diff",
            "--base",
            "git:HEAD:contracts",
            "contracts",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let got = changes(&json(&o));
    assert!(
        got.contains(&(
            "FIELD_NO_DELETE".into(),
            "ERR".into(),
            "contracts/pets/common.proto:3".into()
        )),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(i, l, at)| i == "sent-property-became-optional"
                && l == "ERR"
                && at.starts_with("contracts/events.yaml:")),
        "{got:?}"
    );
}
