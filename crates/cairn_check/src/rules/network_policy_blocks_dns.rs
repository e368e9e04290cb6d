//! A NetworkPolicy isolates egress and nothing lets the pods reach the cluster DNS.
//!
//! Once any policy isolates a pod's egress, the pod may open only the
//! connections some egress rule of a policy selecting it admits. Name
//! lookups are connections too: to the cluster DNS (CoreDNS or kube-dns,
//! pods labelled `k8s-app: kube-dns` in `kube-system`) on port 53, UDP
//! first and TCP for large answers. Without a rule for them every lookup
//! times out, and the app fails with errors that rarely mention DNS.
//!
//! For each policy that isolates egress, the rule looks at the pods it
//! selects and at every egress rule of every policy selecting them (policies
//! add up), and every port of each rule. DNS is admitted by a rule whose
//! ports are absent (all ports) or include 53 (or a range over it, or the
//! CoreDNS port names `dns`/`dns-tcp`) over UDP or TCP, and whose `to` is
//! absent (every destination) or has a peer that can match the DNS pods: a
//! `namespaceSelector` that can match `kube-system` (with no `podSelector`,
//! or one that can match `k8s-app: kube-dns`), or an `ipBlock` (the DNS
//! Service address or a node-local cache may be inside it).
//!
//! ## Example
//! ```yaml
//! kind: NetworkPolicy
//! metadata: {name: api-egress, namespace: shop}
//! spec:
//!   podSelector: {matchLabels: {app: api}}
//!   policyTypes: [Egress]
//!   egress:
//!     - to: [{podSelector: {matchLabels: {app: db}}}]
//!       ports: [{port: 5432}]
//! ```
//!
//! ## Fix
//! Add a rule for DNS:
//! ```yaml
//!     - to:
//!         - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
//!           podSelector: {matchLabels: {k8s-app: kube-dns}}
//!       ports:
//!         - {port: 53, protocol: UDP}
//!         - {port: 53, protocol: TCP}
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-egress-traffic
//! - https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/
//! - https://kubernetes.io/docs/tasks/administer-cluster/dns-custom-nameservers/
//!
//! ## Notes
//! Labels are judged on what is known: `kube-system` carries
//! `kubernetes.io/metadata.name: kube-system` (plus the labels of a
//! `kube-system` Namespace in the scanned files), and DNS pods carry
//! `k8s-app: kube-dns`. A selector on other labels could match them (say a
//! `name: kube-system` label someone added), so it counts as admitting DNS:
//! the rule reports only when no rule can. Pods with `hostNetwork: true`
//! are not subject to network policy and are left out, and so is a workload
//! written without a namespace under a policy of a named namespace (it is
//! governed by that policy only if applied there). A policy that selects no
//! pods is left to `network-policy-selects-nothing`.

use std::collections::HashMap;

use crate::kit_manifest::{host_network, isolation, may_match, name_list, network_policies};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA403",
    name: "network-policy-blocks-dns",
    category: Category::Network,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a NetworkPolicy isolates egress and no egress rule admits DNS (port 53) to the cluster DNS",
    help: "add an egress rule to the kube-dns pods in kube-system on port 53, UDP and TCP",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let mut kube_system: Vec<(String, String)> = cx
        .system
        .namespaces
        .iter()
        .filter(|n| n.name == "kube-system")
        .flat_map(|n| n.labels.iter().cloned())
        .collect();
    kube_system.push(("kubernetes.io/metadata.name".into(), "kube-system".into()));
    let ns_known: Vec<(&str, &str)> = kube_system
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let pod_known = [("k8s-app", "kube-dns")];

    // every egress-isolating policy with the workloads it selects
    let mut isolating: Vec<(usize, &K8sObject, Vec<usize>)> = Vec::new();
    // workload -> whether some policy selecting it admits DNS
    let mut dns: HashMap<usize, bool> = HashMap::new();
    for (i, np) in network_policies(cx) {
        let Some(spec) = np.spec() else { continue };
        if !isolation(spec).1 {
            continue;
        }
        let selector = crate::ctx::selector(spec.get("podSelector"));
        let selected: Vec<usize> = cx
            .pods_selected(np.namespace.as_deref(), &selector)
            .into_iter()
            .filter(|&w| !host_network(&cx.objects()[w]))
            .collect();
        if selected.is_empty() {
            continue;
        }
        let own_ns = np.namespace.as_deref();
        let admits = spec
            .seq_at("egress")
            .iter()
            .any(|r| ports_admit_dns(r) && peers_admit_dns(r, own_ns, &ns_known, &pod_known));
        for &w in &selected {
            *dns.entry(w).or_default() |= admits;
        }
        // a workload without a namespace is governed by a policy of a
        // namespace only if applied there: not reported on its account
        let certain: Vec<usize> = selected
            .into_iter()
            .filter(|&w| np.namespace.is_none() || cx.objects()[w].namespace.is_some())
            .collect();
        isolating.push((i, np, certain));
    }
    for (i, np, selected) in isolating {
        let mut blocked: Vec<String> = selected
            .iter()
            .filter(|w| !dns[w])
            .map(|&w| describe(&cx.objects()[w]))
            .collect();
        // the same workload read from several files (a bundle and its sources)
        blocked.sort();
        blocked.dedup();
        if blocked.is_empty() {
            continue;
        }
        let spec = np.spec().expect("isolating policies have a spec");
        let at = spec
            .seq_at("policyTypes")
            .iter()
            .find(|t| t.as_str() == Some("Egress"))
            .map(|t| t.pos)
            .or_else(|| key_pos(spec, "egress"))
            .unwrap_or_else(|| np.name_pos());
        out.object(
            cx,
            i,
            at,
            format!(
                "{} isolates the egress of {}, and no egress rule of any policy selecting {} admits port 53 to the cluster DNS: name lookups will fail",
                describe(np),
                name_list(&blocked, 3),
                if blocked.len() == 1 { "its pods" } else { "their pods" }
            ),
        );
    }
}

/// Whether a rule's ports include DNS: all ports, port 53 (or a range over
/// it, or CoreDNS's port names), over UDP or TCP.
fn ports_admit_dns(rule: &Node) -> bool {
    let ports = rule.seq_at("ports");
    ports.is_empty()
        || ports.iter().any(|p| {
            let protocol_ok = matches!(p.get_str("protocol").unwrap_or("TCP"), "TCP" | "UDP");
            let port_ok = match p.get("port").filter(|n| !n.is_null()) {
                None => true,
                Some(n) => match n.as_i64().or_else(|| n.as_str()?.parse().ok()) {
                    Some(start) => {
                        let end = p.get("endPort").and_then(Node::as_i64).unwrap_or(start);
                        (start..=end).contains(&53)
                    }
                    None => matches!(n.as_str(), Some("dns" | "dns-tcp")),
                },
            };
            protocol_ok && port_ok
        })
}

/// Whether a rule's destinations can include the cluster DNS pods.
fn peers_admit_dns(
    rule: &Node,
    own_ns: Option<&str>,
    ns_known: &[(&str, &str)],
    pod_known: &[(&str, &str)],
) -> bool {
    let to = rule.seq_at("to");
    to.is_empty()
        || to.iter().any(|peer| {
            if peer.get("ipBlock").is_some() {
                return true;
            }
            let pods_ok = peer
                .get("podSelector")
                .is_none_or(|s| may_match(&crate::ctx::selector(Some(s)), pod_known));
            let ns_ok = match peer.get("namespaceSelector") {
                Some(s) => may_match(&crate::ctx::selector(Some(s)), ns_known),
                None => own_ns == Some("kube-system"),
            };
            pods_ok && ns_ok
        })
}
