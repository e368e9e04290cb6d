//! A CPU request or limit lies outside the allowed range.
//!
//! A CPU request below the minimum (10m by default) is too small for the
//! scheduler to reserve meaningful time, and usually means a typo (`1m`
//! for `1`); a request above the maximum (4000m, four cores, by default)
//! makes the pod hard or impossible to schedule and is rarely what a
//! microservice needs. A limit outside the range has the same causes, and a
//! very small limit throttles the container into timeouts.
//!
//! Every quantity form is read as the API server reads it: cores (`1`,
//! `0.5`, `1.5`), millicores (`500m`), exponents (`1e3`) and the other SI
//! suffixes. A quantity the API server would reject (`2 cores`, `500 m`, a
//! negative one) is reported as such. Init containers count; ephemeral
//! containers cannot set resources. The range is configurable:
//!
//! ```yaml
//! # cairn.yaml
//! checks:
//!   thresholds:
//!     cpu: 10m-4000m
//! ```
//!
//! ## Example
//! ```yaml
//! resources:
//!   requests: {cpu: 1m}
//!   limits: {cpu: "8"}
//! ```
//!
//! ## Fix
//! ```yaml
//! resources:
//!   requests: {cpu: 100m}
//!   limits: {cpu: "1"}
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#meaning-of-cpu
//! - https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/

use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA103",
    name: "cpu-out-of-range",
    category: Category::Resources,
    levels: levels!(info, info, warning, warning, error),
    summary: "a CPU request or limit lies outside the allowed range",
    help: "set CPU requests and limits within the configured range (default 10m-4000m)",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    crate::kit_security::range_check(cx, out, "cpu");
}
