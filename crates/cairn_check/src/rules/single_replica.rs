//! A workload runs a single pod.
//!
//! One pod is one point of failure. Every rollout, node drain, node failure,
//! eviction under memory pressure or crash takes the service down until a
//! replacement is scheduled, pulls its image and passes its readiness probe:
//! seconds at best, minutes when a node is lost. Two replicas on different
//! nodes turn each of these into a non-event.
//!
//! The rule checks Deployments, `StatefulSets`, `ReplicaSets` and Argo
//! Rollouts. It fires when `spec.replicas` is 1 or unset (Kubernetes then
//! runs one pod), unless a `HorizontalPodAutoscaler` or a KEDA `ScaledObject`
//! scales the workload with a minimum of 2 or more; it fires too when such an
//! autoscaler lets the workload shrink to one pod (or to zero, after which it
//! starts again with one). `replicas: 0` is a workload switched off on
//! purpose and is left alone, as is a count cairn cannot read (a template
//! placeholder).
//!
//! ## Example
//! ```yaml
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata:
//!   name: checkout
//! spec:
//!   replicas: 1
//! ```
//!
//! ## Fix
//! ```yaml
//! spec:
//!   replicas: 2
//! ```
//! or an autoscaler with `minReplicas: 2`, and a `PodDisruptionBudget` and
//! a topology spread so that the replicas are not drained or lost together.
//!
//! ## Differences from other tools
//! kube-score checks only Deployments that a Service selects and that no
//! autoscaler scales; kube-linter's `minimum-three-replicas` wants three.
//! cairn, like Polaris, fires on any Deployment below two, Service or not: a
//! worker that reads a queue is just as down when its only pod is drained.
//! It also reads the autoscaler's minimum instead of skipping autoscaled
//! workloads, since an autoscaler with `minReplicas: 1` shrinks to one pod at
//! every quiet hour.
//!
//! ## Notes
//! Datastores and brokers are not exempt: a single database pod is the
//! single point of failure of every service that uses it. The fix differs,
//! though (a second replica of a standalone database is a second, separate
//! database), and the help says so. A workload that must stay single (a
//! singleton by design, a lab) is best suppressed with a reason. Load
//! generators are exempt: they serve no one. `DaemonSets`, Jobs and bare Pods
//! are out of scope.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#replicas
//! - https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
//! - https://keda.sh/docs/latest/reference/scaledobject-spec/

use crate::kit_resilience::{Floor, Scalers, floor, role_of, roles};
use crate::prelude::*;
use cairn_model::Role;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA606",
    name: "single-replica",
    category: Category::Resilience,
    levels: levels!(off, off, info, warning, error),
    summary: "a workload runs a single pod",
    help: "run at least 2 replicas (spec.replicas, or an autoscaler's minReplicas)",
    check,
};

const KINDS: &[&str] = &["Deployment", "StatefulSet", "ReplicaSet", "Rollout"];

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let scalers = Scalers::new(cx);
    let roles = roles(cx);
    for (i, obj) in cx.workloads() {
        if !KINDS.contains(&obj.kind.as_str()) {
            continue;
        }
        let role = role_of(&roles, obj);
        if role == Some(Role::Loadgen) {
            continue;
        }
        let Some(floor) = floor(&scalers, obj) else {
            continue;
        };
        let replicas_pos = obj
            .spec()
            .and_then(|s| s.get("replicas"))
            .filter(|n| !n.is_null())
            .map_or_else(|| obj.name_pos(), |n| n.pos);
        let what = describe(obj);
        let f = match floor {
            Floor::Scaler(n, s) if n < 2 => {
                let low = if n <= 0 {
                    "to zero and start again with one pod"
                } else {
                    "to a single pod"
                };
                let key = if s.obj.kind == "ScaledObject" {
                    "minReplicaCount"
                } else {
                    "minReplicas"
                };
                // spec.replicas does not count under an autoscaler: point at the workload
                let f = out.object(
                    cx,
                    i,
                    obj.name_pos(),
                    format!("{} lets {what} scale down {low}", s.describe()),
                );
                f.help(format!("set {key}: 2 (or more) on {}", s.describe()));
                f
            }
            Floor::Replicas(1, node) => {
                out.object(cx, i, node.pos, format!("{what} runs a single replica"))
            }
            Floor::Unset => out.object(
                cx,
                i,
                replicas_pos,
                format!("{what} sets no replicas, so it runs a single pod"),
            ),
            Floor::Scaler(..) | Floor::Replicas(..) => continue,
        };
        let kind = match role {
            Some(Role::Datastore) => "database",
            Some(Role::Broker) => "broker",
            _ => continue,
        };
        f.help(format!(
            "a single {kind} pod is a single point of failure for every service using it: run it \
             replicated (an operator or the chart's replication mode; more replicas of a \
             standalone {kind} are separate {kind}s), or use a managed service"
        ));
    }
}
