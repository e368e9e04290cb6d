//! A pod mounts a directory or file of the node (`hostPath`).
//!
//! A `hostPath` volume reaches out of the container into the node's
//! filesystem. Written to, it can plant files the node executes or trusts;
//! read, it can leak the node's credentials and other pods' data. Some
//! paths hand over the node outright: the container runtime's socket
//! (`/var/run/docker.sock`, `containerd.sock`) starts privileged containers
//! on request, and `/`, `/etc`, `/root`, `/proc`, `/sys`, `/dev`,
//! `/var/lib/kubelet` hold the node's configuration, keys and kernel
//! interfaces. The pod also becomes tied to what is on its node, so it
//! behaves differently wherever it is scheduled.
//!
//! The rule reports every `hostPath` volume, names the path, says when it
//! is one of those sensitive paths, and names the containers that mount it
//! read-write.
//!
//! ## Example
//! ```yaml
//! volumes:
//!   - name: docker
//!     hostPath:
//!       path: /var/run/docker.sock
//! ```
//!
//! ## Fix
//! Use a volume type that does not reach into the node: `emptyDir` for
//! scratch space, a `persistentVolumeClaim` for data, a `configMap` or
//! `secret` for configuration, a `projected` token for credentials. Where a
//! node agent truly needs the node's files, mount the narrowest path,
//! read-only, and suppress the finding with the reason.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/storage/volumes/#hostpath
//! - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
//!
//! ## Differences from other tools
//! kube-linter's `docker-sock` and `sensitive-host-mounts` look only at a
//! list of sensitive paths, and `writable-host-mount` only at read-write
//! mounts; cairn reports every `hostPath` volume, as Polaris
//! (`hostPathSet`) and the Pod Security `baseline` profile do, and puts the
//! sensitivity and the write access in the message.

use crate::kit_security::container_short;
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA907",
    name: "host-path-volume",
    category: Category::Security,
    levels: levels!(info, info, warning, warning, error),
    summary: "a pod mounts a directory or file of the node (hostPath)",
    help: "use an emptyDir, persistentVolumeClaim, configMap or secret volume instead of hostPath",
    check,
};

/// Host paths that hold the node's configuration, credentials or kernel interfaces.
const SENSITIVE: &[(&str, &str)] = &[
    ("/etc", "the node's configuration and credentials"),
    ("/root", "root's home on the node"),
    ("/home", "the node's user homes"),
    ("/proc", "the node's kernel and process interfaces"),
    ("/sys", "the node's kernel interfaces"),
    ("/dev", "the node's devices"),
    ("/boot", "the node's kernel and boot files"),
    ("/var/run", "the node's runtime sockets and state"),
    ("/run", "the node's runtime sockets and state"),
    (
        "/var/lib/kubelet",
        "the kubelet's state, with every pod's secrets",
    ),
    ("/var/lib/docker", "the container runtime's state"),
    ("/var/lib/containerd", "the container runtime's state"),
    ("/usr", "the node's system binaries"),
    ("/bin", "the node's system binaries"),
    ("/sbin", "the node's system binaries"),
    ("/lib", "the node's system libraries"),
];

/// Why a host path is especially sensitive, if it is.
fn sensitivity(path: &str) -> Option<String> {
    let p = path.trim();
    let p = if p.len() > 1 {
        p.trim_end_matches('/')
    } else {
        p
    };
    let file = p.rsplit('/').next().unwrap_or(p);
    if [
        "docker.sock",
        "containerd.sock",
        "crio.sock",
        "cri-dockerd.sock",
        "dockershim.sock",
    ]
    .contains(&file)
    {
        return Some("the container runtime's socket, which gives root on the node".to_owned());
    }
    if p == "/" {
        return Some("the node's whole filesystem".to_owned());
    }
    if let Some((_, why)) = SENSITIVE
        .iter()
        .find(|(dir, _)| p == *dir || p.strip_prefix(dir).is_some_and(|r| r.starts_with('/')))
    {
        return Some((*why).to_owned());
    }
    // a folder above sensitive ones (`/var`) exposes them too
    let inside: Vec<&str> = SENSITIVE
        .iter()
        .map(|(dir, _)| *dir)
        .filter(|dir| dir.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
        .collect();
    let (last, rest) = inside.split_last()?;
    let listed = if rest.is_empty() {
        format!("`{last}`")
    } else {
        format!("`{}` and `{last}`", rest.join("`, `"))
    };
    Some(format!("which holds {listed}"))
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for (i, obj) in cx.workloads() {
        let Some(spec) = obj.pod_spec() else {
            continue;
        };
        let containers = cx.containers(obj);
        for volume in spec.node.seq_at("volumes") {
            let Some(host) = volume.get("hostPath").filter(|h| !h.is_null()) else {
                continue;
            };
            let name = volume.get_str("name").unwrap_or_default();
            let path_node = host.get("path");
            let path = path_node.and_then(Node::as_str).unwrap_or_default();
            let pos = path_node.map_or_else(
                || key_pos(volume, "hostPath").unwrap_or(volume.pos),
                |n| n.pos,
            );
            let mounted = containers.iter().any(|c| {
                c.node
                    .seq_at("volumeMounts")
                    .iter()
                    .any(|m| m.get_str("name") == Some(name))
            });
            let writers: Vec<String> = containers
                .iter()
                .filter(|c| {
                    c.node.seq_at("volumeMounts").iter().any(|m| {
                        m.get_str("name") == Some(name)
                            && m.get("readOnly").and_then(Node::as_bool) != Some(true)
                    })
                })
                .map(|c| container_short(obj, c))
                .collect();
            let mut message = if path.is_empty() {
                format!("{} mounts a host path (volume `{name}`)", describe(obj))
            } else {
                format!(
                    "{} mounts the host path `{path}` (volume `{name}`)",
                    describe(obj)
                )
            };
            if let Some(why) = sensitivity(path) {
                message.push_str(", ");
                message.push_str(&why);
            }
            if !writers.is_empty() {
                message.push_str("; mounted read-write by ");
                message.push_str(&writers.join(", "));
            } else if mounted {
                message.push_str("; mounted read-only");
            }
            out.object(cx, i, pos, message);
        }
    }
}
