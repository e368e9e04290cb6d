//! A meshed service admits every caller: no authorization policy covers it.
//!
//! A service mesh gives every workload an identity, but identities protect
//! nothing until a policy says which ones may call. Without one, any
//! workload in the mesh (and, unless mTLS is strict, any pod at all) can call
//! the service: a compromised pod reaches every API. Zero-trust means each
//! service lists its callers.
//!
//! For Istio, the rule reports a service whose meshed pods no `ALLOW` (or
//! `CUSTOM`) `AuthorizationPolicy` covers: none selects their labels, none
//! covers their namespace (no selector), none in the root namespace
//! `istio-system` covers the whole mesh, and none targets their Service by
//! `targetRefs`. A `DENY` policy alone does not count (everything it does
//! not deny stays allowed) unless its sources are an allow-list written as
//! negations (`notPrincipals`, `notNamespaces`).
//!
//! For Linkerd, the rule reports a service whose meshed pods no `Server`
//! selects while their default inbound policy (the pod's or namespace's
//! `config.linkerd.io/default-inbound-policy`) is not `deny`: the default
//! policy then decides, and it admits every client (`all-unauthenticated`,
//! Linkerd's default) or every meshed one. A `Server` with no authorization
//! denies all traffic to its port, so a `Server` counts as a decision.
//!
//! Application services, datastores, brokers and platform services are
//! checked; gateways (which face the outside), observability backends
//! (which every service calls), and Jobs and CronJobs (which run to
//! completion and serve no calls) are not.
//!
//! ## Example
//! ```yaml
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata:
//!   name: cart
//!   namespace: shop      # labelled istio-injection=enabled
//! # ... and no AuthorizationPolicy selects app=cart
//! ```
//!
//! ## Fix
//! ```yaml
//! apiVersion: security.istio.io/v1
//! kind: AuthorizationPolicy
//! metadata:
//!   name: cart
//!   namespace: shop
//! spec:
//!   selector:
//!     matchLabels: {app: cart}
//!   action: ALLOW
//!   rules:
//!     - from:
//!         - source:
//!             principals: ["cluster.local/ns/shop/sa/web"]
//! ```
//! A namespace-wide `AuthorizationPolicy` with an empty `spec: {}` denies
//! everything by default; per-service ALLOW policies then open what is needed.
//!
//! ## Notes
//! An ALLOW policy whose rule is `{}` admits every request; it counts as a
//! decision, written down, and is not reported. Which workloads run with a
//! sidecar follows `mtls-not-strict`'s reading of the injection labels: when
//! the files do not say whether a workload's namespace is labelled for
//! injection, the workload is assumed to be meshed in a system that uses
//! Istio, and the finding says "if they run with Istio sidecars".
//!
//! ## References
//! - https://istio.io/latest/docs/concepts/security/#authorization
//! - https://istio.io/latest/docs/reference/config/security/authorization-policy/
//! - https://istio.io/latest/docs/ops/best-practices/security/#use-default-deny-patterns
//! - https://linkerd.io/2-edge/features/server-policy/

use cairn_model::Role;

use crate::kit_mesh::{
    AuthzPolicies, Enrollment, LinkerdServers, meta_entry, pod_meta, qualified, text,
    workload_object,
};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA702",
    name: "missing-authorization-policy",
    category: Category::Mesh,
    levels: levels!(off, off, info, warning, warning),
    summary: "a meshed service admits every caller: no authorization policy covers it",
    help: "add an AuthorizationPolicy (Istio) or a Server with an AuthorizationPolicy (Linkerd) that admits only the service's callers",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let enrollment = Enrollment::new(cx);
    let policies = AuthzPolicies::new(cx);
    let servers = LinkerdServers::new(cx);
    for s in &cx.system.services {
        if !matches!(
            s.role,
            Role::App | Role::Datastore | Role::Broker | Role::Infra
        ) {
            continue;
        }
        let names: Vec<&str> = std::iter::once(s.name.as_str())
            .chain(s.k8s_services.iter().map(|k| k.name.as_str()))
            .collect();
        for w in &s.workloads {
            let Some(i) = workload_object(cx, w) else {
                continue;
            };
            let obj = &cx.objects()[i];
            if matches!(obj.kind.as_str(), "Job" | "CronJob") {
                // run to completion and serve no calls
                continue;
            }
            let labels = cx.pod_labels(i);
            let ns = obj.namespace.as_deref();
            if enrollment.in_istio(obj) {
                let covered =
                    policies
                        .applying(ns, labels, &names)
                        .iter()
                        .any(|p| match p.action {
                            "ALLOW" | "CUSTOM" => true,
                            "DENY" => p.rules.iter().any(negated_sources),
                            _ => false,
                        });
                if !covered {
                    let effect = if enrollment.istio_assumed(obj) {
                        "if they run with Istio sidecars (the files do not say whether their namespace is labelled for injection), any workload in the mesh can call them"
                    } else {
                        "any workload in the mesh can call it"
                    };
                    out.object(
                        cx,
                        i,
                        obj.name_pos(),
                        format!(
                            "no ALLOW AuthorizationPolicy covers the pods of service `{}` ({}): {effect}",
                            s.name,
                            qualified(obj)
                        ),
                    )
                    .help(format!(
                        "add an AuthorizationPolicy selecting {} that allows only the callers of `{}`",
                        label_text(labels),
                        s.name
                    ));
                    break;
                }
            } else if enrollment.in_linkerd(obj) {
                let served = servers.select(ns, labels);
                let default_policy = meta_entry(
                    pod_meta(obj),
                    "annotations",
                    "config.linkerd.io/default-inbound-policy",
                )
                .or_else(|| {
                    meta_entry(
                        cx.named("Namespace", None, ns.unwrap_or_default())
                            .next()
                            .and_then(|(_, n)| n.metadata()),
                        "annotations",
                        "config.linkerd.io/default-inbound-policy",
                    )
                })
                .and_then(|(_, v)| text(v))
                .unwrap_or("all-unauthenticated");
                if !served && default_policy != "deny" {
                    out.object(
                        cx,
                        i,
                        obj.name_pos(),
                        format!(
                            "no Linkerd Server selects the pods of service `{}` ({}): the default inbound policy `{default_policy}` admits every {}",
                            s.name,
                            qualified(obj),
                            if default_policy.ends_with("-authenticated") {
                                "meshed client"
                            } else {
                                "client"
                            }
                        ),
                    )
                    .help(format!(
                        "add a Server selecting {} and an AuthorizationPolicy that admits only the callers of `{}`",
                        label_text(labels),
                        s.name
                    ));
                    break;
                }
            }
        }
    }
}

/// Whether a DENY rule names its sources by negation: an allow-list.
fn negated_sources(rule: &Node) -> bool {
    rule.seq_at("from").iter().any(|f| {
        f.get("source").is_some_and(|s| {
            ["notPrincipals", "notNamespaces", "notServiceAccounts"]
                .iter()
                .any(|k| s.get(k).is_some())
        })
    })
}

fn label_text(labels: &[(String, String)]) -> String {
    labels
        .iter()
        .find(|(k, _)| k == "app" || k == "app.kubernetes.io/name")
        .or_else(|| labels.first())
        .map_or_else(|| "its pods".to_owned(), |(k, v)| format!("`{k}: {v}`"))
}
