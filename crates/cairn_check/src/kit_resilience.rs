//! Helpers shared by the per-workload resilience rules (probes, replicas, disruption budgets, spreading, autoscaling).

use std::collections::HashMap;

use cairn_ingest::k8s::K8sObject;
use cairn_model::Role;
use cairn_yaml::Node;

use crate::Out;
use crate::ctx::{Ctx, PodContainer, same_ns, selector};
use crate::rules_kit::describe;

/// Controller kinds whose pods run until stopped (Jobs and `CronJobs` run to completion).
const LONG_RUNNING_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Rollout",
    "DeploymentConfig",
];

/// Kinds that run a set of interchangeable serving pods by `spec.replicas`:
/// the ones a disruption budget and a topology spread are about.
pub const REPLICATED_KINDS: &[&str] = &["Deployment", "StatefulSet", "Rollout"];

/// Whether a workload's pods are meant to run until stopped: every controller
/// but Jobs and `CronJobs`, Knative Services, and bare Pods that restart
/// (`restartPolicy` `Always`, the default) and no Job owns.
pub fn long_running(obj: &K8sObject) -> bool {
    if obj.is_knative_service() {
        return true;
    }
    if obj.kind == "Pod" {
        let restarts = obj
            .spec()
            .and_then(|s| s.get_str("restartPolicy"))
            .is_none_or(|p| p == "Always");
        let job_owned = obj
            .metadata()
            .map(|m| m.seq_at("ownerReferences"))
            .unwrap_or_default()
            .iter()
            .any(|r| matches!(r.get_str("kind"), Some("Job" | "CronJob")));
        return restarts && !job_owned;
    }
    LONG_RUNNING_KINDS.contains(&obj.kind.as_str())
}

/// The containers that run for the pod's whole life: the main containers and
/// sidecars (init containers with `restartPolicy: Always`); not run-once init
/// containers, not ephemeral debug containers.
pub fn lasting_containers<'a>(cx: &Ctx<'a>, obj: &'a K8sObject) -> Vec<PodContainer<'a>> {
    cx.containers(obj)
        .into_iter()
        .filter(|c| !c.ephemeral && (!c.init || is_sidecar(c)))
        .collect()
}

/// Whether an init container is a native sidecar (`restartPolicy: Always`).
pub fn is_sidecar(c: &PodContainer<'_>) -> bool {
    c.init && c.node.get_str("restartPolicy") == Some("Always")
}

/// `sidecar container`, `container`, for messages.
fn container_word(c: &PodContainer<'_>) -> &'static str {
    if is_sidecar(c) {
        "sidecar container"
    } else {
        "container"
    }
}

/// Reports every lasting container of a long-running workload that defines
/// no `probe` (`readinessProbe`, `livenessProbe`). `skip` leaves out
/// workloads the rule does not cover.
pub fn probe_presence(
    cx: &Ctx<'_>,
    out: &mut Out,
    probe: &str,
    what: &str,
    skip: fn(&K8sObject) -> bool,
) {
    for (i, obj) in cx.workloads() {
        if !long_running(obj) || skip(obj) {
            continue;
        }
        for c in lasting_containers(cx, obj) {
            let (at, state) = match c.node.entry(probe) {
                // an empty probe has no handler: the API server rejects it
                Some((k, v)) if v.as_map().is_none_or(<[_]>::is_empty) => (k.pos, "an empty"),
                Some(_) => continue,
                None => (c.name_pos(), "no"),
            };
            out.object(
                cx,
                i,
                at,
                format!(
                    "{} `{}` of {} has {state} {what}",
                    container_word(&c),
                    c.name,
                    describe(obj)
                ),
            );
        }
    }
}

/// A `HorizontalPodAutoscaler` or KEDA `ScaledObject` and what it scales.
#[derive(Clone, Copy, Debug)]
pub struct Scaler<'a> {
    /// The scaler object.
    pub obj: &'a K8sObject,
    /// `scaleTargetRef.apiVersion`, when written (KEDA defaults to `apps/v1`).
    pub api_version: Option<&'a str>,
    /// `scaleTargetRef.kind` (KEDA defaults to `Deployment`).
    pub kind: &'a str,
    /// `scaleTargetRef.name`.
    pub name: &'a str,
    /// The fewest replicas it scales down to: `minReplicas` (default 1) or
    /// KEDA's `minReplicaCount` (default 0).
    pub min: i64,
}

impl Scaler<'_> {
    /// `HorizontalPodAutoscaler/web` or `ScaledObject/web`, for messages.
    pub fn describe(&self) -> String {
        describe(self.obj)
    }
}

/// Whether an object is a `HorizontalPodAutoscaler` or a KEDA `ScaledObject`.
pub fn is_scaler(obj: &K8sObject) -> bool {
    obj.is("HorizontalPodAutoscaler", "autoscaling") || obj.is("ScaledObject", "keda.sh")
}

/// Reads a scaler's target; `None` without a `scaleTargetRef` naming something.
pub fn scaler(obj: &K8sObject) -> Option<Scaler<'_>> {
    let spec = obj.spec()?;
    let target = spec.get("scaleTargetRef")?;
    let name = target.get_str("name")?;
    let keda = obj.kind == "ScaledObject";
    let kind = target
        .get_str("kind")
        .or(keda.then_some("Deployment"))
        .unwrap_or_default();
    let (min_key, default_min) = if keda {
        ("minReplicaCount", 0)
    } else {
        ("minReplicas", 1)
    };
    Some(Scaler {
        obj,
        api_version: target.get_str("apiVersion"),
        kind,
        name,
        min: spec
            .get(min_key)
            .and_then(Node::as_i64)
            .unwrap_or(default_min),
    })
}

/// The API group of an `apiVersion` (`apps/v1` is `apps`, `v1` is the core group).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Whether a reference to `group` reaches an object of `obj`'s group.
/// `extensions` served Deployments, `ReplicaSets` and `DaemonSets` before
/// `apps` did, for the same stored objects.
pub fn same_group(group: &str, obj: &K8sObject) -> bool {
    let legacy = |g: &str| {
        matches!(g, "apps" | "extensions")
            && matches!(obj.kind.as_str(), "Deployment" | "ReplicaSet" | "DaemonSet")
    };
    group == obj.group() || (legacy(group) && legacy(obj.group()))
}

/// Whether `scaler` scales `obj`.
pub fn scales(scaler: &Scaler<'_>, obj: &K8sObject) -> bool {
    scaler.name == obj.name
        && scaler.kind == obj.kind
        && same_ns(scaler.obj.namespace.as_deref(), obj.namespace.as_deref())
        && scaler
            .api_version
            .is_none_or(|av| same_group(group_of(av), obj))
}

/// Every scaler of the input, by target name.
pub struct Scalers<'a> {
    by_name: HashMap<&'a str, Vec<Scaler<'a>>>,
}

impl<'a> Scalers<'a> {
    /// Reads every `HorizontalPodAutoscaler` and `ScaledObject`.
    pub fn new(cx: &Ctx<'a>) -> Self {
        let mut by_name: HashMap<&str, Vec<Scaler<'_>>> = HashMap::new();
        for kind in ["HorizontalPodAutoscaler", "ScaledObject"] {
            for (_, o) in cx.of_kind(kind) {
                if is_scaler(o)
                    && let Some(s) = scaler(o)
                {
                    by_name.entry(s.name).or_default().push(s);
                }
            }
        }
        Scalers { by_name }
    }

    /// The scalers of a workload; with several (a conflict), the one with
    /// the lowest minimum first.
    pub fn of(&self, obj: &K8sObject) -> Vec<&Scaler<'a>> {
        let mut found: Vec<&Scaler<'a>> = self
            .by_name
            .get(obj.name.as_str())
            .into_iter()
            .flatten()
            .filter(|s| scales(s, obj))
            .collect();
        found.sort_by_key(|s| s.min);
        found
    }
}

/// How many pods a workload runs at least, and what says so.
#[derive(Clone, Copy, Debug)]
pub enum Floor<'a> {
    /// An autoscaler's minimum.
    Scaler(i64, Scaler<'a>),
    /// `spec.replicas` as written, and its node.
    Replicas(i64, &'a Node),
    /// No `spec.replicas`: Kubernetes runs one pod.
    Unset,
}

impl Floor<'_> {
    /// The number of pods.
    pub fn count(&self) -> i64 {
        match self {
            Floor::Scaler(n, _) | Floor::Replicas(n, _) => *n,
            Floor::Unset => 1,
        }
    }
}

/// The fewest pods a workload runs: an autoscaler's minimum when one scales
/// it, else `spec.replicas` (1 when unset). `None` when `spec.replicas` is
/// not a number (a template placeholder): cairn cannot tell.
pub fn floor<'a>(scalers: &Scalers<'a>, obj: &'a K8sObject) -> Option<Floor<'a>> {
    if let Some(s) = scalers.of(obj).first() {
        return Some(Floor::Scaler(s.min, **s));
    }
    match obj.spec().and_then(|s| s.get("replicas")) {
        None => Some(Floor::Unset),
        Some(n) if n.is_null() => Some(Floor::Unset),
        Some(n) => n.as_i64().map(|r| Floor::Replicas(r, n)),
    }
}

/// Whether a replicated workload is deliberately kept at one pod or none:
/// `spec.replicas` written as 0 or 1 and no autoscaler. A disruption budget
/// or a spread cannot help one pod (`single-replica` reports it instead);
/// unset replicas are not exempt, because leaving them out is also how a
/// count managed elsewhere (an autoscaler, `kubectl scale`) is written.
pub fn explicitly_single(scalers: &Scalers<'_>, obj: &K8sObject) -> bool {
    scalers.of(obj).is_empty()
        && obj
            .spec()
            .and_then(|s| s.get("replicas"))
            .and_then(Node::as_i64)
            .is_some_and(|r| r < 2)
}

/// The workloads (indices into `cx.objects()`) whose pods a
/// `PodDisruptionBudget` selects. No selector selects nothing; an empty
/// selector selects every pod of the namespace in `policy/v1` and nothing in
/// `policy/v1beta1`.
pub fn pdb_selects(cx: &Ctx<'_>, pdb: &K8sObject) -> Vec<usize> {
    let Some(node) = pdb
        .spec()
        .and_then(|s| s.get("selector"))
        .filter(|n| !n.is_null())
    else {
        return Vec::new();
    };
    let sel = selector(Some(node));
    if sel.labels.is_empty() && sel.expressions.is_empty() && pdb.api_version != "policy/v1" {
        return Vec::new();
    }
    cx.pods_selected(pdb.namespace.as_deref(), &sel)
}

/// Which workloads some `PodDisruptionBudget` covers.
pub fn budgets(cx: &Ctx<'_>) -> HashMap<usize, Vec<usize>> {
    let mut covered: HashMap<usize, Vec<usize>> = HashMap::new();
    for (p, pdb) in cx.of_kind("PodDisruptionBudget") {
        for w in pdb_selects(cx, pdb) {
            covered.entry(w).or_default().push(p);
        }
    }
    covered
}

/// The role of each workload of the model, by kind, namespace and name.
pub fn roles<'a>(cx: &Ctx<'a>) -> HashMap<(&'a str, Option<&'a str>, &'a str), Role> {
    let mut out = HashMap::new();
    for s in &cx.system.services {
        for w in &s.workloads {
            out.insert(
                (w.kind.as_str(), w.namespace.as_deref(), w.name.as_str()),
                s.role,
            );
        }
    }
    out
}

/// The role of a workload object, when the model knows it.
pub fn role_of(roles: &HashMap<(&str, Option<&str>, &str), Role>, obj: &K8sObject) -> Option<Role> {
    roles
        .get(&(
            obj.kind.as_str(),
            obj.namespace.as_deref(),
            obj.name.as_str(),
        ))
        .copied()
}

/// Labels as a YAML flow mapping (`{app: web, tier: backend}`), for help lines.
pub fn label_list(labels: &[(String, String)]) -> String {
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!("{{{}}}", pairs.join(", "))
}
