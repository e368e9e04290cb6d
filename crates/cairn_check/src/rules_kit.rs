//! Helpers several rules share.

use cairn_ingest::k8s::K8sObject;
use cairn_yaml::Node;

use crate::Out;
use crate::ctx::{Ctx, PodContainer, same_ns};

/// Where `key` is written in a mapping (the key, not its value): findings
/// about a whole section point at its key.
pub fn key_pos(parent: &Node, key: &str) -> Option<cairn_source::Pos> {
    parent.entry(key).map(|(k, _)| k.pos)
}

/// `Deployment/web`, for messages.
pub fn describe(obj: &K8sObject) -> String {
    format!("{}/{}", obj.kind, obj.name)
}

/// A `LimitRange` default (`default` or `defaultRequest`) for containers in
/// the namespace, for `resource` (`cpu`, `memory`).
pub fn limit_range_default(cx: &Ctx<'_>, ns: Option<&str>, key: &str, resource: &str) -> bool {
    cx.of_kind("LimitRange").any(|(_, lr)| {
        same_ns(lr.namespace.as_deref(), ns)
            && lr
                .spec()
                .map(|s| s.seq_at("limits"))
                .unwrap_or_default()
                .iter()
                .any(|l| {
                    l.get_str("type").is_none_or(|t| t == "Container")
                        && l.get(key).and_then(|d| d.get(resource)).is_some()
                })
    })
}

/// Reports containers (init included, ephemeral excluded: they cannot set
/// resources) missing a CPU or memory entry under `resources.<section>`.
pub fn resource_presence(cx: &Ctx<'_>, out: &mut Out, section: &str) {
    let (what, lr_key) = if section == "requests" {
        ("request", "defaultRequest")
    } else {
        ("limit", "default")
    };
    for (i, obj) in cx.workloads() {
        for c in cx.containers(obj) {
            if c.ephemeral {
                continue;
            }
            let set = c.node.get("resources").and_then(|r| r.get(section));
            let missing: Vec<&str> = ["cpu", "memory"]
                .into_iter()
                .filter(|r| {
                    set.and_then(|s| s.get(r)).is_none_or(Node::is_null)
                        && !limit_range_default(cx, obj.namespace.as_deref(), lr_key, r)
                })
                .collect();
            if missing.is_empty() {
                continue;
            }
            let at = key_pos(c.node, "resources").unwrap_or_else(|| c.name_pos());
            let which = if missing.len() == 2 {
                format!("CPU or memory {what}")
            } else if missing[0] == "cpu" {
                format!("CPU {what}")
            } else {
                format!("memory {what}")
            };
            out.object(
                cx,
                i,
                at,
                format!(
                    "{} `{}` of {} sets no {which}",
                    c.what(),
                    c.name,
                    describe(obj)
                ),
            )
            .help(format!(
                "set resources.{section}.{}",
                missing.join(format!(" and resources.{section}.").as_str())
            ));
        }
    }
}

/// A container's security context value at `key`, with the pod's as fallback
/// for the keys a pod-level `securityContext` can set.
pub fn security_value<'a>(obj: &'a K8sObject, c: &PodContainer<'a>, key: &str) -> Option<&'a Node> {
    c.node
        .get("securityContext")
        .and_then(|s| s.get(key))
        .filter(|n| !n.is_null())
        .or_else(|| {
            const POD_LEVEL: &[&str] = &[
                "runAsUser",
                "runAsGroup",
                "runAsNonRoot",
                "seLinuxOptions",
                "seccompProfile",
                "appArmorProfile",
                "windowsOptions",
            ];
            if !POD_LEVEL.contains(&key) {
                return None;
            }
            obj.pod_spec()?
                .node
                .get("securityContext")?
                .get(key)
                .filter(|n| !n.is_null())
        })
}
