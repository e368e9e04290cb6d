//! A PodDisruptionBudget never allows an eviction.
//!
//! A `PodDisruptionBudget` tells the eviction API how many of its pods may be
//! down at once. A budget that allows zero blocks every voluntary eviction of
//! the pods it covers: `kubectl drain` retries forever, cluster upgrades and
//! node-pool rotations stall, and the cluster autoscaler cannot remove the
//! node. Operators then delete the budget or force the drain, and the
//! protection is gone when it matters.
//!
//! The rule reports a budget when:
//! - `maxUnavailable` is `0` or `0%`;
//! - `minAvailable` is `100%` (or more);
//! - `minAvailable` is not below the number of pods it covers: the
//!   `spec.replicas` of the workloads it selects (1 when unset), or, for a
//!   workload an autoscaler (`HorizontalPodAutoscaler`, KEDA `ScaledObject`)
//!   scales, the autoscaler's minimum, since that is where the workload sits
//!   when the cluster is quiet and drains happen. A percentage is rounded up,
//!   as the disruption controller does: `minAvailable: 50%` of one pod is one
//!   pod.
//!
//! The first two hold whatever the budget selects. The last needs the
//! selected workloads in the input; without them (or with a replica count
//! cairn cannot read, or a `DaemonSet` whose pod count depends on the nodes)
//! an absolute `minAvailable` is not judged.
//!
//! ## Example
//! ```yaml
//! apiVersion: policy/v1
//! kind: PodDisruptionBudget
//! metadata:
//!   name: checkout
//! spec:
//!   minAvailable: 2
//!   selector:
//!     matchLabels: {app: checkout}
//! # ...and Deployment checkout runs replicas: 2
//! ```
//!
//! ## Fix
//! ```yaml
//! spec:
//!   maxUnavailable: 1
//! ```
//! `maxUnavailable: 1` always lets one pod go, whatever the replica count;
//! or keep `minAvailable` below the replica count.
//!
//! ## Differences from other tools
//! Polaris's `pdbDisruptionsIsZero` looks only at the two fields; kube-linter's
//! `pdb-min-available` compares with the replicas. cairn does both. A workload
//! that an autoscaler may scale to zero counts as one pod, the fewest it runs
//! while it has pods to evict.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/workloads/pods/disruptions/
//! - https://kubernetes.io/docs/tasks/run-application/configure-pdb/#think-about-how-your-application-reacts-to-disruptions
//! - https://kubernetes.io/docs/tasks/administer-cluster/safely-drain-node/

use crate::kit_resilience::{Floor, Scalers, floor, pdb_selects};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA608",
    name: "pdb-blocks-eviction",
    category: Category::Resilience,
    levels: levels!(info, info, warning, error, error),
    summary: "a PodDisruptionBudget never allows an eviction",
    help: "use maxUnavailable: 1, or keep minAvailable below the number of replicas",
    check,
};

/// Kinds whose pod count is `spec.replicas` (a bare Pod is one).
const COUNTABLE: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
    "Rollout",
    "DeploymentConfig",
    "Pod",
];

/// An int-or-percent value: `(number, is_percent)`.
fn int_or_percent(node: &Node) -> Option<(i64, bool)> {
    if let Some(n) = node.as_i64() {
        return Some((n, false));
    }
    let text = node.as_str()?.trim();
    match text.strip_suffix('%') {
        Some(p) => p.trim().parse().ok().map(|p| (p, true)),
        None => text.parse().ok().map(|n| (n, false)),
    }
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let scalers = Scalers::new(cx);
    for (i, pdb) in cx.of_kind("PodDisruptionBudget") {
        let Some(spec) = pdb.spec() else { continue };
        let what = describe(pdb);
        if let Some(node) = spec.get("maxUnavailable")
            && let Some((0, percent)) = int_or_percent(node)
        {
            let shown = if percent { "0%" } else { "0" };
            out.object(
                cx,
                i,
                node.pos,
                format!("{what} sets maxUnavailable {shown}: no pod it covers can ever be evicted"),
            )
            .help("use maxUnavailable: 1, which always lets one pod go");
        }
        let Some(node) = spec.get("minAvailable") else {
            continue;
        };
        let Some((min, percent)) = int_or_percent(node) else {
            continue;
        };
        if percent && min >= 100 {
            out.object(
                cx,
                i,
                node.pos,
                format!("{what} sets minAvailable {min}%: no pod it covers can ever be evicted"),
            )
            .help("use maxUnavailable: 1, which always lets one pod go");
            continue;
        }
        let Some((pods, by)) = covered_pods(cx, &scalers, pdb) else {
            continue;
        };
        let required = if percent {
            // the disruption controller rounds a percentage of pods up
            (min * pods + 99) / 100
        } else {
            min
        };
        if pods == 0 || required < pods {
            continue;
        }
        let pods_of = if pods == 1 {
            format!("the only pod of {by}")
        } else {
            format!("all {pods} pods of {by}")
        };
        let message = if percent {
            format!(
                "{what} sets minAvailable {min}%, which rounds up to {pods_of}: no pod can be evicted"
            )
        } else if min == pods {
            format!("{what} sets minAvailable {min}, which is {pods_of}: no pod can be evicted")
        } else {
            format!(
                "{what} sets minAvailable {min}, more than the {pods} pod{} of {by}: no pod can be evicted",
                plural(pods)
            )
        };
        let help = if pods == 1 {
            "run at least 2 replicas and keep minAvailable below them, or use maxUnavailable: 1"
                .to_owned()
        } else {
            format!(
                "use maxUnavailable: 1, or set minAvailable to at most {}",
                pods - 1
            )
        };
        out.object(cx, i, node.pos, message).help(help);
    }
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The fewest pods a budget covers and who runs them, when every selected
/// workload's count is known.
fn covered_pods(cx: &Ctx<'_>, scalers: &Scalers<'_>, pdb: &K8sObject) -> Option<(i64, String)> {
    let selected = pdb_selects(cx, pdb);
    if selected.is_empty() {
        return None;
    }
    let mut total = 0;
    let mut names = Vec::new();
    for w in selected {
        let obj = &cx.objects()[w];
        if !COUNTABLE.contains(&obj.kind.as_str()) {
            return None;
        }
        let count = if obj.kind == "Pod" {
            1
        } else {
            match floor(scalers, obj)? {
                // scaled to zero there is nothing to evict; with pods, at least one
                Floor::Scaler(n, s) => {
                    names.push(format!(
                        "{} when {} scales it down",
                        describe(obj),
                        s.describe()
                    ));
                    total += n.max(1);
                    continue;
                }
                f => f.count(),
            }
        };
        names.push(describe(obj));
        total += count.max(0);
    }
    Some((total, names.join(" and ")))
}
