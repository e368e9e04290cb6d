//! No PodDisruptionBudget covers a replicated workload.
//!
//! Node drains (cluster upgrades, autoscaler scale-downs, maintenance) evict
//! pods through the eviction API, which honours `PodDisruptionBudgets` and
//! nothing else. Without one, a drain may evict every replica of a service
//! at once (they often share a node, or the drain covers a whole node pool),
//! and the service is down until the replacements are ready, even though it
//! runs several replicas.
//!
//! The rule checks Deployments, `StatefulSets` and Argo Rollouts whose pods no
//! `PodDisruptionBudget` in their namespace selects. A budget with an empty
//! selector selects every pod of its namespace under `policy/v1` and none
//! under `policy/v1beta1`; a budget without a selector selects nothing.
//!
//! ## Example
//! ```yaml
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata:
//!   name: checkout
//! spec:
//!   replicas: 3
//!   template:
//!     metadata:
//!       labels: {app: checkout}
//! ```
//!
//! ## Fix
//! ```yaml
//! apiVersion: policy/v1
//! kind: PodDisruptionBudget
//! metadata:
//!   name: checkout
//! spec:
//!   maxUnavailable: 1
//!   selector:
//!     matchLabels: {app: checkout}
//! ```
//!
//! ## Differences from other tools
//! Like Polaris and kube-score, cairn requires a budget when `spec.replicas`
//! is left unset: leaving it out is also how a count managed elsewhere (an
//! autoscaler outside the scanned files, `kubectl scale`) is written. Like
//! kube-score, and unlike Polaris, it skips a workload that sets
//! `replicas: 0` or `replicas: 1` explicitly and that no autoscaler scales: a
//! budget cannot protect a single pod (it either allows evicting it or blocks
//! every drain, which `pdb-blocks-eviction` reports), and `single-replica`
//! already reports the real problem.
//!
//! ## Notes
//! Load generators are exempt: they serve no one. `DaemonSets` are out of
//! scope (drains leave their pods alone), as are Jobs and bare Pods.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/workloads/pods/disruptions/
//! - https://kubernetes.io/docs/tasks/run-application/configure-pdb/

use crate::kit_resilience::{
    REPLICATED_KINDS, Scalers, budgets, explicitly_single, label_list, role_of, roles,
};
use crate::prelude::*;
use cairn_model::Role;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA607",
    name: "missing-pod-disruption-budget",
    category: Category::Resilience,
    levels: levels!(off, off, info, warning, warning),
    summary: "no PodDisruptionBudget covers a replicated workload",
    help: "add a PodDisruptionBudget with maxUnavailable: 1 that selects the workload's pods",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let scalers = Scalers::new(cx);
    let covered = budgets(cx);
    let roles = roles(cx);
    for (i, obj) in cx.workloads() {
        if !REPLICATED_KINDS.contains(&obj.kind.as_str())
            || covered.contains_key(&i)
            || explicitly_single(&scalers, obj)
            || role_of(&roles, obj) == Some(Role::Loadgen)
        {
            continue;
        }
        let labels = cx.pod_labels(i);
        let f = out.object(
            cx,
            i,
            obj.name_pos(),
            format!(
                "no PodDisruptionBudget selects the pods of {}",
                describe(obj)
            ),
        );
        if labels.is_empty() {
            f.help(
                "label the pod template, then add a PodDisruptionBudget with maxUnavailable: 1 \
                 that selects those labels",
            );
        } else {
            let sel: Vec<(String, String)> = obj
                .selector()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .filter(|p| labels.contains(p))
                .collect();
            let shown = if sel.is_empty() { labels } else { &sel[..] };
            f.help(format!(
                "add a PodDisruptionBudget in the same namespace with maxUnavailable: 1 and \
                 selector.matchLabels {}",
                label_list(shown)
            ));
        }
    }
}
