//! A `VirtualService` routes to a subset that no `DestinationRule` defines.
//!
//! A route `destination` with a `subset` sends its traffic to the pods of
//! that subset, and only a `DestinationRule` for the same host says which
//! pods those are. When no `DestinationRule` for the host defines the subset
//! (a typo, a rule not applied yet, a subset removed), Envoy has no cluster
//! for it and every request on the route fails with `503` (`NR`, no route).
//! Applying the `VirtualService` before its `DestinationRule` during a
//! canary is the classic outage.
//!
//! The destination host and the `DestinationRule`'s `host` are compared as
//! Istio does: a short name is read in the namespace of the object that
//! writes it, and `name.namespace[.svc[.cluster.local]]` forms and wildcard
//! hosts (`*.shop.svc.cluster.local`) are understood. Subsets defined by any
//! `DestinationRule` for the host count.
//!
//! ## Example
//! ```yaml
//! apiVersion: networking.istio.io/v1
//! kind: VirtualService
//! metadata:
//!   name: reviews
//! spec:
//!   hosts: [reviews]
//!   http:
//!     - route:
//!         - destination:
//!             host: reviews
//!             subset: v3        # the DestinationRule defines v1 and v2
//! ```
//!
//! ## Fix
//! ```yaml
//! apiVersion: networking.istio.io/v1
//! kind: DestinationRule
//! metadata:
//!   name: reviews
//! spec:
//!   host: reviews
//!   subsets:
//!     - name: v3
//!       labels: {version: v3}
//! ```
//! Apply the `DestinationRule` before the `VirtualService` that uses it,
//! and remove routes before the subsets they use.
//!
//! ## References
//! - https://istio.io/latest/docs/reference/config/networking/virtual-service/#Destination
//! - https://istio.io/latest/docs/reference/config/networking/destination-rule/#Subset
//! - https://istio.io/latest/docs/ops/best-practices/traffic-management/#avoid-503-errors-while-reconfiguring-service-routes

use crate::kit_mesh::{DestRules, HostKey, is_istio, vs_destinations};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA705",
    name: "virtualservice-unknown-subset",
    category: Category::Mesh,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a VirtualService routes to a subset that no DestinationRule defines",
    help: "define the subset in a DestinationRule for the host, or route to an existing subset",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let rules = DestRules::new(cx);
    for (i, vs) in cx.of_kind("VirtualService").filter(|(_, o)| is_istio(o)) {
        let Some(spec) = vs.spec() else { continue };
        let ns = vs.namespace.as_deref();
        for d in vs_destinations(spec) {
            let (Some(host), Some(subset_node)) = (d.get_str("host"), d.get("subset")) else {
                continue;
            };
            let Some(subset) = subset_node.as_str() else {
                continue;
            };
            let key = HostKey::parse(host, ns);
            let for_host = rules.for_host(&key);
            if for_host.iter().any(|r| r.defines(subset)) {
                continue;
            }
            let (message, help) = if for_host.is_empty() {
                let resolved = match &key {
                    HostKey::Cluster(name, Some(n)) => format!("{name}.{n}"),
                    HostKey::Cluster(name, None) | HostKey::Other(name) => name.clone(),
                };
                (
                    format!(
                        "VirtualService/{} routes to subset `{subset}` of `{host}`, but no DestinationRule for `{resolved}` is in the input: the requests fail",
                        vs.name
                    ),
                    format!(
                        "add a DestinationRule with `host: {host}` that defines subset `{subset}`"
                    ),
                )
            } else {
                let defined: Vec<&str> = for_host
                    .iter()
                    .flat_map(|r| r.subsets.iter())
                    .filter_map(|s| s.get_str("name"))
                    .collect();
                (
                    format!(
                        "VirtualService/{} routes to subset `{subset}` of `{host}`, which DestinationRule/{} does not define: the requests fail",
                        vs.name, for_host[0].obj.name
                    ),
                    if defined.is_empty() {
                        format!(
                            "define subset `{subset}` in DestinationRule/{}",
                            for_host[0].obj.name
                        )
                    } else {
                        format!(
                            "define subset `{subset}` in DestinationRule/{}, or route to one it defines: {}",
                            for_host[0].obj.name,
                            defined.join(", ")
                        )
                    },
                )
            };
            out.object(cx, i, subset_node.pos, message).help(help);
        }
    }
}
