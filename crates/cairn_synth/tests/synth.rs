//! Integration tests of the synthetic system generator.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use cairn_synth::{SynthConfig, SynthSystem, generate, service_name};

/// Every name of the form `svc-NNNNN`, `db-NN`, `cache-NN` or `kafka-NN`
/// in `text`, where the prefix starts at a word boundary.
fn names_in(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for prefix in ["svc-", "db-", "cache-", "kafka-"] {
        let mut from = 0;
        while let Some(pos) = text[from..].find(prefix) {
            let start = from + pos;
            from = start + prefix.len();
            let boundary = start == 0 || {
                let b = bytes[start - 1];
                !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            };
            let digits = bytes[from..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if boundary && digits > 0 {
                out.push(text[start..from + digits].to_owned());
            }
        }
    }
    out
}

/// Names of the services generated (anything with a `kind: Service`).
fn service_objects(sys: &SynthSystem) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for f in &sys.files {
        for doc in f.text.split("\n---\n") {
            if doc.contains("\nkind: Service\n") {
                let name = doc
                    .lines()
                    .find_map(|l| l.strip_prefix("  name: "))
                    .expect("metadata.name");
                names.insert(name.to_owned());
            }
        }
    }
    names
}

fn edge_map(sys: &SynthSystem) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut map: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to) in &sys.edges {
        map.entry(from).or_default().insert(to);
    }
    map
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    let cfg = SynthConfig::new(300).with_seed(11);
    let a = generate(&cfg);
    let b = generate(&cfg);
    assert_eq!(a, b);
    let c = generate(&SynthConfig::new(300).with_seed(12));
    assert_ne!(a.files, c.files);
    assert_ne!(a.edges, c.edges);
    // Bundled output is deterministic too and carries the same truth.
    let d = generate(&cfg.clone().bundled());
    assert_eq!(d, generate(&cfg.bundled()));
    assert_eq!(d.edges, a.edges);
}

#[test]
fn at_least_six_objects_per_service() {
    let sys = generate(&SynthConfig::new(200));
    assert!(sys.objects >= 6 * 200, "{} objects", sys.objects);
    let docs: usize = sys
        .files
        .iter()
        .map(|f| f.text.matches("\n---\n").count() + 1)
        .sum();
    assert_eq!(docs, sys.objects);
    let kinds: usize = sys
        .files
        .iter()
        .map(|f| f.text.matches("\nkind: ").count())
        .sum();
    assert_eq!(kinds, sys.objects);
}

#[test]
fn every_edge_endpoint_is_a_generated_service() {
    for cfg in [SynthConfig::new(200), SynthConfig::new(1000).with_seed(5)] {
        let sys = generate(&cfg);
        let services = service_objects(&sys);
        assert_eq!(
            services.len(),
            cfg.services + cfg.datastores + cfg.brokers,
            "one Service per app, datastore and broker"
        );
        let mut seen = HashSet::new();
        for (from, to) in &sys.edges {
            assert!(services.contains(from), "unknown caller {from}");
            assert!(services.contains(to), "unknown callee {to}");
            assert!(from.starts_with("svc-"), "callers are app services");
            assert_ne!(from, to, "no self edges");
            assert!(seen.insert((from, to)), "duplicate edge {from} -> {to}");
        }
    }
}

#[test]
fn every_callee_in_env_or_configmap_is_an_edge_and_vice_versa() {
    let cfg = SynthConfig::new(200);
    let sys = generate(&cfg);
    let edges = edge_map(&sys);
    let mut checked = 0;
    for i in 0..cfg.services {
        let name = service_name(i);
        let file = sys
            .files
            .iter()
            .find(|f| f.path == format!("{name}.yaml"))
            .expect("one file per service");
        let mut named = BTreeSet::new();
        for doc in file.text.split("\n---\n") {
            if doc.contains("\nkind: Deployment\n") {
                let env = doc
                    .split_once("          env:\n")
                    .expect("env")
                    .1
                    .split_once("          envFrom:\n")
                    .expect("envFrom")
                    .0;
                for line in env.lines().filter(|l| l.contains("value: ")) {
                    named.extend(names_in(line));
                }
            } else if doc.contains("\nkind: ConfigMap\n") {
                let data = doc.split_once("\ndata:\n").expect("data").1;
                named.extend(names_in(data));
            }
        }
        assert!(!named.contains(&name), "{name} names itself");
        let truth: BTreeSet<String> = edges
            .get(name.as_str())
            .map(|s| s.iter().map(|&t| t.to_owned()).collect())
            .unwrap_or_default();
        assert_eq!(named, truth, "callees of {name}");
        checked += named.len();
    }
    assert!(checked >= 3 * cfg.services, "only {checked} callees");
}

#[test]
fn network_policies_admit_exactly_the_callers() {
    let sys = generate(&SynthConfig::new(300).bundled());
    let mut callers: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in &sys.edges {
        if to.starts_with("svc-") {
            callers.entry(to).or_default().insert(from.clone());
        }
    }
    let mut policies = 0;
    for f in &sys.files {
        for doc in f.text.split("\n---\n") {
            if !doc.contains("\nkind: NetworkPolicy\n") {
                continue;
            }
            policies += 1;
            let (head, ingress) = doc.split_once("\n  ingress:\n").expect("ingress");
            let target = head
                .split_once("podSelector:\n    matchLabels:\n      app.kubernetes.io/name: ")
                .expect("podSelector")
                .1
                .lines()
                .next()
                .expect("name");
            let admitted: BTreeSet<String> = names_in(ingress).into_iter().collect();
            let expected = callers.get(target).cloned().unwrap_or_default();
            assert_eq!(admitted, expected, "policy of {target}");
            if expected.is_empty() {
                assert!(ingress.contains("ingress-nginx"));
            }
        }
    }
    assert_eq!(policies, 300);
}

#[test]
fn graph_shape_is_realistic() {
    let n = 2000;
    let sys = generate(&SynthConfig::new(n));
    let index = |s: &str| s.strip_prefix("svc-").and_then(|d| d.parse::<usize>().ok());
    let mut back = 0;
    let mut near = 0;
    let mut app_edges = 0;
    let mut in_degree = vec![0usize; n];
    let mut uses_store = BTreeSet::new();
    let mut uses_kafka = BTreeSet::new();
    for (from, to) in &sys.edges {
        let f = index(from).expect("caller is an app");
        match index(to) {
            Some(t) => {
                app_edges += 1;
                in_degree[t] += 1;
                if t < f {
                    back += 1;
                } else if t - f <= 32 {
                    near += 1;
                }
            }
            None if to.starts_with("kafka-") => {
                uses_kafka.insert(f);
            }
            None => {
                uses_store.insert(f);
            }
        }
    }
    assert!(back <= 10, "{back} back edges");
    assert!(near * 3 > app_edges * 2, "{near} of {app_edges} near");
    let max_in = in_degree.iter().copied().max().unwrap_or(0);
    assert!(max_in >= 30, "no hubs: max in-degree {max_in}");
    let store_pct = uses_store.len() * 100 / n;
    let kafka_pct = uses_kafka.len() * 100 / n;
    assert!(
        (25..=35).contains(&store_pct),
        "{store_pct}% use a datastore"
    );
    assert!((15..=25).contains(&kafka_pct), "{kafka_pct}% use kafka");
}

#[test]
fn addresses_come_in_varied_forms_and_quotes() {
    let sys = generate(&SynthConfig::new(200));
    let all: String = sys.files.iter().map(|f| f.text.as_str()).collect();
    for needle in [
        "value: http://svc-",
        "value: \"svc-",
        "value: 'grpc://svc-",
        ".synth.svc.cluster.local:8080",
        ".synth:8080/api",
        "postgres://app@db-",
        "cache-00:6379",
        "kafka-00:9092",
        "configMapKeyRef:",
        "configMapRef:",
        "image: registry.example.com/svc-00042:1.4.2",
        "image: postgres:16.4",
        "image: redis:7.2",
        "image: apache/kafka:3.8.0",
        "apiVersion: autoscaling/v2",
        "apiVersion: policy/v1",
        "readinessProbe:",
        "livenessProbe:",
    ] {
        assert!(all.contains(needle), "missing {needle:?}");
    }
}
