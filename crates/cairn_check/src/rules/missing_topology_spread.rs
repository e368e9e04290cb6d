//! A replicated workload does not spread its pods.
//!
//! The scheduler places each pod where it fits best, and with nothing to say
//! otherwise it often puts several replicas of a workload on the same node,
//! or all of them in one zone. One node failure, one drain or one zone outage
//! then takes out every replica at once, and the extra replicas bought no
//! availability.
//!
//! The rule checks Deployments, `StatefulSets` and Argo Rollouts whose pod
//! template sets no `topologySpreadConstraints` (or an empty list) and no pod
//! anti-affinity term that keeps the workload's own pods apart (a required or
//! preferred `podAntiAffinity` term with a `topologyKey` whose
//! `labelSelector` selects the workload's pods).
//!
//! ## Example
//! ```yaml
//! spec:
//!   replicas: 3
//!   template:
//!     metadata:
//!       labels: {app: checkout}
//!     spec:
//!       containers: [...]
//! ```
//!
//! ## Fix
//! ```yaml
//!     spec:
//!       topologySpreadConstraints:
//!         - maxSkew: 1
//!           topologyKey: topology.kubernetes.io/zone
//!           whenUnsatisfiable: ScheduleAnyway
//!           labelSelector:
//!             matchLabels: {app: checkout}
//!         - maxSkew: 1
//!           topologyKey: kubernetes.io/hostname
//!           whenUnsatisfiable: ScheduleAnyway
//!           labelSelector:
//!             matchLabels: {app: checkout}
//! ```
//!
//! ## Differences from other tools
//! Polaris's `topologySpreadConstraint` accepts only
//! `topologySpreadConstraints`; cairn also accepts pod anti-affinity against
//! the workload's own pods, the older way to keep replicas on different
//! nodes or zones (kube-linter's `no-anti-affinity` asks for exactly that).
//! Like Polaris, cairn requires a spread when `spec.replicas` is unset (the
//! count may be managed elsewhere); unlike Polaris it skips a workload that
//! sets `replicas: 0` or `replicas: 1` explicitly and that no autoscaler
//! scales, since one pod has nothing to spread (`single-replica` reports it).
//!
//! ## Notes
//! The rule checks that a constraint is there, not that its `labelSelector`
//! matches the workload's pods (a constraint whose selector matches nothing
//! spreads nothing). Load generators are exempt; `DaemonSets` run one pod per
//! node already.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/
//! - https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity

use crate::ctx::selector;
use crate::kit_resilience::{REPLICATED_KINDS, Scalers, explicitly_single, role_of, roles};
use crate::prelude::*;
use cairn_model::Role;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA609",
    name: "missing-topology-spread",
    category: Category::Resilience,
    levels: levels!(off, off, info, warning, warning),
    summary: "a replicated workload does not spread its pods across nodes or zones",
    help: "add topologySpreadConstraints over topology.kubernetes.io/zone and kubernetes.io/hostname that select the workload's pods",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let scalers = Scalers::new(cx);
    let roles = roles(cx);
    for (i, obj) in cx.workloads() {
        if !REPLICATED_KINDS.contains(&obj.kind.as_str())
            || explicitly_single(&scalers, obj)
            || role_of(&roles, obj) == Some(Role::Loadgen)
        {
            continue;
        }
        let Some(spec) = obj.pod_spec() else { continue };
        let spec = spec.node;
        if !spec.seq_at("topologySpreadConstraints").is_empty()
            || self_anti_affinity(spec, cx.pod_labels(i))
        {
            continue;
        }
        let at = key_pos(spec, "topologySpreadConstraints")
            .or_else(|| obj.pod_template().and_then(|t| key_pos(t, "spec")))
            .unwrap_or_else(|| obj.name_pos());
        let f = out.object(
            cx,
            i,
            at,
            format!(
                "the pods of {} have no topology spread constraint or anti-affinity: all replicas may land on one node or zone",
                describe(obj)
            ),
        );
        let labels: Vec<(String, String)> = obj
            .selector()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        if !labels.is_empty() {
            f.help(format!(
                "add topologySpreadConstraints over topology.kubernetes.io/zone and \
                 kubernetes.io/hostname with labelSelector.matchLabels {}",
                crate::kit_resilience::label_list(&labels)
            ));
        }
    }
}

/// Whether a pod anti-affinity term with a topology key keeps the pods
/// (labelled `labels`) away from each other.
fn self_anti_affinity(spec: &Node, labels: &[(String, String)]) -> bool {
    let Some(anti) = spec.path(&["affinity", "podAntiAffinity"]) else {
        return false;
    };
    let required = anti.seq_at("requiredDuringSchedulingIgnoredDuringExecution");
    let preferred = anti
        .seq_at("preferredDuringSchedulingIgnoredDuringExecution")
        .iter()
        .filter_map(|t| t.get("podAffinityTerm"));
    required.iter().chain(preferred).any(|term| {
        term.get_str("topologyKey").is_some_and(|k| !k.is_empty())
            && term
                .get("labelSelector")
                .filter(|n| !n.is_null())
                .is_some_and(|sel| !labels.is_empty() && selector(Some(sel)).matches(labels))
    })
}
