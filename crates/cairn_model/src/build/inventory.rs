//! Facts beside the dependency graph: network policy, contracts, topics, datastores, namespaces, RBAC, external hosts, alerts.

use super::{HostIndex, evidence};
use crate::netpol::{NetworkPolicies, Peer, Rule, Selector};
use crate::role::Role;
use crate::{
    AlertRules, Datastore, Edge, EdgeKind, ExternalService, Grant, Namespace, Service,
    ServiceAccount, System, Topic, netpol,
};
use cairn_ingest::Ingest;
use cairn_ingest::k8s::{K8sObject, string_pairs};
use cairn_source::{Loc, SourceMap};
use cairn_yaml::Node;
use std::collections::{BTreeMap, HashMap};

pub(super) fn compile_netpols(objects: &[K8sObject], src: &SourceMap) -> NetworkPolicies {
    let selector = |n: Option<&Node>| -> Selector {
        let Some(n) = n else {
            return Selector::default();
        };
        Selector {
            labels: string_pairs(n.map_at("matchLabels"))
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            expressions: n
                .seq_at("matchExpressions")
                .iter()
                .filter_map(|e| {
                    Some(netpol::Expression {
                        key: e.get_str("key")?.to_owned(),
                        operator: e.get_str("operator")?.to_owned(),
                        values: e
                            .seq_at("values")
                            .iter()
                            .filter_map(|v| v.as_scalar().map(|s| s.text.to_string()))
                            .collect(),
                    })
                })
                .collect(),
        }
    };
    let rules = |items: &[Node], peer_key: &str| -> Vec<Rule> {
        items
            .iter()
            .map(|r| Rule {
                peers: r
                    .seq_at(peer_key)
                    .iter()
                    .map(|p| Peer {
                        pods: p.get("podSelector").map(|s| selector(Some(s))),
                        namespaces: p.get("namespaceSelector").map(|s| selector(Some(s))),
                        ip_block: p
                            .path(&["ipBlock", "cidr"])
                            .and_then(Node::as_str)
                            .map(str::to_owned),
                    })
                    .collect(),
                ports: r
                    .seq_at("ports")
                    .iter()
                    .map(|p| netpol::RulePort {
                        port: p
                            .get("port")
                            .and_then(|x| x.as_scalar())
                            .map(|s| s.text.to_string())
                            .unwrap_or_default(),
                        protocol: p.get_str("protocol").unwrap_or("TCP").to_owned(),
                    })
                    .filter(|p| !p.port.is_empty())
                    .collect(),
            })
            .collect()
    };
    let mut policies = Vec::new();
    for o in objects
        .iter()
        .filter(|o| o.kind == "NetworkPolicy" && o.group().starts_with("networking.k8s.io"))
    {
        let Some(spec) = o.spec() else { continue };
        let types: Vec<&str> = spec
            .seq_at("policyTypes")
            .iter()
            .filter_map(Node::as_str)
            .collect();
        let ingress_isolated = types.contains(&"Ingress") || types.is_empty();
        let egress_isolated =
            types.contains(&"Egress") || (types.is_empty() && spec.get("egress").is_some());
        policies.push(netpol::Policy {
            name: o.name.clone(),
            namespace: o.namespace.clone().unwrap_or_default(),
            pod_selector: selector(spec.get("podSelector")),
            ingress_isolated,
            egress_isolated,
            ingress: rules(spec.seq_at("ingress"), "from"),
            egress: rules(spec.seq_at("egress"), "to"),
            evidence: evidence(
                src,
                Loc::new(o.file, o.name_pos()),
                Some(format!("NetworkPolicy {}", o.name)),
            ),
        });
    }
    NetworkPolicies { policies }
}

pub(super) fn attach_contracts(input: &Ingest, index: &HostIndex, services: &mut [Service]) {
    for c in &input.contracts {
        let path = input.sources.path(c.file).to_owned();
        // stated mapping first: a cairn.yaml contracts entry that ends this path
        if services.iter().any(|s| {
            s.contracts
                .iter()
                .any(|k| path.ends_with(k.trim_start_matches("./")))
        }) {
            for s in services.iter_mut() {
                for k in &mut s.contracts {
                    if path.ends_with(k.trim_start_matches("./")) {
                        k.clone_from(&path);
                    }
                }
            }
            continue;
        }
        let resolve = |n: &String| {
            let n = n.to_ascii_lowercase();
            let cands = [
                n.clone(),
                n.replace(' ', "-"),
                n.trim_end_matches("service")
                    .trim_end_matches('-')
                    .to_owned(),
                n.split('.').next_back().unwrap_or(&n).to_owned(),
            ];
            cands
                .iter()
                .find_map(|x| index.lookup(x, None))
                .or_else(|| {
                    // `ProductCatalogService` names service `product-catalog`
                    let squashed = cands[2].replace(['-', '_'], "");
                    services
                        .iter()
                        .position(|s| s.name.replace(['-', '_'], "") == squashed)
                })
        };
        // A .proto may define many gRPC services: attach it to each one it
        // names. An OpenAPI/AsyncAPI file describes one service: its title.
        // The file name is the last resort for both.
        let (named, stem) = c.names.split_at(c.names.len().saturating_sub(1));
        let mut found: Vec<usize> = if c.format == cairn_ingest::Format::Proto {
            named.iter().filter_map(resolve).collect()
        } else {
            named.iter().find_map(resolve).into_iter().collect()
        };
        if found.is_empty() {
            found.extend(stem.iter().find_map(resolve));
        }
        for i in found {
            if !services[i].contracts.contains(&path) {
                services[i].contracts.push(path.clone());
            }
        }
    }
}

pub(super) fn topics(edges: &[Edge]) -> Vec<Topic> {
    let mut map: BTreeMap<String, Topic> = BTreeMap::new();
    for e in edges.iter().filter(|e| {
        matches!(
            e.kind,
            EdgeKind::AsyncPublish | EdgeKind::AsyncConsume | EdgeKind::Async
        )
    }) {
        for t in &e.topics {
            let topic = map.entry(t.clone()).or_insert_with(|| Topic {
                name: t.clone(),
                broker: Some(e.to.clone()),
                publishers: Vec::new(),
                consumers: Vec::new(),
            });
            match e.kind {
                EdgeKind::AsyncPublish => topic.publishers.push(e.from.clone()),
                EdgeKind::AsyncConsume => topic.consumers.push(e.from.clone()),
                _ => {}
            }
        }
    }
    map.into_values().collect()
}

pub(super) fn datastores(
    services: &[Service],
    edges: &[Edge],
    engines: &HashMap<String, &'static str>,
) -> Vec<Datastore> {
    let mut users_of: HashMap<&str, Vec<String>> = HashMap::new();
    for e in edges {
        users_of
            .entry(e.to.as_str())
            .or_default()
            .push(e.from.clone());
    }
    services
        .iter()
        .filter(|s| matches!(s.role, Role::Datastore | Role::Broker))
        .map(|s| {
            let mut users: Vec<String> = users_of.remove(s.name.as_str()).unwrap_or_default();
            users.sort();
            users.dedup();
            Datastore {
                name: s.name.clone(),
                engine: engines
                    .get(&s.name)
                    .map_or_else(|| "unknown".to_owned(), |e| (*e).to_owned()),
                users,
            }
        })
        .collect()
}

/// Namespaces, service accounts with their grants, `ServiceEntries` and alert rules.
pub(super) fn inventory(
    objects: &[K8sObject],
    src: &SourceMap,
    services: &[Service],
    system: &mut System,
) {
    let ev = |o: &K8sObject| {
        evidence(
            src,
            Loc::new(o.file, o.name_pos()),
            Some(format!("{} {}", o.kind, o.name)),
        )
    };
    let pairs = |v: Vec<(&str, &str)>| -> Vec<(String, String)> {
        v.into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    };
    for o in objects {
        match (o.kind.as_str(), o.group()) {
            ("Namespace", "") => system.namespaces.push(Namespace {
                name: o.name.clone(),
                labels: pairs(o.labels()),
                evidence: ev(o),
            }),
            ("ServiceEntry", g) if g.contains("istio") => {
                system.external_services.push(ExternalService {
                    name: format!("ServiceEntry/{}", o.name),
                    hosts: o
                        .spec()
                        .map_or(&[][..], |s| s.seq_at("hosts"))
                        .iter()
                        .filter_map(Node::as_str)
                        .map(str::to_owned)
                        .collect(),
                    location: o
                        .spec()
                        .and_then(|s| s.get_str("location"))
                        .map(str::to_owned),
                    evidence: ev(o),
                });
            }
            ("PrometheusRule", g) if g.contains("monitoring.coreos.com") => {
                system.alert_rules.push(AlertRules {
                    name: format!("PrometheusRule/{}", o.name),
                    namespace: o.namespace.clone(),
                    alerts: o
                        .spec()
                        .map_or(&[][..], |s| s.seq_at("groups"))
                        .iter()
                        .flat_map(|g| g.seq_at("rules"))
                        .filter_map(|r| r.get_str("alert").map(str::to_owned))
                        .collect(),
                    evidence: ev(o),
                });
            }
            _ => {}
        }
    }
    // Service accounts: defined ones, and ones workloads name without defining.
    let mut accounts: BTreeMap<(Option<String>, String), ServiceAccount> = BTreeMap::new();
    for o in objects
        .iter()
        .filter(|o| o.kind == "ServiceAccount" && o.group().is_empty())
    {
        accounts.insert(
            (o.namespace.clone(), o.name.clone()),
            ServiceAccount {
                name: o.name.clone(),
                namespace: o.namespace.clone(),
                automount_token: o
                    .root
                    .get("automountServiceAccountToken")
                    .and_then(Node::as_bool),
                used_by: Vec::new(),
                grants: Vec::new(),
                evidence: Some(ev(o)),
            },
        );
    }
    for w in services.iter().flat_map(|s| s.workloads.iter()) {
        let Some(sa) = &w.service_account else {
            continue;
        };
        let entry = accounts
            .entry((w.namespace.clone(), sa.clone()))
            .or_insert_with(|| ServiceAccount {
                name: sa.clone(),
                namespace: w.namespace.clone(),
                automount_token: None,
                used_by: Vec::new(),
                grants: Vec::new(),
                evidence: None,
            });
        entry.used_by.push(format!("{}/{}", w.kind, w.name));
    }
    let role_of = |kind: &str, name: &str, ns: Option<&str>| {
        objects.iter().find(|r| {
            r.kind == kind
                && r.name == name
                && (kind == "ClusterRole" || r.namespace.as_deref() == ns)
        })
    };
    for b in objects.iter().filter(|o| {
        (o.kind == "RoleBinding" || o.kind == "ClusterRoleBinding") && o.group().contains("rbac")
    }) {
        let Some(role_ref) = b.root.get("roleRef") else {
            continue;
        };
        let role_kind = role_ref.get_str("kind").unwrap_or("Role");
        let role_name = role_ref.get_str("name").unwrap_or_default();
        let role = role_of(role_kind, role_name, b.namespace.as_deref());
        let rules: Vec<&Node> =
            role.map_or_else(Vec::new, |r| r.root.seq_at("rules").iter().collect());
        let has =
            |r: &Node, key: &str, v: &str| r.seq_at(key).iter().any(|x| x.as_str() == Some(v));
        let wildcard = rules
            .iter()
            .any(|r| has(r, "verbs", "*") || has(r, "resources", "*") || has(r, "apiGroups", "*"));
        let reads_secrets = rules.iter().any(|r| {
            (has(r, "resources", "secrets") || has(r, "resources", "*"))
                && (has(r, "verbs", "get")
                    || has(r, "verbs", "list")
                    || has(r, "verbs", "watch")
                    || has(r, "verbs", "*"))
        });
        for subject in b.root.seq_at("subjects") {
            if subject.get_str("kind") != Some("ServiceAccount") {
                continue;
            }
            let Some(name) = subject.get_str("name") else {
                continue;
            };
            let ns = subject
                .get_str("namespace")
                .map(str::to_owned)
                .or_else(|| b.namespace.clone());
            let entry = accounts
                .entry((ns.clone(), name.to_owned()))
                .or_insert_with(|| ServiceAccount {
                    name: name.to_owned(),
                    namespace: ns,
                    automount_token: None,
                    used_by: Vec::new(),
                    grants: Vec::new(),
                    evidence: None,
                });
            entry.grants.push(Grant {
                binding: format!("{}/{}", b.kind, b.name),
                role: format!("{role_kind}/{role_name}"),
                cluster_wide: b.kind == "ClusterRoleBinding",
                wildcard,
                reads_secrets,
                role_found: role.is_some(),
                evidence: ev(b),
            });
        }
    }
    system.service_accounts = accounts.into_values().collect();
}
