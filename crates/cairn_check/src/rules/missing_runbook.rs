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

use crate::kit_mesh::{Anchor, app_services, first_meta, intent, service_objects};
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
    for s in app_services(cx, true) {
        let stated = intent(cx, s)
            .and_then(|i| i.runbook.as_deref())
            .is_some_and(|r| !r.trim().is_empty());
        if stated || first_meta(&service_objects(cx, s), KEYS).is_some() {
            continue;
        }
        let Some(anchor) = Anchor::of(cx, s, true) else {
            continue;
        };
        anchor
            .report(
                out,
                format!(
                    "service `{}` has no runbook: neither cairn.yaml (`services.{}.runbook`) nor a `runbook` annotation points to one",
                    s.name, s.name
                ),
            )
            .help(format!(
                "add `runbook: <url>` under `services.{}` in cairn.yaml, or annotate its workload `a8r.io/runbook: <url>`",
                s.name
            ));
    }
}
