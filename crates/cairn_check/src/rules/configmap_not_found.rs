//! A pod references a ConfigMap that is not in the scanned files.
//!
//! A container whose environment reads a ConfigMap (`env[].valueFrom.
//! configMapKeyRef`, `envFrom[].configMapRef`) does not start while the
//! ConfigMap is missing (`CreateContainerConfigError`), and a pod with a
//! `configMap` volume (or a projected one) waits in `ContainerCreating`.
//! Unless the reference says `optional: true`, the ConfigMap must exist in
//! the pod's namespace before the pod can run.
//!
//! One finding per workload and ConfigMap name, at the first reference.
//!
//! ## Example
//! ```yaml
//! containers:
//!   - name: web
//!     envFrom:
//!       - configMapRef: {name: web-confg}   # the ConfigMap is web-config
//! ```
//!
//! ## Fix
//! Fix the name, add the ConfigMap to the manifests, or mark the reference
//! `optional: true` when the pod can run without it.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/configuration/configmap/#configmaps-and-pods
//! - https://kubernetes.io/docs/tasks/configure-pod-container/configure-pod-configmap/#restrictions
//!
//! ## Differences from other tools
//! kube-linter's `env-value-from` also reports a missing key in a ConfigMap
//! that exists; this rule is about the object only.
//!
//! ## Notes
//! ConfigMaps a Kustomize `configMapGenerator` makes are seen when the
//! folder is rendered (the default). A ConfigMap created outside the files
//! (by Helm values, a CI job, an operator) is reported: suppress it with a
//! reason.

use crate::kit_manifest::{Produced, missing_config_refs};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA204",
    name: "configmap-not-found",
    category: Category::Manifest,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a pod references a ConfigMap that is not in the scanned files",
    help: "fix the name, add the ConfigMap, or mark the reference `optional: true`",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let mut produced = Produced::default();
    for (_, cm) in cx.of_kind("ConfigMap") {
        if cm.group().is_empty() {
            produced.add(&cm.name, cm.namespace.as_deref(), describe(cm));
        }
    }
    missing_config_refs(cx, out, false, &produced, "which no scanned file defines");
}
