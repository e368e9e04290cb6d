//! A synchronous call has no circuit breaker configured.
//!
//! When a callee starts failing or slowing down, callers that keep sending
//! it requests make things worse: they queue behind it, retry into it, and
//! keep it from recovering, and the failure spreads up the call graph. A
//! circuit breaker stops sending to a failing instance (outlier detection
//! ejects it from the load-balancing pool) or caps what may be in flight to
//! it (connection-pool limits), so the caller fails fast and the callee gets
//! room to recover.
//!
//! The rule reports each synchronous call (an edge of the model) to a
//! service no circuit breaker guards. A breaker is: an Istio
//! `DestinationRule` for the callee's host with `outlierDetection` or a
//! connection-pool limit Envoy enforces as a circuit-breaker threshold
//! (`tcp.maxConnections`, `http.http1MaxPendingRequests`,
//! `http.http2MaxRequests`, `http.maxRetries`), at the top of its
//! `trafficPolicy`, for a port, or for a subset; the Linkerd
//! `balancer.linkerd.io/failure-accrual` annotation on the callee's Service;
//! or `circuit_breaker: true` on the dependency in `cairn.yaml` (a breaker in
//! the client code, stated). It reports at the place the call is configured,
//! once per caller and callee.
//!
//! The message says where cairn looked. When the scanned files hold no mesh
//! configuration, the breaker may be in the client code (Resilience4j,
//! Polly, gobreaker), which cairn does not read: state it in `cairn.yaml`.
//!
//! Left out, as for `missing-timeout`: datastore and broker connections,
//! telemetry export, load-generator traffic, compose `depends_on`, and calls
//! from an Ingress controller the files only imply.
//!
//! ## Example
//! ```yaml
//! # web calls orders; nothing ejects a failing orders pod
//! env:
//!   - name: ORDERS_URL
//!     value: http://orders:8080
//! ```
//!
//! ## Fix
//! With Istio:
//! ```yaml
//! apiVersion: networking.istio.io/v1
//! kind: DestinationRule
//! metadata: {name: orders}
//! spec:
//!   host: orders
//!   trafficPolicy:
//!     connectionPool:
//!       http: {http1MaxPendingRequests: 100}
//!     outlierDetection:
//!       consecutive5xxErrors: 5
//!       interval: 10s
//!       baseEjectionTime: 30s
//! ```
//! With a breaker in the client, say so:
//! ```yaml
//! services:
//!   web:
//!     dependencies:
//!       - {to: orders, kind: sync, circuit_breaker: true}
//! ```
//!
//! ## References
//! - https://istio.io/latest/docs/tasks/traffic-management/circuit-breaking/
//! - https://istio.io/latest/docs/reference/config/networking/destination-rule/#OutlierDetection
//! - https://linkerd.io/2/reference/circuit-breaking/
//! - https://martinfowler.com/bliki/CircuitBreaker.html
//!
//! ## Notes
//! A `DestinationRule` is applied by the caller's proxy; cairn counts it
//! whether or not the caller's pods join the mesh. A breaker on one subset
//! or one port counts for every call to the host (the model does not know
//! which port or subset a call takes).

use crate::kit_graph::{HostLookup, guarded_services, report_unguarded_calls, stated};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA602",
    name: "missing-circuit-breaker",
    category: Category::Resilience,
    levels: levels!(off, info, info, warning, warning),
    summary: "a synchronous call has no circuit breaker configured",
    help: "add a DestinationRule with outlierDetection for the callee, or state the client's circuit breaker in cairn.yaml",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let hosts = HostLookup::new(cx.system);
    let guarded = guarded_services(cx, &hosts);
    report_unguarded_calls(
        cx,
        out,
        |e, to| {
            let p = &e.policy;
            guarded.contains(e.to.as_str())
                || to.is_some_and(|s| guarded.contains(s.name.as_str()))
                || p.circuit_breaker == Some(true)
                || p.outlier_consecutive_errors.is_some()
                || p.max_connections.is_some()
                || p.max_pending_requests.is_some()
        },
        |e, caller, callee, sources| {
            let why = if stated(e) && e.policy.circuit_breaker == Some(false) {
                "its cairn.yaml dependency states `circuit_breaker: false` and no DestinationRule sets one".to_owned()
            } else if stated(e) {
                "its cairn.yaml dependency states none and no DestinationRule sets one".to_owned()
            } else if sources.none() {
                "the scanned files hold no DestinationRule and cairn.yaml states none (the client code may have one)".to_owned()
            } else {
                format!(
                    "no DestinationRule sets outlierDetection or connection-pool limits for {callee}, and cairn.yaml states none"
                )
            };
            let message = format!(
                "no circuit breaker is configured for calls from {caller} to {callee}: {why}"
            );
            let help = if sources.none() {
                format!(
                    "guard the calls from `{}` to {callee} with a circuit breaker in the client, and state it in cairn.yaml (`circuit_breaker: true` on that dependency)",
                    e.from
                )
            } else {
                format!(
                    "add a DestinationRule for {callee} with `outlierDetection` (Istio), `balancer.linkerd.io/failure-accrual: consecutive` on its Service (Linkerd), or state the client's breaker in cairn.yaml"
                )
            };
            (message, help)
        },
    );
}
