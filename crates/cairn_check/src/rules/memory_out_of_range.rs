//! A memory request or limit lies outside the allowed range.
//!
//! A memory request or limit below the minimum (64Mi by default) leaves
//! almost any runtime short of memory: the container is killed for
//! exceeding its limit at start, or runs on a node that cannot hold it. It
//! is often a unit mistake: `128M` is fine, but `128` is 128 bytes, and
//! `128m` is 0.128 bytes. A value above the maximum (8Gi by default) makes
//! the pod hard to schedule and is rarely what one microservice needs.
//!
//! Every quantity form is read as the API server reads it: binary suffixes
//! (`1Gi`, `512Mi`), decimal ones (`1G`, `129M`), plain bytes
//! (`128974848`) and exponents (`1e9`). A quantity the API server would
//! reject (`1 GB`, `1gi`, a negative one) is reported as such. Init
//! containers count; ephemeral containers cannot set resources. The range
//! is configurable:
//!
//! ```yaml
//! # cairn.yaml
//! checks:
//!   thresholds:
//!     memory: 64Mi-8Gi
//! ```
//!
//! ## Example
//! ```yaml
//! resources:
//!   requests: {memory: "128"}
//!   limits: {memory: 16Gi}
//! ```
//!
//! ## Fix
//! ```yaml
//! resources:
//!   requests: {memory: 128Mi}
//!   limits: {memory: 512Mi}
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#meaning-of-memory
//! - https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/

use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA104",
    name: "memory-out-of-range",
    category: Category::Resources,
    levels: levels!(info, info, warning, warning, error),
    summary: "a memory request or limit lies outside the allowed range",
    help: "set memory requests and limits within the configured range (default 64Mi-8Gi)",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    crate::kit_security::range_check(cx, out, "memory");
}
