//! `cairn scan` and `cairn context` end to end, on the repo's own example
//! and fixtures.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cairn(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("cairn")
        .unwrap()
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = cairn(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn edges(m: &Value) -> BTreeSet<(String, String, String, String)> {
    m["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap().into(),
                e["to"].as_str().unwrap().into(),
                e["kind"].as_str().unwrap().into(),
                e["protocol"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// `(from, host)` of every unresolved address.
fn unresolved(m: &Value) -> BTreeSet<(String, String)> {
    m["unresolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["from"].as_str().unwrap().into(),
                u["host"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn example_kubernetes_flavour_matches_its_expected_edges() {
    let m = json(&["scan", "examples/shopfront/k8s", "--format", "json"]);
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/shopfront/expected-edges.json")).unwrap(),
    )
    .unwrap();
    let want: BTreeSet<_> = edges(&truth);
    assert_eq!(edges(&m), want);
    assert_eq!(unresolved(&m), unresolved(&truth));
}

#[test]
fn example_compose_flavour_finds_the_same_dependencies() {
    let k8s = json(&["scan", "examples/shopfront/k8s", "--format", "json"]);
    let compose = json(&["scan", "examples/shopfront/compose", "--format", "json"]);
    let pairs = |m: &Value| -> BTreeSet<(String, String, String)> {
        edges(m).into_iter().map(|(f, t, k, _)| (f, t, k)).collect()
    };
    // the load generator and the Ingress controller exist only in the Kubernetes flavour
    let want: BTreeSet<_> = pairs(&k8s)
        .into_iter()
        .filter(|(f, _, _)| f != "loadgen" && f != "nginx")
        .collect();
    assert_eq!(pairs(&compose), want);
}

#[test]
fn stated_intent_wins_and_is_marked() {
    let m = json(&["scan", "examples/shopfront", "--format", "json"]);
    assert_eq!(m["system"]["name"], "shopfront");
    assert_eq!(m["system"]["environment"], "production");
    let e = m["edges"].as_array().unwrap();
    let stated_only = e
        .iter()
        .find(|e| e["from"] == "payments" && e["to"] == "notifications")
        .unwrap();
    assert_eq!(stated_only["origin"], "stated");
    let both = e
        .iter()
        .find(|e| e["from"] == "orders" && e["to"] == "payments")
        .unwrap();
    assert_eq!(both["origin"], "both");
    // stated policy and mesh policy both govern the call
    assert_eq!(both["policy"]["timeout_ms"], 2000.0);
    assert_eq!(both["policy"]["circuit_breaker"], true);
    let orders = m["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "orders")
        .unwrap();
    assert_eq!(orders["owner"], "team-orders");
    assert!(
        orders["contracts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().ends_with("orders.openapi.yaml"))
    );
}

#[test]
fn output_is_deterministic_across_runs_and_thread_counts() {
    let a = cairn(&["scan", "examples/shopfront", "--format", "json"]).stdout;
    let b = cairn(&["scan", "examples/shopfront", "--format", "json"]).stdout;
    let c = Command::cargo_bin("cairn")
        .unwrap()
        .current_dir(root())
        .env("RAYON_NUM_THREADS", "1")
        .args(["scan", "examples/shopfront", "--format", "json"])
        .output()
        .unwrap()
        .stdout;
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_eq!(a, c);
}

/// `kubectl get … -o yaml` and `-o json` on stdin: one `List`, its items read.
#[test]
fn stdin_reads_kubectl_list_output() {
    for (fixture, line) in [("kubectl-output.yaml", 24), ("kubectl-output.json", 34)] {
        let text = std::fs::read(
            root()
                .join("crates/cairn/tests/fixtures/list")
                .join(fixture),
        )
        .unwrap();
        let out = Command::cargo_bin("cairn")
            .unwrap()
            .args(["scan", "-", "--format", "json"])
            .write_stdin(text)
            .output()
            .unwrap();
        assert!(out.status.success(), "{fixture}");
        let m: Value = serde_json::from_slice(&out.stdout).unwrap();
        let want = BTreeSet::from([(
            "checkout".into(),
            "payment".into(),
            "sync".into(),
            "grpc".into(),
        )]);
        assert_eq!(edges(&m), want, "{fixture}");
        let ev = &m["edges"][0]["evidence"][0];
        assert_eq!(ev["file"], "<stdin>", "{fixture}");
        assert_eq!(ev["line"], line, "{fixture}");
    }
}

#[test]
fn kustomize_overlays_are_rendered_and_their_bases_not_read_twice() {
    let m = json(&[
        "scan",
        "crates/cairn/tests/fixtures/kustomize",
        "--format",
        "json",
    ]);
    let objects = m["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 4, "{objects:?}");
    assert!(objects.iter().all(|o| o["namespace"] == "prod"));
    let api = m["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "api")
        .unwrap();
    assert_eq!(
        api["workloads"][0]["replicas"], 4,
        "the overlay's patch was applied"
    );
    assert!(edges(&m).contains(&(
        "api".into(),
        "cache".into(),
        "datastore".into(),
        "redis".into()
    )));
    // positions point into the base file the object was built from, not into kubectl's output
    let e = m["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == "api")
        .unwrap();
    assert_eq!(
        e["evidence"][0]["file"],
        "crates/cairn/tests/fixtures/kustomize/base/api.yaml"
    );
    assert_eq!(e["evidence"][0]["line"], 18);
    assert_eq!(e["evidence"][0]["column"], 22);
    let files: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        files.contains(&"crates/cairn/tests/fixtures/kustomize/base/api.yaml"),
        "{files:?}"
    );
}

#[test]
fn kustomize_without_rendering_reads_resources_as_they_are() {
    let m = json(&[
        "scan",
        "crates/cairn/tests/fixtures/kustomize/overlay",
        "--no-kustomize",
        "--format",
        "json",
    ]);
    let codes: Vec<&str> = m["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"kustomize-not-rendered"), "{codes:?}");
}

#[test]
fn compose_files_merge_in_order_with_env_interpolation_and_merge_keys() {
    let dir = "crates/cairn/tests/fixtures/compose-layers";
    let a = format!("{dir}/compose.yaml");
    let b = format!("{dir}/compose.extra.yaml");
    let m = json(&[
        "scan",
        "--compose-file",
        &a,
        "--compose-file",
        &b,
        &a,
        "--format",
        "json",
    ]);
    let e = edges(&m);
    assert!(
        e.contains(&("front".into(), "back".into(), "sync".into(), "http".into())),
        "{e:?}: ${{BACKEND_HOST}} comes from .env"
    );
    assert!(
        e.contains(&(
            "back".into(),
            "db".into(),
            "datastore".into(),
            "postgres".into()
        )),
        "{e:?}: long-form depends_on"
    );
    assert!(
        e.iter()
            .any(|(f, t, _, p)| f == "back" && t == "mq" && p == "amqp"),
        "{e:?}: the second file adds back's QUEUE"
    );
    let svc = |name: &str| {
        m["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
            .clone()
    };
    let env = |s: &Value| {
        s["workloads"][0]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .clone()
    };
    // `back` takes `environment` from the merge key, and the second file adds QUEUE to it
    let back = env(&svc("back"));
    assert!(
        back.iter()
            .any(|v| v["name"] == "LOG_LEVEL" && v["value"] == "info"),
        "{back:?}"
    );
    assert!(back.iter().any(|v| v["name"] == "QUEUE"), "{back:?}");
    // `links: [db:primary-store]` lets back call db by a name only it uses
    let back_db = m["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == "back" && e["to"] == "db")
        .unwrap();
    assert!(
        back_db["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["what"] == "environment STORE_DSN"),
        "{back_db}"
    );
    assert!(
        m["unresolved"].as_array().unwrap().is_empty(),
        "{}",
        m["unresolved"]
    );
    // `front` sets its own `environment`, which replaces the merged one whole (YAML merge semantics)
    let front = env(&svc("front"));
    // a bare entry takes its value from .env, whose values may refer to earlier ones
    assert!(
        front
            .iter()
            .any(|v| v["name"] == "BACKEND_HOST" && v["value"] == "back"),
        "{front:?}"
    );
    assert!(
        front
            .iter()
            .any(|v| v["name"] == "BACKEND_ORIGIN" && v["value"] == "http://back:8080"),
        "{front:?}"
    );
    assert!(!front.iter().any(|v| v["name"] == "LOG_LEVEL"), "{front:?}");
    assert_eq!(
        svc("front")["workloads"][0]["containers"][0]["image"],
        "example.org/front:1.0.0"
    );
}

#[test]
fn context_request_is_answered() {
    let req = root().join("crates/cairn/tests/fixtures/context-request.json");
    let m = json(&[
        "context",
        "--request",
        req.to_str().unwrap(),
        "examples/shopfront/k8s",
    ]);
    assert_eq!(m["request_type"], "get_microservices_context");
    assert_eq!(m["requested_by"], "microservices-architect");
    for key in [
        "service_inventory",
        "communication_patterns",
        "data_stores",
        "deployment_infrastructure",
        "monitoring_setup",
        "operational_procedures",
    ] {
        assert!(!m[key].is_null(), "missing {key}");
    }
    // ten services and the implied Ingress controller
    assert_eq!(m["service_inventory"].as_array().unwrap().len(), 11);
    assert!(
        m["communication_patterns"]["asynchronous"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["direction"] == "async-publish")
    );
    let same = json(&["scan", "examples/shopfront/k8s", "--format", "context"]);
    assert_eq!(same["service_inventory"], m["service_inventory"]);

    let bad = cairn(&[
        "context",
        "--request",
        "Cargo.toml",
        "examples/shopfront/k8s",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn the_published_config_schema_is_fresh() {
    let out = cairn(&["schema"]);
    let committed =
        std::fs::read_to_string(root().join("docs/cairn.schema.json")).unwrap_or_default();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        committed,
        "docs/cairn.schema.json is stale: run `cargo run -q -- schema > docs/cairn.schema.json`"
    );
}

#[test]
fn text_summary_of_the_example() {
    let out = cairn(&["scan", "examples/shopfront/k8s"]);
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn diagnostics_show_file_line_excerpt_and_help() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("cairn.yaml"), "system: demo\nenviroment: production\nservices:\n  api:\n    dependencies:\n      - to: db\n        retries: many\n").unwrap();
    let out = Command::cargo_bin("cairn")
        .unwrap()
        .current_dir(tmp.path())
        .args(["scan", "cairn.yaml"])
        .output()
        .unwrap();
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

/// Every field the JSON output can hold is documented in docs/scan-json.md.
#[test]
fn every_json_field_is_documented() {
    fn walk(v: &Value, parent: &str, keys: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    // maps keyed by data (labels, splits, percentiles) are documented as objects
                    if !matches!(
                        parent,
                        "labels" | "traffic_split" | "slo_latency_ms" | "selector"
                    ) {
                        keys.insert(k.clone());
                        walk(x, k, keys);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, parent, keys)),
            _ => {}
        }
    }
    let doc = std::fs::read_to_string(root().join("docs/scan-json.md")).unwrap();
    let mut keys = BTreeSet::new();
    for args in [
        &["scan", "examples/shopfront", "--format", "json"][..],
        &[
            "scan",
            "../shared/corpus/bookinfo/samples/bookinfo",
            "--format",
            "json",
        ][..],
        &[
            "scan",
            "crates/cairn/tests/fixtures/platform",
            "--format",
            "json",
        ][..],
    ] {
        walk(&json(args), "", &mut keys);
    }
    let missing: Vec<&String> = keys
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "fields missing from docs/scan-json.md: {missing:?}"
    );
    assert!(
        keys.len() > 60,
        "the walk saw too few fields: {}",
        keys.len()
    );
}

#[test]
fn platform_objects_are_modelled() {
    let m = json(&[
        "scan",
        "crates/cairn/tests/fixtures/platform",
        "--format",
        "json",
    ]);
    // a VirtualService bound to a Gateway whose pods are in scope is an edge from them
    let e = m["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == "edge-gateway" && e["to"] == "api")
        .expect("gateway edge");
    assert_eq!(e["policy"]["timeout_ms"], 3000.0);
    assert_eq!(e["policy"]["retries"]["attempts"], 2);
    assert_eq!(e["policy"]["retries"]["retry_on"], "5xx,reset");
    let api = m["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "api")
        .unwrap();
    assert_eq!(
        api["mesh"]["traffic_split"]["api.payments.svc.cluster.local/canary"],
        10
    );
    assert_eq!(api["k8s_services"][0]["selector"]["app"], "api");
    assert_eq!(api["k8s_services"][0]["type"], "ClusterIP");
    // the external host is declared by a ServiceEntry
    let u = &m["unresolved"][0];
    assert_eq!(u["host"], "eu.cards.example.net");
    assert_eq!(u["declared_by"], "ServiceEntry/card-network");
    // RBAC: the account, who uses it, and a wildcard grant that reads secrets
    let sa = m["service_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "api")
        .unwrap();
    assert_eq!(sa["automount_token"], false);
    assert_eq!(sa["used_by"][0], "Deployment/api");
    assert_eq!(sa["grants"][0]["role"], "Role/read-everything");
    assert_eq!(sa["grants"][0]["wildcard"], true);
    assert_eq!(sa["grants"][0]["reads_secrets"], true);
    assert_eq!(m["namespaces"][0]["labels"]["team"], "payments");
    let card = m["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "card-network")
        .unwrap();
    assert_eq!(card["role"], "external", "a Service of type ExternalName");
    assert_eq!(
        m["alert_rules"][0]["alerts"],
        serde_json::json!(["ApiErrorBudgetBurn"])
    );
}

#[test]
fn gitignore_and_exclude_leave_files_out() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cm = |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
    std::fs::create_dir(d.join("generated")).unwrap();
    std::fs::write(d.join(".gitignore"), "generated/\n").unwrap();
    std::fs::write(d.join("kept.yaml"), cm("kept")).unwrap();
    std::fs::write(d.join("generated/ignored.yaml"), cm("ignored")).unwrap();
    std::fs::write(d.join("scratch.tmp.yaml"), cm("excluded")).unwrap();
    let out = Command::cargo_bin("cairn")
        .unwrap()
        .current_dir(d)
        .args(["scan", ".", "--exclude", "*.tmp.yaml", "--format", "json"])
        .output()
        .unwrap();
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = m["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["kept"]);
}

#[test]
fn mounted_config_files_and_arguments_name_dependencies() {
    let m = json(&[
        "scan",
        "crates/cairn/tests/fixtures/platform",
        "--format",
        "json",
    ]);
    let edge = |from: &str, to: &str| {
        m["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["from"] == from && e["to"] == to)
            .cloned()
    };
    // nginx.conf, read line by line: the evidence is the proxy_pass line inside the ConfigMap
    let e = edge("proxy", "api").expect("proxy -> api from nginx.conf");
    assert_eq!(
        e["evidence"][0]["file"],
        "crates/cairn/tests/fixtures/platform/edge-proxy.yaml"
    );
    assert_eq!(e["evidence"][0]["line"], 14);
    assert_eq!(e["evidence"][0]["column"], 9);
    // limits.yaml, read as YAML: an address that names nothing is kept as unresolved
    let u = m["unresolved"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["from"] == "proxy")
        .expect("ledger is unresolved");
    assert_eq!(u["host"], "ledger");
    assert_eq!(u["evidence"][0]["line"], 20);
    assert_eq!(u["evidence"][0]["column"], 18);
    // a CronJob's --api-url flag
    let e = edge("settle", "api").expect("settle -> api from args");
    assert_eq!(e["evidence"][0]["line"], 60);
}

/// A Knative Service is a workload that is its own address; a CRD named
/// `Service` must not be taken for a core Service.
#[test]
fn knative_services_are_workloads() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("kn.yaml"),
        "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: thumbnailer\n  namespace: media\nspec:\n  template:\n    spec:\n      containers:\n        - image: example.org/thumbnailer:2.0.0\n          env:\n            - name: STORE_URL\n              value: http://blobstore.media.svc.cluster.local\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: blobstore\n  namespace: media\nspec:\n  selector: {app: blobstore}\n  ports: [{port: 80}]\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: caller\n  namespace: media\nspec:\n  selector: {app: caller}\n",
    )
    .unwrap();
    let out = Command::cargo_bin("cairn")
        .unwrap()
        .current_dir(tmp.path())
        .args(["scan", ".", "--format", "json"])
        .output()
        .unwrap();
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &m["edges"][0];
    assert_eq!(
        (e["from"].as_str(), e["to"].as_str()),
        (Some("thumbnailer"), Some("blobstore"))
    );
    let kn = m["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "thumbnailer")
        .unwrap();
    assert_eq!(kn["workloads"][0]["kind"], "Service");
    assert!(
        kn["k8s_services"].is_null(),
        "the Knative Service is not a core Service"
    );
}

#[test]
fn explain_names_a_code_or_fails() {
    let out = cairn(&["explain", "yaml-duplicate-key"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("yaml-duplicate-key (warning): "));
    let out = cairn(&["explain", "no-such-code"]);
    assert_eq!(out.status.code(), Some(2));
    let all = cairn(&["explain"]);
    assert_eq!(
        String::from_utf8_lossy(&all.stdout).lines().count(),
        cairn_source::codes::SCAN_CODES.len()
    );
}

/// Regression: `kubectl get -A` output with the same names in two namespaces
/// used to merge both `api -> db` edges into one ambiguous edge.
#[test]
fn same_names_in_two_namespaces_stay_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let ns = |n: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: {n}}}\nspec:\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    metadata: {{labels: {{app: api}}}}\n    spec:\n      containers:\n        - name: api\n          image: example.org/api:1.0.0\n          env: [{{name: DB_HOST, value: db}}]\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: db, namespace: {n}}}\nspec: {{selector: {{app: db}}, ports: [{{port: 5432}}]}}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db, namespace: {n}}}\nspec:\n  selector: {{matchLabels: {{app: db}}}}\n  template:\n    metadata: {{labels: {{app: db}}}}\n    spec:\n      containers: [{{name: db, image: \"postgres:16.4\"}}]\n"
        )
    };
    std::fs::write(
        tmp.path().join("all.yaml"),
        format!("{}---\n{}", ns("team-a"), ns("team-b")),
    )
    .unwrap();
    let out = Command::cargo_bin("cairn")
        .unwrap()
        .current_dir(tmp.path())
        .args(["scan", ".", "--format", "json"])
        .output()
        .unwrap();
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        edges(&m),
        BTreeSet::from([
            (
                "api.team-a".into(),
                "db.team-a".into(),
                "datastore".into(),
                "postgres".into()
            ),
            (
                "api.team-b".into(),
                "db.team-b".into(),
                "datastore".into(),
                "postgres".into()
            ),
        ])
    );
    let api = m["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "api.team-a")
        .unwrap();
    assert_eq!(api["aliases"][0], "api");
}
