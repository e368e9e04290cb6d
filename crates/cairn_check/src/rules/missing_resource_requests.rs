//! A container sets no CPU or memory request.
//!
//! The scheduler places pods by their requests. A container without them is
//! scheduled as if it needed nothing, lands on crowded nodes, and is the
//! first evicted under memory pressure (QoS class `BestEffort`, or
//! `Burstable` with one request missing). Init containers count: the pod's
//! effective request is the larger of the init and the main containers'.
//!
//! A request is missing even when a limit is set (Kubernetes would then copy
//! the limit, which hides the intent); a `LimitRange` in the same namespace
//! with a `defaultRequest` does supply it.
//!
//! In compose files, the request is a reservation: a service is reported
//! when it sets no `deploy.resources.reservations.cpus` or no
//! `deploy.resources.reservations.memory` (v2's `mem_reservation` counts),
//! at its `deploy.resources` key (or `deploy`, or the service key) in the
//! last merged file that writes it. v2 files have no CPU reservation, so a
//! service without a `deploy` section is asked only for a memory one.
//! A service that names neither an `image` nor a `build`, or that
//! `extends` another, is left alone: it is a patch of a service defined
//! elsewhere and inherits what it does not write.
//!
//! ## Example
//! ```yaml
//! containers:
//!   - name: web
//!     image: shop/web:1.4.2
//!     resources:
//!       limits: {cpu: 500m, memory: 256Mi}
//! ```
//!
//! ## Fix
//! ```yaml
//!     resources:
//!       requests: {cpu: 100m, memory: 128Mi}
//!       limits: {cpu: 500m, memory: 256Mi}
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
//! - https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/
//! - https://docs.docker.com/reference/compose-file/deploy/#resources

use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA101",
    name: "missing-resource-requests",
    category: Category::Resources,
    levels: levels!(info, info, warning, warning, error),
    summary: "a container sets no CPU or memory request",
    help: "set resources.requests.cpu and resources.requests.memory",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    crate::rules_kit::resource_presence(cx, out, "requests");
}
