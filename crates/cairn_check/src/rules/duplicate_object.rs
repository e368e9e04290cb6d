//! The same object is defined twice in files that are applied together.
//!
//! Kubernetes names an object by its API group, kind, namespace and name.
//! Two definitions with the same identity are one object: `kubectl apply`
//! applies both in turn and the later silently replaces the earlier, so a
//! change made to the first copy never takes effect (and Kustomize refuses
//! to build such a set). The group is compared after the renames of the
//! past: `extensions/v1beta1` Deployments are `apps` Deployments, its
//! NetworkPolicies and Ingresses are `networking.k8s.io` ones.
//!
//! Repositories often keep variants of one system side by side: split
//! manifests and a rendered bundle, a Kustomize base built by several
//! overlays, a Helm chart and its output, a folder of alternative routing
//! rules to apply one at a time. Those copies are not applied together, so
//! only definitions that are get reported: two in the same file, or two in
//! files of one folder that is applied as a unit, that is a folder with a
//! `kustomization.yaml` (Kustomize refuses to build it), or one whose files
//! are numbered for `kubectl apply -f <folder>` (`01-web.yaml`,
//! `02-web-svc.yaml`). Objects rendered by several Kustomize builds from one
//! base file are the same definition, not copies.
//!
//! ## Example
//! ```yaml
//! # deploy/01-web.yaml
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata: {name: web, namespace: shop}
//! ---
//! # deploy/02-web-canary.yaml: replaces the one above when deploy/ is applied
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata: {name: web, namespace: shop}
//! ```
//!
//! ## Fix
//! Delete one copy, or rename it (`web-canary`) if both should exist.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
//! - https://kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config/
//!
//! ## Notes
//! Namespaces are compared as written: an object without a namespace and one
//! in `shop` are different here, though applying the first with `-n shop`
//! would make them collide. Copies in different folders are never reported,
//! nor copies in two unnumbered files of a folder without a kustomization:
//! such a folder is as often a set of alternatives as a unit.

use std::collections::{HashMap, HashSet};

use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA206",
    name: "duplicate-object",
    category: Category::Manifest,
    levels: levels!(info, info, warning, warning, error),
    summary: "the same object is defined twice in files that are applied together",
    help: "delete one of the copies, or rename one if both are meant to exist",
    check,
};

/// Kinds without a namespace: a namespace written on them is ignored.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "CSIDriver",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "ClusterIssuer",
    "GatewayClass",
];

/// The group an object is served under today.
fn canonical_group(o: &K8sObject) -> &str {
    match (o.group(), o.kind.as_str()) {
        ("extensions", "Deployment" | "DaemonSet" | "ReplicaSet" | "StatefulSet") => "apps",
        ("extensions", "NetworkPolicy" | "Ingress") => "networking.k8s.io",
        ("extensions", "PodSecurityPolicy") => "policy",
        (g, _) => g,
    }
}

fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, f)| f)
}

/// Whether a file name starts with a number (`01-web.yaml`): the folder's
/// files are meant to be applied together, in order.
fn numbered(path: &str) -> bool {
    file_name(path).starts_with(|c: char| c.is_ascii_digit())
}

/// Folders with a Kustomization: built, hence applied, as one unit.
fn kustomized<'a>(cx: &Ctx<'a>) -> HashSet<&'a str> {
    cx.ingest
        .sources
        .iter()
        .map(|(_, f)| f.path.as_ref())
        .map(|p: &str| p.strip_suffix(" (rendered)").unwrap_or(p))
        .filter(|p| {
            matches!(
                file_name(p),
                "kustomization.yaml" | "kustomization.yml" | "Kustomization"
            )
        })
        .map(folder)
        .collect()
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    type Key<'a> = (&'a str, &'a str, Option<&'a str>, &'a str);
    let mut seen: HashMap<Key<'_>, Vec<usize>> = HashMap::new();
    let units = kustomized(cx);
    for (i, o) in cx.objects().iter().enumerate() {
        if o.name.is_empty() || o.kind.ends_with("List") {
            continue;
        }
        let ns = if CLUSTER_SCOPED.contains(&o.kind.as_str()) {
            None
        } else {
            o.namespace.as_deref()
        };
        let key = (canonical_group(o), o.kind.as_str(), ns, o.name.as_str());
        let earlier = seen.entry(key).or_default();
        let path = cx.path(o.file);
        let first = earlier.iter().copied().find(|&j| {
            let e = &cx.objects()[j];
            if e.file == o.file {
                // one source definition rendered by several builds is no copy
                return e.root.pos != o.root.pos;
            }
            let other = cx.path(e.file);
            folder(other) == folder(path)
                && (units.contains(folder(path)) || (numbered(other) && numbered(path)))
        });
        earlier.push(i);
        let Some(j) = first else { continue };
        let e = &cx.objects()[j];
        let line = e.name_pos().line;
        let where_first = if e.file == o.file {
            format!("line {line} of this file")
        } else {
            format!("{}:{line}", cx.path(e.file))
        };
        out.object(
            cx,
            i,
            o.name_pos(),
            format!(
                "{}{} is defined again; applied together, this copy replaces the one at {where_first}",
                describe(o),
                crate::kit_manifest::in_ns(ns)
            ),
        );
    }
}
