//! A role binding refers to a Role or ClusterRole that is not in the scanned files.
//!
//! A binding's `roleRef` names the Role (in the binding's namespace) or the
//! ClusterRole it grants. Kubernetes accepts a binding to a role that does
//! not exist and grants nothing through it, so the subjects' API calls fail
//! with `403 Forbidden` until the role appears; `roleRef` cannot be changed
//! afterwards, only the binding recreated.
//!
//! The ClusterRoles every cluster has are known: `cluster-admin`, `admin`,
//! `edit`, `view` and the `system:` roles of the control plane.
//!
//! ## Example
//! ```yaml
//! kind: RoleBinding
//! metadata: {name: orders-read-config, namespace: shop}
//! roleRef:
//!   apiGroup: rbac.authorization.k8s.io
//!   kind: Role
//!   name: config-reader      # the Role is named read-config
//! ```
//!
//! ## Fix
//! Fix `roleRef` (kind and name) or add the role.
//!
//! ## References
//! - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#rolebinding-and-clusterrolebinding
//! - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#default-roles-and-role-bindings
//!
//! ## Notes
//! A ClusterRole installed by another product (an operator's chart) is not
//! in the scanned files and is reported: suppress it with a reason.

use crate::kit_manifest::{RBAC_GROUP, builtin_cluster_role, in_ns, role_bindings};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA303",
    name: "rbac-role-not-found",
    category: Category::Access,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a role binding refers to a role that is not in the scanned files",
    help: "fix roleRef or add the Role/ClusterRole it names",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for (i, b, _) in role_bindings(cx) {
        let Some(role_ref) = b.root.get("roleRef") else {
            continue;
        };
        let Some(name_node) = role_ref.get("name").filter(|n| n.as_str().is_some()) else {
            continue;
        };
        let name = name_node.as_str().unwrap_or_default();
        let role_kind = role_ref.get_str("kind").unwrap_or("Role");
        let found = match role_kind {
            "ClusterRole" => {
                builtin_cluster_role(name)
                    || cx
                        .named("ClusterRole", None, name)
                        .any(|(_, r)| r.group() == RBAC_GROUP)
            }
            "Role" => cx
                .named("Role", b.namespace.as_deref(), name)
                .any(|(_, r)| r.group() == RBAC_GROUP),
            // an invalid kind: the API server rejects the binding
            _ => true,
        };
        if found {
            continue;
        }
        let scope = if role_kind == "Role" {
            in_ns(b.namespace.as_deref())
        } else {
            String::new()
        };
        out.object(
            cx,
            i,
            name_node.pos,
            format!(
                "{} grants {role_kind} `{name}`, which no scanned file defines{scope}; the binding grants nothing",
                describe(b)
            ),
        );
    }
}
