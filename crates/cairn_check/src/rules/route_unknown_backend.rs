//! An Ingress or Gateway API route sends traffic to a Service or port that does not exist.
//!
//! A route's backend is a Service, by name, in the route's namespace (or
//! the namespace a Gateway API `backendRef` names). When no Service has that
//! name, the controller has nowhere to send the requests: an Ingress answers
//! `503` or `404` for the path, and a Gateway API route is not accepted for
//! that backend (`ResolvedRefs: False`, `BackendNotFound`) and answers `500`.
//! The same happens when the Service exists but exposes no port with the
//! number (or, for an Ingress, the name) the backend gives.
//!
//! The rule reads `HTTPRoute`, `GRPCRoute`, `TLSRoute`, `TCPRoute` and
//! `UDPRoute` `backendRefs` (and `requestMirror` filters) of kind `Service`,
//! and every `Ingress` backend (`defaultBackend`, rule paths, and the
//! `extensions/v1beta1` `serviceName`/`servicePort` form).
//!
//! ## Example
//! ```yaml
//! apiVersion: networking.k8s.io/v1
//! kind: Ingress
//! metadata:
//!   name: shop
//! spec:
//!   rules:
//!     - http:
//!         paths:
//!           - path: /
//!             pathType: Prefix
//!             backend:
//!               service:
//!                 name: frontend
//!                 port: {number: 8080}   # the Service listens on 80
//! ```
//!
//! ## Fix
//! Name an existing Service and one of its `ports[].port` (or, for an
//! Ingress, a port name), in the route's namespace.
//!
//! ## Notes
//! Only Services in the scanned files are known. A cross-namespace
//! `backendRef` also needs a `ReferenceGrant` in the target namespace; that
//! is not checked here.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/services-networking/ingress/#the-ingress-resource
//! - https://gateway-api.sigs.k8s.io/reference/spec/#backendref
//! - https://gateway-api.sigs.k8s.io/api-types/httproute/#backendrefs

use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA708",
    name: "route-unknown-backend",
    category: Category::Mesh,
    levels: levels!(warning, warning, warning, error, error),
    summary: "an Ingress or Gateway API route sends traffic to a Service or port that does not exist",
    help: "name an existing Service in the route's namespace, and one of its ports",
    check,
};

const ROUTE_KINDS: &[&str] = &["HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"];

/// A port as a backend names it.
enum PortRef<'a> {
    Number(i64),
    Name(&'a str),
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for kind in ROUTE_KINDS {
        for (i, route) in cx.of_kind(kind) {
            if route.group() != "gateway.networking.k8s.io" {
                continue;
            }
            let Some(spec) = route.spec() else { continue };
            for rule in spec.seq_at("rules") {
                let mirrors = rule
                    .seq_at("filters")
                    .iter()
                    .filter_map(|f| f.path(&["requestMirror", "backendRef"]));
                let backend_filters = rule
                    .seq_at("backendRefs")
                    .iter()
                    .flat_map(|b| b.seq_at("filters"))
                    .filter_map(|f| f.path(&["requestMirror", "backendRef"]));
                for b in rule
                    .seq_at("backendRefs")
                    .iter()
                    .chain(mirrors)
                    .chain(backend_filters)
                {
                    let is_service = b.get_str("group").unwrap_or_default().is_empty()
                        && b.get_str("kind").is_none_or(|k| k == "Service");
                    let Some(name_node) = b.get("name") else {
                        continue;
                    };
                    let Some(name) = name_node.as_str() else {
                        continue;
                    };
                    if !is_service {
                        continue;
                    }
                    let ns = b.get_str("namespace").or(route.namespace.as_deref());
                    let port = b.get("port").and_then(|p| Some((p.as_i64()?, p)));
                    backend(
                        cx,
                        out,
                        i,
                        route,
                        ns,
                        (name, name_node),
                        port.map(|(n, node)| (PortRef::Number(n), node)),
                    );
                }
            }
        }
    }
    for (i, ing) in cx.of_kind("Ingress") {
        let Some(spec) = ing.spec() else { continue };
        let ns = ing.namespace.as_deref();
        let mut backends: Vec<&Node> = Vec::new();
        backends.extend(spec.get("defaultBackend"));
        backends.extend(spec.get("backend"));
        for rule in spec.seq_at("rules") {
            for p in rule.get("http").map_or(&[][..], |h| h.seq_at("paths")) {
                backends.extend(p.get("backend"));
            }
        }
        for b in backends {
            // networking.k8s.io/v1: service.{name, port.{number|name}}
            // extensions/v1beta1: serviceName, servicePort (number or name)
            let (name_node, port_node) = match b.get("service") {
                Some(s) => (
                    s.get("name"),
                    s.get("port")
                        .and_then(|p| p.get("number").or_else(|| p.get("name"))),
                ),
                None => (b.get("serviceName"), b.get("servicePort")),
            };
            let Some(name_node) = name_node else { continue };
            let Some(name) = name_node.as_str() else {
                continue;
            };
            let port = port_node.and_then(|p| {
                p.as_i64()
                    .map(PortRef::Number)
                    .or_else(|| p.as_str().map(PortRef::Name))
                    .map(|r| (r, p))
            });
            backend(cx, out, i, ing, ns, (name, name_node), port);
        }
    }
}

fn backend(
    cx: &Ctx<'_>,
    out: &mut Out,
    index: usize,
    route: &K8sObject,
    ns: Option<&str>,
    (name, name_node): (&str, &Node),
    port: Option<(PortRef<'_>, &Node)>,
) {
    let services: Vec<&K8sObject> = cx.named("Service", ns, name).map(|(_, s)| s).collect();
    let where_ = ns.map_or_else(String::new, |n| format!(" in namespace `{n}`"));
    if services.is_empty() {
        out.object(
            cx,
            index,
            name_node.pos,
            format!(
                "{} sends traffic to Service `{name}`, which does not exist{where_}: those requests fail",
                describe(route)
            ),
        );
        return;
    }
    let Some((port, node)) = port else { return };
    // a Knative Service's ports are not written: only core Services are checked
    let core: Vec<&&K8sObject> = services.iter().filter(|s| s.is_core_service()).collect();
    if core.len() < services.len() {
        return;
    }
    let exposes = core.iter().any(|s| {
        s.spec()
            .map(|sp| sp.seq_at("ports"))
            .unwrap_or_default()
            .iter()
            .any(|p| match port {
                PortRef::Number(n) => p.get("port").and_then(Node::as_i64) == Some(n),
                PortRef::Name(want) => p.get_str("name") == Some(want),
            })
    });
    if exposes {
        return;
    }
    let (what, listed) = match port {
        PortRef::Number(n) => (
            format!("port {n}"),
            ports_of(core[0], |p| {
                p.get("port").and_then(Node::as_i64).map(|n| n.to_string())
            }),
        ),
        PortRef::Name(want) => (
            format!("port `{want}`"),
            ports_of(core[0], |p| p.get_str("name").map(str::to_owned)),
        ),
    };
    out.object(
        cx,
        index,
        node.pos,
        format!(
            "{} sends traffic to {what} of Service `{name}`, which exposes no such port: those requests fail",
            describe(route)
        ),
    )
    .help(if listed.is_empty() {
        format!("give Service `{name}` that port, or use one it exposes")
    } else {
        format!("use a port Service `{name}` exposes: {}", listed.join(", "))
    });
}

fn ports_of(svc: &K8sObject, f: impl Fn(&Node) -> Option<String>) -> Vec<String> {
    svc.spec()
        .map(|sp| sp.seq_at("ports"))
        .unwrap_or_default()
        .iter()
        .filter_map(f)
        .collect()
}
