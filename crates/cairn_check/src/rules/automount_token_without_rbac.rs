//! A pod mounts a service account token that no role binding gives any use.
//!
//! Unless told otherwise, Kubernetes mounts the pod's service account token
//! at `/var/run/secrets/kubernetes.io/serviceaccount`. Whoever takes over
//! the container (a code injection, a vulnerable dependency) holds that
//! token and can call the API server with it. A pod that does not call the
//! Kubernetes API has no use for it, and an account that no RoleBinding or
//! ClusterRoleBinding grants anything is a strong sign the pods do not call
//! the API: mount nothing, and there is nothing to steal.
//!
//! The token is mounted unless `automountServiceAccountToken: false` is set
//! on the pod spec or, when the pod spec does not say, on the ServiceAccount.
//! An account counts as granted when a binding names it as a
//! `ServiceAccount` subject, as the user `system:serviceaccount:<ns>:<name>`,
//! or through the groups `system:serviceaccounts`,
//! `system:serviceaccounts:<ns>` or `system:authenticated`. The `default`
//! account is checked like any other.
//!
//! ## Example
//! ```yaml
//! kind: Deployment
//! spec:
//!   template:
//!     spec:
//!       serviceAccountName: web   # no binding grants web anything
//!       containers: [{name: web, image: shop/web:1.4.2}]
//! ```
//!
//! ## Fix
//! ```yaml
//!     spec:
//!       automountServiceAccountToken: false
//! ```
//! or set it on the ServiceAccount, so every pod of the account is covered.
//!
//! ## References
//! - https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting
//! - https://kubernetes.io/docs/concepts/security/rbac-good-practices/
//!
//! ## Differences from other tools
//! Polaris's `automountServiceAccountToken` flags every mounted token.
//! cairn flags it only when no binding in the scanned files grants the
//! account anything: a token the workload needs for its API calls is not a
//! finding.
//!
//! ## Notes
//! A binding made outside the scanned files is not seen, so the account
//! may have grants after all; the message says what was scanned.

use std::collections::HashSet;

use crate::kit_manifest::{in_ns, pod_service_account, role_bindings};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA304",
    name: "automount-token-without-rbac",
    category: Category::Access,
    levels: levels!(off, off, info, warning, warning),
    summary: "a pod mounts a service account token that no role binding gives any use",
    help: "set `automountServiceAccountToken: false` on the pod spec or the ServiceAccount",
    check,
};

/// The service accounts the bindings in the input grant something.
#[derive(Default)]
struct Granted<'a> {
    /// `(namespace, name)`; `None`: the namespace is unknown, any matches.
    accounts: Vec<(Option<&'a str>, &'a str)>,
    /// Namespaces whose every account is granted (`None`: all namespaces).
    namespaces: HashSet<Option<&'a str>>,
}

impl Granted<'_> {
    fn covers(&self, ns: Option<&str>, name: &str) -> bool {
        self.namespaces.contains(&None)
            || self
                .namespaces
                .iter()
                .any(|n| n.is_some_and(|n| same_ns(Some(n), ns)))
            || self
                .accounts
                .iter()
                .any(|(n, a)| *a == name && same_ns(*n, ns))
    }
}

fn granted<'a>(cx: &Ctx<'a>) -> Granted<'a> {
    let mut g = Granted::default();
    for (_, b, own_ns) in role_bindings(cx) {
        for s in b.root.seq_at("subjects") {
            let Some(name) = s.get_str("name") else {
                continue;
            };
            match s.get_str("kind") {
                Some("ServiceAccount") => {
                    g.accounts.push((s.get_str("namespace").or(own_ns), name));
                }
                Some("User") => {
                    if let Some(rest) = name.strip_prefix("system:serviceaccount:")
                        && let Some((ns, account)) = rest.split_once(':')
                    {
                        g.accounts.push((Some(ns), account));
                    }
                }
                Some("Group") => {
                    if name == "system:serviceaccounts" || name == "system:authenticated" {
                        g.namespaces.insert(None);
                    } else if let Some(ns) = name.strip_prefix("system:serviceaccounts:") {
                        g.namespaces.insert(Some(ns));
                    }
                }
                _ => {}
            }
        }
    }
    g
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let granted = granted(cx);
    for (i, obj) in cx.workloads() {
        let Some(spec) = obj.pod_spec() else { continue };
        let ns = obj.namespace.as_deref();
        let sa_node = pod_service_account(spec.node);
        let account = sa_node.and_then(Node::as_str).unwrap_or("default");
        let pod_setting = spec.node.get("automountServiceAccountToken");
        let mounted = match pod_setting.and_then(Node::as_bool) {
            Some(b) => b,
            None => cx
                .named("ServiceAccount", ns, account)
                .filter(|(_, sa)| sa.group().is_empty())
                .find_map(|(_, sa)| {
                    sa.root
                        .get("automountServiceAccountToken")
                        .and_then(Node::as_bool)
                })
                .unwrap_or(true),
        };
        if !mounted || granted.covers(ns, account) {
            continue;
        }
        let at = pod_setting
            .filter(|n| n.as_bool() == Some(true))
            .or(sa_node)
            .map(|n| n.pos)
            .or_else(|| obj.pod_template().and_then(|t| key_pos(t, "spec")))
            .unwrap_or_else(|| obj.name_pos());
        out.object(
            cx,
            i,
            at,
            format!(
                "{} mounts the API token of service account `{account}`{}, which no RoleBinding or ClusterRoleBinding in the scanned files grants anything",
                describe(obj),
                in_ns(ns)
            ),
        );
    }
}
