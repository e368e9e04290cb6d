//! An autoscaler names a scale target that does not exist.
//!
//! A `HorizontalPodAutoscaler` finds what it scales through
//! `scaleTargetRef`: the API group (from `apiVersion`), the kind and the
//! name, in its own namespace. When any of the three is wrong (a renamed
//! Deployment, a Deployment turned into a `StatefulSet`, a missing or
//! outdated `apiVersion`), the autoscaler reports `FailedGetScale` and never
//! scales: the workload stays at its `spec.replicas` through every load
//! peak, and nothing fails loudly.
//!
//! The rule checks every `HorizontalPodAutoscaler` and every KEDA
//! `ScaledObject` (whose `scaleTargetRef` defaults to an `apps/v1`
//! Deployment). It reports a reference that names no object of that kind
//! and name in the autoscaler's namespace, a `HorizontalPodAutoscaler`
//! reference without `apiVersion` (Kubernetes then looks in the core API
//! group, where there are no Deployments), one whose group differs from the
//! target's, and a reference without a kind or a name.
//!
//! ## Example
//! ```yaml
//! apiVersion: autoscaling/v2
//! kind: HorizontalPodAutoscaler
//! metadata:
//!   name: checkout
//! spec:
//!   scaleTargetRef:
//!     apiVersion: apps/v1
//!     kind: Deployment
//!     name: checkout-service   # the Deployment is called checkout
//! ```
//!
//! ## Fix
//! Name the workload as it is defined:
//! ```yaml
//!   scaleTargetRef:
//!     apiVersion: apps/v1
//!     kind: Deployment
//!     name: checkout
//! ```
//!
//! ## Notes
//! The target must be among the scanned files: an autoscaler for a workload
//! defined elsewhere (another chart, another repository) is reported too;
//! scan them together or suppress the finding with a reason. A reference in
//! group `apps` to a workload declared in the old `extensions` group is left
//! to `deprecated-api-version`.
//!
//! ## References
//! - https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
//! - https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/horizontal-pod-autoscaler-v2/
//! - https://keda.sh/docs/latest/reference/scaledobject-spec/

use crate::kit_resilience::{group_of, is_scaler};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA610",
    name: "hpa-target-not-found",
    category: Category::Resilience,
    levels: levels!(warning, warning, warning, error, error),
    summary: "an autoscaler names a scale target that does not exist",
    help: "make scaleTargetRef name the workload's apiVersion, kind and name exactly",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for kind in ["HorizontalPodAutoscaler", "ScaledObject"] {
        for (i, obj) in cx.of_kind(kind) {
            if is_scaler(obj) {
                check_one(cx, out, i, obj);
            }
        }
    }
}

fn check_one(cx: &Ctx<'_>, out: &mut Out, i: usize, obj: &K8sObject) {
    let what = describe(obj);
    let keda = obj.kind == "ScaledObject";
    let Some(spec) = obj.spec() else { return };
    let Some((ref_key, target)) = spec.entry("scaleTargetRef").filter(|(_, v)| !v.is_null()) else {
        let at = key_pos(&obj.root, "spec").unwrap_or_else(|| obj.name_pos());
        out.object(cx, i, at, format!("{what} has no scaleTargetRef"));
        return;
    };
    let Some(name_node) = target.get("name").filter(|n| n.as_str().is_some()) else {
        out.object(
            cx,
            i,
            ref_key.pos,
            format!("the scaleTargetRef of {what} names no target"),
        );
        return;
    };
    let name = name_node.as_str().unwrap_or_default();
    let Some(kind) = target.get_str("kind").or(keda.then_some("Deployment")) else {
        out.object(
            cx,
            i,
            ref_key.pos,
            format!("the scaleTargetRef of {what} sets no kind"),
        )
        .help(format!(
            "set scaleTargetRef.kind (and apiVersion) of `{name}`"
        ));
        return;
    };
    let ns = obj.namespace.as_deref();
    let Some(found) = cx.named(kind, ns, name).map(|(_, o)| o).next() else {
        let place = ns.map_or_else(|| "the input".to_owned(), |n| format!("namespace {n}"));
        let f = out.object(
            cx,
            i,
            name_node.pos,
            format!("{what} targets {kind}/{name}, which is not defined in {place}"),
        );
        // the same name under another kind: a Deployment turned StatefulSet
        if let Some((_, other)) = cx
            .workloads()
            .find(|(_, w)| w.name == name && same_ns(w.namespace.as_deref(), ns))
        {
            f.help(format!(
                "{kind}/{name} does not exist but {}/{name} does: set scaleTargetRef.kind: {} and apiVersion: {}",
                other.kind, other.kind, other.api_version
            ));
        } else if let Some(near) = cx
            .of_kind(kind)
            .filter(|(_, o)| same_ns(o.namespace.as_deref(), ns))
            .map(|(_, o)| (edit_distance(&o.name, name), o.name.as_str()))
            .filter(|&(d, _)| d <= 2 && d * 3 <= name.len())
            .min()
        {
            f.help(format!("did you mean {kind}/{}?", near.1));
        }
        return;
    };
    match target.entry("apiVersion") {
        Some((_, av)) if av.as_str().is_some() => {
            let group = group_of(av.as_str().unwrap_or_default());
            let same = group == found.group() || (group == "apps" && found.group() == "extensions");
            if !same {
                out.object(
                    cx,
                    i,
                    av.pos,
                    format!(
                        "{what} looks for {kind}/{name} in API group `{}`, but it is defined in `{}`",
                        display_group(group),
                        display_group(found.group())
                    ),
                )
                .help(format!("set scaleTargetRef.apiVersion: {}", found.api_version));
            }
        }
        // a ReplicationController is in the core group, where no apiVersion looks
        _ if !keda && !found.group().is_empty() => {
            out.object(
                cx,
                i,
                ref_key.pos,
                format!(
                    "the scaleTargetRef of {what} sets no apiVersion, so Kubernetes looks for {kind}/{name} in the core API group and finds nothing"
                ),
            )
            .help(format!("set scaleTargetRef.apiVersion: {}", found.api_version));
        }
        _ => {}
    }
}

fn display_group(group: &str) -> &str {
    if group.is_empty() { "core" } else { group }
}

/// Levenshtein distance, for a did-you-mean on a misspelt target.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
