//! An application service with no runbook.
//!
//! A runbook tells the on-call engineer what a service does, what it depends
//! on, how to tell it is broken and what to try first. Without one, every
//! incident starts with reading code at 3 a.m. The brief's production
//! checklist asks for runbooks to be documented before go-live.
//!
//! A runbook is found in `cairn.yaml` (`services.<name>.runbook`, a URL or
//! path), or in an annotation (or label) of the service's workloads or
//! Services: `cairn.dev/runbook`, `runbook`, `runbook-url`, `runbook_url` or
//! `a8r.io/runbook`.
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
//!     runbook: https://wiki.example.com/runbooks/cart
//! ```
//! or annotate the Deployment `a8r.io/runbook: https://…`.
//!
//! ## References
//! - https://sre.google/workbook/on-call/
//! - https://www.getambassador.io/docs/edge-stack/latest/topics/using/service-catalog/annotations

use crate::kit_mesh::{first_meta, intent, report_unrecorded, service_objects};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA813",
    name: "missing-runbook",
    category: Category::Ownership,
    levels: levels!(off, off, info, warning, warning),
    summary: "an application service with no runbook",
    help: "set `services.<name>.runbook` in cairn.yaml, or annotate the workload `a8r.io/runbook: <url>`",
    check,
};

const KEYS: &[&str] = &[
    "cairn.dev/runbook",
    "runbook",
    "runbook-url",
    "runbook_url",
    "a8r.io/runbook",
];

fn check(cx: &Ctx<'_>, out: &mut Out) {
    report_unrecorded(
        cx,
        out,
        |s| {
            let stated = intent(cx, s)
                .and_then(|i| i.runbook.as_deref())
                .is_some_and(|r| !r.trim().is_empty());
            stated || first_meta(&service_objects(cx, s), KEYS).is_some()
        },
        |name| {
            (
                format!(
                    "service `{name}` has no runbook: neither cairn.yaml (`services.{name}.runbook`) nor a `runbook` annotation points to one"
                ),
                format!(
                    "add `runbook: <url>` under `services.{name}` in cairn.yaml, or annotate its workload `a8r.io/runbook: <url>`"
                ),
            )
        },
    );
}
