//! Edge recall and precision on the real systems in `../shared/corpus`,
//! against each system's `expected-graph.json` (written independently of cairn).
//!
//! Scoring: recall counts the `visible: true` edges that are not
//! observability edges; precision counts every reported edge that is not
//! neutral, and an edge is correct when the expected graph lists it at all
//! (a visible or a correct-but-invisible edge). Names are matched through
//! the aliases the expected graph lists. Edges are compared as (from, to).
//! Each system's figures are printed (`--nocapture`) for the closing notes.

#![allow(clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

struct Score {
    recall: f64,
    precision: f64,
    found: usize,
    visible: usize,
    reported: usize,
    wrong: Vec<(String, String)>,
    missed: Vec<(String, String)>,
    kind_agree: usize,
}

fn scan(system: &str, args: &[&str]) -> Value {
    let dir = corpus().join(system);
    assert!(
        dir.is_dir(),
        "corpus system {system} is missing at {}",
        dir.display()
    );
    let out = Command::cargo_bin("cairn")
        .unwrap()
        .current_dir(&dir)
        .arg("scan")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{system}: cairn failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn score(system: &str, model: &Value) -> Score {
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus().join(system).join("expected-graph.json")).unwrap(),
    )
    .unwrap();
    let mut alias: BTreeMap<String, String> = BTreeMap::new();
    for s in truth["services"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap().to_owned();
        alias.insert(name.clone(), name.clone());
        for a in s["aliases"].as_array().into_iter().flatten() {
            alias.insert(a.as_str().unwrap().to_owned(), name.clone());
        }
    }
    let canon = |n: &str| alias.get(n).cloned().unwrap_or_else(|| n.to_owned());
    let pair = |e: &Value| {
        (
            canon(e["from"].as_str().unwrap()),
            canon(e["to"].as_str().unwrap()),
        )
    };
    let all: BTreeSet<(String, String)> = truth["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(pair)
        .collect();
    let visible: BTreeSet<(String, String)> = truth["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["visible"].as_bool() == Some(true) && e["observability"].as_bool() != Some(true)
        })
        .map(pair)
        .collect();
    let neutral: BTreeSet<(String, String)> = truth["neutral_edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            // "to" may carry a note in parentheses: "zipkin (zipkin.jaeger.svc.cluster.local)"
            let to = e["to"].as_str().unwrap();
            (
                canon(e["from"].as_str().unwrap()),
                canon(to.split(' ').next().unwrap()),
            )
        })
        .collect();
    let kinds: BTreeMap<(String, String), String> = truth["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (pair(e), e["kind"].as_str().unwrap().to_owned()))
        .collect();
    let reported: Vec<((String, String), String)> = model["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (pair(e), e["kind"].as_str().unwrap().to_owned()))
        .collect();
    let reported_set: BTreeSet<(String, String)> =
        reported.iter().map(|(p, _)| p.clone()).collect();
    let found = visible.intersection(&reported_set).count();
    let counted: Vec<&(String, String)> = reported_set
        .iter()
        .filter(|p| !neutral.contains(*p))
        .collect();
    let wrong: Vec<(String, String)> = counted
        .iter()
        .filter(|p| !all.contains(**p))
        .map(|p| (*p).clone())
        .collect();
    let missed = visible.difference(&reported_set).cloned().collect();
    let kind_agree = reported
        .iter()
        .filter(|(p, k)| kinds.get(p) == Some(k))
        .count();
    Score {
        recall: if visible.is_empty() {
            1.0
        } else {
            found as f64 / visible.len() as f64
        },
        precision: if counted.is_empty() {
            1.0
        } else {
            (counted.len() - wrong.len()) as f64 / counted.len() as f64
        },
        found,
        visible: visible.len(),
        reported: reported_set.len(),
        wrong,
        missed,
        kind_agree,
    }
}

fn check(system: &str, args: &[&str]) -> Score {
    let model = scan(system, args);
    let s = score(system, &model);
    eprintln!(
        "{system}: recall {:.3} ({}/{} visible), precision {:.3} ({} reported, {} wrong), kind agrees on {}",
        s.recall,
        s.found,
        s.visible,
        s.precision,
        s.reported,
        s.wrong.len(),
        s.kind_agree
    );
    assert!(
        s.recall >= 0.95,
        "{system}: recall {:.3} < 0.95; missed {:?}",
        s.recall,
        s.missed
    );
    assert!(
        s.precision >= 0.95,
        "{system}: precision {:.3} < 0.95; wrong {:?}",
        s.precision,
        s.wrong
    );
    s
}

#[test]
fn online_boutique() {
    let s = check("online-boutique", &["kubernetes-manifests"]);
    assert_eq!(s.visible, 16);
}

#[test]
fn opentelemetry_demo() {
    check(
        "opentelemetry-demo",
        &["kubernetes/opentelemetry-demo.yaml"],
    );
}

#[test]
fn sock_shop() {
    let s = check("sock-shop", &["deploy/kubernetes/manifests"]);
    assert_eq!(s.visible, 1);
}

#[test]
fn sock_shop_bundle_gives_the_same_truth() {
    check("sock-shop", &["deploy/kubernetes/complete-demo.yaml"]);
}

#[test]
fn bank_of_anthos() {
    check("bank-of-anthos", &["kubernetes-manifests"]);
}

#[test]
fn bookinfo_invents_no_edge() {
    let s = check(
        "bookinfo",
        &["samples/bookinfo/platform/kube/bookinfo.yaml"],
    );
    assert!(s.wrong.is_empty(), "invented edges: {:?}", s.wrong);
    let model = scan(
        "bookinfo",
        &["samples/bookinfo/platform/kube/bookinfo.yaml"],
    );
    let names: BTreeSet<&str> = model["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["details", "productpage", "ratings", "reviews"])
    );
}

#[test]
fn petclinic() {
    let mut args = vec!["docker-compose.yml", "docker/prometheus/prometheus.yml"];
    let apps = [
        "admin-server",
        "api-gateway",
        "config-server",
        "customers-service",
        "discovery-server",
        "genai-service",
        "vets-service",
        "visits-service",
    ];
    let paths: Vec<String> = apps
        .iter()
        .map(|a| format!("spring-petclinic-{a}/src/main/resources/application.yml"))
        .collect();
    args.extend(paths.iter().map(String::as_str));
    check("petclinic", &args);
}

/// The whole corpus, every variant and add-on at once: nothing fails to
/// read, and the only warnings are real findings in the files (duplicate
/// keys in the petclinic cloud manifests, lenient indentation in the
/// OpenTelemetry compose files and a sock-shop add-on).
#[test]
fn whole_corpus_reads_without_errors() {
    let out = Command::cargo_bin("cairn")
        .unwrap()
        .args(["scan", corpus().to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = m["diagnostics"].as_array().unwrap();
    let errors: Vec<&Value> = diags.iter().filter(|d| d["severity"] == "error").collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let warnings: BTreeSet<&str> = diags
        .iter()
        .filter(|d| d["severity"] == "warning")
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        warnings,
        BTreeSet::from(["yaml-duplicate-key", "yaml-lenient-indentation"])
    );
    assert!(m["files"].as_array().unwrap().len() > 1000);
}

/// The network policy relation on sock-shop's policy add-on: catalogue admits
/// only front-end on port 80 and user-db only user on 27017. `cortex-access`
/// selects every pod (an empty selector), so every pod is isolated; and since
/// `cart-access` selects `name: cart` while the pods are labelled
/// `name: carts` (the upstream label bug the corpus notes describe), nothing
/// but cortex may reach carts: front-end and orders are cut off.
#[test]
fn sock_shop_network_policies_answer_who_may_reach_whom() {
    let dir = corpus().join("sock-shop/deploy/kubernetes");
    let inputs = [
        cairn_ingest::InputPath::Path(dir.join("manifests")),
        cairn_ingest::InputPath::Path(dir.join("manifests-policy")),
    ];
    let ingest = cairn_ingest::ingest(&inputs, &cairn_ingest::Options::default(), &|_, _| {});
    let (m, _) = cairn_model::build(&ingest);
    let pod = |name: &str| {
        m.pod_refs(m.service(name).unwrap_or_else(|| panic!("{name} missing")))
            .remove(0)
    };
    let reach = |a: &str, b: &str, port: u16| m.network_policies.may_reach(&pod(a), &pod(b), port);

    let v = reach("front-end", "catalogue", 80);
    assert!(v.allowed);
    assert_eq!(v.by, ["catalogue-access"]);
    let v = reach("user", "catalogue", 80);
    assert!(!v.allowed);
    assert_eq!(
        v.by,
        ["catalogue-access", "cortex-access"],
        "the policies that isolate catalogue"
    );
    assert!(reach("user", "user-db", 27017).allowed);
    assert!(
        !reach("user", "user-db", 80).allowed,
        "port 80 is not in user-db-access"
    );
    assert!(!reach("front-end", "user-db", 27017).allowed);
    let v = reach("front-end", "carts", 80);
    assert!(!v.allowed, "{v:?}");
    assert_eq!(
        v.by,
        ["cortex-access"],
        "cart-access does not select the carts pods"
    );
}

/// Contracts attach by name: the OpenTelemetry demo's one `demo.proto`
/// defines `CartService`, `ProductCatalogService`, …, so it attaches to each
/// of those services, and calls to them are gRPC.
#[test]
fn proto_contracts_attach_to_the_services_they_define() {
    let m = scan(
        "opentelemetry-demo",
        &["kubernetes/opentelemetry-demo.yaml", "pb/demo.proto"],
    );
    let contracts = |name: &str| -> Vec<String> {
        m["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["contracts"]
            .as_array()
            .map(|a| a.iter().map(|c| c.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    for svc in [
        "cart",
        "product-catalog",
        "currency",
        "checkout",
        "payment",
        "recommendation",
        "ad",
    ] {
        assert_eq!(contracts(svc), ["pb/demo.proto"], "{svc}");
    }
    assert!(contracts("kafka").is_empty());
    let edge = m["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == "frontend" && e["to"] == "product-catalog")
        .unwrap();
    assert_eq!(edge["protocol"], "grpc");
}

/// Routes through a gateway whose pods a controller runs become edges from
/// an implied gateway service: Bookinfo's Istio and Gateway API variants.
#[test]
fn bookinfo_gateway_routes_are_edges_from_implied_gateways() {
    for (variant, implied_by) in [
        ("networking/bookinfo-gateway.yaml", "Istio Gateway"),
        ("gateway-api/bookinfo-gateway.yaml", "Gateway API Gateway"),
    ] {
        let m = scan(
            "bookinfo",
            &[
                "samples/bookinfo/platform/kube/bookinfo.yaml",
                &format!("samples/bookinfo/{variant}"),
            ],
        );
        let gw = m["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "bookinfo-gateway")
            .unwrap_or_else(|| panic!("{variant}: no gateway"));
        assert_eq!(gw["role"], "gateway");
        assert_eq!(gw["implied"], implied_by);
        let pairs: Vec<(&str, &str)> = m["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["from"].as_str().unwrap(), e["to"].as_str().unwrap()))
            .collect();
        assert_eq!(pairs, [("bookinfo-gateway", "productpage")], "{variant}");
    }
}
