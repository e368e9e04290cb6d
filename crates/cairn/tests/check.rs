//! `cairn check` end to end: exit codes, every output format (SARIF validated
//! against the official 2.1.0 schema with a real JSON-Schema validator),
//! configuration errors, suppressions and bad input.

mod common;
use common::{git, validate_with_python};

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cairn_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut cmd = Command::cargo_bin("cairn").unwrap();
    cmd.current_dir(dir).args(args).env("NO_COLOR", "1");
    if let Some(s) = stdin {
        cmd.write_stdin(s);
    }
    cmd.output().unwrap()
}

fn cairn(args: &[&str]) -> std::process::Output {
    cairn_in(&root(), args, None)
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: shop/web:1.4.2
          resources:
            requests: {cpu: 100m, memory: 128Mi}
";

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn exit_codes_follow_the_fail_level() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "web.yaml", DEPLOYMENT);
    let d = dir.path();
    let limits = ["check", ".", "--select", "missing-resource-limits"];
    let requests = ["check", ".", "--select", "missing-resource-requests"];
    for (args, extra, want) in [
        // the missing limits are a warning in dev: clean at the default fail level
        (&limits, &[][..], 0),
        (&limits, &["--fail-on", "warning"][..], 1),
        // production makes it an error
        (&limits, &["--env", "production"][..], 1),
        // a rule with nothing to report: clean even at info
        (&requests, &["--fail-on", "info"][..], 0),
    ] {
        let o = cairn_in(d, &[&args[..], extra].concat(), None);
        assert_eq!(
            o.status.code(),
            Some(want),
            "{args:?} {extra:?}: {}",
            stdout(&o)
        );
    }
    let o = cairn_in(d, &limits, None);
    assert!(stdout(&o).contains("missing-resource-limits"));
    let o = cairn_in(d, &[&requests[..], &["--fail-on", "info"]].concat(), None);
    assert!(stdout(&o).contains("0 errors, 0 warnings, 0 info"));
    // usage errors
    for args in [
        &["check", ".", "--select", "no-such-rule"][..],
        &["check", ".", "--env", "moon"][..],
        &["check", "does-not-exist"][..],
    ] {
        let o = cairn_in(d, args, None);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn human_output_names_file_line_and_shows_the_source() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "web.yaml", DEPLOYMENT);
    let o = cairn_in(
        dir.path(),
        &["check", "web.yaml", "--select", "missing-resource-limits"],
        None,
    );
    let text = stdout(&o);
    assert!(text.contains("warning[CA102 missing-resource-limits]: container `web` of Deployment/web sets no CPU or memory limit"), "{text}");
    assert!(text.contains("--> web.yaml:17:11"), "{text}");
    assert!(text.contains("17 |           resources:"), "{text}");
    assert!(text.contains("^^^^^^^^^"), "{text}");
    assert!(
        text.contains("= help: set resources.limits.cpu and resources.limits.memory"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");
}

fn json_check(args: &[&str]) -> Value {
    let o = cairn(args);
    assert!(
        o.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn json_findings_carry_the_documented_fields() {
    let v = json_check(&[
        "check",
        "examples/shopfront",
        "--env",
        "production",
        "--format",
        "json",
    ]);
    let findings = v["findings"].as_array().unwrap();
    assert!(findings.len() > 10, "the example has deliberate defects");
    for f in findings {
        for key in [
            "rule", "code", "severity", "message", "file", "line", "column", "object", "help",
        ] {
            assert!(f.get(key).is_some(), "finding without `{key}`: {f}");
        }
        assert!(matches!(
            f["severity"].as_str(),
            Some("error" | "warning" | "info")
        ));
        assert!(f["line"].as_u64().is_some_and(|l| l >= 1), "{f}");
        assert!(f["column"].as_u64().is_some_and(|c| c >= 1), "{f}");
    }
    assert_eq!(v["profile"], "production");
    let doc = std::fs::read_to_string(root().join("docs/check-json.md")).unwrap();
    for key in [
        "rule",
        "code",
        "category",
        "severity",
        "message",
        "file",
        "line",
        "column",
        "object",
        "help",
        "summary",
        "suppressed",
        "rules_run",
        "diagnostics",
        "profile",
    ] {
        assert!(
            doc.contains(&format!("`{key}`")),
            "docs/check-json.md does not document `{key}`"
        );
    }
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let schema = root().join("../shared/schemas/sarif-schema-2.1.0.json");
    assert!(
        schema.exists(),
        "../shared/schemas/sarif-schema-2.1.0.json is missing"
    );
    let o = cairn(&[
        "check",
        "examples/shopfront",
        "--env",
        "production",
        "--format",
        "sarif",
    ]);
    let text = stdout(&o);
    validate_with_python(&schema, &text);
    let v: Value = serde_json::from_str(&text).unwrap();
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert_eq!(
            rules[idx]["helpUri"].as_str().unwrap().rsplit('.').next(),
            Some("md")
        );
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
        assert!(region["startColumn"].as_u64().unwrap() >= 1);
    }
    // input problems travel as tool notifications and still validate
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "web.yaml", DEPLOYMENT);
    write(dir.path(), "broken.yaml", "kind: [unclosed\n");
    let o = cairn_in(dir.path(), &["check", ".", "--format", "sarif"], None);
    let text = stdout(&o);
    validate_with_python(&schema, &text);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(
        !v["runs"][0]["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn junit_github_and_markdown_outputs() {
    let base = ["check", "examples/shopfront", "--env", "production"];
    let junit = stdout(&cairn(&[&base[..], &["--format", "junit"]].concat()));
    let parsed = std::process::Command::new("python3")
        .args(["-c", "import sys,xml.etree.ElementTree as E\nr=E.fromstring(sys.stdin.read())\nassert r.tag=='testsuites'\nprint(len(r.findall('.//failure')))"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(junit.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(parsed.status.success(), "JUnit output is not XML");
    let failures: usize = String::from_utf8_lossy(&parsed.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!(failures > 0);
    let gh = stdout(&cairn(&[&base[..], &["--format", "github"]].concat()));
    assert!(!gh.is_empty());
    for line in gh.lines() {
        assert!(
            line.starts_with("::error ")
                || line.starts_with("::warning ")
                || line.starts_with("::notice "),
            "{line}"
        );
        assert!(line.contains("title="), "{line}");
        assert!(line.contains("::"), "{line}");
    }
    let md = stdout(&cairn(&[&base[..], &["--format", "markdown"]].concat()));
    assert!(
        md.starts_with("### cairn check (production profile)"),
        "{md}"
    );
    assert!(md.contains("| rule | severity | findings |"));
}

#[test]
fn a_broken_cairn_yaml_is_reported_with_its_line_and_the_check_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "web.yaml", DEPLOYMENT);
    write(
        dir.path(),
        "cairn.yaml",
        "system: shop\nchecks:\n  select: [missing-resource-limits, missing-resource-limts]\n  severity:\n    missing-resource-limits: loud\n  thresholds:\n    cpu: 4000m-10m\n",
    );
    let o = cairn_in(dir.path(), &["check", "."], None);
    let text = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "configuration errors fail the check: {text}"
    );
    assert!(text.contains("no rule or category is called `missing-resource-limts`; did you mean `missing-resource-limits`?"), "{text}");
    assert!(text.contains("--> cairn.yaml:3:"), "{text}");
    assert!(text.contains("`loud` is not a severity"), "{text}");
    assert!(text.contains("--> cairn.yaml:5:"), "{text}");
    assert!(text.contains("`4000m-10m` is not a cpu range"), "{text}");
    // the valid part of the selection still ran
    assert!(text.contains("CA102 missing-resource-limits"), "{text}");
}

#[test]
fn suppressions_silence_findings_and_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let annotated = DEPLOYMENT.replace(
        "  namespace: shop\n",
        "  namespace: shop\n  annotations:\n    cairn.dev/ignore: \"missing-resource-limits limits come from the platform's LimitRange\"\n",
    );
    write(dir.path(), "web.yaml", &annotated);
    let o = cairn_in(
        dir.path(),
        &[
            "check",
            ".",
            "--select",
            "missing-resource-limits",
            "--format",
            "json",
        ],
        None,
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["summary"]["suppressed"], 1);
}

#[test]
fn bad_input_keeps_the_batch_going() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "web.yaml", DEPLOYMENT);
    write(
        dir.path(),
        "broken.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: x\n",
    );
    write(dir.path(), "binary.yaml", "\u{0}\u{1}\u{2}");
    std::fs::write(dir.path().join("latin1.yaml"), b"name: caf\xe9\n").unwrap();
    let o = cairn_in(
        dir.path(),
        &["check", ".", "--select", "missing-resource-limits"],
        None,
    );
    let text = stdout(&o);
    assert!(
        o.status.code() == Some(1),
        "input errors fail the check: {text}"
    );
    assert!(text.contains("broken.yaml:"), "{text}");
    assert!(
        text.contains("CA102 missing-resource-limits"),
        "the good file is still checked: {text}"
    );
}

#[test]
fn kubectl_list_on_stdin() {
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n{}",
        DEPLOYMENT
            .lines()
            .enumerate()
            .map(|(i, l)| if i == 0 {
                format!("- {l}\n")
            } else {
                format!("  {l}\n")
            })
            .collect::<String>()
    );
    let o = cairn_in(
        &root(),
        &[
            "check",
            "-",
            "--select",
            "missing-resource-limits",
            "--format",
            "json",
        ],
        Some(&list),
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["findings"][0]["object"]["name"], "web");
}

#[test]
fn rules_and_explain() {
    let o = cairn(&["rules"]);
    let text = stdout(&o);
    assert!(o.status.success());
    assert!(text.lines().count() > 60, "at least 60 rules");
    assert!(text.contains("CA103  cpu-out-of-range"), "{text}");
    let o = cairn(&["explain", "cpu-out-of-range"]);
    let text = stdout(&o);
    assert!(o.status.success());
    assert!(text.starts_with("# `cpu-out-of-range` (CA103)"), "{text}");
    assert!(text.contains("| severity |"));
    let o = cairn(&["explain", "CA103"]);
    assert!(stdout(&o).starts_with("# `cpu-out-of-range`"));
    let o = cairn(&["explain", "nothing-like-this"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_example_systems_deliberate_defects_are_found_where_its_readme_says() {
    let v = json_check(&["check", "examples/shopfront", "--format", "json"]);
    let found: Vec<(String, String, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["file"].as_str().unwrap_or_default().to_owned(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    // examples/shopfront/README.md, "Deliberate defects"
    for (rule, file, line) in [
        ("missing-resource-limits", "k8s/inventory.yaml", 49),
        ("image-tag-latest", "k8s/catalog.yaml", 41),
        ("image-tag-latest", "compose/docker-compose.yaml", 48),
        ("missing-readiness-probe", "k8s/notifications.yaml", 30),
        ("missing-liveness-probe", "k8s/notifications.yaml", 30),
        ("privileged-container", "k8s/catalog-cache.yaml", 55),
        ("unresolved-dependency", "k8s/payments.yaml", 42),
        ("unresolved-dependency", "compose/docker-compose.yaml", 149),
        ("dependency-blocked-by-network-policy", "cairn.yaml", 90),
        ("single-replica", "k8s/orders-db.yaml", 15),
        ("missing-timeout", "k8s/orders.yaml", 39),
        (
            "missing-resource-limits",
            "compose/docker-compose.yaml",
            173,
        ),
        (
            "missing-readiness-probe",
            "compose/docker-compose.yaml",
            178,
        ),
        ("privileged-container", "compose/docker-compose.yaml", 72),
    ] {
        let path = format!("examples/shopfront/{file}");
        assert!(
            found
                .iter()
                .any(|(r, f, l)| r == rule && *f == path && *l == line),
            "{rule} not reported at {path}:{line}"
        );
    }
    // orders -> payments has a timeout, retries and outlier detection
    let messages: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            matches!(
                f["rule"].as_str(),
                Some("missing-timeout" | "missing-circuit-breaker")
            )
        })
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(
        !messages
            .iter()
            .any(|m| m.contains("`orders` to `payments`")),
        "{messages:?}"
    );
}

/// Version 1 of a contract for the `--baseline` tests: a list of pets whose
/// items always carry `name` (in a `$ref`ed file), and a delete endpoint.
const PETS_V1: &str = "openapi: 3.0.3
info: {title: pets, version: \"1.0\"}
servers: [{url: /v1}]
paths:
  /pets:
    get:
      responses:
        \"200\":
          description: the pets
          content:
            application/json:
              schema: {type: array, items: {$ref: \"schemas.yaml#/Pet\"}}
  /pets/{id}:
    delete:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {\"204\": {description: deleted}}
";
const PET_V1: &str = "Pet:
  type: object
  required: [id, name]
  properties:
    id: {type: string}
    name: {type: string}
";
/// Version 2: the delete endpoint and the required `name` are gone, and
/// listing needs a new required parameter.
const PETS_V2: &str = "openapi: 3.0.3
info: {title: pets, version: \"2.0\"}
servers: [{url: /v1}]
paths:
  /pets:
    get:
      parameters:
        - {name: owner, in: query, required: true, schema: {type: string}}
      responses:
        \"200\":
          description: the pets
          content:
            application/json:
              schema: {type: array, items: {$ref: \"schemas.yaml#/Pet\"}}
";
const PET_V2: &str = "Pet:
  type: object
  required: [id]
  properties:
    id: {type: string}
";

/// `(change id, file, line, message)` of the `api-breaking-change` findings.
fn breaking(o: &std::process::Output) -> Vec<(String, String, u64, String)> {
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            stdout(o),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    let mut out: Vec<(String, String, u64, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "api-breaking-change")
        .map(|f| {
            let message = f["message"].as_str().unwrap().to_owned();
            let id = message.split('`').nth(1).unwrap_or_default().to_owned();
            (
                id,
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                message,
            )
        })
        .collect();
    out.sort();
    out
}

/// Checks the findings of v1 → v2 with the contract at `contract` (as the
/// scan names it) and its old version named `old` in messages.
fn assert_v2_breaks(o: &std::process::Output, contract: &str, old: &str) {
    assert_eq!(o.status.code(), Some(1), "{}", stdout(o));
    let found = breaking(o);
    let ids: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        ids,
        [
            "api-path-removed-without-deprecation",
            "new-required-request-parameter",
            "response-required-property-removed",
        ],
        "{found:#?}"
    );
    // a new required parameter is where it is written now
    let owner_line = PETS_V2
        .lines()
        .position(|l| l.contains("name: owner"))
        .unwrap() as u64
        + 1;
    assert_eq!((found[1].1.as_str(), found[1].2), (contract, owner_line));
    assert!(found[1].3.contains("`GET /pets`"), "{}", found[1].3);
    // removals are on the contract's first line, naming where they were
    let delete_line = PETS_V1.lines().position(|l| l.contains("delete:")).unwrap() + 1;
    assert_eq!((found[0].1.as_str(), found[0].2), (contract, 1));
    assert!(
        found[0]
            .3
            .contains(&format!("{old}/openapi.yaml:{delete_line}:5")),
        "{}",
        found[0].3
    );
    assert!(found[0].3.contains("`DELETE /pets/{id}`"), "{}", found[0].3);
    assert_eq!((found[2].1.as_str(), found[2].2), (contract, 1));
    assert!(
        found[2].3.contains(&format!("{old}/schemas.yaml:6:5")),
        "{}",
        found[2].3
    );
}

#[test]
fn baseline_from_git_reports_breaking_changes_of_the_contracts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q"]);
    write(d, "api/openapi.yaml", PETS_V1);
    write(d, "api/schemas.yaml", PET_V1);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "v1"]);
    write(d, "api/openapi.yaml", PETS_V2);
    write(d, "api/schemas.yaml", PET_V2);
    // a contract the baseline does not have is new: nothing to compare
    write(
        d,
        "api/new.yaml",
        PETS_V2.replace("pets", "owners").as_str(),
    );
    let args = [
        "check",
        ".",
        "--baseline",
        "git:HEAD",
        "--select",
        "api-breaking-change",
        "--format",
        "json",
    ];
    let o = cairn_in(d, &args, None);
    assert_v2_breaks(&o, "api/openapi.yaml", "git:HEAD:api");
    // from outside the repository, with the folder given by its absolute path
    let abs = d.to_string_lossy().into_owned();
    let mut outside = args;
    outside[1] = &abs;
    let o = cairn_in(&root(), &outside, None);
    assert_v2_breaks(
        &o,
        &format!("{abs}/api/openapi.yaml"),
        &format!("git:HEAD:{abs}/api"),
    );
    // without a baseline the rule has nothing to compare with
    let o = cairn_in(
        d,
        &[
            "check",
            ".",
            "--select",
            "api-breaking-change",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(breaking(&o).is_empty());
    // a revision git does not know is a usage error
    let o = cairn_in(d, &["check", ".", "--baseline", "git:no-such-rev"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-rev"));
}

#[test]
fn baseline_folder_holds_the_old_tree() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "old/api/openapi.yaml", PETS_V1);
    write(d, "old/api/schemas.yaml", PET_V1);
    write(d, "tree/api/openapi.yaml", PETS_V2);
    write(d, "tree/api/schemas.yaml", PET_V2);
    let o = cairn_in(
        d,
        &[
            "check",
            "tree",
            "--baseline",
            "old",
            "--select",
            "api-breaking-change",
            "--format",
            "json",
        ],
        None,
    );
    assert_v2_breaks(&o, "tree/api/openapi.yaml", "old/api");
    // an unchanged tree has nothing to report
    let o = cairn_in(
        d,
        &[
            "check",
            "old",
            "--baseline",
            "old",
            "--select",
            "api-breaking-change",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // neither a folder nor `git:REV`: a usage error
    let o = cairn_in(d, &["check", "tree", "--baseline", "nowhere"], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn api_conventions_come_from_cairn_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "openapi.yaml",
        "openapi: 3.0.3
info: {title: users, version: \"1.0\"}
security: [{key: []}]
components: {securitySchemes: {key: {type: apiKey, in: header, name: X-Key}}}
paths:
  /users/{id}:
    get: {responses: {\"200\": {description: a user}}}
",
    );
    let messages = |config: &str| -> Vec<String> {
        write(d, "cairn.yaml", config);
        let o = cairn_in(
            d,
            &["check", ".", "--select", "api", "--format", "json"],
            None,
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .chain(v["diagnostics"].as_array().unwrap())
            .map(|f| f["message"].as_str().unwrap().to_owned())
            .collect()
    };
    // by default a path needs a version segment
    let found = messages("system: shop\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("no version segment"), "{found:?}");
    // versioned in a header: nothing to report
    let found = messages("system: shop\nchecks:\n  api:\n    version: header\n");
    assert!(found.is_empty(), "{found:?}");
    // a required prefix
    let found = messages("system: shop\nchecks:\n  api:\n    version: none\n    prefix: /api\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("prefix `/api`"), "{found:?}");
    // a value that is not one is reported where it is written
    let found = messages("system: shop\nchecks:\n  api:\n    version: url\n");
    assert!(
        found
            .iter()
            .any(|m| m.contains("`url` is not a way to version an API")),
        "{found:?}"
    );
}
