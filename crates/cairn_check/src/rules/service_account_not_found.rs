//! A pod runs as a service account that is not in the scanned files.
//!
//! A pod names its identity with `serviceAccountName` (or the deprecated
//! `serviceAccount`). When that ServiceAccount does not exist in the pod's
//! namespace, the API server's admission refuses the pod: a Deployment's
//! ReplicaSet stays at zero pods with `error looking up service account`.
//! Every namespace has `default`, so it is never reported.
//!
//! ## Example
//! ```yaml
//! kind: Deployment
//! spec:
//!   template:
//!     spec:
//!       serviceAccountName: orders-sa   # no ServiceAccount orders-sa
//! ```
//!
//! ## Fix
//! Fix the name or add the account:
//! ```yaml
//! apiVersion: v1
//! kind: ServiceAccount
//! metadata: {name: orders-sa, namespace: shop}
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/security/service-accounts/
//! - https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/
//!
//! ## Notes
//! When both fields are written, `serviceAccountName` is the one Kubernetes
//! uses. An account made outside the files (by Helm, Terraform or an
//! operator) is reported: suppress it with a reason.

use crate::kit_manifest::{in_ns, pod_service_account, service_account_known};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA301",
    name: "service-account-not-found",
    category: Category::Access,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a pod runs as a service account that is not in the scanned files",
    help: "fix serviceAccountName or add the ServiceAccount to the manifests",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for (i, obj) in cx.workloads() {
        let Some(spec) = obj.pod_spec() else { continue };
        let Some(node) = pod_service_account(spec.node) else {
            continue;
        };
        let name = node.as_str().unwrap_or_default();
        let ns = obj.namespace.as_deref();
        if service_account_known(cx, ns, name) {
            continue;
        }
        out.object(
            cx,
            i,
            node.pos,
            format!(
                "{} runs as service account `{name}`, which no scanned file defines{}",
                describe(obj),
                in_ns(ns)
            ),
        );
    }
}
