//! A caller outside the mesh calls a workload that requires mTLS.
//!
//! A workload whose mTLS mode is `STRICT` accepts only mutual-TLS
//! connections from sidecars of its mesh. A caller that runs without a
//! sidecar (injection disabled on its pods or namespace, a namespace left
//! unlabelled, a host-network pod) connects in plain text, and the callee's
//! sidecar resets the connection: every call fails, typically right after
//! mTLS is tightened from `PERMISSIVE` to `STRICT`, or when a new job is
//! deployed to an unlabelled namespace.
//!
//! The rule reports a dependency of the model (an address in configuration,
//! a route, or a dependency stated in `cairn.yaml`) from a Kubernetes
//! workload outside the callee's mesh to a service whose meshed pods all
//! require mTLS:
//!
//! - Istio: the `PeerAuthentication` that applies to the callee's pods (the
//!   workload's, else the namespace's, else the mesh-wide one in
//!   `istio-system`) says `STRICT`, with no weaker port-level exception.
//! - Linkerd: the callee's default inbound policy
//!   (`config.linkerd.io/default-inbound-policy` on its pods or namespace) is
//!   `all-authenticated` or `cluster-authenticated`, and no `Server` selects
//!   its pods (a `Server` brings its own authorizations).
//!
//! Sidecar injection is read as in `mtls-not-strict`: a caller counts as
//! outside the mesh when its pods or namespace opt out, or its `Namespace`
//! object is in the input without an injection label while another one has
//! it. A caller the files say nothing about is assumed to be meshed.
//!
//! ## Example
//! ```yaml
//! # payments requires mTLS ...
//! apiVersion: security.istio.io/v1
//! kind: PeerAuthentication
//! metadata: {name: default, namespace: shop}
//! spec:
//!   mtls: {mode: STRICT}
//! ---
//! # ... but the nightly job that calls it runs without a sidecar
//! apiVersion: batch/v1
//! kind: CronJob
//! metadata: {name: settle, namespace: shop}
//! spec:
//!   jobTemplate:
//!     spec:
//!       template:
//!         metadata:
//!           labels: {sidecar.istio.io/inject: "false"}
//!         spec:
//!           containers:
//!             - name: settle
//!               env:
//!                 - {name: PAYMENTS_URL, value: "http://payments:8080"}
//! ```
//!
//! ## Fix
//! Enroll the caller (remove the opt-out, label its namespace), or give the
//! callee a port-level `PERMISSIVE` exception for the port the outside
//! caller uses while it migrates.
//!
//! ## References
//! - https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/
//! - https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/#controlling-the-injection-policy
//! - https://linkerd.io/2-edge/reference/authorization-policy/#default-policies

use std::collections::HashMap;

use cairn_model::Service;

use crate::kit_mesh::{
    Enrollment, LinkerdServers, PeerAuths, meta_entry, pod_meta, report_edge, service_edges, text,
    workload_object,
};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA707",
    name: "mesh-enrollment-inconsistent",
    category: Category::Mesh,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a caller outside the mesh calls a workload that requires mTLS",
    help: "inject the mesh sidecar into the caller, or let the callee accept plain text on the port it uses",
    check,
};

/// What a callee requires of its callers.
enum Requires {
    /// Istio mTLS, by this `PeerAuthentication`.
    Istio(String),
    /// A Linkerd identity, by this default inbound policy.
    Linkerd(String),
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let enrollment = Enrollment::new(cx);
    let pas = PeerAuths::new(cx);
    let has_linkerd_policy = cx.objects().iter().any(|o| {
        o.metadata().is_some_and(|m| {
            meta_entry(
                Some(m),
                "annotations",
                "config.linkerd.io/default-inbound-policy",
            )
            .is_some()
        }) || meta_entry(
            pod_meta(o),
            "annotations",
            "config.linkerd.io/default-inbound-policy",
        )
        .is_some()
    });
    if pas.list.is_empty() && !has_linkerd_policy {
        return;
    }
    let servers = LinkerdServers::new(cx);
    // what each callee requires, computed once per service
    let mut requires: HashMap<&str, Option<(Requires, usize)>> = HashMap::new();
    for (edge, a, b) in service_edges(cx.system) {
        let req = requires
            .entry(b.name.as_str())
            .or_insert_with(|| callee_requires(cx, &enrollment, &pas, &servers, b));
        let Some((req, fallback)) = req else { continue };
        for ai in a.workloads.iter().filter_map(|w| workload_object(cx, w)) {
            let aobj = &cx.objects()[ai];
            let (outside, what) = match req {
                Requires::Istio(pa) => (
                    !enrollment.in_istio(aobj),
                    format!("requires mTLS ({pa} is STRICT)"),
                ),
                Requires::Linkerd(policy) => (
                    !enrollment.in_linkerd(aobj),
                    format!("admits only meshed clients (default inbound policy `{policy}`)"),
                ),
            };
            if !outside {
                continue;
            }
            let mesh = match req {
                Requires::Istio(_) => "an Istio sidecar",
                Requires::Linkerd(_) => "a Linkerd proxy",
            };
            let fallback_obj = &cx.objects()[*fallback];
            report_edge(
                cx,
                out,
                edge,
                aobj,
                (*fallback, fallback_obj.name_pos()),
                format!(
                    "`{}` calls `{}`, which {what}, but {} runs without {mesh}: the connections will be refused",
                    edge.from,
                    edge.to,
                    describe(aobj)
                ),
            )
            .help(format!(
                "inject {mesh} into {} (remove its opt-out or enable injection on its namespace), or let `{}` accept plain text on the port it calls",
                describe(aobj),
                edge.to
            ));
            break;
        }
    }
}

/// What every meshed Kubernetes workload of `b` requires, and one of them
/// (as an object index), or None when some workload accepts plain text.
fn callee_requires(
    cx: &Ctx<'_>,
    enrollment: &Enrollment<'_>,
    pas: &PeerAuths<'_>,
    servers: &LinkerdServers<'_>,
    b: &Service,
) -> Option<(Requires, usize)> {
    let mut found: Option<(Requires, usize)> = None;
    for i in b.workloads.iter().filter_map(|w| workload_object(cx, w)) {
        let obj = &cx.objects()[i];
        let ns = obj.namespace.as_deref();
        let labels = cx.pod_labels(i);
        let req = if enrollment.in_istio(obj) {
            let eff = pas.effective(ns, labels);
            if eff.mode != "STRICT" || eff.weaker_ports {
                return None;
            }
            Requires::Istio(format!("PeerAuthentication/{}", eff.from?.obj.name))
        } else if enrollment.in_linkerd(obj) {
            if servers.select(ns, labels) {
                return None;
            }
            let policy = meta_entry(
                pod_meta(obj),
                "annotations",
                "config.linkerd.io/default-inbound-policy",
            )
            .or_else(|| {
                meta_entry(
                    enrollment.namespace(ns).and_then(K8sObject::metadata),
                    "annotations",
                    "config.linkerd.io/default-inbound-policy",
                )
            })
            .and_then(|(_, v)| text(v))?;
            if !matches!(policy, "all-authenticated" | "cluster-authenticated") {
                return None;
            }
            Requires::Linkerd(policy.to_owned())
        } else {
            return None;
        };
        if found.is_none() {
            found = Some((req, i));
        }
    }
    found
}
