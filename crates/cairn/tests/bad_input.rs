//! Bad input gets a diagnostic naming file and line, the rest of the batch
//! still runs, and nothing panics.

use std::fmt::Write as _;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const GOOD: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: good\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: good}\n  template:\n    metadata:\n      labels: {app: good}\n    spec:\n      containers:\n        - name: app\n          image: example/good:1.0\n          env:\n            - name: DB_URL\n              value: postgres://store:5432/x\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: store\nspec:\n  selector: {app: store}\n  ports: [{port: 5432}]\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: store\nspec:\n  selector:\n    matchLabels: {app: store}\n  template:\n    metadata:\n      labels: {app: store}\n    spec:\n      containers:\n        - name: db\n          image: postgres:16\n";

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn scan_json(args: &[&str], dir: &Path) -> (Value, i32) {
    let out = Command::cargo_bin("cairn")
        .unwrap()
        .current_dir(dir)
        .arg("scan")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "cairn panicked: {stderr}");
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (v, out.status.code().unwrap_or(-1))
}

fn diags_for<'a>(model: &'a Value, file: &str) -> Vec<&'a Value> {
    model["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["file"].as_str().is_some_and(|f| f.ends_with(file))
                || d["message"].as_str().is_some_and(|m| m.contains(file))
        })
        .collect()
}

#[test]
fn every_kind_of_bad_input_is_a_diagnostic_and_the_batch_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "good.yaml", GOOD.as_bytes());
    write(
        d,
        "malformed.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  a: [1, 2\n  b: 3\n",
    );
    write(d, "wrong-types.yaml", b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: wrong\nspec:\n  replicas: \"three\"\n  template:\n    spec:\n      containers: {}\n");
    write(
        d,
        "duplicate-keys.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n  name: dup2\n",
    );
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (p, c) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        let _ = writeln!(
            bomb,
            "{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]"
        );
    }
    write(d, "bomb.yaml", bomb.as_bytes());
    write(
        d,
        "deep.yaml",
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).as_bytes(),
    );
    let block: String = (0..10_000).map(|i| " ".repeat(i) + "k:\n").collect();
    write(d, "deep-block.yaml", block.as_bytes());
    write(
        d,
        "latin1.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n",
    );
    write(d, "binary.yaml", &[0x7f, b'E', b'L', b'F', 0, 0, 1, 2, 3]);
    write(d, "empty.yaml", b"");
    write(
        d,
        "unknown-kind.yaml",
        b"apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
    );
    // 100 MB: over the default 64 MiB limit
    let big = std::fs::File::create(d.join("huge.yaml")).unwrap();
    big.set_len(100 * 1024 * 1024).unwrap();
    // a symlink loop and a dangling link (unreadable whoever we run as)
    std::fs::create_dir(d.join("sub")).unwrap();
    std::os::unix::fs::symlink(d.join("sub"), d.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink(d.join("nowhere.yaml"), d.join("dangling.yaml")).unwrap();

    let (m, code) = scan_json(&["."], d);
    assert_eq!(code, 0, "something was read, so the exit code is 0");
    // the good file still produced its services and edge
    let edges = m["edges"].as_array().unwrap();
    assert!(
        edges
            .iter()
            .any(|e| e["from"] == "good" && e["to"] == "store" && e["kind"] == "datastore"),
        "{edges:?}"
    );

    let expect = |file: &str, code: &str, line: Option<u64>| {
        let ds = diags_for(&m, file);
        let hit = ds.iter().find(|x| x["code"] == code);
        assert!(hit.is_some(), "{file}: expected {code}, got {ds:?}");
        if let Some(l) = line {
            assert_eq!(
                hit.unwrap()["line"].as_u64(),
                Some(l),
                "{file}: {code} line"
            );
        }
    };
    expect("malformed.yaml", "yaml-syntax", Some(7));
    expect("wrong-types.yaml", "k8s-wrong-type", Some(6));
    expect("duplicate-keys.yaml", "yaml-duplicate-key", Some(5));
    expect("bomb.yaml", "yaml-alias-limit", None);
    expect("deep.yaml", "yaml-too-deep", Some(1));
    expect("deep-block.yaml", "yaml-too-deep", Some(257));
    expect("latin1.yaml", "file-not-utf8", Some(4));
    expect("binary.yaml", "file-binary", None);
    expect("empty.yaml", "file-empty", None);
    expect("unknown-kind.yaml", "k8s-unknown-kind", Some(2));
    expect("huge.yaml", "file-too-large", None);
    expect("loop", "path-symlink-loop", None);
    expect("dangling.yaml", "path-unreadable", None);
    // the not-UTF-8 file was still read, with a replacement character
    assert!(
        m["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"].as_str().is_some_and(|n| n.starts_with("caf")))
    );
}

#[test]
fn exit_code_is_2_only_when_nothing_could_be_read() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("cairn")
        .unwrap()
        .current_dir(tmp.path())
        .args(["scan", "missing-folder"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("missing-folder") && stderr.contains("no such file"),
        "{stderr}"
    );

    write(tmp.path(), "only-bad.yaml", b"a: [\n");
    let (_, code) = scan_json(&["only-bad.yaml"], tmp.path());
    assert_eq!(code, 0, "a file was read, even if its YAML is broken");
}

#[test]
fn secret_values_are_never_printed() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "s.yaml", b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: hunter2-very-secret\ndata:\n  token: c2VjcmV0LXRva2Vu\n");
    for fmt in ["json", "text", "context"] {
        let out = Command::cargo_bin("cairn")
            .unwrap()
            .current_dir(tmp.path())
            .args(["scan", ".", "--format", fmt])
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !all.contains("hunter2") && !all.contains("c2VjcmV0LXRva2Vu"),
            "{fmt} leaked a secret value"
        );
    }
}

/// A Helm chart in the scanned tree: its templates are reported once each as
/// not rendered, not as a wall of YAML syntax errors.
#[test]
fn helm_templates_are_named_not_misparsed() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    write(
        &chart,
        "Chart.yaml",
        b"apiVersion: v2\nname: demo\nversion: 0.1.0\n",
    );
    write(&chart, "values.yaml", b"replicaCount: 2\n");
    write(&chart.join("templates"), "deployment.yaml", b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"demo.fullname\" . }}\nspec:\n  replicas: {{ .Values.replicaCount }}\n  {{- with .Values.nodeSelector }}\n  nodeSelector:\n    {{- toYaml . | nindent 8 }}\n  {{- end }}\n");
    let (m, code) = scan_json(&["."], tmp.path());
    assert_eq!(code, 0);
    let diags = diags_for(&m, "deployment.yaml");
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["helm-template-not-rendered"]);
}

/// Windows line endings and a UTF-8 byte-order mark read like plain files,
/// with the same positions.
#[test]
fn crlf_and_bom_files_read_with_the_same_positions() {
    let tmp = tempfile::tempdir().unwrap();
    let unix = GOOD.replace("\r\n", "\n");
    write(
        tmp.path(),
        "crlf.yaml",
        unix.replace('\n', "\r\n").as_bytes(),
    );
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(
        unix.replace("name: good", "name: good-bom")
            .replace("name: store", "name: store-bom")
            .replace("store:5432", "store-bom:5432")
            .replace("app: store", "app: store-bom")
            .as_bytes(),
    );
    write(tmp.path(), "bom.yaml", &bom);
    let (m, code) = scan_json(&["."], tmp.path());
    assert_eq!(code, 0);
    assert!(
        m["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["severity"] != "error" && d["severity"] != "warning"),
        "{}",
        m["diagnostics"]
    );
    for (from, file) in [("good", "crlf.yaml"), ("good-bom", "bom.yaml")] {
        let e = m["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["from"] == from)
            .unwrap_or_else(|| panic!("{file}: no edge"));
        assert_eq!(e["evidence"][0]["line"], 18, "{file}");
        assert_eq!(e["evidence"][0]["column"], 22, "{file}");
    }
}
