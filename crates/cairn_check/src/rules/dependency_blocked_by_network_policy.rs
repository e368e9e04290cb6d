//! A dependency of the model is denied by the network policies.
//!
//! Every dependency cairn knows, inferred from the configuration (an
//! address in an environment variable, a mesh route) or stated in
//! `cairn.yaml`, is a connection the caller's pods open to the callee's
//! pods. When network policies isolate either side and no rule admits that
//! connection (the caller's egress, or the callee's ingress, on the port
//! used), the call fails at runtime: connections time out, usually right
//! after a default-deny policy is rolled out.
//!
//! The port is the one the address names (the Service port, followed to its
//! `targetPort` on the callee's pods, since policies see the pod's port), or
//! the default port of its scheme (`http` 80, `https` 443). When the address
//! names none, every port of the callee's Service is tried, and the
//! dependency is reported only when all of them are denied.
//!
//! ## Example
//! ```yaml
//! # orders calls payment (env PAYMENT_URL=http://payment:80)
//! kind: NetworkPolicy
//! metadata: {name: payment, namespace: shop}
//! spec:
//!   podSelector: {matchLabels: {app: payment}}
//!   policyTypes: [Ingress]
//!   ingress:
//!     - from: [{podSelector: {matchLabels: {app: web}}}]   # orders is not admitted
//! ```
//!
//! ## Fix
//! Admit the caller on the callee's port (and, if the caller's egress is
//! isolated, the callee in the caller's egress rules):
//! ```yaml
//!   ingress:
//!     - from:
//!         - podSelector: {matchLabels: {app: web}}
//!         - podSelector: {matchLabels: {app: orders}}
//!       ports: [{port: 8080}]
//! ```
//! If the dependency is not real, correct the configuration that names it.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/services-networking/network-policies/
//! - https://kubernetes.io/docs/concepts/services-networking/network-policies/#targeting-a-range-of-ports
//!
//! ## Notes
//! Only pods of Kubernetes workloads are judged (compose services have no
//! network policy). A workload written without a namespace is taken to run
//! in the other side's namespace (the one its short name resolves in); when
//! neither side names one, a refusal by a policy of a named namespace is
//! not reported, as it holds only if the pods are applied there. An address
//! naming a port that the callee's Services do not have fails whatever the
//! policies say, and is not judged here. `ipBlock` peers never match
//! cluster pods, as Kubernetes leaves their effect on pod traffic to the
//! network plugin. DNS is `network-policy-blocks-dns`'s concern.

use std::borrow::Cow;
use std::collections::HashMap;

use cairn_model::netpol::Policy as NetPolicy;
use cairn_model::{Edge, PodRef, Service, System, Workload};

use crate::kit_manifest::{name_list, quoted, refusal};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA405",
    name: "dependency-blocked-by-network-policy",
    category: Category::Network,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a dependency of the model is denied by the network policies",
    help: "admit the caller in the callee's ingress rules (and the callee in the caller's egress rules) on the port it uses",
    check,
};

/// What the rule needs of one service, worked out once however many
/// dependencies it takes part in.
struct Side<'a> {
    /// Its Kubernetes workloads (compose services have no network policy).
    workloads: Vec<&'a Workload>,
    /// Their pods, one per workload, in the same order.
    pods: Vec<PodRef>,
    /// Egress-isolating policies that select its pods.
    egress: Vec<usize>,
    /// Ingress-isolating policies that select its pods.
    ingress: Vec<usize>,
    /// Its Services' ports and the pod ports they forward to (`None`: a
    /// named target no container declares).
    ports: Vec<(u16, Option<u16>)>,
}

/// Who refused a connection: the policies on the caller's egress side, on
/// the callee's ingress side, or both.
struct Denial {
    from: usize,
    to: usize,
    egress: Option<Vec<String>>,
    ingress: Option<Vec<String>>,
}

/// A port a dependency may use: the Service port as addressed, and the
/// pod port it forwards to.
#[derive(Clone, Copy)]
struct UsedPort {
    service: u16,
    pod: u16,
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let sys = cx.system;
    let policies = &sys.network_policies.policies;
    if policies.is_empty() {
        return;
    }
    // the policies selecting each workload object, found through the label
    // index so that a large system is not matched policy by policy
    let mut selecting: HashMap<usize, Vec<usize>> = HashMap::new();
    for (pi, p) in policies.iter().enumerate() {
        let ns = (!p.namespace.is_empty()).then_some(p.namespace.as_str());
        for w in cx.pods_selected(ns, &p.pod_selector) {
            selecting.entry(w).or_default().push(pi);
        }
    }
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, s) in sys.services.iter().enumerate() {
        for a in &s.aliases {
            index.entry(a.as_str()).or_insert(i);
        }
    }
    for (i, s) in sys.services.iter().enumerate() {
        index.insert(s.name.as_str(), i);
    }
    let mut sides: Vec<Option<Side<'_>>> = Vec::new();
    sides.resize_with(sys.services.len(), || None);
    for edge in &sys.edges {
        let (Some(&fi), Some(&ti)) = (index.get(edge.from.as_str()), index.get(edge.to.as_str()))
        else {
            continue;
        };
        for i in [fi, ti] {
            if sides[i].is_none() {
                sides[i] = Some(side(cx, &sys.services[i], &selecting));
            }
        }
        let (Some(from), Some(to)) = (&sides[fi], &sides[ti]) else {
            continue;
        };
        if from.pods.is_empty() || to.pods.is_empty() {
            continue;
        }
        // only the caller's egress and the callee's ingress policies matter
        let mut subset: Vec<usize> = from.egress.iter().chain(&to.ingress).copied().collect();
        if subset.is_empty() {
            continue;
        }
        subset.sort_unstable();
        subset.dedup();
        let subset_refs: Vec<&NetPolicy> = subset.iter().map(|&i| &policies[i]).collect();
        // A workload written without a namespace runs where it is applied:
        // beside the other side, which reaches it by its short name. When
        // neither side says, the namespace stays open.
        let from_pods = place(&from.pods, &to.pods, sys);
        let to_pods = place(&to.pods, &from.pods, sys);
        // the first denied (caller workload, callee workload) pair on a port
        let denial = |port: u16| {
            from_pods.iter().enumerate().find_map(|(a, f)| {
                to_pods.iter().enumerate().find_map(|(b, t)| {
                    let egress = refusal(&subset_refs, f, t, port, true);
                    let ingress = refusal(&subset_refs, f, t, port, false);
                    (egress.is_some() || ingress.is_some()).then_some(Denial {
                        from: a,
                        to: b,
                        egress,
                        ingress,
                    })
                })
            })
        };
        // Connections go to a port of the callee's Services: when all of
        // them are admitted there is nothing to find, and the address need
        // not be read.
        if !to.ports.is_empty()
            && to
                .ports
                .iter()
                .all(|(_, pod)| pod.is_none_or(|pod| denial(pod).is_none()))
        {
            continue;
        }
        let ports = used_ports(edge, &sys.services[fi], &sys.services[ti], to);
        let mut denied = Vec::new();
        for p in &ports {
            match denial(p.pod) {
                Some(h) => denied.push((*p, h)),
                None => break,
            }
        }
        if ports.is_empty() || denied.len() < ports.len() {
            continue;
        }
        let (p, d) = &denied[0];
        // a refusal by a policy of a namespace the refused pod may not be in
        // is not certain
        let open_ns = |pod: &PodRef, by: &Option<Vec<String>>| {
            pod.namespace.is_empty()
                && by.iter().flatten().any(|name| {
                    subset_refs
                        .iter()
                        .any(|q| q.name == *name && !q.namespace.is_empty())
                })
        };
        if open_ns(&from_pods[d.from], &d.egress) || open_ns(&to_pods[d.to], &d.ingress) {
            continue;
        }
        report(
            cx,
            out,
            edge,
            &ports,
            *p,
            d,
            (from.workloads[d.from], to.workloads[d.to]),
        );
    }
}

fn report(
    cx: &Ctx<'_>,
    out: &mut Out,
    edge: &Edge,
    ports: &[UsedPort],
    p: UsedPort,
    d: &Denial,
    (fw, tw): (&Workload, &Workload),
) {
    let Some(ev) = edge.evidence.first() else {
        return;
    };
    let port_text = if ports.len() > 1 {
        let all: Vec<String> = ports.iter().map(|p| p.service.to_string()).collect();
        format!("any of its ports ({})", all.join(", "))
    } else if p.service == p.pod {
        format!("port {}", p.service)
    } else {
        format!("port {} (pod port {})", p.service, p.pod)
    };
    let names = |by: &[String]| {
        let mut by = by.to_vec();
        by.sort();
        by.dedup();
        name_list(&quoted(&by), 3)
    };
    let labels = |w: &Workload| {
        let l: Vec<String> = w.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        l.join(",")
    };
    let mut why = Vec::new();
    let mut help = Vec::new();
    // each refusing side: its policies, the workload they select, the peer
    for (by, dir, own, peer, towards, fix, into) in [
        (&d.egress, "egress", fw, tw, "to", "add", "to"),
        (&d.ingress, "ingress", tw, fw, "from", "admit", "in"),
    ] {
        let Some(by) = by else { continue };
        let policies = names(by);
        why.push(format!(
            "the {dir} policies of {}/{} ({policies}) admit no connection {towards} {}/{}",
            own.kind, own.name, peer.kind, peer.name
        ));
        help.push(format!(
            "{fix} the pods of {}/{} ({}) on port {} {into} an {dir} rule of {policies}",
            peer.kind,
            peer.name,
            labels(peer),
            p.pod
        ));
    }
    let key = ObjectKey {
        kind: fw.kind.clone(),
        namespace: fw.namespace.clone(),
        name: fw.name.clone(),
    };
    let origin = match edge.origin {
        cairn_model::Origin::Stated => "stated",
        _ => "inferred",
    };
    out.evidence(
        cx,
        ev,
        Some(key),
        format!(
            "{} → {} ({origin} {} dependency) is denied by network policy on {port_text}: {}",
            edge.from,
            edge.to,
            edge.kind.as_str(),
            why.join(", and ")
        ),
    )
    .help(help.join("; "));
}

/// Works out what the rule needs of a service.
fn side<'a>(cx: &Ctx<'_>, s: &'a Service, selecting: &HashMap<usize, Vec<usize>>) -> Side<'a> {
    let policies = &cx.system.network_policies.policies;
    let workloads: Vec<&Workload> = s.workloads.iter().filter(|w| w.kind != "compose").collect();
    let mut egress = Vec::new();
    let mut ingress = Vec::new();
    for w in &workloads {
        let Some(selected_by) = cx
            .find_index(&w.kind, w.namespace.as_deref(), &w.name)
            .and_then(|i| selecting.get(&i))
        else {
            continue;
        };
        for &p in selected_by {
            if policies[p].egress_isolated && !egress.contains(&p) {
                egress.push(p);
            }
            if policies[p].ingress_isolated && !ingress.contains(&p) {
                ingress.push(p);
            }
        }
    }
    let pod_port = |port: u16, target: Option<&Node>| -> Option<u16> {
        let Some(t) = target else { return Some(port) };
        if let Some(n) = t.as_i64().or_else(|| t.as_str()?.parse().ok()) {
            return u16::try_from(n).ok();
        }
        let name = t.as_str()?;
        workloads
            .iter()
            .flat_map(|w| w.containers.iter())
            .flat_map(|c| c.ports.iter())
            .find(|p| p.name == name)
            .map(|p| p.port)
    };
    let mut ports: Vec<(u16, Option<u16>)> = Vec::new();
    for ks in &s.k8s_services {
        for (_, svc) in cx.named("Service", s.namespace.as_deref(), &ks.name) {
            if !svc.is_core_service() {
                continue;
            }
            for p in svc.spec().map_or(&[][..], |sp| sp.seq_at("ports")) {
                let Some(port) = p
                    .get("port")
                    .and_then(Node::as_i64)
                    .and_then(|n| u16::try_from(n).ok())
                else {
                    continue;
                };
                // `targetPort: 0` (or "") is unset: Kubernetes uses `port`
                let target = p
                    .get("targetPort")
                    .filter(|t| !t.is_null() && t.as_i64() != Some(0) && t.as_str() != Some(""));
                if !ports.iter().any(|(q, _)| *q == port) {
                    ports.push((port, pod_port(port, target)));
                }
            }
        }
    }
    Side {
        pods: if workloads.is_empty() {
            Vec::new()
        } else {
            cx.system.pod_refs(s)
        },
        workloads,
        egress,
        ingress,
        ports,
    }
}

/// `pods`, with the namespace of `other` given to those written without one.
fn place<'p>(pods: &'p [PodRef], other: &[PodRef], sys: &System) -> Cow<'p, [PodRef]> {
    let Some(ns) = other
        .iter()
        .find(|p| !p.namespace.is_empty())
        .map(|p| &p.namespace)
    else {
        return Cow::Borrowed(pods);
    };
    if pods.iter().all(|p| !p.namespace.is_empty()) {
        return Cow::Borrowed(pods);
    }
    let labels = sys
        .namespaces
        .iter()
        .find(|n| n.name == *ns)
        .map(|n| n.labels.clone())
        .unwrap_or_default();
    let mut placed = pods.to_vec();
    for p in placed.iter_mut().filter(|p| p.namespace.is_empty()) {
        p.namespace.clone_from(ns);
        p.namespace_labels.clone_from(&labels);
    }
    Cow::Owned(placed)
}

/// The ports the dependency may use: the one its address names (or its
/// scheme's default), else every port of the callee's Services.
fn used_ports(edge: &Edge, from: &Service, to: &Service, callee: &Side<'_>) -> Vec<UsedPort> {
    let addressed = edge.evidence.iter().find_map(|ev| {
        from.workloads
            .iter()
            .flat_map(|w| w.containers.iter())
            .flat_map(|c| c.env.iter())
            .filter(|e| e.evidence.line == ev.line && e.evidence.file == ev.file)
            .find_map(|e| {
                let value = e.value.as_deref()?;
                cairn_model::address::extract(&e.name, value)
                    .into_iter()
                    .filter(|a| {
                        let host = a.cluster_parts().0;
                        to.name.eq_ignore_ascii_case(host)
                            || to.aliases.iter().any(|n| n.eq_ignore_ascii_case(host))
                    })
                    .find_map(|a| {
                        a.port.or(match a.scheme.as_deref() {
                            Some("http" | "ws") => Some(80),
                            Some("https" | "wss") => Some(443),
                            _ => None,
                        })
                    })
            })
    });
    if let Some(port) = addressed {
        let pod = callee
            .ports
            .iter()
            .find(|(p, _)| *p == port)
            .map_or(Some(port), |(_, pod)| *pod);
        return pod
            .map(|pod| UsedPort { service: port, pod })
            .into_iter()
            .collect();
    }
    callee
        .ports
        .iter()
        .filter_map(|&(service, pod)| Some(UsedPort { service, pod: pod? }))
        .collect()
}
