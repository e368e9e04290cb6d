//! Mesh traffic may travel in plain text: mTLS is not required.
//!
//! Istio encrypts traffic between two sidecars automatically, but a sidecar
//! in `PERMISSIVE` mode also accepts plain-text connections, and in `DISABLE`
//! mode accepts nothing else. Any pod, meshed or not, can then call the
//! workload without a verifiable identity, and authorization policies that
//! name principals or namespaces cannot protect it. `PERMISSIVE` is meant
//! for migrating into the mesh; `STRICT` is the end state.
//!
//! The rule reports, in a system that uses Istio (any Istio object, or a
//! workload or namespace that enables injection):
//!
//! - every `PeerAuthentication` whose `mtls.mode` (or a `portLevelMtls`
//!   entry) is `PERMISSIVE` or `DISABLE`, at that mode, whatever it covers
//!   (mesh-wide in `istio-system`, a namespace, or selected workloads);
//! - once per namespace, meshed workloads that no `PeerAuthentication` gives
//!   a mode at all: Istio's default is `PERMISSIVE`.
//!
//! A workload counts as meshed when its pods or namespace enable injection,
//! or when the system uses Istio and the files do not say (namespaces are
//! usually labelled outside the repository); the finding then says "if they
//! run with Istio sidecars". A workload or namespace that opts out, a
//! host-network pod, a pod Linkerd injects, or a workload whose `Namespace`
//! object is in the input without an injection label while another one has
//! it, is not meshed.
//!
//! Linkerd encrypts traffic between meshed pods too and, like `PERMISSIVE`,
//! accepts plain text from unmeshed clients under its default inbound policy
//! `all-unauthenticated`. That default is an install-time setting, not in the
//! manifests, so the rule reports Linkerd only where the files choose an
//! unauthenticated policy: a `config.linkerd.io/default-inbound-policy` of
//! `all-unauthenticated` or `cluster-unauthenticated` on a meshed pod
//! template or a `Namespace`.
//!
//! ## Example
//! ```yaml
//! apiVersion: security.istio.io/v1
//! kind: PeerAuthentication
//! metadata:
//!   name: default
//!   namespace: shop
//! spec:
//!   mtls:
//!     mode: PERMISSIVE
//! ```
//!
//! ## Fix
//! ```yaml
//! spec:
//!   mtls:
//!     mode: STRICT
//! ```
//! Set it mesh-wide with a `PeerAuthentication` named `default` in
//! `istio-system`, or per namespace. Workloads that must accept plain text
//! (a health checker outside the mesh) can keep a port-level exception.
//!
//! ## Notes
//! The root namespace is assumed to be `istio-system` (Istio's default
//! `meshConfig.rootNamespace`). A mesh-wide policy applied outside the
//! scanned files is not seen: the finding then names the namespaces to check.
//!
//! ## References
//! - https://istio.io/latest/docs/concepts/security/#peer-authentication
//! - https://istio.io/latest/docs/reference/config/security/peer_authentication/
//! - https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/
//! - https://linkerd.io/2-edge/reference/authorization-policy/#default-policies

use std::collections::BTreeMap;

use crate::kit_mesh::{Enrollment, PeerAuths, meta_entry, pod_meta, qualified, text};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA701",
    name: "mtls-not-strict",
    category: Category::Mesh,
    levels: levels!(off, info, info, warning, error),
    summary: "mesh traffic may travel in plain text: mTLS is not required",
    help: "require mTLS with a PeerAuthentication `mtls.mode: STRICT` (mesh-wide in istio-system, or per namespace)",
    check,
};

const UNAUTHENTICATED: &[&str] = &["all-unauthenticated", "cluster-unauthenticated"];

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let enrollment = Enrollment::new(cx);
    let pas = PeerAuths::new(cx);
    for pa in &pas.list {
        if let Some((mode, node)) = pa.mode
            && matches!(mode, "PERMISSIVE" | "DISABLE")
        {
            out.object(
                cx,
                pa.index,
                node.pos,
                format!(
                    "PeerAuthentication/{} sets mTLS mode {mode} for {}: {}",
                    pa.obj.name,
                    pa.scope(),
                    consequence(mode)
                ),
            );
        }
        for (port, mode, node) in &pa.port_modes {
            if matches!(*mode, "PERMISSIVE" | "DISABLE") {
                out.object(
                    cx,
                    pa.index,
                    node.pos,
                    format!(
                        "PeerAuthentication/{} sets mTLS mode {mode} on port {port} of {}: {}",
                        pa.obj.name,
                        pa.scope(),
                        consequence(mode)
                    ),
                )
                .help("remove the port-level exception, or keep it only for a port that must serve clients outside the mesh");
            }
        }
    }
    // Meshed workloads no PeerAuthentication gives a mode, by namespace.
    if enrollment.istio_used {
        let mut uncovered: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
        for (i, w) in cx.workloads() {
            if !enrollment.in_istio(w) {
                continue;
            }
            let eff = pas.effective(w.namespace.as_deref(), cx.pod_labels(i));
            if eff.from.is_none() {
                uncovered.entry(w.namespace.as_deref()).or_default().push(i);
            }
        }
        for (ns, workloads) in uncovered {
            let first = &cx.objects()[workloads[0]];
            let mut names: Vec<(&str, &str)> = workloads
                .iter()
                .map(|&i| (cx.objects()[i].kind.as_str(), cx.objects()[i].name.as_str()))
                .collect();
            names.sort_unstable();
            names.dedup();
            let more = match names.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            let assumed = workloads
                .iter()
                .all(|&i| enrollment.istio_assumed(&cx.objects()[i]));
            let (index, pos, whose) = match enrollment.namespace(ns) {
                Some(n) => (
                    cx.find_index("Namespace", None, &n.name),
                    n.name_pos(),
                    format!("namespace `{}`", n.name),
                ),
                None => (
                    Some(workloads[0]),
                    first.name_pos(),
                    ns.map_or_else(
                        || "the namespace they are applied to".to_owned(),
                        |n| format!("namespace `{n}`"),
                    ),
                ),
            };
            let Some(index) = index else { continue };
            let message = if assumed {
                format!(
                    "no PeerAuthentication sets an mTLS mode for the workloads of {whose} ({}{more}): if they run with Istio sidecars (the files do not say whether the namespace is labelled for injection), Istio's default PERMISSIVE mode accepts plain text",
                    qualified(first)
                )
            } else {
                format!(
                    "no PeerAuthentication sets an mTLS mode for the meshed workloads of {whose} ({}{more}): Istio's default PERMISSIVE mode accepts plain text",
                    qualified(first)
                )
            };
            out.object(cx, index, pos, message)
            .help(match ns {
                Some(ns) => format!(
                    "add a PeerAuthentication with `mtls.mode: STRICT` in namespace `{ns}`, or a mesh-wide one named `default` in istio-system"
                ),
                None => "add a PeerAuthentication with `mtls.mode: STRICT` in the namespace, or a mesh-wide one named `default` in istio-system".to_owned(),
            });
        }
    }
    // Linkerd: an unauthenticated default inbound policy chosen in the files.
    for (i, w) in cx.workloads() {
        if !enrollment.in_linkerd(w) {
            continue;
        }
        unauthenticated_inbound(cx, out, i, pod_meta(w), || describe(w));
    }
    for (i, n) in cx.of_kind("Namespace") {
        let meshed = meta_entry(n.metadata(), "annotations", "linkerd.io/inject")
            .and_then(|(_, v)| text(v))
            == Some("enabled");
        if !meshed {
            continue;
        }
        unauthenticated_inbound(cx, out, i, n.metadata(), || {
            format!("namespace `{}`", n.name)
        });
    }
}

/// Reports a Linkerd default inbound policy that accepts unauthenticated
/// clients, set in the annotations of `meta` (of object `i`, which `who`
/// names).
fn unauthenticated_inbound(
    cx: &Ctx<'_>,
    out: &mut Out,
    i: usize,
    meta: Option<&Node>,
    who: impl FnOnce() -> String,
) {
    if let Some((_, v)) = meta_entry(
        meta,
        "annotations",
        "config.linkerd.io/default-inbound-policy",
    ) && let Some(policy) = text(v).filter(|p| UNAUTHENTICATED.contains(p))
    {
        out.object(
            cx,
            i,
            v.pos,
            format!(
                "{} sets Linkerd's default inbound policy `{policy}`: its proxies accept plain-text connections from clients outside the mesh",
                who()
            ),
        )
        .help("use `all-authenticated` (or `cluster-authenticated`), or authorize clients with Server and AuthorizationPolicy objects");
    }
}

fn consequence(mode: &str) -> &'static str {
    if mode == "DISABLE" {
        "sidecars accept only plain text"
    } else {
        "sidecars also accept plain-text connections"
    }
}
