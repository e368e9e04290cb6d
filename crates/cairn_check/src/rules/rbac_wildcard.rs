//! A Role or ClusterRole grants `*` in its verbs, resources or API groups.
//!
//! A wildcard grants everything of its kind, now and later: `verbs: ["*"]`
//! includes `escalate`, `bind` and `impersonate`; `resources: ["*"]`
//! includes Secrets and every custom resource installed after the role was
//! written; `apiGroups: ["*"]` includes every group. Roles that name what
//! they allow stay least-privileged as the cluster grows, and can be read.
//!
//! One finding per rule of the role, at its first `*`.
//!
//! ## Example
//! ```yaml
//! kind: Role
//! metadata: {name: deployer, namespace: shop}
//! rules:
//!   - apiGroups: ["apps"]
//!     resources: ["*"]
//!     verbs: ["*"]
//! ```
//!
//! ## Fix
//! ```yaml
//! rules:
//!   - apiGroups: ["apps"]
//!     resources: ["deployments"]
//!     verbs: ["get", "list", "watch", "update", "patch"]
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
//! - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#role-and-clusterrole
//!
//! ## Notes
//! `nonResourceURLs: ["*"]` (health and metrics endpoints of the API
//! server) is not reported.

use crate::kit_manifest::{RBAC_GROUP, name_list};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA305",
    name: "rbac-wildcard",
    category: Category::Access,
    levels: levels!(info, info, warning, warning, error),
    summary: "a Role or ClusterRole grants `*` in its verbs, resources or API groups",
    help: "list the verbs, resources and API groups the role needs instead of `*`",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for kind in ["Role", "ClusterRole"] {
        for (i, role) in cx.of_kind(kind) {
            if role.group() != RBAC_GROUP {
                continue;
            }
            for (n, rule) in role.root.seq_at("rules").iter().enumerate() {
                let stars: Vec<(&str, Pos)> = ["apiGroups", "resources", "verbs"]
                    .into_iter()
                    .filter_map(|key| {
                        let star = rule.seq_at(key).iter().find(|v| v.as_str() == Some("*"))?;
                        Some((key, star.pos))
                    })
                    .collect();
                let Some(at) = stars
                    .iter()
                    .map(|(_, p)| *p)
                    .min_by_key(|p| (p.line, p.column))
                else {
                    continue;
                };
                let fields: Vec<&str> = stars.iter().map(|(k, _)| *k).collect();
                out.object(
                    cx,
                    i,
                    at,
                    format!(
                        "rule {} of {} grants `*` in {}",
                        n + 1,
                        describe(role),
                        name_list(&fields, 3)
                    ),
                );
            }
        }
    }
}
