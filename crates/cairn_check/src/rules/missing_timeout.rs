//! A synchronous call has no timeout configured.
//!
//! A call without a timeout waits as long as the callee takes, and a callee
//! that hangs (a full connection pool, a stuck query, a network partition
//! that drops packets silently) then holds the caller's thread, connection
//! and memory for minutes. The caller's own callers pile up behind it, and a
//! single slow service takes the request path down with it. Istio sets no
//! route timeout by default; most HTTP and gRPC clients wait forever unless
//! told otherwise.
//!
//! The rule reports each synchronous call (an edge of the model) for which
//! no source cairn reads sets a timeout: an Istio `VirtualService` route
//! `timeout`, a Linkerd `ServiceProfile` route timeout or
//! `timeout.linkerd.io/*` annotation on the callee's Service, a Gateway API
//! `HTTPRoute` `timeouts.request`, or the `timeout:` of the dependency in
//! `cairn.yaml`. It reports at the place the call is configured (the
//! variable that names the callee), once per caller and callee.
//!
//! The message says where cairn looked. When the scanned files hold no mesh
//! configuration at all, the timeout may well be set in the client code,
//! which cairn does not read: state it in `cairn.yaml` (`timeout:` on the
//! dependency) so that the policy is visible and checked.
//!
//! Left out: datastore and broker connections (a database driver's timeouts
//! are client settings no route carries), telemetry export (exporters
//! time out on their own), load-generator traffic, compose `depends_on`
//! (start order, not a call), and calls from an Ingress controller the files
//! only imply (controllers apply default proxy timeouts, e.g. 60 s in
//! ingress-nginx).
//!
//! ## Example
//! ```yaml
//! # web calls orders; nothing bounds how long it waits
//! env:
//!   - name: ORDERS_URL
//!     value: http://orders:8080
//! ```
//!
//! ## Fix
//! With Istio, on the route to the callee:
//! ```yaml
//! apiVersion: networking.istio.io/v1
//! kind: VirtualService
//! metadata: {name: orders}
//! spec:
//!   hosts: [orders]
//!   http:
//!     - route:
//!         - destination: {host: orders}
//!       timeout: 2s
//! ```
//! Without a mesh, set the timeout in the client and state it in `cairn.yaml`:
//! ```yaml
//! services:
//!   web:
//!     dependencies:
//!       - {to: orders, kind: sync, timeout: 2s}
//! ```
//!
//! ## References
//! - https://istio.io/latest/docs/tasks/traffic-management/request-timeouts/
//! - https://linkerd.io/2/reference/timeouts/
//! - https://gateway-api.sigs.k8s.io/geps/gep-1742/
//! - https://aws.amazon.com/builders-library/timeouts-retries-and-backoff-with-jitter/
//!
//! ## Notes
//! A mesh route timeout is enforced by the caller's proxy; cairn counts it
//! whether or not the caller's pods join the mesh. A `VirtualService` whose
//! routes set a timeout for some paths only counts for every call to the host.

use crate::kit_graph::{report_unguarded_calls, service_annotated, stated};
use crate::prelude::*;

use std::collections::HashSet;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA601",
    name: "missing-timeout",
    category: Category::Resilience,
    levels: levels!(off, info, info, warning, warning),
    summary: "a synchronous call has no timeout configured",
    help: "set a timeout on the mesh route to the callee, or state the client's timeout on the dependency in cairn.yaml",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let linkerd: HashSet<&str> = cx
        .system
        .services
        .iter()
        .filter(|s| service_annotated(cx, s, &["timeout.linkerd.io/"]))
        .map(|s| s.name.as_str())
        .collect();
    report_unguarded_calls(
        cx,
        out,
        |e, to| {
            e.policy.timeout_ms.is_some() || to.is_some_and(|s| linkerd.contains(s.name.as_str()))
        },
        |e, caller, callee, sources| {
            let why = if stated(e) {
                "its cairn.yaml dependency states none and no mesh route sets one"
            } else if sources.none() {
                "the scanned files hold no mesh route and cairn.yaml states none (the client code may set one)"
            } else {
                "no VirtualService, ServiceProfile, HTTPRoute or cairn.yaml dependency sets one"
            };
            let message =
                format!("no timeout is configured for calls from {caller} to {callee}: {why}");
            let help = if sources.none() {
                format!(
                    "set a timeout where `{}` calls {callee}, and state it in cairn.yaml (`timeout:` on that dependency)",
                    e.from
                )
            } else {
                format!(
                    "set `timeout:` on the VirtualService route to {callee} (Istio), `timeout.linkerd.io/request` on its Service (Linkerd), or state the client's `timeout:` in cairn.yaml"
                )
            };
            (message, help)
        },
    );
}
