//! Helpers shared by the architecture rules and the resilience rules that read call policies (timeouts, retries, circuit breakers).
//!
//! The architecture rules read the dependency graph as *calls*: a
//! synchronous edge ([`is_call`]) on the request path. Telemetry export (an
//! edge to or from an observability service), a load generator's traffic and
//! compose `depends_on` (start order, not a call) are left out, so a cycle,
//! a fan-out or a chain is one a user request can take.

use std::collections::{HashMap, HashSet};

use cairn_model::address::Address;
use cairn_model::{Edge, EdgeKind, Evidence, Origin, Role, Service, System};
use cairn_yaml::Node;

use crate::ctx::{Ctx, same_ns};
use crate::{Finding, ObjectKey, Out};

/// Whether a piece of evidence only says that a compose service starts after another.
fn start_order_only(ev: &Evidence) -> bool {
    ev.what
        .as_deref()
        .is_some_and(|w| w.starts_with("depends_on"))
}

/// Whether an edge says more than a compose start order: stated in
/// `cairn.yaml`, or found anywhere but in `depends_on`.
pub fn beyond_start_order(edge: &Edge) -> bool {
    matches!(edge.origin, Origin::Stated | Origin::Both)
        || edge.evidence.iter().any(|ev| !start_order_only(ev))
}

/// Where an edge is best shown: its first evidence that is more than a
/// compose start order.
pub fn call_evidence(edge: &Edge) -> Option<&Evidence> {
    edge.evidence
        .iter()
        .find(|ev| !start_order_only(ev))
        .or_else(|| edge.evidence.first())
}

/// Services by name and by every alias (the first service wins a shared name).
pub fn services_by_name(system: &System) -> HashMap<&str, &Service> {
    let mut map = HashMap::with_capacity(system.services.len());
    for s in &system.services {
        map.entry(s.name.as_str()).or_insert(s);
    }
    for s in &system.services {
        for a in &s.aliases {
            map.entry(a.as_str()).or_insert(s);
        }
    }
    map
}

/// Whether an edge is a synchronous call on the request path: kind `sync`,
/// neither end an observability service, the caller not a load generator,
/// and known from more than a compose `depends_on` (or stated in `cairn.yaml`).
pub fn is_call(edge: &Edge, from: Option<&Service>, to: Option<&Service>) -> bool {
    edge.kind == EdgeKind::Sync
        && !edge.observability
        && from.is_none_or(|s| !matches!(s.role, Role::Observability | Role::Loadgen))
        && to.is_none_or(|s| s.role != Role::Observability)
        && beyond_start_order(edge)
}

/// The synchronous call graph: one node per service name that takes part in a call.
pub struct CallGraph<'a> {
    /// Node names.
    pub names: Vec<&'a str>,
    /// The service of each node, when the model has it.
    pub services: Vec<Option<&'a Service>>,
    /// Calls out of each node: (callee node, edge), in the model's edge order.
    pub calls: Vec<Vec<(usize, &'a Edge)>>,
}

impl<'a> CallGraph<'a> {
    /// Builds the graph from the model's edges ([`is_call`] ones only).
    pub fn new(system: &'a System) -> Self {
        let by_name = services_by_name(system);
        let mut g = CallGraph {
            names: Vec::new(),
            services: Vec::new(),
            calls: Vec::new(),
        };
        let mut index: HashMap<&'a str, usize> = HashMap::new();
        for e in &system.edges {
            let (from, to) = (
                by_name.get(e.from.as_str()).copied(),
                by_name.get(e.to.as_str()).copied(),
            );
            if !is_call(e, from, to) {
                continue;
            }
            let mut node = |name: &'a str, svc: Option<&'a Service>| {
                *index.entry(name).or_insert_with(|| {
                    g.names.push(name);
                    g.services.push(svc);
                    g.calls.push(Vec::new());
                    g.names.len() - 1
                })
            };
            let f = node(e.from.as_str(), from);
            let t = node(e.to.as_str(), to);
            g.calls[f].push((t, e));
        }
        g
    }

    /// Strongly connected components (Tarjan, iterative so that a long chain
    /// cannot overflow the stack): the component of each node. Components
    /// are numbered in reverse topological order: every call out of a
    /// component goes to a component with a smaller number.
    pub fn components(&self) -> Vec<usize> {
        const UNSEEN: usize = usize::MAX;
        let n = self.calls.len();
        let mut index = vec![UNSEEN; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack: Vec<usize> = Vec::new();
        let mut comp = vec![UNSEEN; n];
        let (mut next, mut count) = (0, 0);
        let mut work: Vec<(usize, usize)> = Vec::new();
        for root in 0..n {
            if index[root] != UNSEEN {
                continue;
            }
            index[root] = next;
            low[root] = next;
            next += 1;
            stack.push(root);
            on_stack[root] = true;
            work.push((root, 0));
            while let Some(top) = work.last_mut() {
                let (v, pos) = *top;
                if let Some(&(w, _)) = self.calls[v].get(pos) {
                    top.1 += 1;
                    if index[w] == UNSEEN {
                        index[w] = next;
                        low[w] = next;
                        next += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp[w] = count;
                        if w == v {
                            break;
                        }
                    }
                    count += 1;
                }
            }
        }
        comp
    }
}

/// The Kubernetes object (or compose service) a finding about `svc` is
/// about: its workload or Service defined in the file `ev` points into
/// (the one written last before that line), else its first workload, so
/// that a `cairn.dev/ignore` annotation there suppresses it.
pub fn service_object(cx: &Ctx<'_>, svc: &Service, ev: Option<&Evidence>) -> ObjectKey {
    let candidates = svc
        .workloads
        .iter()
        .filter(|w| w.kind != "compose")
        .map(|w| (w.kind.as_str(), w.namespace.as_deref(), w.name.as_str()))
        .chain(
            svc.k8s_services
                .iter()
                .map(|k| ("Service", svc.namespace.as_deref(), k.name.as_str())),
        );
    let mut first = None;
    let mut best: Option<(u32, usize)> = None;
    for (kind, ns, name) in candidates {
        for (i, o) in cx.named(kind, ns, name) {
            first.get_or_insert(i);
            if let Some(ev) = ev
                && cx.path(o.file) == ev.file.as_ref()
                && o.root.pos.line <= ev.line
                && best.is_none_or(|(line, _)| o.root.pos.line > line)
            {
                best = Some((o.root.pos.line, i));
            }
        }
    }
    if let Some(i) = best.map(|(_, i)| i).or(first) {
        let o = &cx.objects()[i];
        return ObjectKey {
            kind: o.kind.clone(),
            namespace: o.namespace.clone(),
            name: o.name.clone(),
        };
    }
    let compose = !svc.workloads.is_empty() && svc.workloads.iter().all(|w| w.kind == "compose");
    ObjectKey {
        kind: if compose {
            "compose service"
        } else {
            "service"
        }
        .to_owned(),
        namespace: svc.namespace.clone(),
        name: svc.name.clone(),
    }
}

/// Reports a finding at `ev` (or, without one, where `svc` is defined)
/// about `svc`'s object.
pub fn report<'o>(
    cx: &Ctx<'_>,
    out: &'o mut Out,
    ev: Option<&Evidence>,
    svc: Option<&Service>,
    message: String,
) -> &'o mut Finding {
    let at = ev
        .filter(|e| !e.file.is_empty())
        .or_else(|| svc.and_then(|s| s.evidence.first()));
    let object = svc.map(|s| service_object(cx, s, at));
    if let Some(at) = at {
        out.evidence(cx, at, object, message)
    } else {
        let f = out.at(None, None, message);
        f.object = object;
        f
    }
}

/// [`report`] for rules with many findings per service: the object of a
/// service is looked up once per file its findings point into.
#[derive(Default)]
pub struct Reporter<'s> {
    objects: HashMap<(&'s str, &'s str), ObjectKey>,
}

impl<'s> Reporter<'s> {
    /// Reports like [`report`].
    pub fn report<'o>(
        &mut self,
        cx: &Ctx<'_>,
        out: &'o mut Out,
        ev: Option<&'s Evidence>,
        svc: Option<&'s Service>,
        message: String,
    ) -> &'o mut Finding {
        let at = ev
            .filter(|e| !e.file.is_empty())
            .or_else(|| svc.and_then(|s| s.evidence.first()));
        let object = svc.map(|s| {
            let file = at.map_or("", |e| e.file.as_ref());
            self.objects
                .entry((s.name.as_str(), file))
                .or_insert_with(|| service_object(cx, s, at))
                .clone()
        });
        if let Some(at) = at {
            out.evidence(cx, at, object, message)
        } else {
            let f = out.at(None, None, message);
            f.object = object;
            f
        }
    }
}

/// `a`, `b` and `c`, each in backticks.
pub fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Like [`list`], naming at most `max` and counting the rest
/// (`` `a`, `b` and 12 more ``), so that a message stays one line.
pub fn list_some(names: &[&str], max: usize) -> String {
    if names.len() <= max {
        return list(names);
    }
    let quoted: Vec<String> = names[..max].iter().map(|n| format!("`{n}`")).collect();
    format!("{} and {} more", quoted.join(", "), names.len() - max)
}

/// A path of services, `` `a` → `b` → `c` ``; a long one keeps its first
/// and last steps and elides the middle.
pub fn path(names: &[&str]) -> String {
    const HEAD: usize = 8;
    const TAIL: usize = 2;
    let q = |n: &&str| format!("`{n}`");
    if names.len() <= HEAD + TAIL + 1 {
        return names.iter().map(q).collect::<Vec<_>>().join(" → ");
    }
    let head: Vec<String> = names[..HEAD].iter().map(q).collect();
    let tail: Vec<String> = names[names.len() - TAIL..].iter().map(q).collect();
    format!(
        "{} → … ({} more) … → {}",
        head.join(" → "),
        names.len() - HEAD - TAIL,
        tail.join(" → ")
    )
}

/// Formats milliseconds as Istio writes durations: `250ms`, `2s`, `1.5s`.
pub fn format_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        let s = ms / 1000.0;
        if (s - s.round()).abs() < 1e-9 {
            format!("{}s", s.round())
        } else {
            format!("{s}s")
        }
    } else {
        format!("{}ms", ms.round())
    }
}

/// Which kinds of call policy the scanned files hold at all, so that a
/// message can say where the rule looked.
#[derive(Clone, Copy, Debug, Default)]
pub struct PolicySources {
    /// An Istio `VirtualService`, a Linkerd `ServiceProfile`, a Gateway API
    /// route, or Linkerd timeout/retry annotations.
    pub routes: bool,
    /// An Istio `DestinationRule` or Linkerd failure-accrual annotation.
    pub destination_rules: bool,
    /// Any workload that joins a mesh.
    pub mesh: bool,
}

impl PolicySources {
    /// Looks once over the scan.
    pub fn of(cx: &Ctx<'_>) -> Self {
        let linkerd_annotation = |prefix: &str| {
            ["Service", "HTTPRoute", "GRPCRoute"].iter().any(|k| {
                cx.of_kind(k)
                    .any(|(_, o)| o.annotations().iter().any(|(a, _)| a.starts_with(prefix)))
            })
        };
        PolicySources {
            routes: ["VirtualService", "ServiceProfile", "HTTPRoute", "GRPCRoute"]
                .iter()
                .any(|k| cx.of_kind(k).next().is_some())
                || linkerd_annotation("timeout.linkerd.io/"),
            destination_rules: cx.of_kind("DestinationRule").next().is_some()
                || linkerd_annotation("balancer.linkerd.io/failure-accrual"),
            mesh: cx
                .system
                .services
                .iter()
                .any(|s| s.workloads.iter().any(|w| w.mesh)),
        }
    }

    /// Whether nothing in the scan could set a call policy but `cairn.yaml`.
    pub fn none(self) -> bool {
        !self.routes && !self.destination_rules && !self.mesh
    }
}

/// Reports the [`policed_calls`] that `covered` (given the call and its
/// callee) does not exclude, at the call's evidence. `finding` gets the
/// call, its caller and its callee as messages name them, and the
/// [`PolicySources`] of the input; it gives the message and the help.
pub fn report_unguarded_calls(
    cx: &Ctx<'_>,
    out: &mut Out,
    covered: impl Fn(&Edge, Option<&Service>) -> bool,
    finding: impl Fn(&Edge, &str, &str, PolicySources) -> (String, String),
) {
    let sources = PolicySources::of(cx);
    let mut reporter = Reporter::default();
    for (e, from, to) in policed_calls(cx.system) {
        if covered(e, to) {
            continue;
        }
        let (caller, callee) = (display(&e.from, from), format!("`{}`", e.to));
        let (message, help) = finding(e, &caller, &callee, sources);
        reporter
            .report(cx, out, call_evidence(e), from, message)
            .help(help);
    }
}

/// The edges the resilience rules look at: synchronous calls ([`is_call`])
/// between two services, from anything but an Ingress controller the files
/// only imply (its timeouts and upstream handling are the controller's own
/// configuration, with defaults), with their caller and callee services.
pub fn policed_calls(system: &System) -> Vec<(&Edge, Option<&Service>, Option<&Service>)> {
    let by_name = services_by_name(system);
    system
        .edges
        .iter()
        .filter(|e| e.from != e.to)
        .map(|e| {
            (
                e,
                by_name.get(e.from.as_str()).copied(),
                by_name.get(e.to.as_str()).copied(),
            )
        })
        .filter(|(e, f, t)| {
            is_call(e, *f, *t)
                && f.is_none_or(|s| s.implied.as_deref() != Some("Ingress controller"))
        })
        .collect()
}

/// Whether one of the Kubernetes Services behind `svc` carries an annotation
/// whose key starts with one of `prefixes` (Linkerd policy annotations).
pub fn service_annotated(cx: &Ctx<'_>, svc: &Service, prefixes: &[&str]) -> bool {
    svc.k8s_services.iter().any(|k| {
        cx.named("Service", svc.namespace.as_deref(), &k.name)
            .any(|(_, o)| {
                o.annotations()
                    .iter()
                    .any(|(a, _)| prefixes.iter().any(|p| a.starts_with(p)))
            })
    })
}

/// `` `name` ``, with what implies it for a gateway the files only imply.
pub fn display(name: &str, svc: Option<&Service>) -> String {
    match svc.and_then(|s| s.implied.as_deref()) {
        Some(what) => format!("`{name}` ({what})"),
        None => format!("`{name}`"),
    }
}

/// Whether an edge is stated in `cairn.yaml`.
pub fn stated(edge: &Edge) -> bool {
    matches!(edge.origin, Origin::Stated | Origin::Both)
}

/// Service lookup by the hosts mesh objects name (`reviews`,
/// `reviews.shop.svc.cluster.local`, `*.shop.svc.cluster.local`, `*`).
pub struct HostLookup<'a> {
    all: &'a [Service],
    names: HashMap<String, Vec<&'a Service>>,
}

impl<'a> HostLookup<'a> {
    /// Indexes every service by name and alias.
    pub fn new(system: &'a System) -> Self {
        let mut names: HashMap<String, Vec<&'a Service>> = HashMap::new();
        for s in &system.services {
            for n in std::iter::once(&s.name).chain(&s.aliases) {
                let v = names.entry(n.to_ascii_lowercase()).or_default();
                if !v.iter().any(|x| std::ptr::eq(*x, s)) {
                    v.push(s);
                }
            }
        }
        HostLookup {
            all: &system.services,
            names,
        }
    }

    /// The services a host names, for an object in namespace `ns`.
    pub fn resolve(&self, host: &str, ns: Option<&str>) -> Vec<&'a Service> {
        let host = host.trim().to_ascii_lowercase();
        if host == "*" {
            return self.all.iter().collect();
        }
        if let Some(suffix) = host.strip_prefix("*.") {
            // `*.shop.svc.cluster.local` covers namespace shop; `*.svc.cluster.local` every
            // namespace; any other suffix is outside the cluster.
            let rest = suffix.strip_suffix(".cluster.local").unwrap_or(suffix);
            let namespace = match (rest, rest.strip_suffix(".svc")) {
                ("svc" | "cluster.local", _) => None,
                (_, Some(ns)) if !ns.contains('.') => Some(ns),
                _ => return Vec::new(),
            };
            return self
                .all
                .iter()
                .filter(|s| same_ns(s.namespace.as_deref(), namespace))
                .collect();
        }
        if let Some(found) = self.names.get(&host) {
            return found.clone();
        }
        let a = Address {
            host,
            port: None,
            scheme: None,
        };
        let (name, a_ns) = a.cluster_parts();
        let want = a_ns.or(ns);
        self.names
            .get(name)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|s| same_ns(s.namespace.as_deref(), want))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Whether an Istio `trafficPolicy` sets a circuit breaker: outlier
/// detection, or a connection-pool limit Envoy enforces as a circuit-breaker
/// threshold, at the top or for a port.
fn traffic_policy_breaks(tp: &Node) -> bool {
    let here = tp.get("outlierDetection").is_some_and(|n| !n.is_null())
        || [
            &["connectionPool", "tcp", "maxConnections"][..],
            &["connectionPool", "http", "http1MaxPendingRequests"],
            &["connectionPool", "http", "http2MaxRequests"],
            &["connectionPool", "http", "maxRetries"],
        ]
        .iter()
        .any(|p| tp.path(p).is_some_and(|n| !n.is_null()));
    here || tp
        .seq_at("portLevelSettings")
        .iter()
        .any(traffic_policy_breaks)
}

/// Names of the services a circuit breaker guards: an Istio
/// `DestinationRule` for their host with outlier detection or connection
/// pool limits (top level, per port or per subset), or the Linkerd
/// `balancer.linkerd.io/failure-accrual` annotation on their Service.
pub fn guarded_services<'a>(cx: &Ctx<'a>, hosts: &HostLookup<'a>) -> HashSet<&'a str> {
    let mut out = HashSet::new();
    for (_, dr) in cx.of_kind("DestinationRule") {
        if !dr.group().contains("istio") {
            continue;
        }
        let Some(spec) = dr.spec() else { continue };
        let breaks = spec.get("trafficPolicy").is_some_and(traffic_policy_breaks)
            || spec
                .seq_at("subsets")
                .iter()
                .filter_map(|s| s.get("trafficPolicy"))
                .any(traffic_policy_breaks);
        if !breaks {
            continue;
        }
        if let Some(host) = spec.get_str("host") {
            for s in hosts.resolve(host, dr.namespace.as_deref()) {
                out.insert(s.name.as_str());
            }
        }
    }
    for s in &cx.system.services {
        if service_annotated(cx, s, &["balancer.linkerd.io/failure-accrual"]) {
            out.insert(s.name.as_str());
        }
    }
    out
}
