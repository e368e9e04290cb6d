//! A long-running container has no liveness probe.
//!
//! The kubelet restarts a container when its process exits, but not when it
//! hangs: a deadlocked thread pool, an event loop stuck on a lost connection,
//! or a JVM thrashing in garbage collection keeps the process alive and the
//! pod `Running` while it answers nothing. A `livenessProbe` lets the kubelet
//! see that and restart the container.
//!
//! The rule checks every container that runs for the pod's whole life, in
//! every workload meant to run until stopped: Deployments, `StatefulSets`,
//! `DaemonSets`, `ReplicaSets`, `ReplicationControllers`, Argo Rollouts,
//! `OpenShift` `DeploymentConfigs`, Knative Services and bare Pods. Native
//! sidecars (init containers with `restartPolicy: Always`) count; run-once
//! init containers and ephemeral debug containers do not. Jobs, `CronJobs`
//! and Pods that run to completion (`restartPolicy` `Never` or `OnFailure`,
//! or owned by a Job) are left out.
//!
//! ## Example
//! ```yaml
//! containers:
//!   - name: web
//!     image: shop/web:1.4.2
//!     readinessProbe:
//!       httpGet: {path: /ready, port: 8080}
//! ```
//!
//! ## Fix
//! ```yaml
//!     livenessProbe:
//!       httpGet: {path: /healthz, port: 8080}
//!       periodSeconds: 10
//!       failureThreshold: 3
//! ```
//! A liveness probe should check the process itself, not its dependencies:
//! one that fails when the database is down restarts every replica at once
//! and fixes nothing.
//!
//! ## Notes
//! A `startupProbe` does not replace a liveness probe: it runs only until the
//! container first starts.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/
//! - https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/

use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA605",
    name: "missing-liveness-probe",
    category: Category::Resilience,
    levels: levels!(off, info, info, warning, warning),
    summary: "a long-running container has no liveness probe",
    help: "add a livenessProbe that fails only when the process itself is stuck (not when a dependency is down)",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    crate::kit_resilience::probe_presence(cx, out, "livenessProbe", "liveness probe", |_| false);
}
