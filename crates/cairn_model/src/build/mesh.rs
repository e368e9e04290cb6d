//! Istio, Linkerd and Gateway API: policies on services, gateway edges, entry points.

use super::{Builder, EdgeSet, HostIndex, merge_policy};
use crate::{EdgeKind, Entrypoint, Policy, Retries, Service, System};
use cairn_ingest::k8s::{K8sObject, string_pairs};
use cairn_source::Loc;
use cairn_yaml::Node;
use std::collections::HashMap;

/// The kinds that carry mesh or routing facts; other objects are skipped
/// before evidence is built for them (a large scan has tens of thousands).
const MESH_KINDS: &[&str] = &[
    "VirtualService",
    "DestinationRule",
    "PeerAuthentication",
    "AuthorizationPolicy",
    "RequestAuthentication",
    "Sidecar",
    "ServiceProfile",
    "HTTPRoute",
    "GRPCRoute",
    "Ingress",
];

impl Builder<'_> {
    /// Istio, Linkerd and Gateway API: policies on services, entry points.
    pub(super) fn mesh(
        &mut self,
        objects: &[K8sObject],
        index: &HostIndex,
        edges: &mut EdgeSet,
        system: &mut System,
    ) {
        // Istio Gateways by name: the ingress pods they select are a service of
        // the system when their Deployment is in scope.
        let istio_gateways: HashMap<&str, Vec<(&str, &str)>> = objects
            .iter()
            .filter(|o| o.kind == "Gateway" && o.group().contains("istio"))
            .map(|o| {
                let sel = o
                    .spec()
                    .and_then(|s| s.get("selector"))
                    .map_or(&[][..], |s| s.as_map().unwrap_or(&[]));
                (o.name.as_str(), string_pairs(sel))
            })
            .collect();
        // Where each Gateway object (Istio or Gateway API) is defined.
        let gateway_ev: HashMap<&str, crate::Evidence> = objects
            .iter()
            .filter(|o| o.kind == "Gateway")
            .map(|o| {
                (
                    o.name.as_str(),
                    self.ev(
                        Loc::new(o.file, o.name_pos()),
                        Some(format!("Gateway {}", o.name)),
                    ),
                )
            })
            .collect();
        let gateway_service = |gw: &str, services: &[Service]| -> Option<usize> {
            let name = gw.rsplit('/').next().unwrap_or(gw);
            let sel = istio_gateways.get(name).filter(|s| !s.is_empty())?;
            services.iter().position(|s| {
                s.workloads.iter().any(|w| {
                    sel.iter()
                        .all(|(k, v)| w.labels.iter().any(|(lk, lv)| lk == k && lv == v))
                })
            })
        };
        // Linkerd Servers by name: the pods an AuthorizationPolicy targets through them.
        let linkerd_servers: HashMap<&str, Vec<(&str, &str)>> = objects
            .iter()
            .filter(|o| o.kind == "Server" && o.group().contains("linkerd"))
            .map(|o| {
                let sel = o
                    .spec()
                    .and_then(|s| s.get("podSelector"))
                    .map_or_else(Vec::new, |x| string_pairs(x.map_at("matchLabels")));
                (o.name.as_str(), sel)
            })
            .collect();
        for o in objects
            .iter()
            .filter(|o| MESH_KINDS.contains(&o.kind.as_str()))
        {
            let ev = self.ev(
                Loc::new(o.file, o.name_pos()),
                Some(format!("{} {}", o.kind, o.name)),
            );
            let ns = o.namespace.as_deref();
            match (o.kind.as_str(), o.group()) {
                ("VirtualService", g) if g.contains("istio") => {
                    let Some(spec) = o.spec() else { continue };
                    let gateways: Vec<&str> = spec
                        .seq_at("gateways")
                        .iter()
                        .filter_map(Node::as_str)
                        .filter(|g| *g != "mesh")
                        .collect();
                    for route in spec
                        .seq_at("http")
                        .iter()
                        .chain(spec.seq_at("tcp"))
                        .chain(spec.seq_at("tls"))
                    {
                        let dests: Vec<(&str, Option<&str>, i64)> = route
                            .seq_at("route")
                            .iter()
                            .filter_map(|r| {
                                let d = r.get("destination")?;
                                Some((
                                    d.get_str("host")?,
                                    d.get_str("subset"),
                                    r.get("weight").and_then(Node::as_i64).unwrap_or(100),
                                ))
                            })
                            .collect();
                        let mut policy = Policy {
                            timeout_ms: route
                                .get("timeout")
                                .and_then(Node::as_str)
                                .and_then(cairn_ingest::config::parse_duration_ms),
                            ..Policy::default()
                        };
                        if let Some(r) = route.get("retries") {
                            policy.retries = Some(Retries {
                                attempts: r.get("attempts").and_then(Node::as_i64),
                                per_try_timeout_ms: r
                                    .get("perTryTimeout")
                                    .and_then(Node::as_str)
                                    .and_then(cairn_ingest::config::parse_duration_ms),
                                retry_on: r.get_str("retryOn").map(str::to_owned),
                            });
                        }
                        policy.evidence.push(self.ev(
                            Loc::new(o.file, route.pos),
                            Some(format!("VirtualService {}", o.name)),
                        ));
                        for (host, subset, weight) in &dests {
                            let Some(to) = index.lookup_host(host, ns) else {
                                continue;
                            };
                            let m = &mut self.services[to].mesh;
                            merge_policy(&mut m.policy, &policy);
                            if dests.len() > 1 {
                                let label = subset
                                    .map_or_else(|| (*host).to_owned(), |s| format!("{host}/{s}"));
                                if !m.traffic_split.iter().any(|(l, _)| *l == label) {
                                    m.traffic_split.push((label, *weight));
                                }
                            }
                            if !gateways.is_empty() {
                                for gw in &gateways {
                                    let from = gateway_service(gw, &self.services).or_else(|| {
                                        let name = gw.rsplit('/').next().unwrap_or(gw);
                                        istio_gateways.contains_key(name).then(|| {
                                            self.implied_gateway(
                                                name,
                                                ns,
                                                "Istio Gateway",
                                                gateway_ev.get(name).cloned(),
                                            )
                                        })
                                    });
                                    if let Some(from) = from.filter(|f| *f != to) {
                                        let route_ev = self.ev(
                                            Loc::new(o.file, route.pos),
                                            Some(format!("VirtualService {} route", o.name)),
                                        );
                                        let edge = edges.add(
                                            &self.services,
                                            from,
                                            to,
                                            Some(EdgeKind::Sync),
                                            Some("http"),
                                            route_ev,
                                            Vec::new(),
                                        );
                                        // the route's own timeout and retries govern the gateway's calls along it
                                        merge_policy(&mut edge.policy, &policy);
                                    }
                                    let host = spec.seq_at("hosts").first().and_then(Node::as_str);
                                    let paths: Vec<&str> = route
                                        .seq_at("match")
                                        .iter()
                                        .filter_map(|m| m.get("uri"))
                                        .filter_map(|u| {
                                            u.get_str("prefix")
                                                .or_else(|| u.get_str("exact"))
                                                .or_else(|| u.get_str("regex"))
                                        })
                                        .collect();
                                    for path in one_or_none(&paths) {
                                        system.entrypoints.push(Entrypoint {
                                            via: format!(
                                                "VirtualService/{} (gateway {gw})",
                                                o.name
                                            ),
                                            host: host.map(str::to_owned),
                                            path: path.map(str::to_owned),
                                            to: self.services[to].name.clone(),
                                            resolved: true,
                                            evidence: ev.clone(),
                                        });
                                    }
                                }
                            }
                        }
                    }
                }
                ("DestinationRule", g) if g.contains("istio") => {
                    let Some(spec) = o.spec() else { continue };
                    let Some(to) = spec.get_str("host").and_then(|h| index.lookup_host(h, ns))
                    else {
                        continue;
                    };
                    let tp = spec.get("trafficPolicy");
                    let mut p = Policy::default();
                    if let Some(od) = tp.and_then(|t| t.get("outlierDetection")) {
                        p.circuit_breaker = Some(true);
                        p.outlier_consecutive_errors = od
                            .get("consecutive5xxErrors")
                            .or_else(|| od.get("consecutiveErrors"))
                            .or_else(|| od.get("consecutiveGatewayErrors"))
                            .and_then(Node::as_i64);
                    }
                    p.max_connections = tp
                        .and_then(|t| t.path(&["connectionPool", "tcp", "maxConnections"]))
                        .and_then(Node::as_i64);
                    p.max_pending_requests = tp
                        .and_then(|t| {
                            t.path(&["connectionPool", "http", "http1MaxPendingRequests"])
                        })
                        .and_then(Node::as_i64);
                    p.evidence.push(ev.clone());
                    let m = &mut self.services[to].mesh;
                    merge_policy(&mut m.policy, &p);
                    if let Some(mode) = tp
                        .and_then(|t| t.path(&["tls", "mode"]))
                        .and_then(Node::as_str)
                    {
                        m.mtls = Some(mode.to_owned());
                    }
                }
                ("PeerAuthentication", g) if g.contains("istio") => {
                    let Some(mode) = o
                        .spec()
                        .and_then(|s| s.path(&["mtls", "mode"]))
                        .and_then(Node::as_str)
                    else {
                        continue;
                    };
                    let sel: Vec<(&str, &str)> = o.spec().map_or_else(Vec::new, |s| {
                        s.get("selector")
                            .map_or_else(Vec::new, |x| string_pairs(x.map_at("matchLabels")))
                    });
                    for s in &mut self.services {
                        let in_ns = ns.is_none()
                            || s.namespace.as_deref() == ns
                            || o.namespace.as_deref() == Some("istio-system");
                        let selected = sel.is_empty()
                            || s.workloads.iter().any(|w| {
                                sel.iter().all(|(k, v)| {
                                    w.labels.iter().any(|(lk, lv)| lk == k && lv == v)
                                })
                            });
                        if in_ns && selected && (s.mesh.mtls.is_none() || !sel.is_empty()) {
                            s.mesh.mtls = Some(mode.to_owned());
                        }
                    }
                }
                ("AuthorizationPolicy" | "RequestAuthentication", g)
                    if g.contains("istio") || g.contains("linkerd") =>
                {
                    let spec = o.spec();
                    // Istio selects pods by labels; Linkerd targets a Server
                    // (which selects pods), a Namespace, or a route.
                    let target_kind = spec
                        .and_then(|sp| sp.path(&["targetRef", "kind"]))
                        .and_then(Node::as_str);
                    let target_name = spec
                        .and_then(|sp| sp.path(&["targetRef", "name"]))
                        .and_then(Node::as_str);
                    let sel: Vec<(&str, &str)> = match (target_kind, target_name) {
                        (Some("Server"), Some(server)) => {
                            linkerd_servers.get(server).cloned().unwrap_or_default()
                        }
                        _ => spec.map_or_else(Vec::new, |s| {
                            s.get("selector")
                                .map_or_else(Vec::new, |x| string_pairs(x.map_at("matchLabels")))
                        }),
                    };
                    let whole_namespace = target_kind == Some("Namespace")
                        || (sel.is_empty() && target_kind.is_none());
                    let label = format!("{}/{}", o.kind, o.name);
                    for s in &mut self.services {
                        let in_ns = ns.is_none()
                            || s.namespace.as_deref() == ns
                            || ns == Some("istio-system");
                        let selected = !sel.is_empty()
                            && s.workloads.iter().any(|w| {
                                sel.iter().all(|(k, v)| {
                                    w.labels.iter().any(|(lk, lv)| lk == k && lv == v)
                                })
                            });
                        let named = target_kind.is_some_and(|k| k == "Service")
                            && target_name == Some(s.name.as_str());
                        let applies =
                            selected || named || (whole_namespace && !s.workloads.is_empty());
                        if in_ns && applies && !s.mesh.authorization.contains(&label) {
                            s.mesh.authorization.push(label.clone());
                        }
                    }
                }
                ("Sidecar", g) if g.contains("istio") => {
                    let Some(spec) = o.spec() else { continue };
                    let sel: Vec<(&str, &str)> = spec
                        .get("workloadSelector")
                        .map_or_else(Vec::new, |x| string_pairs(x.map_at("labels")));
                    let hosts: Vec<String> = spec
                        .seq_at("egress")
                        .iter()
                        .flat_map(|e| e.seq_at("hosts"))
                        .filter_map(Node::as_str)
                        .map(str::to_owned)
                        .collect();
                    for s in &mut self.services {
                        let in_ns = ns.is_none() || s.namespace.as_deref() == ns;
                        let selected = sel.is_empty()
                            || s.workloads.iter().any(|w| {
                                sel.iter().all(|(k, v)| {
                                    w.labels.iter().any(|(lk, lv)| lk == k && lv == v)
                                })
                            });
                        if in_ns && selected && !s.workloads.is_empty() {
                            for h in &hosts {
                                if !s.mesh.egress_hosts.contains(h) {
                                    s.mesh.egress_hosts.push(h.clone());
                                }
                            }
                        }
                    }
                }
                ("ServiceProfile", g) if g.contains("linkerd") => {
                    let host = o.name.split('.').next().unwrap_or(&o.name);
                    let Some(to) = index.lookup(host, ns) else {
                        continue;
                    };
                    let mut p = Policy::default();
                    for r in o.spec().map_or(&[][..], |s| s.seq_at("routes")) {
                        if let Some(t) = r
                            .get_str("timeout")
                            .and_then(cairn_ingest::config::parse_duration_ms)
                        {
                            p.timeout_ms = Some(p.timeout_ms.map_or(t, |x: f64| x.max(t)));
                        }
                        if r.get("isRetryable").and_then(Node::as_bool) == Some(true) {
                            p.retries = Some(Retries {
                                attempts: None,
                                per_try_timeout_ms: None,
                                retry_on: Some("linkerd retry budget".into()),
                            });
                        }
                    }
                    p.evidence.push(ev.clone());
                    merge_policy(&mut self.services[to].mesh.policy, &p);
                }
                ("HTTPRoute" | "GRPCRoute", g) if g.contains("gateway.networking.k8s.io") => {
                    let Some(spec) = o.spec() else { continue };
                    let parents: Vec<&str> = spec
                        .seq_at("parentRefs")
                        .iter()
                        .filter_map(|p| p.get_str("name"))
                        .collect();
                    for rule in spec.seq_at("rules") {
                        let refs: Vec<(&str, i64)> = rule
                            .seq_at("backendRefs")
                            .iter()
                            .filter_map(|b| {
                                Some((
                                    b.get_str("name")?,
                                    b.get("weight").and_then(Node::as_i64).unwrap_or(1),
                                ))
                            })
                            .collect();
                        let timeout = rule
                            .path(&["timeouts", "request"])
                            .and_then(Node::as_str)
                            .and_then(cairn_ingest::config::parse_duration_ms);
                        for (name, weight) in &refs {
                            let target = index.lookup(name, ns);
                            if let Some(to) = target {
                                for parent in &parents {
                                    if !gateway_ev.contains_key(parent) {
                                        continue;
                                    }
                                    let from = self.implied_gateway(
                                        parent,
                                        ns,
                                        "Gateway API Gateway",
                                        gateway_ev.get(parent).cloned(),
                                    );
                                    if from != to {
                                        let route_ev = self.ev(
                                            Loc::new(o.file, rule.pos),
                                            Some(format!("{} {} rule", o.kind, o.name)),
                                        );
                                        let proto = if o.kind == "GRPCRoute" {
                                            "grpc"
                                        } else {
                                            "http"
                                        };
                                        edges.add(
                                            &self.services,
                                            from,
                                            to,
                                            Some(EdgeKind::Sync),
                                            Some(proto),
                                            route_ev,
                                            Vec::new(),
                                        );
                                    }
                                }
                                if timeout.is_some() {
                                    let p = Policy {
                                        timeout_ms: timeout,
                                        evidence: vec![ev.clone()],
                                        ..Policy::default()
                                    };
                                    merge_policy(&mut self.services[to].mesh.policy, &p);
                                }
                                if refs.len() > 1
                                    && !self.services[to]
                                        .mesh
                                        .traffic_split
                                        .iter()
                                        .any(|(l, _)| l == name)
                                {
                                    self.services[to]
                                        .mesh
                                        .traffic_split
                                        .push(((*name).to_owned(), *weight));
                                }
                            }
                            let paths: Vec<&str> = rule
                                .seq_at("matches")
                                .iter()
                                .filter_map(|m| m.path(&["path", "value"]).and_then(Node::as_str))
                                .collect();
                            for path in one_or_none(&paths) {
                                system.entrypoints.push(Entrypoint {
                                    via: format!(
                                        "{}/{} (gateway {})",
                                        o.kind,
                                        o.name,
                                        parents.join(",")
                                    ),
                                    host: spec
                                        .seq_at("hostnames")
                                        .first()
                                        .and_then(Node::as_str)
                                        .map(str::to_owned),
                                    path: path.map(str::to_owned),
                                    to: target.map_or_else(
                                        || (*name).to_owned(),
                                        |t| self.services[t].name.clone(),
                                    ),
                                    resolved: target.is_some(),
                                    evidence: ev.clone(),
                                });
                            }
                        }
                    }
                }
                ("Ingress", g)
                    if g.starts_with("networking.k8s.io") || g.starts_with("extensions") =>
                {
                    let Some(spec) = o.spec() else { continue };
                    // (host, path, the backend's service-name node)
                    let mut backends: Vec<(Option<&str>, Option<&str>, &Node)> = Vec::new();
                    if let Some(n) = spec
                        .path(&["defaultBackend", "service", "name"])
                        .or_else(|| spec.path(&["backend", "serviceName"]))
                        .filter(|n| n.as_str().is_some())
                    {
                        backends.push((None, None, n));
                    }
                    for rule in spec.seq_at("rules") {
                        for p in rule.get("http").map_or(&[][..], |h| h.seq_at("paths")) {
                            if let Some(n) = p
                                .path(&["backend", "service", "name"])
                                .or_else(|| p.path(&["backend", "serviceName"]))
                                .filter(|n| n.as_str().is_some())
                            {
                                backends.push((rule.get_str("host"), p.get_str("path"), n));
                            }
                        }
                    }
                    let class = spec
                        .get_str("ingressClassName")
                        .or_else(|| {
                            o.annotations()
                                .into_iter()
                                .find(|(k, _)| *k == "kubernetes.io/ingress.class")
                                .map(|(_, v)| v)
                        })
                        .unwrap_or("ingress");
                    for (host, path, name_node) in backends {
                        let name = name_node.as_str().unwrap_or_default();
                        let target = index.lookup(name, ns);
                        if let Some(to) = target {
                            let from = self.implied_gateway(
                                class,
                                None,
                                "Ingress controller",
                                Some(ev.clone()),
                            );
                            if from != to {
                                let backend_ev = self.ev(
                                    Loc::new(o.file, name_node.pos),
                                    Some(format!("Ingress {} backend", o.name)),
                                );
                                edges.add(
                                    &self.services,
                                    from,
                                    to,
                                    Some(EdgeKind::Sync),
                                    Some("http"),
                                    backend_ev,
                                    Vec::new(),
                                );
                            }
                        }
                        system.entrypoints.push(Entrypoint {
                            via: format!("Ingress/{}", o.name),
                            host: host.map(str::to_owned),
                            path: path.map(str::to_owned),
                            to: target
                                .map_or_else(|| name.to_owned(), |t| self.services[t].name.clone()),
                            resolved: target.is_some(),
                            evidence: ev.clone(),
                        });
                    }
                }
                _ => {}
            }
        }
        // Mesh policy on a service governs every inferred call to it.
        let by_name: HashMap<&str, &Service> =
            self.services.iter().map(|s| (s.name.as_str(), s)).collect();
        for e in edges.edges.values_mut() {
            if let Some(to) = by_name
                .get(e.to.as_str())
                .filter(|s| !s.mesh.policy.is_empty())
            {
                let mut merged = to.mesh.policy.clone();
                merge_policy(&mut merged, &e.policy);
                e.policy = merged;
            }
        }
        system
            .entrypoints
            .sort_by(|a, b| (&a.via, &a.to).cmp(&(&b.via, &b.to)));
        system.entrypoints.dedup_by(|a, b| {
            a.via == b.via && a.to == b.to && a.path == b.path && a.host == b.host
        });
    }
}

/// Whether a mesh host pattern (`api.example.com`, `*.example.com`) covers `host`.
pub(super) fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.ends_with(suffix) && host.len() > suffix.len(),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

impl Builder<'_> {
    /// The service for a gateway whose pods the files do not hold (a
    /// controller runs them): found by name, or added with role gateway and
    /// marked `implied`.
    fn implied_gateway(
        &mut self,
        name: &str,
        namespace: Option<&str>,
        what: &str,
        ev: Option<crate::Evidence>,
    ) -> usize {
        if let Some(i) = self.services.iter().position(|s| s.name == name) {
            return i;
        }
        self.services.push(Service {
            implied: Some(what.to_owned()),
            evidence: ev.into_iter().collect(),
            ..Service::new(name, namespace.map(str::to_owned), crate::Role::Gateway)
        });
        self.services.len() - 1
    }
}

/// Each path as `Some`, or a single `None` when a route matches no path.
fn one_or_none<'a>(paths: &[&'a str]) -> Vec<Option<&'a str>> {
    if paths.is_empty() {
        vec![None]
    } else {
        paths.iter().map(|p| Some(*p)).collect()
    }
}
