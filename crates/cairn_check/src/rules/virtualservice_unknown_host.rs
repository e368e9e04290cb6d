//! A `VirtualService` names a host that no Service or `ServiceEntry` defines.
//!
//! Istio routes only to hosts in its service registry: Kubernetes Services
//! and `ServiceEntry` hosts. A route `destination.host` that names neither
//! sends its traffic nowhere (Envoy answers `503`, no healthy upstream), and
//! a `hosts` entry of a mesh-internal `VirtualService` that names neither
//! matches no request, so its rules silently never apply. A typo, a Service
//! renamed in one file and not the other, or a namespace left out of a
//! fully qualified name are the usual causes.
//!
//! A host resolves when it names a Service of the input: a short name in
//! the `VirtualService`'s namespace, `name.namespace`, `name.namespace.svc`
//! or `name.namespace.svc.<cluster domain>`; or when a `ServiceEntry` host
//! (wildcards included) covers it. Wildcard hosts (`*`, `*.example.com`)
//! and IP addresses are not checked. The `hosts` of a `VirtualService`
//! bound to a gateway are the names clients use from outside (external DNS
//! names), so only its destinations must resolve.
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
//!             host: reveiws      # typo: no such Service
//! ```
//!
//! ## Fix
//! Name an existing Service (`reviews`, `reviews.shop.svc.cluster.local`),
//! or declare an external host with a `ServiceEntry`.
//!
//! ## Notes
//! A Service outside the scanned files is not known: scan the whole system,
//! or declare the host with a `ServiceEntry`.
//!
//! ## References
//! - https://istio.io/latest/docs/reference/config/networking/virtual-service/#Destination
//! - https://istio.io/latest/docs/reference/config/networking/virtual-service/#VirtualService
//! - https://istio.io/latest/docs/reference/config/analysis/ist0101/

use crate::kit_mesh::{Hosts, is_ip, is_istio, vs_destinations};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA704",
    name: "virtualservice-unknown-host",
    category: Category::Mesh,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a VirtualService names a host that no Service or ServiceEntry defines",
    help: "name an existing Service (short name, name.namespace or its FQDN), or declare the host with a ServiceEntry",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let hosts = Hosts::new(cx);
    for (i, vs) in cx.of_kind("VirtualService").filter(|(_, o)| is_istio(o)) {
        let Some(spec) = vs.spec() else { continue };
        let ns = vs.namespace.as_deref();
        let gateway_bound = spec
            .seq_at("gateways")
            .iter()
            .filter_map(Node::as_str)
            .any(|g| g != "mesh");
        // reports host `h` unless it is a wildcard, an IP or known
        let mut unknown = |h: &Node, does: &str, so: &str| {
            let Some(host) = h.as_str() else { return };
            if host.contains('*') || is_ip(host) || hosts.known(cx, host, ns) {
                return;
            }
            out.object(
                cx,
                i,
                h.pos,
                format!(
                    "VirtualService/{} {does} host `{host}`, which names no Service or ServiceEntry in the input: {so}",
                    vs.name
                ),
            );
        };
        if !gateway_bound {
            for h in spec.seq_at("hosts") {
                unknown(h, "applies to", "its routes never match");
            }
        }
        for d in vs_destinations(spec) {
            if let Some(h) = d.get("host") {
                unknown(h, "routes to", "the requests fail");
            }
        }
    }
}
