//! A pod shares the node's network, process or IPC namespace.
//!
//! `hostNetwork: true` puts the pod on the node's network stack: it can
//! bind the node's ports, reach services listening on the node's loopback
//! (the kubelet's read-only port, local databases), sniff the node's
//! traffic with the right capability, and may escape network policies
//! (whether they apply to host-network pods is up to the network plugin).
//! `hostPID: true` shows it every process on the node, with their
//! environment and command lines, and lets it signal or trace them.
//! `hostIPC: true` shares the node's System V IPC and POSIX shared memory.
//! Each breaks the isolation a pod is supposed to have; the Pod Security
//! `baseline` profile forbids all three.
//!
//! Each field set to `true` is reported where it is written.
//!
//! In compose files, a service with `network_mode: host`, `pid: host` or
//! `ipc: host` is reported at the value (the last merged file that sets the
//! key decides). Sharing another container's namespace (`service:db`,
//! `container:x`) is not reported.
//!
//! ## Example
//! ```yaml
//! spec:
//!   hostNetwork: true
//!   containers:
//!     - name: web
//!       image: shop/web:1.4.2
//! ```
//!
//! ## Fix
//! Remove the field. A workload that must see the node (a CNI plugin, a
//! node exporter) belongs in a namespace reviewed and policed as
//! infrastructure, with a suppression that says why.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
//! - https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#hostname-and-name-resolution
//! - https://docs.docker.com/reference/compose-file/services/#network_mode

use crate::prelude::*;
use crate::rules_kit::{compose_value, report_compose};

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA906",
    name: "host-namespace",
    category: Category::Security,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a pod shares the node's network, process or IPC namespace",
    help: "remove hostNetwork, hostPID and hostIPC from the pod spec",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for (i, obj) in cx.workloads() {
        let Some(spec) = obj.pod_spec() else {
            continue;
        };
        for (key, namespace, what) in [
            (
                "hostNetwork",
                "network",
                "it can bind the node's ports, and network policies may not apply to it",
            ),
            (
                "hostPID",
                "process",
                "it sees, and can signal, every process on the node",
            ),
            (
                "hostIPC",
                "IPC",
                "it can read and write the node's shared memory",
            ),
        ] {
            let Some(node) = spec.node.get(key) else {
                continue;
            };
            if node.as_bool() == Some(true) {
                out.object(
                    cx,
                    i,
                    node.pos,
                    format!(
                        "{} shares the node's {namespace} namespace ({key}: true): {what}",
                        describe(obj)
                    ),
                )
                .help(format!("remove `{key}: true`"));
            }
        }
    }
    for project in &cx.ingest.compose {
        for svc in &project.services {
            for (key, namespace, what) in [
                (
                    "network_mode",
                    "network",
                    "it can bind the host's ports and reach everything listening on its loopback",
                ),
                (
                    "pid",
                    "process",
                    "it sees, and can signal, every process on the host",
                ),
                (
                    "ipc",
                    "IPC",
                    "it can read and write the host's shared memory",
                ),
            ] {
                let Some((file, node)) = compose_value(svc, &[key])
                    .filter(|(_, n)| n.as_str().is_some_and(|v| v.trim() == "host"))
                else {
                    continue;
                };
                report_compose(
                    out,
                    svc,
                    file,
                    node.pos,
                    format!(
                        "compose service `{}` shares the host's {namespace} namespace ({key}: host): {what}",
                        svc.name
                    ),
                )
                .help(if key == "network_mode" {
                    "remove `network_mode: host` and publish the ports the service serves with `ports:`".to_owned()
                } else {
                    format!("remove `{key}: host`")
                });
            }
        }
    }
}
