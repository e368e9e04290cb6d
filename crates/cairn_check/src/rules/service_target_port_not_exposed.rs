//! A Service's targetPort is not a port the selected containers declare.
//!
//! A Service forwards each of its ports to `targetPort` on the selected
//! pods (the same number as `port` when `targetPort` is not written). A
//! named `targetPort` (`http`) must name a `containerPort` of the pod: a pod
//! without a port of that name is no endpoint for it, and connections fail.
//! A numeric `targetPort` reaches the pod whether declared or not, but when
//! the containers declare their ports and none is the target, the Service
//! most likely forwards to a port nothing listens on (a `targetPort: 8080`
//! for an app that moved to 8000).
//!
//! Init containers count only when they are sidecars (`restartPolicy:
//! Always`); ordinary init containers have exited by the time traffic comes.
//!
//! ## Example
//! ```yaml
//! kind: Service
//! spec:
//!   selector: {app: web}
//!   ports:
//!     - port: 80
//!       targetPort: http        # the container's port is named "web"
//! ---
//! kind: Deployment
//! spec:
//!   template:
//!     spec:
//!       containers:
//!         - name: web
//!           ports: [{name: web, containerPort: 8080}]
//! ```
//!
//! ## Fix
//! Point `targetPort` at a declared container port, by number or by name:
//! ```yaml
//!       targetPort: web
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/services-networking/service/#field-spec-ports
//! - https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#ports
//!
//! ## Notes
//! A numeric target is only judged when every container of the pod declares
//! its ports: a container that declares none may listen anywhere, and the
//! rule cannot tell. Declaring ports is informational in Kubernetes, so an
//! app may listen on an undeclared port (an all-in-one image serving more
//! ports than its manifest lists); the message says so, and the fix is to
//! declare the port. `targetPort: 0` means unset, as in Kubernetes. Services that select no pods are left to
//! `service-selector-matches-nothing`.

use crate::kit_manifest::{SelectingService, name_list, selecting_services};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA203",
    name: "service-target-port-not-exposed",
    category: Category::Manifest,
    levels: levels!(info, info, warning, warning, error),
    summary: "a Service's targetPort is not a port the selected containers declare",
    help: "set targetPort to a containerPort (number or name) of the selected pods",
    check,
};

/// The target a Service port forwards to.
enum Target<'a> {
    Number(i64),
    Name(&'a str),
}

/// The ports a workload's serving containers declare, and whether one of
/// them declares none.
struct Declared<'a> {
    ports: Vec<(i64, Option<&'a str>)>,
    portless: bool,
}

fn declared<'a>(cx: &Ctx<'a>, obj: &'a K8sObject) -> Declared<'a> {
    let mut d = Declared {
        ports: Vec::new(),
        portless: false,
    };
    for c in cx.containers(obj) {
        let sidecar = c.node.get_str("restartPolicy") == Some("Always");
        if c.ephemeral || (c.init && !sidecar) {
            continue;
        }
        let ports = c.node.seq_at("ports");
        if ports.is_empty() {
            d.portless = true;
        }
        for p in ports {
            if let Some(n) = p.get("containerPort").and_then(Node::as_i64) {
                d.ports.push((n, p.get_str("name")));
            }
        }
    }
    d
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for SelectingService {
        index: i,
        svc,
        spec,
        selector,
        ..
    } in selecting_services(cx)
    {
        let selected = cx.pods_selected(svc.namespace.as_deref(), &selector);
        if selected.is_empty() {
            continue;
        }
        let workloads: Vec<(&K8sObject, Declared<'_>)> = selected
            .iter()
            .map(|&w| {
                let obj = &cx.objects()[w];
                (obj, declared(cx, obj))
            })
            .collect();
        for p in spec.seq_at("ports") {
            let Some(port) = p.get("port").and_then(Node::as_i64) else {
                continue;
            };
            // `targetPort: 0` (or "") is unset: Kubernetes defaults it to `port`
            let target_node = p
                .get("targetPort")
                .filter(|t| !t.is_null() && t.as_i64() != Some(0) && t.as_str() != Some(""));
            let target = match target_node {
                None => Target::Number(port),
                Some(t) => match t.as_i64().or_else(|| t.as_str()?.parse().ok()) {
                    Some(n) => Target::Number(n),
                    None => match t.as_str() {
                        Some(name) => Target::Name(name),
                        None => continue,
                    },
                },
            };
            let mut missing: Vec<String> = Vec::new();
            let mut seen: Vec<i64> = Vec::new();
            for (obj, d) in &workloads {
                let ok = match target {
                    Target::Number(n) => {
                        d.portless || d.ports.is_empty() || d.ports.iter().any(|(cp, _)| *cp == n)
                    }
                    Target::Name(name) => d.ports.iter().any(|(_, pn)| *pn == Some(name)),
                };
                if !ok {
                    missing.push(describe(obj));
                    for (cp, _) in &d.ports {
                        if !seen.contains(cp) {
                            seen.push(*cp);
                        }
                    }
                }
            }
            if missing.is_empty() {
                continue;
            }
            let at = target_node.map_or_else(|| p.get("port").map_or(p.pos, |n| n.pos), |t| t.pos);
            let port_name = p
                .get_str("name")
                .map_or_else(|| port.to_string(), |n| format!("{port} (`{n}`)"));
            let declared_ports: Vec<String> = seen.iter().map(ToString::to_string).collect();
            let message = match target {
                Target::Name(name) => format!(
                    "{} port {port_name} targets container port `{name}`, which no container of {} declares: those pods are no endpoints of this port",
                    describe(svc),
                    name_list(&missing, 3)
                ),
                Target::Number(n) => format!(
                    "{} port {port_name} targets port {n}, which {} does not declare (declared: {}): connections fail unless a container listens there undeclared",
                    describe(svc),
                    name_list(&missing, 3),
                    declared_ports.join(", ")
                ),
            };
            out.object(cx, i, at, message);
        }
    }
}
