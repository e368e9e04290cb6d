//! A NetworkPolicy's podSelector matches no pod template in its namespace.
//!
//! A policy governs the pods its `spec.podSelector` matches in its own
//! namespace. When none match, the policy does nothing: the pods it was
//! written for stay open (or, for an allow policy, the traffic it was meant
//! to admit stays blocked by a default-deny). A label typo, a renamed app
//! or a policy placed in the wrong namespace is the usual cause.
//!
//! An empty `podSelector: {}` matches every pod of the namespace, so it is
//! reported only when the namespace has no pods at all in the scanned files.
//!
//! ## Example
//! ```yaml
//! kind: NetworkPolicy
//! metadata: {name: cart, namespace: shop}
//! spec:
//!   podSelector: {matchLabels: {name: cart}}   # the pods are name: carts
//! ```
//!
//! ## Fix
//! Make the selector match the pod template's labels:
//! ```yaml
//!   podSelector: {matchLabels: {name: carts}}
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-resource
//! - https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
//!
//! ## Notes
//! Pods are those of the workloads in the scanned files; a policy for pods
//! that an operator creates from a custom resource is reported, and can be
//! suppressed with a reason.

use crate::kit_manifest::{in_ns, network_policies};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA406",
    name: "network-policy-selects-nothing",
    category: Category::Network,
    levels: levels!(info, info, warning, warning, warning),
    summary: "a NetworkPolicy's podSelector matches no pod template in its namespace",
    help: "make spec.podSelector match the labels of the pods the policy is for",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for (i, np) in network_policies(cx) {
        let spec = np.spec();
        let node = spec.and_then(|s| s.get("podSelector"));
        let selector = crate::ctx::selector(node);
        if !cx
            .pods_selected(np.namespace.as_deref(), &selector)
            .is_empty()
        {
            continue;
        }
        let at = spec
            .and_then(|s| key_pos(s, "podSelector"))
            .unwrap_or_else(|| np.name_pos());
        let ns = in_ns(np.namespace.as_deref());
        let message = if selector.labels.is_empty() && selector.expressions.is_empty() {
            format!(
                "{} selects every pod of its namespace, but no workload{ns} is in the scanned files",
                describe(np)
            )
        } else {
            let mut terms: Vec<String> = selector
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            terms.extend(
                selector
                    .expressions
                    .iter()
                    .map(|e| format!("{} {} ({})", e.key, e.operator, e.values.join(", "))),
            );
            format!(
                "{} selects no pods: no pod template{ns} in the scanned files matches {}",
                describe(np),
                terms.join(", ")
            )
        };
        out.object(cx, i, at, message);
    }
}
