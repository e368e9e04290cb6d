//! `NetworkPolicy` compiled into a relation: may pod A reach pod B on port P?
//!
//! Semantics follow the Kubernetes API: a pod is isolated for ingress (or
//! egress) when any policy in its namespace selects it with that policy
//! type; an isolated pod admits only traffic some selecting policy allows;
//! a connection needs both the sender's egress and the receiver's ingress.

use serde::Serialize;

/// A label selector (`matchLabels` and `matchExpressions`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Selector {
    /// `matchLabels`; JSON: an object.
    #[serde(serialize_with = "crate::pairs_as_map")]
    pub labels: Vec<(String, String)>,
    /// `matchExpressions`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expressions: Vec<Expression>,
}

impl Selector {
    /// Whether the selector matches `labels` (an empty selector matches everything).
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        let get = |k: &str| {
            labels
                .iter()
                .find(|(lk, _)| lk == k)
                .map(|(_, v)| v.as_str())
        };
        self.labels.iter().all(|(k, v)| get(k) == Some(v.as_str()))
            && self.expressions.iter().all(
                |Expression {
                     key: k,
                     operator: op,
                     values: vals,
                 }| match op.as_str() {
                    "In" => get(k).is_some_and(|v| vals.iter().any(|x| x == v)),
                    "NotIn" => get(k).is_none_or(|v| !vals.iter().any(|x| x == v)),
                    "Exists" => get(k).is_some(),
                    "DoesNotExist" => get(k).is_none(),
                    _ => false,
                },
            )
    }
}

/// One `matchExpressions` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expression {
    /// Label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// Values for `In` / `NotIn`.
    pub values: Vec<String>,
}

/// A port of a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RulePort {
    /// Port number or name.
    pub port: String,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
}

/// One peer of a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Peer {
    /// `podSelector` (None: any pod of the selected namespaces).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pods: Option<Selector>,
    /// `namespaceSelector` (None: the policy's own namespace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<Selector>,
    /// `ipBlock.cidr` (cluster pods are not matched by IP here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_block: Option<String>,
}

/// A rule: peers and ports (empty lists mean "all").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Peers (empty: every source/destination).
    pub peers: Vec<Peer>,
    /// Ports (empty: all ports).
    pub ports: Vec<RulePort>,
}

/// One compiled `NetworkPolicy`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Name.
    pub name: String,
    /// Namespace (empty when not set).
    pub namespace: String,
    /// Pods it applies to.
    pub pod_selector: Selector,
    /// Whether it isolates ingress.
    pub ingress_isolated: bool,
    /// Whether it isolates egress.
    pub egress_isolated: bool,
    /// Ingress rules.
    pub ingress: Vec<Rule>,
    /// Egress rules.
    pub egress: Vec<Rule>,
    /// Where it is defined.
    pub evidence: crate::Evidence,
}

/// A pod as the relation sees it.
#[derive(Clone, Debug, Default)]
pub struct PodRef {
    /// Namespace (empty when not set).
    pub namespace: String,
    /// Labels of the namespace (`kubernetes.io/metadata.name` is implied).
    pub namespace_labels: Vec<(String, String)>,
    /// Pod labels.
    pub labels: Vec<(String, String)>,
    /// Named container ports, to resolve named policy ports: `(name, number)`.
    pub named_ports: Vec<(String, u16)>,
}

/// The answer to "may A reach B on P", with the policies that decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the connection is allowed.
    pub allowed: bool,
    /// Policies that allowed it, or that isolate the pod that refused it.
    pub by: Vec<String>,
}

/// All `NetworkPolicies` of the system.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NetworkPolicies {
    /// Policies, in file order.
    pub policies: Vec<Policy>,
}

fn ns_match(sel: Option<&Selector>, policy_ns: &str, pod: &PodRef) -> bool {
    match sel {
        None => pod.namespace == policy_ns || pod.namespace.is_empty() || policy_ns.is_empty(),
        Some(s) => {
            let mut labels = pod.namespace_labels.clone();
            labels.push(("kubernetes.io/metadata.name".into(), pod.namespace.clone()));
            s.matches(&labels)
        }
    }
}

fn peer_matches(peer: &Peer, policy_ns: &str, pod: &PodRef) -> bool {
    if peer.ip_block.is_some() && peer.pods.is_none() && peer.namespaces.is_none() {
        return false;
    }
    ns_match(peer.namespaces.as_ref(), policy_ns, pod)
        && peer.pods.as_ref().is_none_or(|s| s.matches(&pod.labels))
}

fn port_matches(ports: &[RulePort], port: u16, target: &PodRef) -> bool {
    ports.is_empty()
        || ports.iter().any(|RulePort { port: p, .. }| {
            p.parse::<u16>().ok() == Some(port)
                || target
                    .named_ports
                    .iter()
                    .any(|(n, num)| n == p && *num == port)
        })
}

fn same_ns(policy: &Policy, pod: &PodRef) -> bool {
    policy.namespace == pod.namespace || policy.namespace.is_empty() || pod.namespace.is_empty()
}

impl NetworkPolicies {
    /// May a pod `from` open a connection to pod `to` on `port`?
    pub fn may_reach(&self, from: &PodRef, to: &PodRef, port: u16) -> Verdict {
        let mut by = Vec::new();
        // the sender's egress, then the receiver's ingress
        for direction in [Direction::Egress, Direction::Ingress] {
            let (subject, peer) = match direction {
                Direction::Egress => (from, to),
                Direction::Ingress => (to, from),
            };
            let isolating: Vec<&Policy> = self
                .policies
                .iter()
                .filter(|p| {
                    direction.isolates(p)
                        && same_ns(p, subject)
                        && p.pod_selector.matches(&subject.labels)
                })
                .collect();
            if isolating.is_empty() {
                continue;
            }
            let allowing: Vec<&Policy> = isolating
                .iter()
                .copied()
                .filter(|p| {
                    direction.rules(p).iter().any(|r| {
                        (r.peers.is_empty()
                            || r.peers.iter().any(|x| peer_matches(x, &p.namespace, peer)))
                            && port_matches(&r.ports, port, to)
                    })
                })
                .collect();
            if allowing.is_empty() {
                return Verdict {
                    allowed: false,
                    by: isolating.iter().map(|p| p.name.clone()).collect(),
                };
            }
            by.extend(allowing.iter().map(|p| p.name.clone()));
        }
        Verdict { allowed: true, by }
    }
}

#[derive(Clone, Copy)]
enum Direction {
    Egress,
    Ingress,
}

impl Direction {
    fn isolates(self, p: &Policy) -> bool {
        match self {
            Direction::Egress => p.egress_isolated,
            Direction::Ingress => p.ingress_isolated,
        }
    }

    fn rules(self, p: &Policy) -> &[Rule] {
        match self {
            Direction::Egress => &p.egress,
            Direction::Ingress => &p.ingress,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn sel(pairs: &[(&str, &str)]) -> Selector {
        Selector {
            labels: labels(pairs),
            expressions: Vec::new(),
        }
    }

    fn pod(ns: &str, l: &[(&str, &str)]) -> PodRef {
        PodRef {
            namespace: ns.into(),
            labels: labels(l),
            ..PodRef::default()
        }
    }

    fn policy(name: &str, ns: &str, pods: Selector) -> Policy {
        Policy {
            name: name.into(),
            namespace: ns.into(),
            pod_selector: pods,
            ingress_isolated: false,
            egress_isolated: false,
            ingress: Vec::new(),
            egress: Vec::new(),
            evidence: crate::Evidence {
                file: "p.yaml".into(),
                line: 1,
                column: 1,
                what: None,
            },
        }
    }

    #[test]
    fn egress_isolation_needs_a_matching_egress_rule() {
        let mut p = policy("api-egress", "shop", sel(&[("app", "api")]));
        p.egress_isolated = true;
        p.egress = vec![Rule {
            peers: vec![Peer {
                pods: Some(sel(&[("app", "db")])),
                namespaces: None,
                ip_block: None,
            }],
            ports: vec![RulePort {
                port: "5432".into(),
                protocol: "TCP".into(),
            }],
        }];
        let np = NetworkPolicies { policies: vec![p] };
        let (api, db, web) = (
            pod("shop", &[("app", "api")]),
            pod("shop", &[("app", "db")]),
            pod("shop", &[("app", "web")]),
        );
        assert!(np.may_reach(&api, &db, 5432).allowed);
        assert!(!np.may_reach(&api, &db, 6379).allowed);
        assert!(!np.may_reach(&api, &web, 80).allowed);
        assert!(
            np.may_reach(&web, &api, 80).allowed,
            "ingress to api is not isolated"
        );
    }

    #[test]
    fn namespace_selectors_match_namespace_labels_and_the_name_label() {
        let mut p = policy("from-monitoring", "shop", Selector::default());
        p.ingress_isolated = true;
        p.ingress = vec![Rule {
            peers: vec![Peer {
                pods: None,
                namespaces: Some(sel(&[("kubernetes.io/metadata.name", "monitoring")])),
                ip_block: None,
            }],
            ports: Vec::new(),
        }];
        let np = NetworkPolicies { policies: vec![p] };
        let target = pod("shop", &[("app", "api")]);
        assert!(
            np.may_reach(&pod("monitoring", &[("app", "prometheus")]), &target, 9090)
                .allowed
        );
        assert!(
            !np.may_reach(&pod("shop", &[("app", "web")]), &target, 9090)
                .allowed
        );
        assert!(!np.may_reach(&pod("other", &[]), &target, 9090).allowed);
    }

    #[test]
    fn named_ports_and_match_expressions() {
        let mut p = policy(
            "api",
            "",
            Selector {
                labels: Vec::new(),
                expressions: vec![Expression {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: vec!["backend".into()],
                }],
            },
        );
        p.ingress_isolated = true;
        p.ingress = vec![Rule {
            peers: vec![Peer {
                pods: Some(Selector {
                    labels: Vec::new(),
                    expressions: vec![Expression {
                        key: "role".into(),
                        operator: "Exists".into(),
                        values: Vec::new(),
                    }],
                }),
                namespaces: None,
                ip_block: None,
            }],
            ports: vec![RulePort {
                port: "http".into(),
                protocol: "TCP".into(),
            }],
        }];
        let np = NetworkPolicies { policies: vec![p] };
        let mut api = pod("", &[("tier", "backend")]);
        api.named_ports = vec![("http".into(), 8080)];
        assert!(
            np.may_reach(&pod("", &[("role", "web")]), &api, 8080)
                .allowed
        );
        assert!(
            !np.may_reach(&pod("", &[("role", "web")]), &api, 9090)
                .allowed
        );
        assert!(!np.may_reach(&pod("", &[("app", "x")]), &api, 8080).allowed);
        assert!(
            np.may_reach(&pod("", &[]), &pod("", &[("tier", "frontend")]), 1)
                .allowed,
            "NotIn the selector: not isolated"
        );
    }

    #[test]
    fn ip_blocks_never_match_cluster_pods() {
        let mut p = policy("cidr-only", "", Selector::default());
        p.ingress_isolated = true;
        p.ingress = vec![Rule {
            peers: vec![Peer {
                pods: None,
                namespaces: None,
                ip_block: Some("10.0.0.0/8".into()),
            }],
            ports: Vec::new(),
        }];
        let np = NetworkPolicies { policies: vec![p] };
        assert!(!np.may_reach(&pod("", &[]), &pod("", &[]), 80).allowed);
    }
}
