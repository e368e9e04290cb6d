//! No NetworkPolicy selects a workload's pods.
//!
//! Pods that no NetworkPolicy selects are not isolated: any pod in the
//! cluster, and anything outside that can route to the pod network, can
//! connect to them, and they can connect anywhere. One compromised pod can
//! then reach every other. Selecting each workload with a policy (often a
//! namespace-wide default-deny plus one allow policy per workload) limits
//! what a breach can reach, and documents who talks to whom.
//!
//! A policy selects the pods when it is in the workload's namespace and its
//! `podSelector` matches the pod template's labels (`{}` matches every pod
//! of the namespace), whichever directions it isolates.
//!
//! ## Example
//! ```yaml
//! kind: Deployment
//! metadata: {name: orders, namespace: shop}
//! spec:
//!   template:
//!     metadata:
//!       labels: {app: orders}   # no NetworkPolicy in shop selects app=orders
//! ```
//!
//! ## Fix
//! Add a policy for the workload (or a default-deny for the namespace and
//! allow rules for the traffic it needs):
//! ```yaml
//! kind: NetworkPolicy
//! metadata: {name: orders, namespace: shop}
//! spec:
//!   podSelector: {matchLabels: {app: orders}}
//!   policyTypes: [Ingress, Egress]
//!   ingress:
//!     - from: [{podSelector: {matchLabels: {app: web}}}]
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/services-networking/network-policies/#isolated-and-non-isolated-pods
//! - https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-policies
//!
//! ## Differences from other tools
//! kube-score's `pod-networkpolicy` also warns when the selecting policies
//! cover only ingress or only egress, and Polaris's `missingNetworkPolicy`
//! fails a policy without both rule sets; cairn reports only pods that no
//! policy selects (what kube-linter's `non-isolated-pod` reports), and
//! leaves the policies' content to the other network rules.
//!
//! ## Notes
//! When the scanned files hold no NetworkPolicy at all, every workload is
//! reported. Pods with `hostNetwork: true` are left out: network policy does
//! not apply to them.

use crate::kit_manifest::{host_network, network_policies};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA404",
    name: "pod-without-network-policy",
    category: Category::Network,
    levels: levels!(off, info, info, warning, warning),
    summary: "no NetworkPolicy selects a workload's pods",
    help: "add a NetworkPolicy that selects the pods (or a default-deny policy for the namespace)",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let mut selected = vec![false; cx.objects().len()];
    for (_, np) in network_policies(cx) {
        let selector = crate::ctx::selector(np.spec().and_then(|s| s.get("podSelector")));
        for w in cx.pods_selected(np.namespace.as_deref(), &selector) {
            selected[w] = true;
        }
    }
    for (i, obj) in cx.workloads() {
        if selected[i] || host_network(obj) {
            continue;
        }
        out.object(
            cx,
            i,
            obj.name_pos(),
            format!(
                "no NetworkPolicy{} selects the pods of {}: they accept connections from anywhere and may connect anywhere",
                crate::kit_manifest::in_ns(obj.namespace.as_deref()),
                describe(obj)
            ),
        );
    }
}
