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

use crate::prelude::*;

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
}
