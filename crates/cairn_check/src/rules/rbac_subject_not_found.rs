//! A role binding grants a role to a service account that is not in the scanned files.
//!
//! A RoleBinding or ClusterRoleBinding names its subjects by kind, name and
//! namespace. Kubernetes does not check that they exist: a binding to a
//! misspelt account grants nothing, while the account the workload really
//! runs as lacks the permissions and its API calls fail with `403
//! Forbidden`. The subject's namespace is its `namespace` field, or the
//! RoleBinding's own namespace when that is not written.
//!
//! ## Example
//! ```yaml
//! kind: RoleBinding
//! metadata: {name: orders-read-config, namespace: shop}
//! subjects:
//!   - kind: ServiceAccount
//!     name: order          # the account is "orders"
//! roleRef: {kind: Role, name: read-config, apiGroup: rbac.authorization.k8s.io}
//! ```
//!
//! ## Fix
//! Fix the subject's name or namespace, or add the ServiceAccount.
//!
//! ## References
//! - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-subjects
//! - https://kubernetes.io/docs/concepts/security/service-accounts/
//!
//! ## Notes
//! `User` and `Group` subjects cannot be checked (no object defines them)
//! and are not reported; neither is the `default` account, which every
//! namespace has.

use crate::kit_manifest::{in_ns, role_bindings, service_account_known};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA302",
    name: "rbac-subject-not-found",
    category: Category::Access,
    levels: levels!(info, info, warning, warning, warning),
    summary: "a role binding names a service account that is not in the scanned files",
    help: "fix the subject's name and namespace, or add the ServiceAccount",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for (i, b, own_ns) in role_bindings(cx) {
        for s in b.root.seq_at("subjects") {
            if s.get_str("kind") != Some("ServiceAccount") {
                continue;
            }
            let Some(name_node) = s.get("name").filter(|n| n.as_str().is_some()) else {
                continue;
            };
            let name = name_node.as_str().unwrap_or_default();
            let ns = s.get_str("namespace").or(own_ns);
            if service_account_known(cx, ns, name) {
                continue;
            }
            out.object(
                cx,
                i,
                name_node.pos,
                format!(
                    "{} grants {} to service account `{name}`, which no scanned file defines{}",
                    describe(b),
                    role_ref(b),
                    in_ns(ns)
                ),
            );
        }
    }
}

fn role_ref(b: &K8sObject) -> String {
    let r = b.root.get("roleRef");
    format!(
        "{}/{}",
        r.and_then(|r| r.get_str("kind")).unwrap_or("Role"),
        r.and_then(|r| r.get_str("name")).unwrap_or("?")
    )
}
