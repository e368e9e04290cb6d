//! From what was read to one [`System`].
//!
//! The order matters and is the same every run: services first (Kubernetes
//! Services grouped with the workloads they select, then workloads no Service
//! selects, then compose services, then services only `cairn.yaml` names),
//! then a host index of every name a service answers to, then dependencies
//! from every place configuration names an address, then stated intent on
//! top, then mesh policy, entry points, topics and datastores.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cairn_ingest::{Format, Ingest};
use cairn_source::{Diagnostic, FileId, Loc, SourceMap};

mod env;
mod index;
mod inventory;
mod mesh;
mod services;

use env::{ConfigMaps, Finding, resolve_k8s_env, scalar_values};
use index::{EdgeSet, HostIndex};
use inventory::{attach_contracts, compile_netpols, datastores, inventory, topics};
use mesh::host_matches;
use rayon::prelude::*;

use crate::{
    Edge, EdgeKind, Evidence, FileEntry, ObjectRef, Origin, Policy, Retries, Service, System,
    Unresolved,
};

/// Builds the system model from what was read. Returns the model and the
/// diagnostics found while building it.
pub fn build(input: &Ingest) -> (System, Vec<Diagnostic>) {
    let mut b = Builder {
        src: &input.sources,
        diags: Vec::new(),
        services: Vec::new(),
        engines: HashMap::new(),
        k8s_env: HashMap::new(),
    };
    b.k8s_services(&input.objects);
    for project in &input.compose {
        for cs in &project.services {
            b.compose_service(cs);
        }
    }
    let config = input.configs.first();
    if input.configs.len() > 1 {
        for extra in &input.configs[1..] {
            b.diags.push(
                Diagnostic::warning(
                    "config-duplicate",
                    "more than one cairn.yaml was given; only the first is used",
                )
                .in_file(extra.file.unwrap_or(FileId(0))),
            );
        }
    }
    if let Some(cfg) = config {
        b.apply_intent(cfg);
    }
    qualify_shared_names(&mut b.services, &mut b.engines);
    b.services
        .sort_by(|a, c| (&a.name, &a.namespace).cmp(&(&c.name, &c.namespace)));
    let index = HostIndex::new(&b.services);
    attach_contracts(input, &index, &mut b.services);

    let mut edges = EdgeSet::default();
    let mut unresolved: BTreeMap<(String, String), Unresolved> = BTreeMap::new();

    // Dependencies named in Kubernetes workload configuration, found in
    // parallel (the environment was resolved once, when workloads were built).
    let work: Vec<(usize, Option<&str>, &Vec<ResolvedEnv>)> = input
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| o.is_workload())
        .filter_map(|(i, obj)| {
            let from = index.lookup(&obj.name, obj.namespace.as_deref())?;
            Some((from, obj.namespace.as_deref(), b.k8s_env.get(&i)?))
        })
        .flat_map(|(from, ns, per_container)| per_container.iter().map(move |env| (from, ns, env)))
        .collect();
    let findings: Vec<Vec<Finding>> = work
        .par_iter()
        .map(|(from, ns, env)| b.env_findings(&index, *from, *ns, &[], env))
        .collect();
    for f in findings {
        b.add_findings(f, &mut edges, &mut unresolved);
    }
    // Compose: environment, depends_on, links.
    for project in &input.compose {
        for cs in &project.services {
            let Some(from) = index.lookup(&cs.name, None) else {
                continue;
            };
            let env: Vec<ResolvedEnv> = cs
                .env
                .iter()
                .filter_map(|e| {
                    Some(ResolvedEnv {
                        name: e.key.clone(),
                        value: e.value.clone()?,
                        source: "compose",
                        evidence: vec![b.ev(e.loc, Some(format!("environment {}", e.key)))],
                    })
                })
                .collect();
            let links: Vec<(String, usize)> = cs
                .links
                .iter()
                .filter_map(|l| Some((l.alias.clone()?, index.lookup(&l.name, None)?)))
                .collect();
            let found = b.env_findings(&index, from, None, &links, &env);
            b.add_findings(found, &mut edges, &mut unresolved);
            for (r, what) in cs
                .depends_on
                .iter()
                .map(|r| (r, "depends_on"))
                .chain(cs.links.iter().map(|r| (r, "links")))
            {
                match index.lookup(&r.name, None) {
                    Some(to) if to != from => {
                        let ev = b.ev(r.loc, Some(format!("{what} {}", r.name)));
                        let proto = b.engines.get(&b.services[to].name).copied();
                        edges.add(&b.services, from, to, None, proto, ev, Vec::new());
                    }
                    Some(_) => {}
                    None => b.diags.push(
                        Diagnostic::warning(
                            "compose-unknown-service",
                            format!(
                                "service `{}` {what} `{}`, which is not defined",
                                cs.name, r.name
                            ),
                        )
                        .in_file(r.loc.file)
                        .at(r.loc.pos),
                    ),
                }
            }
        }
    }
    // Spring application configuration: addresses anywhere in its values.
    for ac in input
        .app_configs
        .iter()
        .filter(|a| a.format == Format::SpringConfig)
    {
        let Some(from) = ac.app_name.as_deref().and_then(|n| index.lookup(n, None)) else {
            continue;
        };
        for doc in &ac.documents {
            let mut found = Vec::new();
            scalar_values(doc, "", &mut found);
            let env: Vec<ResolvedEnv> = found
                .into_iter()
                .map(|(key, value, pos)| ResolvedEnv {
                    evidence: vec![b.ev(Loc::new(ac.file, pos), Some(key.clone()))],
                    name: key,
                    value,
                    source: "literal",
                })
                .collect();
            let found = b.env_findings(&index, from, None, &[], &env);
            b.add_findings(found, &mut edges, &mut unresolved);
        }
    }
    // Stated dependencies.
    if let Some(cfg) = config {
        for s in &cfg.services {
            let Some(from) = index.lookup(&s.name, None) else {
                continue;
            };
            for d in &s.dependencies {
                let ev = d.loc.map(|l| b.ev(l, Some("cairn.yaml dependency".into())));
                if let Some(to) = index.lookup(&d.to, None) {
                    let kind = d.kind.as_deref().and_then(EdgeKind::parse);
                    let seen = edges.edges.contains_key(&(
                        b.services[from].name.clone(),
                        b.services[to].name.clone(),
                    ));
                    let e = edges.add(
                        &b.services,
                        from,
                        to,
                        kind,
                        d.protocol.as_deref(),
                        ev.clone().unwrap_or_else(Builder::ev_none),
                        Vec::new(),
                    );
                    e.origin = if seen { Origin::Both } else { Origin::Stated };
                    if let Some(k) = kind {
                        e.kind = k;
                    }
                    if let Some(p) = &d.protocol {
                        e.protocol.clone_from(p);
                    }
                    let p = &mut e.policy;
                    p.timeout_ms = d.timeout_ms.or(p.timeout_ms);
                    if d.retries.is_some() {
                        p.retries = Some(Retries {
                            attempts: d.retries,
                            ..Retries::default()
                        });
                    }
                    p.circuit_breaker = d.circuit_breaker.or(p.circuit_breaker);
                    p.idempotent = d.idempotent;
                    p.fallback.clone_from(&d.fallback);
                    if let Some(t) = &d.topic
                        && !e.topics.contains(t)
                    {
                        e.topics.push(t.clone());
                    }
                } else {
                    let key = (b.services[from].name.clone(), d.to.clone());
                    unresolved.entry(key).or_insert_with(|| Unresolved {
                        from: b.services[from].name.clone(),
                        host: d.to.clone(),
                        port: None,
                        external: d.to.contains('.'),
                        declared_by: None,
                        evidence: ev.into_iter().collect(),
                    });
                }
            }
        }
    }
    let mut system = System {
        name: config.and_then(|c| c.system.clone()),
        environment: config.and_then(|c| c.environment.clone()),
        ..System::default()
    };
    b.mesh(&input.objects, &index, &mut edges, &mut system);
    system.network_policies = compile_netpols(&input.objects, b.src);
    inventory(&input.objects, b.src, &b.services, &mut system);
    for u in unresolved.values_mut() {
        u.declared_by = system
            .external_services
            .iter()
            .find(|x| x.hosts.iter().any(|h| host_matches(h, &u.host)))
            .map(|x| x.name.clone());
    }
    system.objects = input
        .objects
        .iter()
        .map(|o| ObjectRef {
            api_version: o.api_version.clone(),
            kind: o.kind.clone(),
            name: o.name.clone(),
            namespace: o.namespace.clone(),
            evidence: b.ev(Loc::new(o.file, o.name_pos()), None),
        })
        .collect();
    system.files = input
        .sources
        .iter()
        .filter(|(_, f)| f.text.is_some())
        .map(|(id, f)| FileEntry {
            path: f.path.to_string(),
            format: input
                .formats
                .get(id.0 as usize)
                .map_or("unknown", |f| f.as_str()),
        })
        .collect();

    let mut edge_list: Vec<Edge> = edges.edges.into_values().collect();
    for e in &mut edge_list {
        // evidence stays in discovery order (configuration first, then stated intent)
        e.topics.sort();
    }
    edge_list.sort_by(|a, c| (&a.from, &a.to, a.kind).cmp(&(&c.from, &c.to, c.kind)));
    system.topics = topics(&edge_list);
    system.datastores = datastores(&b.services, &edge_list, &b.engines);
    system.edges = edge_list;
    system.unresolved = unresolved.into_values().collect();
    // gateways implied by routing objects were added after the first sort
    b.services
        .sort_by(|a, c| (&a.name, &a.namespace).cmp(&(&c.name, &c.namespace)));
    system.services = b.services;
    (system, b.diags)
}

struct Builder<'a> {
    src: &'a SourceMap,
    diags: Vec<Diagnostic>,
    services: Vec<Service>,
    /// Engine (postgres, kafka, …) of datastore and broker services, by name.
    engines: HashMap<String, &'static str>,
    /// The resolved environment of each Kubernetes workload's containers, by
    /// the workload's index in `Ingest::objects`.
    k8s_env: HashMap<usize, Vec<Vec<ResolvedEnv>>>,
}

/// An environment variable after lookup and expansion, with the places its value came from.
#[derive(Clone, Debug)]
struct ResolvedEnv {
    name: String,
    value: String,
    /// `literal`, `configmap` or `compose`.
    source: &'static str,
    evidence: Vec<Evidence>,
}

impl Builder<'_> {
    pub(super) fn ev(&self, loc: Loc, what: Option<String>) -> Evidence {
        evidence(self.src, loc, what)
    }

    pub(super) fn ev_none() -> Evidence {
        Evidence {
            file: std::sync::Arc::from(""),
            line: 0,
            column: 0,
            what: None,
        }
    }
}

/// `over` fields that are set win over `base`.
fn merge_policy(base: &mut Policy, over: &Policy) {
    base.timeout_ms = over.timeout_ms.or(base.timeout_ms);
    if over.retries.is_some() {
        base.retries.clone_from(&over.retries);
    }
    base.circuit_breaker = over.circuit_breaker.or(base.circuit_breaker);
    base.outlier_consecutive_errors = over
        .outlier_consecutive_errors
        .or(base.outlier_consecutive_errors);
    base.max_connections = over.max_connections.or(base.max_connections);
    base.max_pending_requests = over.max_pending_requests.or(base.max_pending_requests);
    base.idempotent = over.idempotent.or(base.idempotent);
    if over.fallback.is_some() {
        base.fallback.clone_from(&over.fallback);
    }
    for e in &over.evidence {
        if !base.evidence.contains(e) {
            base.evidence.push(e.clone());
        }
    }
}

pub(super) fn evidence(src: &SourceMap, loc: Loc, what: Option<String>) -> Evidence {
    Evidence {
        file: src.path_arc(loc.file),
        line: loc.pos.line,
        column: loc.pos.column,
        what,
    }
}

/// Services are named by their Kubernetes name; when the same name lives in
/// several namespaces (`kubectl get -A` output), each becomes `name.namespace`
/// so edges stay unambiguous, and the plain name stays an alias that
/// resolves within its own namespace.
fn qualify_shared_names(services: &mut [Service], engines: &mut HashMap<String, &'static str>) {
    let mut namespaces: HashMap<String, BTreeSet<Option<String>>> = HashMap::new();
    for s in services.iter() {
        namespaces
            .entry(s.name.clone())
            .or_default()
            .insert(s.namespace.clone());
    }
    for s in services.iter_mut() {
        let shared = namespaces.get(&s.name).is_some_and(|n| n.len() > 1);
        if let (true, Some(ns)) = (shared, s.namespace.clone()) {
            let qualified = format!("{}.{ns}", s.name);
            if let Some(e) = engines.get(&s.name).copied() {
                engines.insert(qualified.clone(), e);
            }
            let plain = std::mem::replace(&mut s.name, qualified);
            s.aliases.insert(0, plain);
        }
    }
}
