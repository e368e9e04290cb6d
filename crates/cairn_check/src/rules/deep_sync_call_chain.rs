//! A chain of synchronous calls is longer than the call-depth limit.
//!
//! Each synchronous hop adds its latency, its timeout and its failure rate to
//! the request that started the chain, and the caller at the top holds its
//! resources until the deepest call answers. Timeouts have to shrink along
//! the chain or the outer caller gives up while inner ones still work; a
//! failure deep down surfaces far from where it happened. Deep chains are
//! also a sign of services split along technical layers instead of business
//! capabilities.
//!
//! The rule walks the synchronous call graph from every entry point (a
//! service nothing else calls: a gateway, a frontend, a job) and reports the
//! longest chain from it when it has more than `max-call-depth` hops
//! (default 4; set it under `checks.thresholds` in `cairn.yaml`). Each entry
//! point is reported once, with its longest chain, not once per suffix of
//! it. A call from a gateway is a hop like any other: it is one more
//! network call with its own timeout.
//!
//! Calls are the synchronous edges of the model; telemetry export,
//! publishing to a broker, datastore connections, load-generator traffic and
//! compose `depends_on` do not count. Calls inside a cycle are left to
//! `sync-dependency-cycle` (a cycle has no longest chain); the chain may
//! still enter and leave the services of a cycle.
//!
//! ## Example
//! ```yaml
//! # web -> orders -> pricing -> discounts -> customers -> loyalty: 5 hops
//! env:
//!   - name: ORDERS_URL
//!     value: http://orders:8080
//! ```
//!
//! ## Fix
//! Shorten the chain: let a service keep the data it needs (a local copy fed
//! by events) instead of asking the next one, call independent services in
//! parallel from one place instead of through each other, or merge services
//! that only pass requests along. If the depth is intended, raise the limit:
//! ```yaml
//! checks:
//!   thresholds:
//!     max-call-depth: 6
//! ```
//!
//! ## References
//! - https://learn.microsoft.com/en-us/azure/architecture/microservices/design/interservice-communication
//! - https://microservices.io/patterns/data/cqrs.html
//! - https://sre.google/sre-book/addressing-cascading-failures/
//!
//! ## Notes
//! The chain is a path in the dependency graph the configuration describes;
//! whether one request walks all of it depends on the code.

use crate::kit_graph::{CallGraph, call_evidence, path, report};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA504",
    name: "deep-sync-call-chain",
    category: Category::Architecture,
    levels: levels!(off, info, info, warning, warning),
    summary: "a chain of synchronous calls is longer than the call-depth limit",
    help: "shorten the chain: keep needed data locally (fed by events), or call independent services in parallel from one place",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let limit = cx.settings.thresholds.max_call_depth;
    let g = CallGraph::new(cx.system);
    let comp = g.components();
    let n = g.calls.len();
    // Longest path over the calls between components: components are
    // numbered sinks first, so in that order every callee is done before
    // its callers. Ties go to the first call in the model's order.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&v| comp[v]);
    let mut depth = vec![0usize; n];
    let mut next: Vec<Option<usize>> = vec![None; n];
    let mut called = vec![false; n];
    for &v in &order {
        for &(w, _) in &g.calls[v] {
            if comp[w] == comp[v] {
                continue;
            }
            called[w] = true;
            if depth[w] + 1 > depth[v] {
                depth[v] = depth[w] + 1;
                next[v] = Some(w);
            }
        }
    }
    for v in 0..n {
        if called[v] || depth[v] <= limit {
            continue;
        }
        let mut chain = vec![v];
        let mut at = v;
        while let Some(w) = next[at] {
            chain.push(w);
            at = w;
        }
        let first = chain.get(1).and_then(|&w| {
            g.calls[v]
                .iter()
                .find(|&&(x, _)| x == w)
                .and_then(|&(_, e)| call_evidence(e))
        });
        let steps: Vec<&str> = chain.iter().map(|&w| g.names[w]).collect();
        let message = format!(
            "synchronous calls from `{}`{} chain {} hops deep, more than {limit}: {}",
            g.names[v],
            g.services[v]
                .and_then(|s| s.implied.as_deref())
                .map_or_else(String::new, |what| format!(" ({what})")),
            depth[v],
            path(&steps)
        );
        report(cx, out, first, g.services[v], message);
    }
}
