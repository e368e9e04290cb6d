//! A container sets no CPU or memory limit.
//!
//! Without a memory limit a leaking container takes memory from every other
//! pod on its node until the kernel kills something, often not the culprit.
//! Without a CPU limit a busy container can starve its neighbours of CPU
//! beyond their requests. Init containers count.
//!
//! A `LimitRange` in the same namespace with a `default` supplies the limit.
//!
//! In compose files, a service is reported when it sets no CPU limit
//! (`deploy.resources.limits.cpus`, or v2's `cpus`) or no memory limit
//! (`deploy.resources.limits.memory`, or v2's `mem_limit`), at its
//! `deploy.resources` key (or `deploy`, or the service key) in the last
//! merged file that writes it.
//! A service that names neither an `image` nor a `build`, or that
//! `extends` another, is left alone: it is a patch of a service defined
//! elsewhere and inherits what it does not write.
//!
//! ## Example
//! ```yaml
//! containers:
//!   - name: worker
//!     image: shop/worker:2.0.1
//!     resources:
//!       requests: {cpu: 100m, memory: 128Mi}
//! ```
//!
//! ## Fix
//! ```yaml
//!     resources:
//!       requests: {cpu: 100m, memory: 128Mi}
//!       limits: {cpu: "1", memory: 512Mi}
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
//! - https://kubernetes.io/docs/concepts/policy/limit-range/
//! - https://docs.docker.com/reference/compose-file/deploy/#resources

use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA102",
    name: "missing-resource-limits",
    category: Category::Resources,
    levels: levels!(info, info, warning, warning, error),
    summary: "a container sets no CPU or memory limit",
    help: "set resources.limits.cpu and resources.limits.memory",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    crate::rules_kit::resource_presence(cx, out, "limits");
}
