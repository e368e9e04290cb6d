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
        // egress of the sender
        let egress: Vec<&Policy> = self
            .policies
            .iter()
            .filter(|p| {
                p.egress_isolated && same_ns(p, from) && p.pod_selector.matches(&from.labels)
            })
            .collect();
        if !egress.is_empty() {
            let ok: Vec<&Policy> = egress
                .iter()
                .copied()
                .filter(|p| {
                    p.egress.iter().any(|r| {
                        (r.peers.is_empty()
                            || r.peers
                                .iter()
                                .any(|peer| peer_matches(peer, &p.namespace, to)))
                            && port_matches(&r.ports, port, to)
                    })
                })
                .collect();
            if ok.is_empty() {
                return Verdict {
                    allowed: false,
                    by: egress.iter().map(|p| p.name.clone()).collect(),
                };
            }
            by.extend(ok.iter().map(|p| p.name.clone()));
        }
        let ingress: Vec<&Policy> = self
            .policies
            .iter()
            .filter(|p| p.ingress_isolated && same_ns(p, to) && p.pod_selector.matches(&to.labels))
            .collect();
        if !ingress.is_empty() {
            let ok: Vec<&Policy> = ingress
                .iter()
                .copied()
                .filter(|p| {
                    p.ingress.iter().any(|r| {
                        (r.peers.is_empty()
                            || r.peers
                                .iter()
                                .any(|peer| peer_matches(peer, &p.namespace, from)))
                            && port_matches(&r.ports, port, to)
                    })
                })
                .collect();
            if ok.is_empty() {
                return Verdict {
                    allowed: false,
                    by: ingress.iter().map(|p| p.name.clone()).collect(),
                };
            }
            by.extend(ok.iter().map(|p| p.name.clone()));
        }
        Verdict { allowed: true, by }
    }
}
