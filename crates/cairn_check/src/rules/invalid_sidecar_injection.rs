//! A sidecar injection label or annotation that Istio or Linkerd ignores or misreads.
//!
//! Mesh injection is switched by a handful of labels and annotations, each
//! read in one place and with a fixed set of values. A value or a place the
//! injector does not expect is not an error anywhere: the pods silently
//! start without a sidecar (no mTLS, no policy, no telemetry), or with one
//! they were meant to skip. The rule checks:
//!
//! - Istio, namespace: the label `istio-injection` is `enabled` or
//!   `disabled` (the webhook matches nothing else); it is a label, not an
//!   annotation; it is not combined with an `istio.io/rev` label (Istio then
//!   ignores the revision); `istio.io/rev` is a label; the pod-level key
//!   `sidecar.istio.io/inject` does nothing on a namespace.
//! - Istio, pod template: `sidecar.istio.io/inject` is the string `"true"` or
//!   `"false"` (a label, the current form, or an annotation, the older one;
//!   the webhook's label selectors match only these two, and the injector
//!   reads any other annotation value as no); an unquoted `true` is a YAML
//!   boolean, which Kubernetes rejects as a label or annotation value; label
//!   and annotation do not disagree; the namespace key `istio-injection`
//!   does nothing on a pod; a pod's `istio.io/rev` label matches its
//!   namespace's; a pod that opts in or picks a revision in a namespace that
//!   disables injection stays without a sidecar (a disabled namespace wins).
//! - Linkerd: `linkerd.io/inject` is an annotation (as a label it does
//!   nothing) with the value `enabled`, `disabled` or `ingress`.
//! - Both: the injection keys belong on the pod template (or the
//!   namespace); on a Deployment's own metadata they do nothing.
//!
//! ## Example
//! ```yaml
//! apiVersion: v1
//! kind: Namespace
//! metadata:
//!   name: shop
//!   labels:
//!     istio-injection: "true"     # must be enabled
//! ---
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata:
//!   name: web
//! spec:
//!   template:
//!     metadata:
//!       labels:
//!         linkerd.io/inject: enabled   # Linkerd reads annotations only
//! ```
//!
//! ## Fix
//! ```yaml
//!   labels:
//!     istio-injection: enabled
//! ---
//!   template:
//!     metadata:
//!       annotations:
//!         linkerd.io/inject: enabled
//! ```
//!
//! ## References
//! - https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/#controlling-the-injection-policy
//! - https://istio.io/latest/docs/reference/config/labels/
//! - https://istio.io/latest/docs/setup/upgrade/canary/#data-plane
//! - https://linkerd.io/2-edge/features/proxy-injection/
//! - https://linkerd.io/2-edge/reference/proxy-configuration/

use crate::kit_mesh::{meta_entry, pod_meta, text};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA709",
    name: "invalid-sidecar-injection",
    category: Category::Mesh,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a sidecar injection label or annotation that Istio or Linkerd ignores or misreads",
    help: "Istio: label namespaces `istio-injection: enabled|disabled` (or `istio.io/rev`), pods `sidecar.istio.io/inject: \"true\"|\"false\"`; Linkerd: annotate `linkerd.io/inject: enabled|disabled|ingress`",
    check,
};

const LINKERD_VALUES: &[&str] = &["enabled", "disabled", "ingress"];

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for (i, ns) in cx.of_kind("Namespace") {
        namespace(cx, out, i, ns);
    }
    for (i, w) in cx.workloads() {
        pod_template(cx, out, i, w);
        if w.kind != "Pod" {
            for (section, key) in [
                ("labels", "sidecar.istio.io/inject"),
                ("annotations", "sidecar.istio.io/inject"),
                ("labels", "linkerd.io/inject"),
                ("annotations", "linkerd.io/inject"),
            ] {
                if let Some((k, _)) = meta_entry(w.metadata(), section, key) {
                    out.object(
                        cx,
                        i,
                        k.pos,
                        format!(
                            "`{key}` is set on the metadata of {}, where the injector never looks: it reads the pod template",
                            describe(w)
                        ),
                    )
                    .help(format!(
                        "move `{key}` to spec.template.metadata.{}",
                        if key.starts_with("linkerd") { "annotations" } else { section }
                    ));
                }
            }
        }
    }
}

fn namespace(cx: &Ctx<'_>, out: &mut Out, i: usize, ns: &K8sObject) {
    let meta = ns.metadata();
    let name = &ns.name;
    if let Some((_, v)) = meta_entry(meta, "labels", "istio-injection") {
        let value = text(v).unwrap_or_default();
        if !matches!(value, "enabled" | "disabled") {
            out.object(
                cx,
                i,
                v.pos,
                format!(
                    "namespace `{name}` has `istio-injection: {value}`: Istio reads only `enabled` and `disabled`, so this label does nothing"
                ),
            )
            .help("set `istio-injection: enabled` (or `disabled` to opt the namespace out)");
        }
        if let Some((k, _)) = meta_entry(meta, "labels", "istio.io/rev") {
            out.object(
                cx,
                i,
                k.pos,
                format!(
                    "namespace `{name}` has both `istio-injection` and `istio.io/rev` labels: `istio-injection` takes precedence and the revision is ignored"
                ),
            )
            .help("keep one: `istio.io/rev: <revision>` for revision-based upgrades, or `istio-injection`");
        }
    }
    for (key, fix) in [
        (
            "istio-injection",
            "make `istio-injection` a label of the namespace",
        ),
        (
            "istio.io/rev",
            "make `istio.io/rev` a label of the namespace",
        ),
    ] {
        if let Some((k, _)) = meta_entry(meta, "annotations", key) {
            out.object(
                cx,
                i,
                k.pos,
                format!(
                    "namespace `{name}` has `{key}` as an annotation: Istio reads the namespace label, so it does nothing"
                ),
            )
            .help(fix);
        }
    }
    for section in ["labels", "annotations"] {
        if let Some((k, _)) = meta_entry(meta, section, "sidecar.istio.io/inject") {
            out.object(
                cx,
                i,
                k.pos,
                format!(
                    "namespace `{name}` has `sidecar.istio.io/inject`, a pod-level setting that does nothing on a namespace"
                ),
            )
            .help("label the namespace `istio-injection: enabled` (or `disabled`)");
        }
    }
    linkerd(cx, out, i, meta, &format!("namespace `{name}`"));
}

fn pod_template(cx: &Ctx<'_>, out: &mut Out, i: usize, w: &K8sObject) {
    let meta = pod_meta(w);
    let whose = format!("the pod template of {}", describe(w));
    let mut written: Vec<(&str, &Node)> = Vec::new();
    for section in ["labels", "annotations"] {
        let Some((_, v)) = meta_entry(meta, section, "sidecar.istio.io/inject") else {
            continue;
        };
        let value = text(v).unwrap_or_default();
        if v.as_bool().is_some() && v.as_scalar().is_some_and(|s| s.plain) {
            out.object(
                cx,
                i,
                v.pos,
                format!(
                    "`sidecar.istio.io/inject: {value}` on {whose} is a YAML boolean: Kubernetes rejects {} values that are not strings",
                    section.trim_end_matches('s')
                ),
            )
            .help(format!(
                "quote it: `sidecar.istio.io/inject: \"{}\"`",
                if v.as_bool() == Some(true) { "true" } else { "false" }
            ));
        } else if !matches!(value, "true" | "false") {
            out.object(
                cx,
                i,
                v.pos,
                format!(
                    "`sidecar.istio.io/inject: \"{value}\"` on {whose} is neither \"true\" nor \"false\": Istio's webhook does not match it{}",
                    if section == "annotations" {
                        " and the injector may read it as no"
                    } else {
                        ", so the pods follow the namespace setting at best"
                    }
                ),
            )
            .help("write `sidecar.istio.io/inject: \"true\"` or `\"false\"`");
        } else {
            written.push((section, v));
        }
    }
    if let [("labels", l), ("annotations", a)] = written.as_slice()
        && text(l) != text(a)
    {
        out.object(
            cx,
            i,
            a.pos,
            format!(
                "{whose} has the label `sidecar.istio.io/inject: \"{}\"` and the annotation `\"{}\"`: the label wins and the annotation is ignored",
                text(l).unwrap_or_default(),
                text(a).unwrap_or_default()
            ),
        )
        .help("remove the annotation (the label is the current form)");
    }
    for section in ["labels", "annotations"] {
        if let Some((k, _)) = meta_entry(meta, section, "istio-injection") {
            out.object(
                cx,
                i,
                k.pos,
                format!(
                    "`istio-injection` on {whose} is a namespace label and does nothing on a pod"
                ),
            )
            .help("use the pod label `sidecar.istio.io/inject: \"true\"` (or `\"false\"`)");
        }
    }
    // Consistency with the namespace, when its object is in the input.
    let ns_meta = w
        .namespace
        .as_deref()
        .and_then(|n| cx.named("Namespace", None, n).next())
        .and_then(|(_, n)| n.metadata());
    let ns_injection = meta_entry(ns_meta, "labels", "istio-injection").and_then(|(_, v)| text(v));
    let ns_rev = meta_entry(ns_meta, "labels", "istio.io/rev").and_then(|(_, v)| text(v));
    let ns_name = w.namespace.as_deref().unwrap_or_default();
    if let Some((_, v)) = meta_entry(meta, "labels", "istio.io/rev") {
        let rev = text(v).unwrap_or_default();
        if ns_injection == Some("disabled") {
            out.object(
                cx,
                i,
                v.pos,
                format!(
                    "{whose} picks Istio revision `{rev}`, but namespace `{ns_name}` disables injection, which wins: the pods get no sidecar"
                ),
            )
            .help(format!(
                "remove `istio-injection: disabled` from namespace `{ns_name}`, or the revision label from the pods"
            ));
        } else if let Some(nrev) = ns_rev.filter(|r| *r != rev) {
            out.object(
                cx,
                i,
                v.pos,
                format!(
                    "{whose} picks Istio revision `{rev}` while namespace `{ns_name}` uses revision `{nrev}`: the revisions' webhooks disagree about these pods"
                ),
            )
            .help(format!(
                "use `istio.io/rev: {nrev}` on the pods, or move the namespace to `{rev}`"
            ));
        }
    }
    if ns_injection == Some("disabled")
        && let Some((section, v)) = written.iter().find(|(_, v)| text(v) == Some("true"))
    {
        out.object(
            cx,
            i,
            v.pos,
            format!(
                "{whose} asks for a sidecar with the {} `sidecar.istio.io/inject`, but namespace `{ns_name}` disables injection, which wins: the pods get no sidecar",
                section.trim_end_matches('s')
            ),
        )
        .help(format!(
            "remove `istio-injection: disabled` from namespace `{ns_name}`, or label it `enabled`"
        ));
    }
    linkerd(cx, out, i, meta, &whose);
}

fn linkerd(cx: &Ctx<'_>, out: &mut Out, i: usize, meta: Option<&Node>, whose: &str) {
    if let Some((k, v)) = meta_entry(meta, "labels", "linkerd.io/inject") {
        out.object(
            cx,
            i,
            k.pos,
            format!(
                "`linkerd.io/inject` is a label on {whose}: Linkerd reads it only as an annotation, so it does nothing"
            ),
        )
        .help(format!(
            "make it an annotation: `linkerd.io/inject: {}`",
            text(v).filter(|v| LINKERD_VALUES.contains(v)).unwrap_or("enabled")
        ));
    }
    if let Some((_, v)) = meta_entry(meta, "annotations", "linkerd.io/inject") {
        let value = text(v).unwrap_or_default();
        if !LINKERD_VALUES.contains(&value) {
            out.object(
                cx,
                i,
                v.pos,
                format!(
                    "`linkerd.io/inject: {value}` on {whose} is not one of `enabled`, `disabled` or `ingress`: Linkerd does not inject"
                ),
            )
            .help("write `linkerd.io/inject: enabled` (or `disabled`, or `ingress` for an ingress controller)");
        }
    }
}
