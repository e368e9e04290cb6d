//! A binding grants the `cluster-admin` ClusterRole.
//!
//! `cluster-admin` allows every verb on every resource. Bound by a
//! ClusterRoleBinding, it makes its subjects superusers of the whole
//! cluster: they can read every Secret, run privileged pods on any node, and
//! grant themselves anything. Bound by a RoleBinding, it gives full control
//! of the binding's namespace, its Roles, RoleBindings and Secrets
//! included, which is rarely what a workload or a person needs either.
//!
//! The role is recognised by its name: a ClusterRole called `cluster-admin`
//! is the built-in one in every cluster, whatever a scanned file redefines.
//!
//! ## Example
//! ```yaml
//! kind: ClusterRoleBinding
//! metadata: {name: ci-deployer}
//! subjects: [{kind: ServiceAccount, name: deployer, namespace: ci}]
//! roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
//! ```
//!
//! ## Fix
//! Bind a role that grants what the subject needs: the built-in `admin` or
//! `edit` in one namespace (with a RoleBinding), or a custom Role listing
//! the resources and verbs.
//!
//! ## References
//! - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles
//! - https://kubernetes.io/docs/concepts/security/rbac-good-practices/
//!
//! ## Differences from other tools
//! kube-linter's `cluster-admin-role-binding` checks ClusterRoleBindings
//! only; cairn reports a RoleBinding to `cluster-admin` too (as Polaris's
//! `rolebindingClusterAdminClusterRole` does), with a message that says the
//! grant is limited to the namespace. Polaris also flags bindings to any
//! ClusterRole made of wildcards; cairn reports such roles with
//! `rbac-wildcard` instead.

use crate::kit_manifest::RBAC_GROUP;
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA306",
    name: "cluster-admin-binding",
    category: Category::Access,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a binding grants the cluster-admin ClusterRole",
    help: "bind a role that grants only what the subjects need (admin or edit in one namespace, or a custom Role)",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for kind in ["ClusterRoleBinding", "RoleBinding"] {
        for (i, b) in cx.of_kind(kind) {
            if b.group() != RBAC_GROUP {
                continue;
            }
            let Some(role_ref) = b.root.get("roleRef") else {
                continue;
            };
            if role_ref.get_str("kind") != Some("ClusterRole") {
                continue;
            }
            let Some(name) = role_ref
                .get("name")
                .filter(|n| n.as_str() == Some("cluster-admin"))
            else {
                continue;
            };
            let subjects: Vec<String> = b
                .root
                .seq_at("subjects")
                .iter()
                .map(|s| {
                    let kind = s.get_str("kind").unwrap_or("subject");
                    let name = s.get_str("name").unwrap_or("?");
                    match s.get_str("namespace") {
                        Some(ns) => format!("{kind} {ns}/{name}"),
                        None => format!("{kind} {name}"),
                    }
                })
                .collect();
            let to = if subjects.is_empty() {
                String::new()
            } else {
                format!(" to {}", subjects.join(", "))
            };
            let scope = if kind == "ClusterRoleBinding" {
                "on the whole cluster".to_owned()
            } else {
                match b.namespace.as_deref() {
                    Some(ns) => format!("with full control of namespace `{ns}`"),
                    None => "with full control of its namespace".to_owned(),
                }
            };
            out.object(
                cx,
                i,
                name.pos,
                format!("{} grants cluster-admin {scope}{to}", describe(b)),
            );
        }
    }
}
