//! A service calls more services synchronously than the fan-out limit.
//!
//! Every synchronous dependency is one more way for a request to fail or be
//! slow: with eight dependencies each available 99.9% of the time, a request
//! that needs all of them succeeds 99.2% of the time, and its latency is
//! that of the slowest. A service that calls many others also knows too
//! much: it is an orchestrator that every other team's change can break,
//! and often a sign of a missing aggregate or a boundary drawn too thin.
//!
//! The rule counts, for each service, the distinct services it calls
//! synchronously and reports those above `max-fan-out` (default 7; set it
//! under `checks.thresholds` in `cairn.yaml`).
//!
//! Calls are the synchronous edges of the model; telemetry export (to an
//! observability service), publishing to a broker, datastore connections and
//! compose `depends_on` (start order, not a call) do not count. Gateways
//! (role `gateway`) are left out: routing to many backends is their job, and
//! their calls carry no logic of their own. Load generators are left out
//! too: they stand in for users.
//!
//! ## Example
//! ```yaml
//! # web calls eight services on every page
//! env:
//!   - {name: CATALOG_ADDR, value: "catalog:8080"}
//!   - {name: PRICING_ADDR, value: "pricing:8080"}
//!   - {name: STOCK_ADDR, value: "stock:8080"}
//!   - {name: CART_ADDR, value: "cart:8080"}
//!   - {name: REVIEWS_ADDR, value: "reviews:8080"}
//!   - {name: ADS_ADDR, value: "ads:8080"}
//!   - {name: USERS_ADDR, value: "users:8080"}
//!   - {name: SHIPPING_ADDR, value: "shipping:8080"}
//! ```
//!
//! ## Fix
//! Group the calls behind fewer, coarser services (a `product` service that
//! answers with price and stock; a backend-for-frontend), turn calls whose
//! answer is not needed now into events, or fetch optional parts (ads,
//! reviews) asynchronously with a fallback. If the fan-out is intended, raise
//! the limit:
//! ```yaml
//! checks:
//!   thresholds:
//!     max-fan-out: 10
//! ```
//!
//! ## References
//! - https://learn.microsoft.com/en-us/azure/architecture/microservices/design/interservice-communication
//! - https://microservices.io/patterns/apigateway.html
//! - https://sre.google/sre-book/service-level-objectives/
//!
//! ## Notes
//! A dependency found in configuration may be called by only some requests;
//! the count is of services the configuration names, which is an upper bound
//! of what one request needs.

use crate::kit_graph::{CallGraph, list_some, report};
use crate::prelude::*;

use cairn_model::Role;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA503",
    name: "high-fan-out",
    category: Category::Architecture,
    levels: levels!(off, info, info, warning, warning),
    summary: "a service calls more services synchronously than the fan-out limit",
    help: "group the calls behind fewer services, or turn calls whose answer is not needed now into events",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let limit = cx.settings.thresholds.max_fan_out;
    let g = CallGraph::new(cx.system);
    for (v, calls) in g.calls.iter().enumerate() {
        let svc = g.services[v];
        if svc.is_some_and(|s| s.role == Role::Gateway) {
            continue;
        }
        // calls are one per (caller, callee) in the model; a self-call is not fan-out
        let mut callees: Vec<&str> = calls
            .iter()
            .filter(|&&(w, _)| w != v)
            .map(|&(w, _)| g.names[w])
            .collect();
        callees.sort_unstable();
        callees.dedup();
        if callees.len() <= limit {
            continue;
        }
        let message = format!(
            "service `{}` calls {} services synchronously, more than {limit}: {}",
            g.names[v],
            callees.len(),
            list_some(&callees, 20)
        );
        report(cx, out, svc.and_then(|s| s.evidence.first()), svc, message);
    }
}
