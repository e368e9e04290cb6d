//! An application service with no service level objective.
//!
//! An SLO says how reliable and fast a service must be: it decides which
//! alerts page, how much error budget a release may spend, and which
//! dependencies must be at least as reliable. Without one, every blip is an
//! emergency or none is, and the timeouts of its callers have nothing to be
//! derived from.
//!
//! An SLO is found in `cairn.yaml` (`services.<name>.slo.availability` or
//! `slo.latency`), or as an SLO object in the input that names the service:
//! a Sloth `PrometheusServiceLevel` (`spec.service`) or an OpenSLO `SLO`
//! (`spec.service`).
//!
//! The rule is off in the homelab and sandbox profiles.
//!
//! ## Example
//! ```yaml
//! # cairn.yaml
//! services:
//!   cart:
//!     owner: team-checkout
//! ```
//!
//! ## Fix
//! ```yaml
//! services:
//!   cart:
//!     owner: team-checkout
//!     slo:
//!       availability: 99.9
//!       latency: {p99: 300ms}
//! ```
//!
//! ## References
//! - https://sre.google/sre-book/service-level-objectives/
//! - https://sloth.dev/specs/kubernetes/
//! - https://github.com/OpenSLO/OpenSLO#slo

use crate::kit_mesh::report_unrecorded;
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA812",
    name: "missing-slo",
    category: Category::Ownership,
    levels: levels!(off, off, info, warning, warning),
    summary: "an application service with no service level objective",
    help: "set `services.<name>.slo` (availability and latency) in cairn.yaml",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    // services named by SLO objects of the input
    let named: Vec<&str> = cx
        .of_kind("PrometheusServiceLevel")
        .filter(|(_, o)| o.group().starts_with("sloth.slok.dev"))
        .chain(
            cx.of_kind("SLO")
                .filter(|(_, o)| o.api_version.starts_with("openslo")),
        )
        .filter_map(|(_, o)| o.spec().and_then(|s| s.get_str("service")))
        .collect();
    report_unrecorded(
        cx,
        out,
        |s| {
            s.slo_availability.is_some()
                || !s.slo_latency_ms.is_empty()
                || named
                    .iter()
                    .any(|n| *n == s.name || s.aliases.iter().any(|a| a == n))
        },
        |name| {
            (
                format!(
                    "service `{name}` has no SLO: cairn.yaml sets no `services.{name}.slo` and no SLO object names it"
                ),
                format!(
                    "add `slo: {{availability: 99.9, latency: {{p99: 300ms}}}}` (with your targets) under `services.{name}` in cairn.yaml"
                ),
            )
        },
    );
}
