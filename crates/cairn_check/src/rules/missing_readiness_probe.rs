//! A long-running container has no readiness probe.
//!
//! Kubernetes sends a pod traffic (adds it to its Services' endpoints) and
//! counts it as available for a rollout once its containers are ready. A
//! container without a `readinessProbe` is ready as soon as its process
//! starts: requests reach it while it is still loading, connecting to its
//! database or warming caches, and a rolling update moves on to replace the
//! next pod before this one can serve. When the container later stops
//! serving (a lost connection, a full pool), nothing takes it out of rotation.
//!
//! The rule checks every container that runs for the pod's whole life, in
//! every workload meant to run until stopped: Deployments, `StatefulSets`,
//! `DaemonSets`, `ReplicaSets`, `ReplicationControllers`, Argo Rollouts,
//! `OpenShift` `DeploymentConfigs` and bare Pods. Native sidecars (init
//! containers with `restartPolicy: Always`) count, since they run alongside
//! the app and support probes; run-once init containers and ephemeral debug
//! containers do not. Jobs, `CronJobs` and Pods that run to completion
//! (`restartPolicy` `Never` or `OnFailure`, or owned by a Job) are left out.
//! The rule does not ask whether a Service selects the pod: readiness also
//! gates rollouts (`minReadySeconds`, `maxUnavailable`) and disruption
//! budgets.
//!
//! ## Example
//! ```yaml
//! containers:
//!   - name: web
//!     image: shop/web:1.4.2
//!     ports: [{containerPort: 8080}]
//! ```
//!
//! ## Fix
//! ```yaml
//!     readinessProbe:
//!       httpGet: {path: /ready, port: 8080}
//!       periodSeconds: 5
//! ```
//!
//! ## Differences from other tools
//! kube-score checks only pods that a Service selects, and is satisfied by a
//! readiness probe on any one container of the pod; cairn, like Polaris and
//! kube-linter, wants one on every main container, Service or not: a
//! container that cannot tell it is not ready holds up the whole pod's
//! readiness only if it has a probe.
//!
//! ## Notes
//! A Knative Service is exempt: Knative gives a container without a
//! readiness probe a default TCP probe on its port. A `startupProbe` does not
//! replace a readiness probe: it runs only until the container first starts.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/
//! - https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
//! - https://knative.dev/docs/serving/services/configure-probing/

use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA604",
    name: "missing-readiness-probe",
    category: Category::Resilience,
    levels: levels!(info, info, warning, warning, error),
    summary: "a long-running container has no readiness probe",
    help: "add a readinessProbe (httpGet, grpc, tcpSocket or exec) that passes only when the container can serve",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    crate::kit_resilience::probe_presence(
        cx,
        out,
        "readinessProbe",
        "readiness probe",
        K8sObject::is_knative_service,
    );
}
