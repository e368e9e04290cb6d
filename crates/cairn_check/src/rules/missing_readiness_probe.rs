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
//! In compose files, a service without a `healthcheck` (or with one
//! disabled: `disable: true`, `test: ["NONE"]`) is reported, at the service
//! key or at the switch that disables it; with several files merged, the
//! last one that sets a key decides. Services that run once and serve
//! nothing (`restart: "no"` or `on-failure`, or the same
//! `deploy.restart_policy.condition`, and no `ports` or `expose`) are left
//! out, as are load generators and telemetry services, and services that
//! name neither an `image` nor a `build` or that `extends` another (an
//! overlay's patch of a service defined elsewhere inherits its healthcheck).
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
//! A compose `healthcheck` is the readiness signal of compose: `depends_on`
//! with `condition: service_healthy` waits for it before starting the
//! dependent service, and without one the dependent can only wait for the
//! container to start. (Docker marks an unhealthy container but does not
//! restart it, so a healthcheck is not a liveness probe.) A healthcheck
//! built into the image (a Dockerfile `HEALTHCHECK`) is not visible to
//! cairn: such a service is reported until its compose file declares one.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/
//! - https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
//! - https://knative.dev/docs/serving/services/configure-probing/
//! - https://docs.docker.com/reference/compose-file/services/#healthcheck
//! - https://docs.docker.com/compose/how-tos/startup-order/

use std::collections::HashMap;

use cairn_ingest::ComposeService;
use cairn_model::Role;
use cairn_source::FileId;

use crate::prelude::*;
use crate::rules_kit::{compose_complete, compose_value, report_compose};

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
    let roles: HashMap<&str, Role> = cx
        .system
        .services
        .iter()
        .flat_map(|s| {
            s.workloads
                .iter()
                .filter(|w| w.kind == "compose")
                .map(move |w| (w.name.as_str(), s.role))
        })
        .collect();
    for project in &cx.ingest.compose {
        for svc in &project.services {
            if !compose_complete(svc)
                || one_shot(svc)
                || matches!(
                    roles.get(svc.name.as_str()),
                    Some(Role::Loadgen | Role::Observability)
                )
            {
                continue;
            }
            let (file, pos, state) = match healthcheck(svc) {
                Health::Defined => continue,
                Health::Missing => (svc.loc.file, svc.loc.pos, "has no healthcheck"),
                Health::Disabled(file, pos) => (file, pos, "disables its healthcheck"),
            };
            report_compose(
                out,
                svc,
                file,
                pos,
                format!(
                    "compose service `{}` {state}: services that depend on it cannot wait until it is ready",
                    svc.name
                ),
            )
            .help(format!(
                "add a `healthcheck` whose `test` passes only when `{}` can serve, and have dependents wait for it with `depends_on: {{{}: {{condition: service_healthy}}}}`",
                svc.name, svc.name
            ));
        }
    }
}

/// Whether a compose service's healthcheck is defined, missing or disabled.
enum Health {
    Defined,
    Missing,
    Disabled(FileId, Pos),
}

fn healthcheck(svc: &ComposeService) -> Health {
    let defined = svc
        .nodes
        .iter()
        .any(|(_, n)| n.get("healthcheck").is_some_and(|h| !h.is_null()));
    if !defined {
        return Health::Missing;
    }
    if let Some((file, n)) = compose_value(svc, &["healthcheck", "disable"])
        && n.as_bool() == Some(true)
    {
        return Health::Disabled(file, n.pos);
    }
    if let Some((file, n)) = compose_value(svc, &["healthcheck", "test"])
        && let Some(first) = n.as_seq().and_then(<[_]>::first)
        && first.as_str().is_some_and(|t| t.trim() == "NONE")
    {
        return Health::Disabled(file, first.pos);
    }
    Health::Defined
}

/// Whether a compose service runs once and serves nothing: it restarts
/// never or only on failure (as written), and publishes or exposes no port.
fn one_shot(svc: &ComposeService) -> bool {
    if !svc.ports.is_empty() {
        return false;
    }
    let restart = compose_value(svc, &["restart"]).is_some_and(|(_, n)| {
        n.as_bool() == Some(false)
            || n.as_str()
                .is_some_and(|r| r.trim() == "no" || r.trim().starts_with("on-failure"))
    });
    let policy = compose_value(svc, &["deploy", "restart_policy", "condition"])
        .and_then(|(_, n)| n.as_str())
        .is_some_and(|c| matches!(c.trim(), "none" | "on-failure"));
    restart || policy
}
