//! Services call each other synchronously in a cycle.
//!
//! When `orders` calls `payments` and `payments` calls back into `orders`
//! (directly or through other services), neither can be deployed, scaled or
//! reasoned about alone: a slow `payments` holds `orders`' request threads,
//! which makes the calls back into `orders` slow, and the loop feeds itself
//! until both fail. Under load the services can deadlock, each waiting for a
//! free worker the other holds. A cycle is also a sign that the boundary
//! between the services is drawn in the wrong place.
//!
//! The rule finds every group of services that can reach each other through
//! synchronous calls (the strongly connected components of the call graph)
//! and reports each group once, with one cycle through it, at the place the
//! first call of that cycle is configured. A service that calls itself
//! through the network counts too (the model keeps such an edge only when
//! `cairn.yaml` states it).
//!
//! Calls are the synchronous edges of the model: a dependency named in a
//! container's environment, a mounted configuration file, a route, or a
//! `cairn.yaml` dependency of kind `sync`. Publishing to and consuming from a
//! broker is asynchronous and breaks a cycle. Telemetry export (to or from an
//! observability service), load-generator traffic and compose `depends_on`
//! (start order, not a call) are not calls.
//!
//! ## Example
//! ```yaml
//! # orders calls payments ...
//! env:
//!   - name: PAYMENTS_URL
//!     value: http://payments:8080
//! ---
//! # ... and payments calls orders back
//! env:
//!   - name: ORDERS_URL
//!     value: http://orders:8080
//! ```
//!
//! ## Fix
//! Break the loop: let one side publish an event instead of calling back
//! (`payments` emits `payment-settled`, `orders` consumes it), move the
//! shared logic into one of the services, or merge services that cannot
//! work apart.
//!
//! ## References
//! - https://microservices.io/patterns/communication-style/messaging.html
//! - https://learn.microsoft.com/en-us/azure/architecture/microservices/design/interservice-communication
//! - https://en.wikipedia.org/wiki/Tarjan%27s_strongly_connected_components_algorithm
//!
//! ## Notes
//! The graph is the one the configuration describes: whether one request
//! walks the whole loop depends on the code. A cycle of inferred edges may
//! be a callback that only some requests take; the finding says which
//! services are involved so that the team can judge.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;

use crate::kit_graph::{CallGraph, call_evidence, list_some, path, report};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA501",
    name: "sync-dependency-cycle",
    category: Category::Architecture,
    levels: levels!(info, info, warning, warning, error),
    summary: "services call each other synchronously in a cycle",
    help: "break the cycle: replace one call with an event, or move the shared logic into one service",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let g = CallGraph::new(cx.system);
    let comp = g.components();
    let count = comp.iter().copied().max().map_or(0, |m| m + 1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (v, &c) in comp.iter().enumerate() {
        members[c].push(v);
    }
    for nodes in members {
        let Some(&start) = nodes.iter().min_by_key(|&&v| g.names[v]) else {
            continue;
        };
        let cycle = if nodes.len() == 1 {
            // a single service is a cycle only when it calls itself
            if !g.calls[start].iter().any(|&(w, _)| w == start) {
                continue;
            }
            vec![start]
        } else {
            shortest_cycle(&g, &comp, start)
        };
        let Some(&next) = cycle.get(1).or(cycle.first()) else {
            continue;
        };
        let first = g.calls[start]
            .iter()
            .find(|&&(w, _)| w == next)
            .map(|&(_, e)| e);
        let steps: Vec<&str> = cycle
            .iter()
            .chain(std::iter::once(&start))
            .map(|&v| g.names[v])
            .collect();
        let mut message = if cycle.len() == 1 {
            format!("service `{}` calls itself synchronously", g.names[start])
        } else {
            format!("synchronous calls form a cycle: {}", path(&steps))
        };
        if nodes.len() > cycle.len() {
            let mut all: Vec<&str> = nodes.iter().map(|&v| g.names[v]).collect();
            all.sort_unstable();
            let _ = write!(
                message,
                "; {} services reach each other through such loops: {}",
                nodes.len(),
                list_some(&all, 10)
            );
        }
        let help = if cycle.len() == 1 {
            format!(
                "call the code inside `{}` directly instead of through the network",
                g.names[start]
            )
        } else {
            format!(
                "break the cycle at one call: let `{}` or `{}` publish an event instead of calling, or merge the logic into one service",
                g.names[start], g.names[next],
            )
        };
        report(
            cx,
            out,
            first.and_then(call_evidence),
            g.services[start],
            message,
        )
        .help(help);
    }
}

/// The shortest cycle through `start` inside its component (breadth-first
/// search over calls that stay in the component), as the list of nodes from
/// `start`.
fn shortest_cycle(g: &CallGraph<'_>, comp: &[usize], start: usize) -> Vec<usize> {
    let c = comp[start];
    let mut parent: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &(w, _) in &g.calls[v] {
            // a self-call is its own finding only for a lone service
            if comp[w] != c || (v == start && w == start) {
                continue;
            }
            if w == start {
                let mut path = vec![v];
                let mut at = v;
                while at != start {
                    at = parent[&at];
                    path.push(at);
                }
                path.reverse();
                return path;
            }
            if let Entry::Vacant(slot) = parent.entry(w) {
                slot.insert(v);
                queue.push_back(w);
            }
        }
    }
    vec![start]
}
