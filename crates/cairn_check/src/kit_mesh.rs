//! Helpers shared by the mesh, observability and ownership rules.
//!
//! The mesh rules read Istio and Linkerd objects as written (positions come
//! from the raw objects) and decide three things the model does not keep:
//! whether a workload runs with a sidecar ([`Enrollment`]), which mTLS mode
//! applies to it ([`PeerAuths`]) and which authorization policies govern it
//! and whether they admit a caller ([`AuthzPolicies`]). Host names of
//! `VirtualService`s and `DestinationRule`s resolve through [`Hosts`].
//!
//! The observability and ownership rules share the list of application
//! services ([`app_services`]) and where a finding about one points
//! ([`Anchor`]).

use std::collections::HashMap;

use cairn_ingest::config::ServiceIntent;
use cairn_ingest::k8s::K8sObject;
use cairn_model::netpol::Selector;
use cairn_model::{Edge, Role, Service, System, Workload};
use cairn_source::{FileId, Pos};
use cairn_yaml::Node;

use crate::ctx::{self, Ctx, same_ns};
use crate::{Finding, ObjectKey, Out};

/// Istio's root namespace: policies there apply mesh-wide.
pub const ROOT_NAMESPACE: &str = "istio-system";

/// Whether the object belongs to an Istio API group.
pub fn is_istio(o: &K8sObject) -> bool {
    o.group().ends_with("istio.io")
}

/// Whether the object belongs to a Linkerd API group.
pub fn is_linkerd(o: &K8sObject) -> bool {
    o.group().ends_with("linkerd.io")
}

/// The text of a scalar, null or not (`""` for an empty value).
pub fn text(n: &Node) -> Option<&str> {
    n.as_scalar().map(|s| s.text.as_str())
}

/// The key and value nodes of `key` under `metadata.<section>` (`labels` or `annotations`).
pub fn meta_entry<'a>(
    meta: Option<&'a Node>,
    section: &str,
    key: &str,
) -> Option<(&'a Node, &'a Node)> {
    meta?.get(section)?.entry(key)
}

/// The pod template's `metadata`.
pub fn pod_meta(o: &K8sObject) -> Option<&Node> {
    o.pod_template()?.get("metadata")
}

/// The text of label or annotation `key` of the pod template.
fn pod_value<'a>(o: &'a K8sObject, section: &str, key: &str) -> Option<&'a str> {
    meta_entry(pod_meta(o), section, key).and_then(|(_, v)| text(v))
}

/// `Deployment/web` or `Deployment/shop/web`, for messages.
pub fn qualified(o: &K8sObject) -> String {
    match &o.namespace {
        Some(ns) => format!("{}/{ns}/{}", o.kind, o.name),
        None => format!("{}/{}", o.kind, o.name),
    }
}

/// The dependency edges between two services of the system, with the
/// caller and the callee, found by their names (not aliases; the first
/// service wins a shared name).
pub fn service_edges(system: &System) -> Vec<(&Edge, &Service, &Service)> {
    let mut by_name: HashMap<&str, &Service> = HashMap::new();
    for s in &system.services {
        by_name.entry(s.name.as_str()).or_insert(s);
    }
    system
        .edges
        .iter()
        .filter_map(|edge| {
            Some((
                edge,
                *by_name.get(edge.from.as_str())?,
                *by_name.get(edge.to.as_str())?,
            ))
        })
        .collect()
}

/// The raw object of a model workload (`None` for compose services).
pub fn workload_object(cx: &Ctx<'_>, w: &Workload) -> Option<usize> {
    if w.kind == "compose" {
        return None;
    }
    cx.named(&w.kind, w.namespace.as_deref(), &w.name)
        .find(|(_, o)| o.namespace == w.namespace)
        .or_else(|| cx.named(&w.kind, w.namespace.as_deref(), &w.name).next())
        .map(|(i, _)| i)
}

// ---------------------------------------------------------------------------
// Sidecar enrollment

/// Which workloads run with a mesh sidecar.
///
/// Istio injects a pod when its namespace carries `istio-injection=enabled`
/// or an `istio.io/rev` label, or the pod `sidecar.istio.io/inject: "true"`
/// (label, or the older annotation); `disabled`/`"false"` on either wins.
/// When neither is written the files do not say: namespaces are usually
/// labelled with `kubectl label` outside the repository. Such a workload
/// counts as meshed when the system uses Istio, unless Linkerd injects it or
/// its `Namespace` object
/// is in the input without an injection label while another `Namespace`
/// there has one (the team manages the labels in these files).
pub struct Enrollment<'a> {
    /// Any Istio object, or a workload or namespace that opts into Istio injection.
    pub istio_used: bool,
    /// Some `Namespace` object in the input enables Istio injection.
    namespaces_declare: bool,
    namespaces: HashMap<&'a str, &'a K8sObject>,
}

impl<'a> Enrollment<'a> {
    /// Reads the namespaces and the workloads' injection settings.
    pub fn new(cx: &Ctx<'a>) -> Self {
        let namespaces: HashMap<&str, &K8sObject> = cx
            .of_kind("Namespace")
            .map(|(_, o)| (o.name.as_str(), o))
            .collect();
        let namespaces_declare = namespaces
            .values()
            .any(|n| namespace_istio(n) == Some(true));
        let istio_used = namespaces_declare
            || cx.objects().iter().any(is_istio)
            || cx.workloads().any(|(_, w)| pod_istio(w) == Some(true));
        Enrollment {
            istio_used,
            namespaces_declare,
            namespaces,
        }
    }

    /// The `Namespace` object of a namespace, when in the input.
    pub fn namespace(&self, name: Option<&str>) -> Option<&'a K8sObject> {
        name.and_then(|n| self.namespaces.get(n).copied())
    }

    /// What the files say about Istio injection of a workload's pods.
    pub fn istio_stated(&self, w: &K8sObject) -> Option<bool> {
        let ns = self
            .namespace(w.namespace.as_deref())
            .and_then(namespace_istio);
        let pod = pod_istio(w);
        if pod == Some(false) || ns == Some(false) {
            Some(false)
        } else if pod == Some(true) || ns == Some(true) {
            Some(true)
        } else {
            None
        }
    }

    /// Whether a workload's pods run with an Istio sidecar (see the type's documentation).
    pub fn in_istio(&self, w: &K8sObject) -> bool {
        if w.pod_spec()
            .and_then(|p| p.node.get("hostNetwork"))
            .and_then(Node::as_bool)
            == Some(true)
        {
            // Istio never injects host-network pods
            return false;
        }
        self.istio_stated(w).unwrap_or_else(|| {
            self.istio_used
                && !self.in_linkerd(w)
                && !(self.namespaces_declare && self.namespace(w.namespace.as_deref()).is_some())
        })
    }

    /// Whether a workload counts as in the Istio mesh only because the files
    /// do not say (see the type's documentation): findings about it say "may".
    pub fn istio_assumed(&self, w: &K8sObject) -> bool {
        self.istio_stated(w).is_none() && self.in_istio(w)
    }

    /// Whether a workload's pods run with a Linkerd proxy: `linkerd.io/inject`
    /// (`enabled` or `ingress`) on the pod template, or `enabled` on the
    /// namespace unless the pod says `disabled`.
    pub fn in_linkerd(&self, w: &K8sObject) -> bool {
        match pod_value(w, "annotations", "linkerd.io/inject") {
            Some("enabled" | "ingress") => true,
            Some("disabled") => false,
            _ => {
                self.namespace(w.namespace.as_deref())
                    .and_then(|n| meta_entry(n.metadata(), "annotations", "linkerd.io/inject"))
                    .and_then(|(_, v)| text(v))
                    == Some("enabled")
            }
        }
    }

    /// Whether a workload's pods run with any mesh sidecar.
    pub fn meshed(&self, w: &K8sObject) -> bool {
        self.in_istio(w) || self.in_linkerd(w)
    }
}

/// The pod-level Istio injection setting: the `sidecar.istio.io/inject`
/// label (which wins), else the annotation, else an `istio.io/rev` label.
/// The injector reads `y`, `yes`, `true` and `on` as yes and any other
/// written value as no.
pub fn pod_istio(w: &K8sObject) -> Option<bool> {
    let value = pod_value(w, "labels", "sidecar.istio.io/inject")
        .or_else(|| pod_value(w, "annotations", "sidecar.istio.io/inject"));
    match value {
        Some(v) if !v.is_empty() => Some(matches!(
            v.to_ascii_lowercase().as_str(),
            "y" | "yes" | "true" | "on"
        )),
        _ => pod_value(w, "labels", "istio.io/rev").map(|_| true),
    }
}

/// The namespace-level Istio injection setting: `istio-injection` (`enabled`
/// or `disabled`; other values select nothing), else an `istio.io/rev` label.
pub fn namespace_istio(ns: &K8sObject) -> Option<bool> {
    let labels = ns.metadata();
    match meta_entry(labels, "labels", "istio-injection").and_then(|(_, v)| text(v)) {
        Some("enabled") => Some(true),
        Some("disabled") => Some(false),
        _ => meta_entry(labels, "labels", "istio.io/rev").map(|_| true),
    }
}

// ---------------------------------------------------------------------------
// Selector index

/// Items with label selectors, indexed by their first `matchLabels` pair so
/// that finding the ones that may select a pod looks at few of them (a
/// system can have a policy per service).
#[derive(Default)]
pub struct SelectorIndex {
    by_label: HashMap<String, HashMap<String, Vec<usize>>>,
    rest: Vec<usize>,
}

impl SelectorIndex {
    /// Indexes `(position, selector)` pairs.
    pub fn new<'s>(items: impl Iterator<Item = (usize, &'s Selector)>) -> Self {
        let mut index = SelectorIndex::default();
        for (i, sel) in items {
            match sel.labels.first() {
                Some((k, v)) => index
                    .by_label
                    .entry(k.clone())
                    .or_default()
                    .entry(v.clone())
                    .or_default()
                    .push(i),
                None => index.rest.push(i),
            }
        }
        index
    }

    /// Positions of the items that may select pods with `labels`, in order
    /// (the caller still checks the whole selector).
    pub fn candidates(&self, labels: &[(String, String)]) -> Vec<usize> {
        let mut out: Vec<usize> = self.rest.clone();
        for (k, v) in labels {
            if let Some(found) = self.by_label.get(k).and_then(|m| m.get(v)) {
                out.extend(found);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// [`SelectorIndex::candidates`] and `others` (items the index does not
    /// hold), in order.
    pub fn candidates_and(&self, labels: &[(String, String)], others: &[usize]) -> Vec<usize> {
        let mut candidates = self.candidates(labels);
        candidates.extend(others);
        candidates.sort_unstable();
        candidates
    }
}

/// The `selector` of an Istio policy's spec, when set and not empty.
fn policy_selector(spec: Option<&Node>) -> Option<Selector> {
    spec.and_then(|s| s.get("selector"))
        .map(|s| ctx::selector(Some(s)))
        .filter(|s| !s.labels.is_empty() || !s.expressions.is_empty())
}

/// Linkerd `Server` objects: which pods have a server (and so a policy of their own).
pub struct LinkerdServers<'a> {
    list: Vec<(&'a K8sObject, Selector)>,
    index: SelectorIndex,
}

impl<'a> LinkerdServers<'a> {
    /// Reads the servers.
    pub fn new(cx: &Ctx<'a>) -> Self {
        let list: Vec<(&K8sObject, Selector)> = cx
            .of_kind("Server")
            .filter(|(_, o)| o.group().starts_with("policy.linkerd.io"))
            .map(|(_, o)| {
                (
                    o,
                    ctx::selector(o.spec().and_then(|s| s.get("podSelector"))),
                )
            })
            .collect();
        let index = SelectorIndex::new(list.iter().enumerate().map(|(i, (_, s))| (i, s)));
        LinkerdServers { list, index }
    }

    /// Whether a `Server` selects pods with `labels` in namespace `ns`.
    pub fn select(&self, ns: Option<&str>, labels: &[(String, String)]) -> bool {
        self.index.candidates(labels).into_iter().any(|i| {
            let (srv, sel) = &self.list[i];
            same_ns(srv.namespace.as_deref(), ns) && sel.matches(labels)
        })
    }
}

// ---------------------------------------------------------------------------
// PeerAuthentication

/// One Istio `PeerAuthentication`.
pub struct PeerAuth<'a> {
    /// Index in `cx.objects()`.
    pub index: usize,
    /// The object.
    pub obj: &'a K8sObject,
    /// `selector.matchLabels` (None: namespace- or mesh-wide).
    pub selector: Option<Selector>,
    /// `mtls.mode` and its node, when set to something other than `UNSET`.
    pub mode: Option<(&'a str, &'a Node)>,
    /// `portLevelMtls`: port, mode and the mode's node.
    pub port_modes: Vec<(&'a str, &'a str, &'a Node)>,
}

impl PeerAuth<'_> {
    /// Whether the policy is mesh-wide (in the root namespace, no selector).
    pub fn mesh_wide(&self) -> bool {
        self.selector.is_none() && self.obj.namespace.as_deref() == Some(ROOT_NAMESPACE)
    }

    /// What the policy covers, for messages.
    pub fn scope(&self) -> String {
        if self.mesh_wide() {
            "the whole mesh".to_owned()
        } else if let Some(sel) = &self.selector {
            let labels: Vec<String> = sel.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("pods labelled {}", labels.join(","))
        } else {
            match &self.obj.namespace {
                Some(ns) => format!("namespace `{ns}`"),
                None => "its namespace".to_owned(),
            }
        }
    }
}

/// The mTLS mode that applies to a workload, and where it comes from.
pub struct Effective<'p, 'a> {
    /// `STRICT`, `PERMISSIVE` or `DISABLE` (`PERMISSIVE` when nothing sets it).
    pub mode: &'a str,
    /// The policy that sets it (None: Istio's default).
    pub from: Option<&'p PeerAuth<'a>>,
    /// Whether a workload policy overrides the mode on some port with a weaker one.
    pub weaker_ports: bool,
}

/// Every Istio `PeerAuthentication` in the input.
pub struct PeerAuths<'a> {
    /// The policies.
    pub list: Vec<PeerAuth<'a>>,
    /// Workload policies by selector.
    selected: SelectorIndex,
    /// Namespace-wide and mesh-wide policies (no selector), in order.
    wide: Vec<usize>,
}

impl<'a> PeerAuths<'a> {
    /// Reads the policies.
    pub fn new(cx: &Ctx<'a>) -> Self {
        let list = cx
            .of_kind("PeerAuthentication")
            .filter(|(_, o)| is_istio(o))
            .map(|(index, obj)| {
                let spec = obj.spec();
                let selector = policy_selector(spec);
                let mode = spec
                    .and_then(|s| s.path(&["mtls", "mode"]))
                    .and_then(|n| Some((n.as_str()?, n)))
                    .filter(|(m, _)| *m != "UNSET");
                let port_modes = spec
                    .map(|s| s.map_at("portLevelMtls"))
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|(k, v)| {
                        let n = v.get("mode")?;
                        Some((text(k)?, n.as_str()?, n))
                    })
                    .collect();
                PeerAuth {
                    index,
                    obj,
                    selector,
                    mode,
                    port_modes,
                }
            })
            .collect::<Vec<_>>();
        let selected = SelectorIndex::new(
            list.iter()
                .enumerate()
                .filter_map(|(i, p)| Some((i, p.selector.as_ref()?))),
        );
        let wide = (0..list.len())
            .filter(|&i| list[i].selector.is_none())
            .collect();
        PeerAuths {
            list,
            selected,
            wide,
        }
    }

    /// The mode for pods with `labels` in namespace `ns`: a workload policy
    /// wins over the namespace's, which wins over the mesh-wide one; a policy
    /// that leaves the mode unset inherits.
    pub fn effective(&self, ns: Option<&str>, labels: &[(String, String)]) -> Effective<'_, 'a> {
        let mut weaker_ports = false;
        let mut workload = None;
        let mut namespace = None;
        let mut mesh = None;
        let candidates = self.selected.candidates_and(labels, &self.wide);
        for pa in candidates.into_iter().map(|i| &self.list[i]) {
            let pns = pa.obj.namespace.as_deref();
            if let Some(sel) = &pa.selector {
                // Istio ignores workload policies in the root namespace
                if pns != Some(ROOT_NAMESPACE) && same_ns(pns, ns) && sel.matches(labels) {
                    if pa.port_modes.iter().any(|(_, m, _)| *m != "STRICT") {
                        weaker_ports = true;
                    }
                    if pa.mode.is_some() && workload.is_none() {
                        workload = Some(pa);
                    }
                }
            } else if pa.mesh_wide() && ns != Some(ROOT_NAMESPACE) {
                if pa.mode.is_some() && mesh.is_none() {
                    mesh = Some(pa);
                }
            } else if same_ns(pns, ns) && pa.mode.is_some() && namespace.is_none() {
                namespace = Some(pa);
            }
        }
        let from = workload.or(namespace).or(mesh);
        Effective {
            mode: from.and_then(|p| p.mode).map_or("PERMISSIVE", |(m, _)| m),
            from,
            weaker_ports,
        }
    }
}

// ---------------------------------------------------------------------------
// AuthorizationPolicy

/// One Istio `AuthorizationPolicy`.
pub struct Authz<'a> {
    /// Index in `cx.objects()`.
    pub index: usize,
    /// The object.
    pub obj: &'a K8sObject,
    /// `selector.matchLabels` (None: no selector).
    pub selector: Option<Selector>,
    /// `targetRef`/`targetRefs` of kind `Service`: their names.
    pub target_services: Vec<&'a str>,
    /// Whether the policy targets something by reference (a Service, a Gateway…).
    pub targeted: bool,
    /// `ALLOW` (the default), `DENY`, `AUDIT` or `CUSTOM`.
    pub action: &'a str,
    /// `rules`.
    pub rules: &'a [Node],
}

impl Authz<'_> {
    /// Whether the policy applies to pods with `labels` in namespace `ns`
    /// behind Services named `services`.
    pub fn applies(
        &self,
        ns: Option<&str>,
        labels: &[(String, String)],
        services: &[&str],
    ) -> bool {
        let pns = self.obj.namespace.as_deref();
        let root = pns == Some(ROOT_NAMESPACE);
        if self.targeted {
            return same_ns(pns, ns) && self.target_services.iter().any(|t| services.contains(t));
        }
        match &self.selector {
            Some(sel) => (root || same_ns(pns, ns)) && sel.matches(labels),
            None => root || same_ns(pns, ns),
        }
    }
}

/// A caller as an authorization policy sees it.
pub struct Caller<'a> {
    /// Whether its requests carry a mesh identity (it runs with a sidecar).
    pub meshed: bool,
    /// Its namespace, when known.
    pub namespace: Option<&'a str>,
    /// Its service account (`default` when not written).
    pub service_account: &'a str,
}

impl Caller<'_> {
    /// `cluster.local/ns/<ns>/sa/<sa>`, for messages.
    pub fn principal(&self) -> String {
        format!(
            "cluster.local/ns/{}/sa/{}",
            self.namespace.unwrap_or("<namespace>"),
            self.service_account
        )
    }
}

/// A three-valued answer: whether a condition holds for every request of a caller.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tri {
    Yes,
    No,
    Maybe,
}

impl Tri {
    fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Yes, Tri::Yes) => Tri::Yes,
            _ => Tri::Maybe,
        }
    }

    fn not(self) -> Tri {
        match self {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            Tri::Maybe => Tri::Maybe,
        }
    }

    fn from_bool(b: bool) -> Tri {
        if b { Tri::Yes } else { Tri::No }
    }
}

/// Istio string matching: exact, `*`, a `*` prefix or a `*` suffix.
fn glob(pattern: &str, value: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return value.ends_with(suffix);
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return value.starts_with(prefix);
    }
    pattern == value
}

/// Whether a principal pattern matches `ns`/`sa`, whatever the trust domain
/// (the pattern's own trust domain is assumed to be the mesh's).
fn principal_matches(pattern: &str, ns: &str, sa: &str) -> bool {
    let domain = pattern
        .split_once("/ns/")
        .map_or("cluster.local", |(d, _)| d)
        .trim_start_matches('*');
    let domain = if domain.is_empty() {
        "cluster.local"
    } else {
        domain
    };
    glob(pattern, &format!("{domain}/ns/{ns}/sa/{sa}"))
}

fn strings(n: &Node) -> Vec<&str> {
    n.as_seq()
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
        .collect()
}

/// Whether a `from.source` matches the caller's requests.
fn source_matches(source: &Node, c: &Caller<'_>) -> Tri {
    let mut result = Tri::Yes;
    for (k, v) in source.as_map().unwrap_or(&[]) {
        let values = strings(v);
        let t = match text(k).unwrap_or_default() {
            "principals" | "notPrincipals" => {
                let hit = if !c.meshed {
                    Tri::No
                } else if let Some(ns) = c.namespace {
                    Tri::from_bool(
                        values
                            .iter()
                            .any(|p| principal_matches(p, ns, c.service_account)),
                    )
                } else if values.contains(&"*") {
                    Tri::Yes
                } else {
                    Tri::Maybe
                };
                if text(k) == Some("notPrincipals") {
                    hit.not()
                } else {
                    hit
                }
            }
            "namespaces" | "notNamespaces" => {
                let hit = if !c.meshed {
                    Tri::No
                } else if let Some(ns) = c.namespace {
                    Tri::from_bool(values.iter().any(|p| glob(p, ns)))
                } else if values.contains(&"*") {
                    Tri::Yes
                } else {
                    Tri::Maybe
                };
                if text(k) == Some("notNamespaces") {
                    hit.not()
                } else {
                    hit
                }
            }
            "serviceAccounts" | "notServiceAccounts" => {
                let hit = if !c.meshed {
                    Tri::No
                } else if let Some(ns) = c.namespace {
                    let full = format!("{ns}/{}", c.service_account);
                    Tri::from_bool(values.iter().any(|p| *p == full))
                } else {
                    Tri::Maybe
                };
                if text(k) == Some("notServiceAccounts") {
                    hit.not()
                } else {
                    hit
                }
            }
            // request principals (JWT), IP blocks: not known from the files
            _ => Tri::Maybe,
        };
        result = result.and(t);
    }
    result
}

/// Whether a rule matches the caller's requests: `from` sources are OR-ed;
/// `to` and `when` narrow the requests, so a rule with them matches some.
fn rule_matches(rule: &Node, c: &Caller<'_>) -> Tri {
    let from = rule.seq_at("from");
    let sources = if from.is_empty() {
        Tri::Yes
    } else {
        from.iter().fold(Tri::No, |acc, f| {
            let t = f.get("source").map_or(Tri::Yes, |s| source_matches(s, c));
            match (acc, t) {
                (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
                (Tri::Maybe, _) | (_, Tri::Maybe) => Tri::Maybe,
                _ => Tri::No,
            }
        })
    };
    let narrowed = !rule.seq_at("to").is_empty() || !rule.seq_at("when").is_empty();
    if narrowed && sources == Tri::Yes {
        Tri::Maybe
    } else {
        sources
    }
}

/// How the policies on a workload treat a caller.
pub enum Verdict<'p, 'a> {
    /// Some requests may pass.
    Allowed,
    /// Every request is denied: by this DENY policy.
    DeniedBy(&'p Authz<'a>),
    /// Every request is denied: ALLOW policies apply and none admits the caller.
    NotAllowed(Vec<&'p Authz<'a>>),
}

/// Every Istio `AuthorizationPolicy` in the input.
pub struct AuthzPolicies<'a> {
    /// The policies.
    pub list: Vec<Authz<'a>>,
    /// Policies with a selector, by selector.
    selected: SelectorIndex,
    /// Policies without a selector or target, and targeted policies, in order.
    other: Vec<usize>,
}

impl<'a> AuthzPolicies<'a> {
    /// Reads the policies.
    pub fn new(cx: &Ctx<'a>) -> Self {
        let list = cx
            .of_kind("AuthorizationPolicy")
            .filter(|(_, o)| is_istio(o))
            .map(|(index, obj)| {
                let spec = obj.spec();
                let refs: Vec<&Node> = spec
                    .map(|s| {
                        s.get("targetRef")
                            .into_iter()
                            .chain(s.seq_at("targetRefs"))
                            .collect()
                    })
                    .unwrap_or_default();
                Authz {
                    index,
                    obj,
                    selector: policy_selector(spec),
                    target_services: refs
                        .iter()
                        .filter(|r| r.get_str("kind") == Some("Service"))
                        .filter_map(|r| r.get_str("name"))
                        .collect(),
                    targeted: !refs.is_empty(),
                    action: spec.and_then(|s| s.get_str("action")).unwrap_or("ALLOW"),
                    rules: spec.map(|s| s.seq_at("rules")).unwrap_or_default(),
                }
            })
            .collect::<Vec<_>>();
        let selected = SelectorIndex::new(
            list.iter()
                .enumerate()
                .filter(|(_, p)| !p.targeted)
                .filter_map(|(i, p)| Some((i, p.selector.as_ref()?))),
        );
        let other = (0..list.len())
            .filter(|&i| list[i].targeted || list[i].selector.is_none())
            .collect();
        AuthzPolicies {
            list,
            selected,
            other,
        }
    }

    /// The policies that apply to pods with `labels` in `ns` behind Services `services`.
    pub fn applying(
        &self,
        ns: Option<&str>,
        labels: &[(String, String)],
        services: &[&str],
    ) -> Vec<&Authz<'a>> {
        self.selected
            .candidates_and(labels, &self.other)
            .into_iter()
            .map(|i| &self.list[i])
            .filter(|p| p.applies(ns, labels, services))
            .collect()
    }

    /// How `policies` (those applying to one workload) treat every request of
    /// `caller`, in Istio's order: CUSTOM (cannot tell), DENY, then ALLOW.
    pub fn verdict<'p>(policies: &[&'p Authz<'a>], caller: &Caller<'_>) -> Verdict<'p, 'a> {
        if policies.iter().any(|p| p.action == "CUSTOM") {
            return Verdict::Allowed;
        }
        for p in policies.iter().filter(|p| p.action == "DENY") {
            if p.rules.iter().any(|r| rule_matches(r, caller) == Tri::Yes) {
                return Verdict::DeniedBy(p);
            }
        }
        let allow: Vec<&Authz<'a>> = policies
            .iter()
            .filter(|p| p.action == "ALLOW")
            .copied()
            .collect();
        if allow.is_empty()
            || allow
                .iter()
                .any(|p| p.rules.iter().any(|r| rule_matches(r, caller) != Tri::No))
        {
            Verdict::Allowed
        } else {
            Verdict::NotAllowed(allow)
        }
    }
}

/// Reports a finding about an edge at its first located evidence (where the
/// dependency is written), about the caller's workload; at `fallback` (an
/// object index and a position in it) when no evidence has a place.
pub fn report_edge<'o>(
    cx: &Ctx<'_>,
    out: &'o mut Out,
    edge: &cairn_model::Edge,
    caller: &K8sObject,
    fallback: (usize, Pos),
    message: String,
) -> &'o mut Finding {
    let key = ObjectKey {
        kind: caller.kind.clone(),
        namespace: caller.namespace.clone(),
        name: caller.name.clone(),
    };
    let located = edge.evidence.iter().find(|ev| {
        let (file, pos) = cx.locate(ev);
        file.is_some() && pos.is_some()
    });
    match located {
        Some(ev) => out.evidence(cx, ev, Some(key), message),
        None => out.object(cx, fallback.0, fallback.1, message),
    }
}

// ---------------------------------------------------------------------------
// Hosts

/// A host as a mesh object names it, resolved against a namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostKey {
    /// A cluster service: name and namespace (None: whichever the object is applied to).
    Cluster(String, Option<String>),
    /// Any other name (an external host, a `ServiceEntry` host).
    Other(String),
}

impl HostKey {
    /// Reads `host` as written in an object of namespace `ns`: `name`,
    /// `name.ns`, `name.ns.svc` or `name.ns.svc.<cluster domain>`.
    pub fn parse(host: &str, ns: Option<&str>) -> HostKey {
        let h = host.trim_end_matches('.').to_ascii_lowercase();
        let parts: Vec<&str> = h.split('.').collect();
        match parts.as_slice() {
            [name] => HostKey::Cluster((*name).to_owned(), ns.map(str::to_owned)),
            [name, n] | [name, n, "svc", ..] => {
                HostKey::Cluster((*name).to_owned(), Some((*n).to_owned()))
            }
            _ => HostKey::Other(h),
        }
    }

    /// Whether two keys can name the same host.
    pub fn same(&self, other: &HostKey) -> bool {
        match (self, other) {
            (HostKey::Cluster(a, an), HostKey::Cluster(b, bn)) => {
                a == b && same_ns(an.as_deref(), bn.as_deref())
            }
            (HostKey::Other(a), HostKey::Other(b)) => a == b,
            _ => false,
        }
    }

    /// Whether a host pattern as written (`*.shop.svc.cluster.local`,
    /// `*.example.com`, or a plain host) covers this key.
    pub fn covered_by(&self, pattern: &str, ns: Option<&str>) -> bool {
        let p = pattern.to_ascii_lowercase();
        if p == "*" {
            return true;
        }
        if let Some(suffix) = p.strip_prefix('*') {
            return match self {
                HostKey::Other(h) => h.ends_with(suffix),
                HostKey::Cluster(name, Some(n)) => {
                    format!("{name}.{n}.svc.cluster.local").ends_with(suffix)
                }
                // the namespace is not known: the pattern may cover it
                HostKey::Cluster(..) => true,
            };
        }
        self.same(&HostKey::parse(&p, ns))
    }
}

/// Whether `host` is an IP address or a CIDR block, which names no service.
pub fn is_ip(host: &str) -> bool {
    let h = host.split('/').next().unwrap_or(host);
    h.parse::<std::net::IpAddr>().is_ok()
}

/// The Services and `ServiceEntry` hosts of the input.
pub struct Hosts<'a> {
    entries: Vec<(&'a str, Option<&'a str>)>,
}

impl<'a> Hosts<'a> {
    /// Reads the `ServiceEntry` hosts.
    pub fn new(cx: &Ctx<'a>) -> Self {
        let entries = cx
            .of_kind("ServiceEntry")
            .filter(|(_, o)| is_istio(o))
            .flat_map(|(_, o)| {
                o.spec()
                    .map(|s| s.seq_at("hosts"))
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::as_str)
                    .map(|h| (h, o.namespace.as_deref()))
            })
            .collect();
        Hosts { entries }
    }

    /// The Services (core or Knative) a host names, as indices into `cx.objects()`.
    pub fn services(cx: &Ctx<'a>, key: &HostKey) -> Vec<usize> {
        match key {
            HostKey::Cluster(name, ns) => cx
                .named("Service", ns.as_deref(), name)
                .map(|(i, _)| i)
                .collect(),
            HostKey::Other(_) => Vec::new(),
        }
    }

    /// Whether a `ServiceEntry` declares the host.
    pub fn in_entry(&self, host: &str, key: &HostKey) -> bool {
        let h = host.to_ascii_lowercase();
        self.entries
            .iter()
            .any(|(pattern, ns)| pattern.eq_ignore_ascii_case(&h) || key.covered_by(pattern, *ns))
    }

    /// Whether a host names a Service or a `ServiceEntry` host of the input.
    pub fn known(&self, cx: &Ctx<'a>, host: &str, ns: Option<&str>) -> bool {
        let key = HostKey::parse(host, ns);
        !Hosts::services(cx, &key).is_empty() || self.in_entry(host, &key)
    }
}

/// One Istio `DestinationRule` and its subsets.
pub struct DestRule<'a> {
    /// Index in `cx.objects()`.
    pub index: usize,
    /// The object.
    pub obj: &'a K8sObject,
    /// `spec.host` as written.
    pub host: &'a str,
    /// `subsets`: each subset's node.
    pub subsets: &'a [Node],
    /// The host read in the rule's namespace (None for a wildcard host).
    pub key: Option<HostKey>,
}

impl DestRule<'_> {
    /// Whether the rule's host covers a destination host written in namespace `ns`.
    pub fn covers(&self, key: &HostKey) -> bool {
        match &self.key {
            Some(own) => own.same(key),
            None => key.covered_by(self.host, self.obj.namespace.as_deref()),
        }
    }

    /// Whether the rule defines subset `name`.
    pub fn defines(&self, name: &str) -> bool {
        self.subsets.iter().any(|s| s.get_str("name") == Some(name))
    }
}

/// Every Istio `DestinationRule` in the input, with a lookup by host.
pub struct DestRules<'a> {
    /// The rules.
    pub list: Vec<DestRule<'a>>,
    /// Rules by the service name (or whole host) their host names.
    by_name: HashMap<String, Vec<usize>>,
    /// Rules with a wildcard host.
    wildcards: Vec<usize>,
}

impl<'a> DestRules<'a> {
    /// Reads the rules.
    pub fn new(cx: &Ctx<'a>) -> Self {
        let list: Vec<DestRule<'a>> = cx
            .of_kind("DestinationRule")
            .filter(|(_, o)| is_istio(o))
            .filter_map(|(index, obj)| {
                let spec = obj.spec()?;
                let host = spec.get_str("host")?;
                Some(DestRule {
                    index,
                    obj,
                    host,
                    subsets: spec.seq_at("subsets"),
                    key: (!host.contains('*'))
                        .then(|| HostKey::parse(host, obj.namespace.as_deref())),
                })
            })
            .collect();
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut wildcards = Vec::new();
        for (i, r) in list.iter().enumerate() {
            match &r.key {
                Some(HostKey::Cluster(name, _) | HostKey::Other(name)) => {
                    by_name.entry(name.clone()).or_default().push(i);
                }
                None => wildcards.push(i),
            }
        }
        DestRules {
            list,
            by_name,
            wildcards,
        }
    }

    /// The rules whose host covers a destination host, in input order.
    pub fn for_host(&self, key: &HostKey) -> Vec<&DestRule<'a>> {
        let name = match key {
            HostKey::Cluster(name, _) | HostKey::Other(name) => name,
        };
        let mut found: Vec<usize> = self
            .by_name
            .get(name)
            .into_iter()
            .flatten()
            .chain(&self.wildcards)
            .copied()
            .filter(|&i| self.list[i].covers(key))
            .collect();
        found.sort_unstable();
        found.into_iter().map(|i| &self.list[i]).collect()
    }
}

/// Every `destination` of a `VirtualService`'s routes (HTTP, TCP, TLS, and
/// HTTP mirrors): the destination node.
pub fn vs_destinations(spec: &Node) -> Vec<&Node> {
    let mut out = Vec::new();
    for kind in ["http", "tcp", "tls"] {
        for route in spec.seq_at(kind) {
            for r in route.seq_at("route") {
                if let Some(d) = r.get("destination") {
                    out.push(d);
                }
            }
            if let Some(m) = route.get("mirror") {
                out.push(m);
            }
            for m in route.seq_at("mirrors") {
                if let Some(d) = m.get("destination") {
                    out.push(d);
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Application services: observability and ownership

/// Namespaces of the platform rather than the application.
const PLATFORM_NAMESPACES: &[&str] = &[
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "istio-system",
    "linkerd",
    "linkerd-viz",
    "linkerd-jaeger",
    "monitoring",
    "observability",
    "logging",
    "cert-manager",
    "ingress-nginx",
    "gatekeeper-system",
    "kyverno",
    "argocd",
    "flux-system",
];

/// Services whose role is `app`, that run somewhere (or are stated in
/// `cairn.yaml` when `stated` is set), outside the platform namespaces.
pub fn app_services<'a>(cx: &Ctx<'a>, stated: bool) -> Vec<&'a Service> {
    cx.system
        .services
        .iter()
        .filter(|s| {
            s.role == Role::App
                && s.implied.is_none()
                && (if s.stated_only {
                    stated
                } else {
                    !s.workloads.is_empty()
                })
                && !s
                    .namespace
                    .as_deref()
                    .is_some_and(|n| PLATFORM_NAMESPACES.contains(&n))
        })
        .collect()
}

/// Reports every application service (stated ones too) for which nothing
/// is `recorded`, at its [`Anchor`] (the intent first). `finding` gives the
/// message and the help from the service's name.
pub fn report_unrecorded<'a>(
    cx: &Ctx<'a>,
    out: &mut Out,
    recorded: impl Fn(&'a Service) -> bool,
    finding: impl Fn(&str) -> (String, String),
) {
    for s in app_services(cx, true) {
        if recorded(s) {
            continue;
        }
        let Some(anchor) = Anchor::of(cx, s, true) else {
            continue;
        };
        let (message, help) = finding(&s.name);
        anchor.report(out, message).help(help);
    }
}

/// The `cairn.yaml` intent of a service.
pub fn intent<'a>(cx: &Ctx<'a>, s: &Service) -> Option<&'a ServiceIntent> {
    cx.ingest
        .configs
        .first()?
        .services
        .iter()
        .find(|i| i.name == s.name || s.aliases.contains(&i.name))
}

/// Where a finding about a service points.
pub struct Anchor {
    file: Option<FileId>,
    pos: Option<Pos>,
    object: Option<ObjectKey>,
    index: Option<usize>,
}

impl Anchor {
    /// The first workload's name, else the service's entry in `cairn.yaml`;
    /// with `intent_first`, the entry in `cairn.yaml` when there is one.
    pub fn of(cx: &Ctx<'_>, s: &Service, intent_first: bool) -> Option<Anchor> {
        let object = |w: &Workload| ObjectKey {
            kind: if w.kind == "compose" {
                "compose service".to_owned()
            } else {
                w.kind.clone()
            },
            namespace: w.namespace.clone(),
            name: w.name.clone(),
        };
        let in_intent = intent(cx, s).and_then(|i| i.loc).map(|loc| Anchor {
            file: Some(loc.file),
            pos: Some(loc.pos),
            object: None,
            index: None,
        });
        if intent_first && in_intent.is_some() {
            return in_intent;
        }
        // prefer a Kubernetes workload: suppressions can be written on it
        let w = s
            .workloads
            .iter()
            .find(|w| w.kind != "compose")
            .or_else(|| s.workloads.first());
        match w {
            Some(w) => {
                let index = workload_object(cx, w);
                let (file, pos) = match index {
                    Some(i) => {
                        let o = &cx.objects()[i];
                        (Some(o.file), Some(o.name_pos()))
                    }
                    None => cx.locate(&w.evidence),
                };
                Some(Anchor {
                    file,
                    pos,
                    object: Some(object(w)),
                    index,
                })
            }
            None => in_intent,
        }
    }

    /// Reports a finding here.
    pub fn report<'o>(&self, out: &'o mut Out, message: impl Into<String>) -> &'o mut Finding {
        let f = out.at(self.file, self.pos, message);
        f.object.clone_from(&self.object);
        f.object_index = self.index;
        f
    }
}

/// The raw objects behind a service: its workloads and its Kubernetes Services.
pub fn service_objects<'a>(cx: &Ctx<'a>, s: &Service) -> Vec<&'a K8sObject> {
    let mut out: Vec<&K8sObject> = s
        .workloads
        .iter()
        .filter_map(|w| workload_object(cx, w))
        .map(|i| &cx.objects()[i])
        .collect();
    for k in &s.k8s_services {
        if let Some((_, o)) = cx.named("Service", s.namespace.as_deref(), &k.name).next() {
            out.push(o);
        }
    }
    out
}

/// The first label or annotation among `keys` on the objects (their own
/// metadata, and their pod template's), with a non-empty value.
pub fn first_meta<'a>(objects: &[&'a K8sObject], keys: &[&str]) -> Option<(&'a str, &'a str)> {
    for o in objects {
        for meta in [o.metadata(), pod_meta(o)] {
            for section in ["annotations", "labels"] {
                for k in keys {
                    if let Some((key, v)) = meta_entry(meta, section, k)
                        && let (Some(key), Some(v)) = (text(key), text(v))
                        && !v.trim().is_empty()
                    {
                        return Some((key, v));
                    }
                }
            }
        }
    }
    None
}

/// Whether an environment variable is set to a value that turns something off.
pub fn falsy(v: Option<&str>) -> bool {
    v.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "false" | "0" | "no" | "off" | "none" | "disabled"
        )
    })
}

/// Environment variables of every container of a service: (name, value).
pub fn service_env(s: &Service) -> impl Iterator<Item = (&str, Option<&str>)> {
    s.workloads
        .iter()
        .flat_map(|w| w.containers.iter())
        .flat_map(|c| c.env.iter())
        .map(|e| (e.name.as_str(), e.value.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_match_across_trust_domains_and_wildcards() {
        assert!(principal_matches(
            "cluster.local/ns/shop/sa/web",
            "shop",
            "web"
        ));
        assert!(principal_matches(
            "example.org/ns/shop/sa/web",
            "shop",
            "web"
        ));
        assert!(principal_matches("*/ns/shop/sa/web", "shop", "web"));
        assert!(principal_matches("cluster.local/ns/shop/*", "shop", "web"));
        assert!(principal_matches("*", "shop", "web"));
        assert!(!principal_matches(
            "cluster.local/ns/shop/sa/cart",
            "shop",
            "web"
        ));
        assert!(!principal_matches(
            "cluster.local/ns/other/*",
            "shop",
            "web"
        ));
    }

    #[test]
    fn hosts_parse_in_every_cluster_form() {
        let k = HostKey::Cluster("reviews".into(), Some("shop".into()));
        assert_eq!(HostKey::parse("reviews", Some("shop")), k);
        assert_eq!(HostKey::parse("reviews.shop", None), k);
        assert_eq!(HostKey::parse("reviews.shop.svc", None), k);
        assert_eq!(HostKey::parse("reviews.shop.svc.cluster.local", None), k);
        assert_eq!(
            HostKey::parse("api.example.com", None),
            HostKey::Other("api.example.com".into())
        );
        assert!(k.covered_by("*.shop.svc.cluster.local", None));
        assert!(!k.covered_by("*.other.svc.cluster.local", None));
    }
}
