//! Helpers several rules share.

use cairn_ingest::ComposeService;
use cairn_ingest::k8s::K8sObject;
use cairn_source::{FileId, Pos};
use cairn_yaml::Node;

use crate::ctx::{Ctx, PodContainer, same_ns};
use crate::{Finding, ObjectKey, Out};

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
/// resources) missing a CPU or memory entry under `resources.<section>`, and
/// compose services missing the matching limit or reservation.
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
    compose_resource_presence(cx, out, section);
}

/// The effective entry at `path` of a compose service (`["deploy",
/// "resources"]`): its file, key node and value node. Compose merges files
/// in order and the last file that sets a key wins, so the service's nodes
/// are read from the last file back.
pub fn compose_entry<'a>(
    svc: &'a ComposeService,
    path: &[&str],
) -> Option<(FileId, &'a Node, &'a Node)> {
    let (last, parents) = path.split_last()?;
    svc.nodes.iter().rev().find_map(|(file, node)| {
        let (k, v) = node.path(parents)?.entry(last)?;
        Some((*file, k, v))
    })
}

/// The effective value at `path` of a compose service, when set and not null.
pub fn compose_value<'a>(svc: &'a ComposeService, path: &[&str]) -> Option<(FileId, &'a Node)> {
    compose_entry(svc, path)
        .filter(|(_, _, v)| !v.is_null())
        .map(|(file, _, v)| (file, v))
}

/// Whether a compose service is defined whole in its project: it names an
/// `image` or a `build` and `extends` no other service. A fragment (an
/// overlay file that only patches a service of a base file cairn did not
/// merge it with) or an `extends` inherits what it does not write, so
/// rules about a missing setting leave it alone.
pub fn compose_complete(svc: &ComposeService) -> bool {
    let has = |key: &str| svc.nodes.iter().any(|(_, n)| n.get(key).is_some());
    (has("image") || has("build")) && !has("extends")
}

/// Reports a finding about a compose service at `pos` in `file`.
pub fn report_compose<'o>(
    out: &'o mut Out,
    svc: &ComposeService,
    file: FileId,
    pos: Pos,
    message: impl Into<String>,
) -> &'o mut Finding {
    let f = out.at(Some(file), Some(pos), message);
    f.object = Some(ObjectKey {
        kind: "compose service".to_owned(),
        namespace: None,
        name: svc.name.clone(),
    });
    f
}

/// Reports compose services missing a CPU or memory limit (`limits`:
/// `deploy.resources.limits.cpus` / `.memory`, or v2's `cpus` / `mem_limit`)
/// or reservation (`requests`: `deploy.resources.reservations.cpus` /
/// `.memory`, or v2's `mem_reservation`). v2 has no CPU reservation, so a
/// service without a `deploy` section is asked only for a memory reservation.
fn compose_resource_presence(cx: &Ctx<'_>, out: &mut Out, section: &str) {
    let requests = section == "requests";
    let (what, deploy_section) = if requests {
        ("reservation", "reservations")
    } else {
        ("limit", "limits")
    };
    for project in &cx.ingest.compose {
        for svc in project.services.iter().filter(|s| compose_complete(s)) {
            let deploy = compose_entry(svc, &["deploy"]);
            let set = |deploy_key: &str, v2_key: Option<&str>| {
                compose_value(svc, &["deploy", "resources", deploy_section, deploy_key]).is_some()
                    || v2_key.is_some_and(|k| compose_value(svc, &[k]).is_some())
            };
            let (cpu_v2, memory_v2) = if requests {
                (None, Some("mem_reservation"))
            } else {
                (Some("cpus"), Some("mem_limit"))
            };
            // v2 files can write no CPU reservation: ask for one only where `deploy` is used
            let cpu_missing = (!requests || deploy.is_some()) && !set("cpus", cpu_v2);
            let memory_missing = !set("memory", memory_v2);
            let which = match (cpu_missing, memory_missing) {
                (true, true) => format!("CPU or memory {what}"),
                (true, false) => format!("CPU {what}"),
                (false, true) => format!("memory {what}"),
                (false, false) => continue,
            };
            let (file, at) = compose_entry(svc, &["deploy", "resources"])
                .or(deploy)
                .map_or((svc.loc.file, svc.loc.pos), |(file, k, _)| (file, k.pos));
            let (mut keys, mut v2) = (Vec::new(), Vec::new());
            if cpu_missing {
                keys.push(format!("deploy.resources.{deploy_section}.cpus"));
                v2.extend(cpu_v2.map(|k| format!("`{k}`")));
            }
            if memory_missing {
                keys.push(format!("deploy.resources.{deploy_section}.memory"));
                v2.extend(memory_v2.map(|k| format!("`{k}`")));
            }
            let mut help = format!("set {}", keys.join(" and "));
            if deploy.is_none() {
                help = format!("{help} (in a v2 file: {})", v2.join(" and "));
            }
            report_compose(
                out,
                svc,
                file,
                at,
                format!("compose service `{}` sets no {which}", svc.name),
            )
            .help(help);
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
