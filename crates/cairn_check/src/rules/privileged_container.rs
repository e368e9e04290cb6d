//! A container runs privileged.
//!
//! `securityContext.privileged: true` gives the container every Linux
//! capability, every device of the node, and lifts the seccomp and AppArmor
//! confinement: a process in it is, for practical purposes, root on the node.
//! One compromised privileged container is a compromised node, and from
//! there every pod and secret on it. Init and ephemeral containers count:
//! they run with the same power, if for a shorter time.
//!
//! Only the container's own `securityContext` can make it privileged; a
//! `privileged` key in the pod-level `securityContext` is not a Kubernetes
//! field and is ignored (cairn ignores it too).
//!
//! In compose files, a service with `privileged: true` is reported at the
//! value; when several files are merged, the last one that sets
//! `privileged` decides.
//!
//! ## Example
//! ```yaml
//! containers:
//!   - name: agent
//!     image: shop/agent:1.2.0
//!     securityContext:
//!       privileged: true
//! ```
//!
//! ## Fix
//! Remove `privileged: true`. If the container needs one specific power,
//! grant only that capability (`capabilities.add: [NET_ADMIN]`), or move the
//! work to a node-level agent that is reviewed as such.
//!
//! ```yaml
//!     securityContext:
//!       privileged: false
//!       allowPrivilegeEscalation: false
//!       capabilities: {drop: [ALL]}
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
//! - https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
//! - https://docs.docker.com/reference/compose-file/services/#privileged

use crate::kit_security::{container_security, workload_containers};
use crate::prelude::*;
use crate::rules_kit::{compose_value, report_compose};

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA901",
    name: "privileged-container",
    category: Category::Security,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a container runs privileged",
    help: "remove `privileged: true`; grant the one capability the container needs instead",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for wc in workload_containers(cx) {
        if let Some(node) =
            container_security(&wc.c, "privileged").filter(|n| n.as_bool() == Some(true))
        {
            out.object(
                cx,
                wc.index,
                node.pos,
                format!(
                    "{} runs privileged: it has every capability and the node's devices",
                    wc.desc()
                ),
            );
        }
    }
    for project in &cx.ingest.compose {
        for svc in &project.services {
            let Some((file, node)) =
                compose_value(svc, &["privileged"]).filter(|(_, n)| n.as_bool() == Some(true))
            else {
                continue;
            };
            report_compose(
                out,
                svc,
                file,
                node.pos,
                format!(
                    "compose service `{}` runs privileged: it has every capability and the host's devices",
                    svc.name
                ),
            )
            .help("remove `privileged: true`; grant the one capability the service needs with `cap_add` instead");
        }
    }
}
