//! An application service keeps its state on a persistent volume.
//!
//! A stateless service can run any number of replicas, lose a pod, move to
//! another node or roll out a new version without anyone noticing. An
//! application that writes its state to a `PersistentVolumeClaim` cannot: a
//! second replica either cannot attach the volume (`ReadWriteOnce`) or sees
//! a different one (a `StatefulSet`'s claim templates give each pod its
//! own), so requests land on a replica that lacks the data; a rescheduled pod
//! waits for its volume to detach; and backups, migrations and failover of
//! that data are the application team's problem, unplanned.
//!
//! The rule reports an application service (role `app`) whose long-running
//! workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod) mounts a
//! `persistentVolumeClaim` volume or a `StatefulSet` volume claim template
//! writable. Datastores, brokers and the platform's own services (roles
//! `datastore`, `broker`, `observability`, `infra`) are meant to keep state
//! and are not reported; Jobs and CronJobs are not long-running. A claim
//! mounted only read-only (`readOnly: true` on every mount, or on the
//! volume's `persistentVolumeClaim`) holds no state the service writes.
//!
//! ## Example
//! ```yaml
//! kind: Deployment
//! metadata: {name: uploads}
//! spec:
//!   template:
//!     spec:
//!       containers:
//!         - name: uploads
//!           volumeMounts:
//!             - {name: files, mountPath: /var/uploads}
//!       volumes:
//!         - name: files
//!           persistentVolumeClaim: {claimName: uploads-files}
//! ```
//!
//! ## Fix
//! Keep the state in a datastore service (a database, an object store such
//! as S3 or MinIO, a cache) that every replica reaches over the network, and
//! make the pods disposable. If the workload *is* a datastore cairn did not
//! recognise, say so in `cairn.yaml`:
//! ```yaml
//! services:
//!   uploads: {role: datastore}
//! ```
//!
//! ## References
//! - https://12factor.net/processes
//! - https://kubernetes.io/docs/concepts/storage/persistent-volumes/#access-modes
//! - https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/
//!
//! ## Notes
//! `emptyDir` and generic ephemeral volumes are scratch space that dies with
//! the pod, so they are not state in this sense. Compose volumes are not
//! read. A claim used for a cache the service can rebuild is state cairn
//! cannot tell apart; suppress the finding with that reason.

use std::collections::HashMap;

use cairn_model::{Role, Service};

use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA505",
    name: "stateful-app-service",
    category: Category::Architecture,
    levels: levels!(off, info, info, warning, warning),
    summary: "an application service keeps its state on a persistent volume",
    help: "keep the state in a datastore service every replica reaches, and make the pods disposable",
    check,
};

/// Workload kinds that run for good (not Jobs).
const LONG_RUNNING: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Pod",
    "DeploymentConfig",
];

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let mut services: HashMap<(&str, Option<&str>, &str), &Service> = HashMap::new();
    for s in &cx.system.services {
        for w in &s.workloads {
            services.insert(
                (w.kind.as_str(), w.namespace.as_deref(), w.name.as_str()),
                s,
            );
        }
    }
    for (i, obj) in cx.workloads() {
        if !LONG_RUNNING.contains(&obj.kind.as_str()) {
            continue;
        }
        let Some(svc) = services
            .get(&(
                obj.kind.as_str(),
                obj.namespace.as_deref(),
                obj.name.as_str(),
            ))
            .filter(|s| s.role == Role::App)
        else {
            continue;
        };
        let Some(spec) = obj.pod_spec() else { continue };
        // (volume name, what it is, where to point, read-only at the volume)
        let mut claims: Vec<(&str, String, Pos, bool)> = Vec::new();
        for v in spec.node.seq_at("volumes") {
            let (Some(name), Some((key, pvc))) =
                (v.get_str("name"), v.entry("persistentVolumeClaim"))
            else {
                continue;
            };
            let claim = pvc.get_str("claimName").unwrap_or(name);
            let ro = pvc.get("readOnly").and_then(Node::as_bool) == Some(true);
            claims.push((
                name,
                format!("PersistentVolumeClaim `{claim}`"),
                key.pos,
                ro,
            ));
        }
        if obj.kind == "StatefulSet" {
            for t in obj
                .spec()
                .map_or(&[][..], |s| s.seq_at("volumeClaimTemplates"))
            {
                let Some(name_node) = t.path(&["metadata", "name"]) else {
                    continue;
                };
                let Some(name) = name_node.as_str() else {
                    continue;
                };
                claims.push((
                    name,
                    format!("volume claim template `{name}`"),
                    name_node.pos,
                    false,
                ));
            }
        }
        for (name, what, pos, volume_ro) in claims {
            if volume_ro {
                continue;
            }
            let mounts: Vec<(&str, &Node)> = cx
                .containers(obj)
                .into_iter()
                .filter(|c| !c.ephemeral)
                .flat_map(|c| {
                    c.node
                        .seq_at("volumeMounts")
                        .iter()
                        .map(move |m| (c.name, m))
                })
                .filter(|(_, m)| m.get_str("name") == Some(name))
                .collect();
            let writable: Vec<&(&str, &Node)> = mounts
                .iter()
                .filter(|(_, m)| m.get("readOnly").and_then(Node::as_bool) != Some(true))
                .collect();
            let Some((container, mount)) = writable.first() else {
                continue;
            };
            let path = mount
                .get_str("mountPath")
                .map_or_else(String::new, |p| format!(" at `{p}`"));
            out.object(
                cx,
                i,
                pos,
                format!(
                    "{} is an application service but keeps state on {what}, mounted writable{path} in container `{container}`",
                    describe(obj)
                ),
            )
            .help(format!(
                "keep the state in a datastore service every replica reaches; if `{}` is itself a datastore, state `role: datastore` for it in cairn.yaml",
                svc.name
            ));
        }
    }
}
