//! An application service with no owning team recorded.
//!
//! When a service pages at night, someone must know whose it is. A
//! service nobody is recorded as owning gets its alerts ignored, its
//! dependencies upgraded by no one, and its incidents routed by guesswork;
//! an ownership model starts with one named team per service.
//!
//! An owner is found in `cairn.yaml` (`services.<name>.owner`), or in a label
//! or annotation of the service's workloads or Services: `owner`, `team`,
//! `app.kubernetes.io/owner`, `app.kubernetes.io/team`, `a8r.io/owner` or
//! `cairn.dev/owner`. (`app.kubernetes.io/part-of` names the application a
//! service belongs to, not a team, and does not count.)
//!
//! The rule is off in the homelab and sandbox profiles, where one person owns
//! everything.
//!
//! ## Example
//! ```yaml
//! # cairn.yaml
//! services:
//!   cart:
//!     slo: {availability: 99.9}
//! ```
//!
//! ## Fix
//! ```yaml
//! services:
//!   cart:
//!     owner: team-checkout
//! ```
//! or label the workload `team: checkout`.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
//! - https://sre.google/sre-book/being-on-call/
//! - https://www.getambassador.io/docs/edge-stack/latest/topics/using/service-catalog/annotations

use crate::kit_mesh::{first_meta, report_unrecorded, service_objects};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA811",
    name: "missing-owner",
    category: Category::Ownership,
    levels: levels!(off, off, info, warning, warning),
    summary: "an application service with no owning team recorded",
    help: "name the owning team in cairn.yaml (`services.<name>.owner`) or with a `team` label on the workload",
    check,
};

const KEYS: &[&str] = &[
    "owner",
    "team",
    "app.kubernetes.io/owner",
    "app.kubernetes.io/team",
    "a8r.io/owner",
    "cairn.dev/owner",
];

fn check(cx: &Ctx<'_>, out: &mut Out) {
    report_unrecorded(
        cx,
        out,
        |s| {
            s.owner.is_some()
                || s.owner_label.is_some()
                || first_meta(&service_objects(cx, s), KEYS).is_some()
        },
        |name| {
            (
                format!(
                    "service `{name}` has no owner: neither cairn.yaml (`services.{name}.owner`) nor a `team` or `owner` label names one"
                ),
                format!(
                    "add `owner: <team>` under `services.{name}` in cairn.yaml, or label its workload `team: <team>`"
                ),
            )
        },
    );
}
