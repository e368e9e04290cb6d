//! A dependency that the callee's Istio authorization policies deny.
//!
//! The dependency graph says service A calls service B (an address in A's
//! configuration, a route, or a dependency stated in `cairn.yaml`), but the
//! `AuthorizationPolicy` objects on B's pods refuse A: every call fails at
//! runtime with `403 RBAC: access denied` (or a reset TCP connection), often
//! only after a deploy, when the policy or the caller is new.
//!
//! Istio evaluates the policies that apply to a pod (by selector, namespace,
//! or mesh-wide from `istio-system`) in order: a `DENY` policy with a rule
//! matching the request denies it; then, if any `ALLOW` policy applies, the
//! request must match one of their rules. The rule reports an edge when, for
//! a workload of A and every meshed workload of B:
//!
//! - a `DENY` rule matches every request of A (its sources match A's
//!   identity, and it has no `to` or `when` that narrows it), or
//! - `ALLOW` policies apply and no rule of theirs can match A: its sources
//!   name other principals (`cluster.local/ns/<ns>/sa/<sa>`), namespaces or
//!   service accounts, or the policy has no rules at all (deny everything).
//!
//! A's identity is its service account (`default` when not set) in its
//! namespace. A caller without a sidecar has no identity, so rules that
//! require principals or namespaces never match it.
//!
//! ## Example
//! ```yaml
//! # web (service account web) calls cart, but cart admits only checkout
//! apiVersion: security.istio.io/v1
//! kind: AuthorizationPolicy
//! metadata:
//!   name: cart
//!   namespace: shop
//! spec:
//!   selector:
//!     matchLabels: {app: cart}
//!   rules:
//!     - from:
//!         - source:
//!             principals: ["cluster.local/ns/shop/sa/checkout"]
//! ```
//!
//! ## Fix
//! Allow the caller, or remove the dependency if it is stale:
//! ```yaml
//!             principals:
//!               - cluster.local/ns/shop/sa/checkout
//!               - cluster.local/ns/shop/sa/web
//! ```
//!
//! ## Notes
//! Conditions the files cannot decide count in the caller's favour: request
//! principals (JWT), IP blocks, `when` conditions, and `to` operations (A may
//! call only the allowed paths). `CUSTOM` policies (an external authorizer)
//! are not judged. Trust domains are not compared: a principal pattern's
//! own trust domain is taken as the mesh's.
//!
//! ## References
//! - https://istio.io/latest/docs/concepts/security/#authorization-policies
//! - https://istio.io/latest/docs/reference/config/security/authorization-policy/
//! - https://istio.io/latest/docs/ops/common-problems/security-issues/#authorization-is-too-restrictive

use std::collections::HashMap;

use crate::kit_mesh::{
    Authz, AuthzPolicies, Caller, Enrollment, Verdict, report_edge, service_edges, workload_object,
};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA703",
    name: "dependency-blocked-by-authorization-policy",
    category: Category::Mesh,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a dependency that the callee's Istio authorization policies deny",
    help: "allow the caller's principal in the callee's AuthorizationPolicy, or remove the dependency",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let policies = AuthzPolicies::new(cx);
    if policies.list.is_empty() {
        return;
    }
    let enrollment = Enrollment::new(cx);
    let mut callees: HashMap<&str, Vec<Vec<&Authz<'_>>>> = HashMap::new();
    for (edge, a, b) in service_edges(cx.system) {
        // the policies on each meshed workload of the callee, once per callee
        let callee = callees.entry(b.name.as_str()).or_insert_with(|| {
            let names: Vec<&str> = std::iter::once(b.name.as_str())
                .chain(b.k8s_services.iter().map(|k| k.name.as_str()))
                .collect();
            b.workloads
                .iter()
                .filter_map(|w| workload_object(cx, w))
                .filter(|&i| enrollment.in_istio(&cx.objects()[i]))
                .map(|i| {
                    policies.applying(
                        cx.objects()[i].namespace.as_deref(),
                        cx.pod_labels(i),
                        &names,
                    )
                })
                .collect()
        });
        if callee.is_empty() || callee.iter().any(Vec::is_empty) {
            continue;
        }
        for ai in a.workloads.iter().filter_map(|w| workload_object(cx, w)) {
            let aobj = &cx.objects()[ai];
            let sa = aobj
                .pod_spec()
                .and_then(|p| p.service_account())
                .unwrap_or("default");
            let caller = Caller {
                meshed: enrollment.in_istio(aobj),
                namespace: aobj.namespace.as_deref(),
                service_account: sa,
            };
            let verdicts: Vec<Verdict<'_, '_>> = callee
                .iter()
                .map(|ps| AuthzPolicies::verdict(ps, &caller))
                .collect();
            if verdicts.iter().any(|v| matches!(v, Verdict::Allowed)) {
                continue;
            }
            report(cx, out, edge, aobj, &caller, &verdicts[0]);
            break;
        }
    }
}

fn report(
    cx: &Ctx<'_>,
    out: &mut Out,
    edge: &cairn_model::Edge,
    caller_obj: &K8sObject,
    caller: &Caller<'_>,
    verdict: &Verdict<'_, '_>,
) {
    let principal = caller.principal();
    let (policy, message, help) = match verdict {
        Verdict::Allowed => return,
        Verdict::DeniedBy(p) => (
            p,
            format!(
                "`{}` calls `{}`, but AuthorizationPolicy/{} denies every request from `{principal}`: the calls will fail",
                edge.from, edge.to, p.obj.name
            ),
            format!(
                "narrow the DENY rule of AuthorizationPolicy/{} so that it does not match `{principal}`, or remove the dependency",
                p.obj.name
            ),
        ),
        Verdict::NotAllowed(ps) => {
            let p = ps[0];
            let others = match ps.len() {
                1 => String::new(),
                n => format!(" (or of {} other ALLOW policies)", n - 1),
            };
            let why = if caller.meshed {
                format!(
                    "no rule of AuthorizationPolicy/{}{others} allows `{principal}`",
                    p.obj.name
                )
            } else {
                format!(
                    "{} runs without an Istio sidecar, so its requests carry no identity and no rule of AuthorizationPolicy/{}{others} allows them",
                    describe(caller_obj),
                    p.obj.name
                )
            };
            let help = if caller.meshed {
                format!(
                    "add a rule allowing `principals: [\"{principal}\"]` to AuthorizationPolicy/{}, or remove the dependency",
                    p.obj.name
                )
            } else {
                format!(
                    "inject a sidecar into {} and allow `{principal}` in AuthorizationPolicy/{}",
                    describe(caller_obj),
                    p.obj.name
                )
            };
            (
                &ps[0],
                format!(
                    "`{}` calls `{}`, but {why}: the calls will be denied",
                    edge.from, edge.to
                ),
                help,
            )
        }
    };
    report_edge(
        cx,
        out,
        edge,
        caller_obj,
        (policy.index, policy.obj.name_pos()),
        message,
    )
    .help(help);
}
