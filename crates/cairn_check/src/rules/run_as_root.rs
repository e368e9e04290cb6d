//! A container runs, or may run, as root.
//!
//! A process that runs as user 0 inside a container is root on the node's
//! kernel, confined only by namespaces, capabilities and seccomp: a kernel
//! or runtime escape hands it the node. Kubernetes runs the user the image
//! names (`USER` in the Dockerfile), and many images name none, so unless
//! the manifest says otherwise the container may well run as root.
//!
//! The rule fires when neither `runAsNonRoot: true` nor a `runAsUser`
//! above 0 is in effect for the container. The container's
//! `securityContext` overrides the pod's, key by key. An explicit
//! `runAsUser: 0` is root whatever else is set (with `runAsNonRoot: true`
//! as well, the kubelet refuses to start the container). Init and ephemeral
//! containers count. Windows pods (`spec.os.name: windows`) are skipped:
//! these fields do not apply to them.
//!
//! ## Example
//! ```yaml
//! spec:
//!   containers:
//!     - name: web
//!       image: shop/web:1.4.2
//! ```
//!
//! ## Fix
//! Set `runAsNonRoot: true` (the kubelet then refuses an image whose user
//! is root) and, where the image allows, a fixed non-zero user:
//!
//! ```yaml
//! spec:
//!   securityContext:
//!     runAsNonRoot: true
//!     runAsUser: 10001
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
//! - https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
//!
//! ## Notes
//! cairn does not see the image, so it cannot tell whether the image's own
//! user is root: with nothing set, the finding says the container *may*
//! run as root. `runAsNonRoot: true` turns that into a check the kubelet
//! makes at start. A `runAsUser` written directly on the container (not in
//! its `securityContext`) is not a Kubernetes field and is ignored.

use crate::kit_security::{container_desc, security_anchor, windows_pod};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA902",
    name: "run-as-root",
    category: Category::Security,
    levels: levels!(info, info, warning, warning, error),
    summary: "a container runs, or may run, as root",
    help: "set securityContext.runAsNonRoot: true and a non-zero runAsUser",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for (i, obj) in cx.workloads() {
        if windows_pod(obj) {
            continue;
        }
        // `security_value`, with the pod's context looked up once per workload
        let pod = obj.pod_spec().and_then(|s| s.node.get("securityContext"));
        for c in cx.containers(obj) {
            let own = c.node.get("securityContext");
            let value = |key: &str| {
                own.and_then(|s| s.get(key))
                    .filter(|n| !n.is_null())
                    .or_else(|| pod.and_then(|p| p.get(key)).filter(|n| !n.is_null()))
            };
            let user = value("runAsUser");
            let non_root = value("runAsNonRoot");
            let uid = user.and_then(Node::as_i64);
            let non_root_value = non_root.and_then(Node::as_bool);
            let who = || container_desc(obj, &c);
            match uid {
                Some(0) => {
                    let pos = user.map_or_else(|| security_anchor(&c), |n| n.pos);
                    let message = if non_root_value == Some(true) {
                        format!(
                            "{} sets runAsUser: 0 (root) together with runAsNonRoot: true, so the kubelet refuses to start it",
                            who()
                        )
                    } else {
                        format!("{} runs as root (runAsUser: 0)", who())
                    };
                    out.object(cx, i, pos, message)
                        .help("set runAsUser to a non-zero user the image can run as");
                }
                Some(u) if u > 0 => {}
                _ if non_root_value == Some(true) => {}
                _ => {
                    let (pos, why) = match (non_root, non_root_value) {
                        _ if user.is_some() && uid.is_none() => (
                            user.map_or_else(|| security_anchor(&c), |n| n.pos),
                            "runAsUser is not a user id",
                        ),
                        (Some(n), Some(false)) => {
                            (n.pos, "runAsNonRoot is false and no runAsUser is set")
                        }
                        _ => (
                            security_anchor(&c),
                            "neither runAsNonRoot nor runAsUser is set",
                        ),
                    };
                    out.object(
                        cx,
                        i,
                        pos,
                        format!(
                            "{} may run as root: {why}, so the image's user decides",
                            who()
                        ),
                    );
                }
            }
        }
    }
}
