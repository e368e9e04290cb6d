//! A NetworkPolicy leaves out `metadata.name`, `spec.podSelector` or `spec.policyTypes`.
//!
//! The three fields say which policy it is, which pods it governs, and in
//! which directions it isolates them. Leaving them to defaults hides the
//! intent:
//!
//! - without `metadata.name` the object cannot be created at all (only
//!   `generateName` would do, which gives a new policy on every apply);
//! - without `spec.podSelector` the policy governs every pod of its
//!   namespace, which is seldom what a policy written for one app means;
//! - without `spec.policyTypes` Kubernetes infers the directions: `Ingress`
//!   always, `Egress` only when the policy has egress rules. A policy meant
//!   to lock down egress with `egress: []` therefore isolates nothing in
//!   that direction, and removing the last egress rule silently opens all
//!   egress again. Written out, the directions do not change when the rules
//!   do.
//!
//! One finding per missing field.
//!
//! ## Example
//! ```yaml
//! apiVersion: networking.k8s.io/v1
//! kind: NetworkPolicy
//! metadata: {name: api, namespace: shop}
//! spec:
//!   podSelector: {matchLabels: {app: api}}
//!   egress: []          # meant as deny-all egress; without policyTypes it is not
//! ```
//!
//! ## Fix
//! ```yaml
//! spec:
//!   podSelector: {matchLabels: {app: api}}
//!   policyTypes: [Ingress, Egress]
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-resource
//! - https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/

use crate::kit_manifest::network_policies;
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA401",
    name: "network-policy-missing-field",
    category: Category::Network,
    levels: levels!(off, info, info, warning, warning),
    summary: "a NetworkPolicy leaves out metadata.name, spec.podSelector or spec.policyTypes",
    help: "write metadata.name, spec.podSelector and spec.policyTypes explicitly",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for (i, np) in network_policies(cx) {
        let kind_pos = np.root.get("kind").map_or(np.root.pos, |k| k.pos);
        let what = if np.name.is_empty() {
            "NetworkPolicy".to_owned()
        } else {
            describe(np)
        };
        if np
            .metadata()
            .and_then(|m| m.get("name"))
            .is_none_or(|n| n.as_str().is_none())
        {
            let at = key_pos(&np.root, "metadata").unwrap_or(kind_pos);
            out.object(cx, i, at, format!("{what} has no metadata.name"))
                .help("give the policy a metadata.name");
        }
        let spec = np.spec().filter(|s| s.as_map().is_some());
        let spec_at = key_pos(&np.root, "spec").unwrap_or(kind_pos);
        if spec
            .and_then(|s| s.get("podSelector"))
            .is_none_or(Node::is_null)
        {
            out.object(
                cx,
                i,
                spec_at,
                format!("{what} has no spec.podSelector, so it governs every pod of its namespace"),
            )
            .help("write spec.podSelector: `{}` for every pod, or matchLabels for the pods meant");
        }
        if spec
            .and_then(|s| s.get("policyTypes"))
            .is_none_or(|t| t.as_seq().is_none_or(<[Node]>::is_empty))
        {
            let (_, egress) = spec.map_or((true, false), crate::kit_manifest::isolation);
            let empty_egress = spec.and_then(|s| s.get("egress")).is_some();
            let inferred = if egress {
                "[Ingress, Egress] from its egress rules; removing them would silently reopen egress"
            } else if empty_egress {
                "[Ingress] only: its empty `egress` does not isolate egress"
            } else {
                "[Ingress] only; egress stays open"
            };
            out.object(
                cx,
                i,
                spec_at,
                format!("{what} has no spec.policyTypes, so Kubernetes infers {inferred}"),
            )
            .help("write spec.policyTypes: [Ingress], [Egress] or [Ingress, Egress]");
        }
    }
}
