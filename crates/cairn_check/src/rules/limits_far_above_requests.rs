//! A CPU or memory limit is far above its request.
//!
//! The scheduler places pods by their requests, and capacity is bought
//! by requests; the limit is what a container may take when the node has
//! it spare. A limit many times the request means one of two things. Either
//! the container really uses near its limit, and the request under-states
//! it: nodes are over-committed, and under load the kernel kills
//! (memory) or throttles (CPU) whatever exceeds its request, often far
//! from the culprit. Or it does not, and the limit is a guess that hides
//! how much the service needs, so capacity planning and cost attribution
//! by request are both wrong. Either way, set the request to what the
//! container uses and the limit close above it.
//!
//! The rule fires when a limit is more than the configured ratio (4 by
//! default) times its request, for CPU or memory, in any init or main
//! container. Both must be valid, non-zero quantities; a missing one is for
//! `missing-resource-requests` and `missing-resource-limits`. The ratio is
//! configurable:
//!
//! ```yaml
//! # cairn.yaml
//! checks:
//!   thresholds:
//!     max-limit-request-ratio: 4
//! ```
//!
//! ## Example
//! ```yaml
//! resources:
//!   requests: {cpu: 100m, memory: 128Mi}
//!   limits: {cpu: "2", memory: 2Gi}
//! ```
//!
//! ## Fix
//! Measure what the container uses (for example its p95 under load) and set
//! the request there, with the limit close above it. For memory, a limit
//! equal to the request gives the most predictable behaviour.
//!
//! ```yaml
//! resources:
//!   requests: {cpu: 250m, memory: 512Mi}
//!   limits: {cpu: 500m, memory: 512Mi}
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
//! - https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/
//! - https://kubernetes.io/docs/concepts/policy/limit-range/#limit-request-ratio

use crate::kit_security::{container_desc, quantities};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA951",
    name: "limits-far-above-requests",
    category: Category::Cost,
    levels: levels!(off, off, info, info, warning),
    summary: "a CPU or memory limit is far above its request",
    help: "set the request to what the container uses, and the limit close above it",
    check,
};

/// `2`, `4.5`: a ratio without needless decimals.
fn ratio_text(r: f64) -> String {
    let s = format!("{r:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_owned)
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let max = cx.settings.thresholds.max_limit_request_ratio;
    for (i, obj) in cx.workloads() {
        for (resource, label) in [("cpu", "CPU"), ("memory", "memory")] {
            let qs = quantities(cx, obj, resource);
            for limit in qs.iter().filter(|q| q.section == "limits") {
                let Some(request) = qs.iter().find(|q| {
                    q.section == "requests" && std::ptr::eq(q.container.node, limit.container.node)
                }) else {
                    continue;
                };
                let (Some(l), Some(r)) = (limit.value, request.value) else {
                    continue;
                };
                if r <= 0.0 || l <= 0.0 {
                    continue;
                }
                let ratio = l / r;
                if ratio <= max * (1.0 + 1e-9) {
                    continue;
                }
                out.object(
                    cx,
                    i,
                    limit.node.pos,
                    format!(
                        "{} has a {label} limit of `{}`, {} times its request of `{}` (at most {} allowed)",
                        container_desc(obj, &limit.container),
                        limit.text(),
                        ratio_text(ratio),
                        request.text(),
                        ratio_text(max)
                    ),
                )
                .help(format!(
                    "raise the {label} request toward what the container uses, or lower the limit to at most {} times the request",
                    ratio_text(max)
                ));
            }
        }
    }
}
