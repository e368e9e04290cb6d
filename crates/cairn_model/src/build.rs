//! From what was read to one [`System`].
//!
//! The order matters and is the same every run: services first (Kubernetes
//! Services grouped with the workloads they select, then workloads no Service
//! selects, then compose services, then services only `cairn.yaml` names),
//! then a host index of every name a service answers to, then dependencies
//! from every place configuration names an address, then stated intent on
//! top, then mesh policy, entry points, topics and datastores.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cairn_ingest::k8s::{EnvSource, K8sObject, string_pairs};
use cairn_ingest::{ComposeService, Format, Ingest};
use cairn_source::{Diagnostic, FileId, Loc, Pos, SourceMap};
use cairn_yaml::{Node, Value};

use crate::address::{self, Address};
use crate::netpol::{self, NetworkPolicies, Peer, Rule, Selector};
use crate::role::{self, Role};
use crate::{
    AlertRules, Autoscaling, Container, Datastore, Edge, EdgeKind, Entrypoint, EnvVar, Evidence,
    ExternalService, FileEntry, Grant, KubeService, Mesh, Namespace, ObjectRef, Origin, Policy,
    Port, Resources, Retries, Service, ServiceAccount, System, Topic, Unresolved, Workload,
};

/// Builds the system model from what was read. Returns the model and the
/// diagnostics found while building it.
pub fn build(input: &Ingest) -> (System, Vec<Diagnostic>) {
    let mut b = Builder {
        src: &input.sources,
        diags: Vec::new(),
        services: Vec::new(),
        engines: HashMap::new(),
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
    b.services
        .sort_by(|a, c| (&a.name, &a.namespace).cmp(&(&c.name, &c.namespace)));
    let index = HostIndex::new(&b.services);
    attach_contracts(input, &index, &mut b.services);

    let mut edges = EdgeSet::default();
    let mut unresolved: BTreeMap<(String, String), Unresolved> = BTreeMap::new();
    let configmaps = ConfigMaps::new(&input.objects);

    // Dependencies named in Kubernetes workload configuration.
    for obj in input.objects.iter().filter(|o| o.is_workload()) {
        let Some(from) = index.owner_of_workload(&obj.name, obj.namespace.as_deref()) else {
            continue;
        };
        let Some(ps) = obj.pod_spec() else { continue };
        for c in ps.all_containers() {
            let env = resolve_k8s_env(obj, &c, &configmaps, b.src);
            b.edges_from_env(
                &index,
                from,
                obj.namespace.as_deref(),
                &env,
                &mut edges,
                &mut unresolved,
            );
        }
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
                        evidence: vec![b.ev(e.loc, Some(format!("environment {}", e.key)))],
                    })
                })
                .collect();
            b.edges_from_env(&index, from, None, &env, &mut edges, &mut unresolved);
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
                })
                .collect();
            b.edges_from_env(&index, from, None, &env, &mut edges, &mut unresolved);
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
            path: f.path.clone(),
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
    system.services = b.services;
    (system, b.diags)
}

struct Builder<'a> {
    src: &'a SourceMap,
    diags: Vec<Diagnostic>,
    services: Vec<Service>,
    /// Engine (postgres, kafka, …) of datastore and broker services, by index.
    engines: HashMap<String, &'static str>,
}

/// An environment variable after lookup and expansion, with the places its value came from.
#[derive(Clone, Debug)]
struct ResolvedEnv {
    name: String,
    value: String,
    evidence: Vec<Evidence>,
}

impl Builder<'_> {
    fn ev(&self, loc: Loc, what: Option<String>) -> Evidence {
        evidence(self.src, loc, what)
    }

    fn ev_none() -> Evidence {
        Evidence {
            file: String::new(),
            line: 0,
            column: 0,
            what: None,
        }
    }

    fn k8s_services(&mut self, objects: &[K8sObject]) {
        let workloads: Vec<&K8sObject> = objects.iter().filter(|o| o.is_workload()).collect();
        let svcs: Vec<&K8sObject> = objects.iter().filter(|o| o.is("Service", "")).collect();
        // union-find over Services and workloads linked by selection
        let n = svcs.len() + workloads.len();
        let mut parent: Vec<usize> = (0..n).collect();
        // Index workloads by (namespace, label key=value) to avoid a quadratic scan.
        let mut by_label: HashMap<(Option<&str>, &str, &str), Vec<usize>> = HashMap::new();
        let pod_labels: Vec<Vec<(&str, &str)>> = workloads.iter().map(|w| w.pod_labels()).collect();
        for (wi, labels) in pod_labels.iter().enumerate() {
            for (k, v) in labels {
                by_label
                    .entry((workloads[wi].namespace.as_deref(), k, v))
                    .or_default()
                    .push(wi);
            }
        }
        for (si, s) in svcs.iter().enumerate() {
            let sel = s.selector();
            let Some(&(k0, v0)) = sel.first() else {
                continue;
            };
            let ns = s.namespace.as_deref();
            let Some(cands) = by_label.get(&(ns, k0, v0)) else {
                continue;
            };
            for &wi in cands {
                if sel.iter().all(|(k, v)| pod_labels[wi].contains(&(k, v))) {
                    let (a, c) = (find(&mut parent, si), find(&mut parent, svcs.len() + wi));
                    parent[a] = c;
                }
            }
        }
        let aux = WorkloadIndex::new(objects);
        let mut groups: BTreeMap<usize, (Vec<&K8sObject>, Vec<&K8sObject>)> = BTreeMap::new();
        for i in 0..n {
            let r = find(&mut parent, i);
            let g = groups.entry(r).or_default();
            if i < svcs.len() {
                g.0.push(svcs[i]);
            } else {
                g.1.push(workloads[i - svcs.len()]);
            }
        }
        for (_, (ss, ws)) in groups {
            let name = group_name(&ss, &ws);
            let namespace = ss.first().or(ws.first()).and_then(|o| o.namespace.clone());
            let mut aliases: BTreeSet<String> =
                ss.iter().chain(ws.iter()).map(|o| o.name.clone()).collect();
            aliases.remove(&name);
            let workloads: Vec<Workload> = ws.iter().map(|w| self.workload(w, &aux)).collect();
            let images: Vec<&str> = workloads
                .iter()
                .flat_map(|w| {
                    w.containers
                        .iter()
                        .filter(|c| !c.init)
                        .filter_map(|c| c.image.as_deref())
                })
                .collect();
            let mut ports: Vec<Port> = Vec::new();
            for s in &ss {
                for p in s.spec().map_or(&[][..], |sp| sp.seq_at("ports")) {
                    if let Some(num) = p
                        .get("port")
                        .and_then(Node::as_i64)
                        .and_then(|n| u16::try_from(n).ok())
                    {
                        let hint = p
                            .get_str("appProtocol")
                            .or_else(|| p.get_str("name"))
                            .unwrap_or("")
                            .to_owned();
                        if !ports.iter().any(|q| q.port == num) {
                            ports.push(Port {
                                port: num,
                                name: hint,
                            });
                        }
                    }
                }
            }
            let container_ports: Vec<u16> = workloads
                .iter()
                .flat_map(|w| {
                    w.containers
                        .iter()
                        .flat_map(|c| c.ports.iter().map(|p| p.port))
                })
                .chain(ports.iter().map(|p| p.port))
                .collect();
            let (role, engine) = role::infer(&images, &name, &container_ports);
            if let Some(e) = engine
                && matches!(role, Role::Datastore | Role::Broker)
            {
                self.engines.insert(name.clone(), e);
            }
            let owner_label = ss.iter().chain(ws.iter()).find_map(|o| {
                o.labels()
                    .into_iter()
                    .find(|(k, _)| {
                        matches!(
                            *k,
                            "team" | "owner" | "app.kubernetes.io/owner" | "app.kubernetes.io/team"
                        )
                    })
                    .map(|(_, v)| v.to_owned())
            });
            let mut monitoring = Vec::new();
            if ws.iter().any(|w| {
                w.pod_annotations()
                    .iter()
                    .any(|(k, _)| k.starts_with("prometheus.io/"))
            }) || ss.iter().any(|s| {
                s.annotations()
                    .iter()
                    .any(|(k, _)| k.starts_with("prometheus.io/"))
            }) {
                monitoring.push("prometheus-annotations".to_owned());
            }
            if workloads.iter().any(|w| {
                w.containers.iter().any(|c| {
                    c.env.iter().any(|e| {
                        e.name.starts_with("OTEL_")
                            || e.name.contains("JAEGER")
                            || e.name.contains("ZIPKIN")
                    })
                })
            }) {
                monitoring.push("tracing-env".to_owned());
            }
            let k8s_services: Vec<KubeService> = ss
                .iter()
                .map(|s| KubeService {
                    name: s.name.clone(),
                    service_type: s
                        .spec()
                        .and_then(|sp| sp.get_str("type"))
                        .unwrap_or("ClusterIP")
                        .to_owned(),
                    selector: s
                        .selector()
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect(),
                    evidence: self.ev(
                        Loc::new(s.file, s.name_pos()),
                        Some(format!("Service {}", s.name)),
                    ),
                })
                .collect();
            let evidence = ss
                .iter()
                .chain(ws.iter())
                .map(|o| {
                    self.ev(
                        Loc::new(o.file, o.name_pos()),
                        Some(format!("{} {}", o.kind, o.name)),
                    )
                })
                .collect();
            self.services.push(Service {
                name,
                namespace,
                role,
                role_origin: Origin::Inferred,
                aliases: aliases.into_iter().collect(),
                owner: None,
                context: None,
                slo_availability: None,
                slo_latency_ms: Vec::new(),
                owner_label,
                ports,
                k8s_services,
                workloads,
                mesh: Mesh::default(),
                monitoring,
                contracts: Vec::new(),
                stated_only: false,
                evidence,
            });
        }
        // ServiceMonitors / PodMonitors mark the services they select.
        for m in objects
            .iter()
            .filter(|o| o.kind == "ServiceMonitor" || o.kind == "PodMonitor")
        {
            let sel: Vec<(&str, &str)> = m.spec().map_or_else(Vec::new, |s| {
                s.get("selector")
                    .map_or_else(Vec::new, |sel| string_pairs(sel.map_at("matchLabels")))
            });
            let tag = m.kind.to_ascii_lowercase();
            for (si, s) in svcs.iter().enumerate() {
                let _ = si;
                let labels = s.labels();
                if !sel.is_empty()
                    && sel.iter().all(|kv| labels.contains(kv))
                    && let Some(svc) = self
                        .services
                        .iter_mut()
                        .find(|x| x.name == s.name || x.aliases.contains(&s.name))
                    && !svc.monitoring.contains(&tag)
                {
                    svc.monitoring.push(tag.clone());
                }
            }
            if m.kind == "PodMonitor" {
                for svc in &mut self.services {
                    if svc.workloads.iter().any(|w| {
                        !sel.is_empty()
                            && sel
                                .iter()
                                .all(|(k, v)| w.labels.iter().any(|(lk, lv)| lk == k && lv == v))
                    }) && !svc.monitoring.contains(&tag)
                    {
                        svc.monitoring.push(tag.clone());
                    }
                }
            }
        }
    }

    fn workload(&self, w: &K8sObject, aux: &WorkloadIndex<'_>) -> Workload {
        let pod_labels: Vec<(String, String)> = w
            .pod_labels()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let ns = w.namespace.as_deref();
        let autoscaling = aux.hpas.get(&(ns, w.name.as_str())).and_then(|hs| {
            hs.iter().find_map(|h| {
                let spec = h.spec()?;
                let target = spec.get("scaleTargetRef")?;
                target
                    .get_str("kind")
                    .is_none_or(|k| k == w.kind)
                    .then(|| Autoscaling {
                        min: spec.get("minReplicas").and_then(Node::as_i64).unwrap_or(1),
                        max: spec.get("maxReplicas").and_then(Node::as_i64).unwrap_or(0),
                    })
            })
        });
        let mut disruption_budgets: Vec<String> = Vec::new();
        for (k, v) in &pod_labels {
            for p in aux
                .pdbs
                .get(&(ns, k.as_str(), v.as_str()))
                .map_or(&[][..], Vec::as_slice)
            {
                let sel = p.selector();
                if sel
                    .iter()
                    .all(|(k, v)| pod_labels.iter().any(|(lk, lv)| lk == k && lv == v))
                    && !disruption_budgets.contains(&p.name)
                {
                    disruption_budgets.push(p.name.clone());
                }
            }
        }
        let annotations = w.pod_annotations();
        let mesh = annotations.iter().any(|(k, v)| {
            (*k == "sidecar.istio.io/inject" && *v == "true")
                || (*k == "linkerd.io/inject" && *v == "enabled")
        }) || pod_labels
            .iter()
            .any(|(k, v)| k == "sidecar.istio.io/inject" && v == "true");
        let configmaps = &aux.configmaps;
        let containers = w
            .pod_spec()
            .map(|ps| {
                ps.all_containers()
                    .map(|c| {
                        let env = resolve_k8s_env(w, &c, configmaps, self.src);
                        let mut env_vars: Vec<EnvVar> = Vec::new();
                        for e in c.env() {
                            let (source, value) = match e.source {
                                Some(EnvSource::SecretKey { .. }) => ("secret", None),
                                Some(EnvSource::Field) => ("field", None),
                                Some(EnvSource::ConfigMapKey { .. }) => (
                                    "configmap",
                                    env.iter()
                                        .find(|r| r.name == e.name)
                                        .map(|r| r.value.clone()),
                                ),
                                None => (
                                    "literal",
                                    env.iter()
                                        .find(|r| r.name == e.name)
                                        .map(|r| r.value.clone()),
                                ),
                            };
                            env_vars.push(EnvVar {
                                name: e.name.to_owned(),
                                value,
                                source,
                                evidence: self.ev(Loc::new(w.file, e.node.pos), None),
                            });
                        }
                        let res = c.node.get("resources");
                        let q = |a: &str, b: &str| {
                            res.and_then(|r| r.path(&[a, b]))
                                .and_then(|n| n.as_scalar())
                                .map(|s| s.text.to_string())
                        };
                        Container {
                            name: c.name().to_owned(),
                            image: c.image().map(str::to_owned),
                            init: c.init,
                            ports: c
                                .ports()
                                .into_iter()
                                .filter_map(|(p, name)| {
                                    Some(Port {
                                        port: u16::try_from(p).ok()?,
                                        name: name.unwrap_or_default().to_owned(),
                                    })
                                })
                                .collect(),
                            resources: Resources {
                                cpu_request: q("requests", "cpu"),
                                cpu_limit: q("limits", "cpu"),
                                memory_request: q("requests", "memory"),
                                memory_limit: q("limits", "memory"),
                            },
                            probes: [
                                ("livenessProbe", "liveness"),
                                ("readinessProbe", "readiness"),
                                ("startupProbe", "startup"),
                            ]
                            .into_iter()
                            .filter(|(k, _)| c.node.get(k).is_some())
                            .map(|(_, n)| n)
                            .collect(),
                            env: env_vars,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Workload {
            kind: w.kind.clone(),
            name: w.name.clone(),
            namespace: w.namespace.clone(),
            replicas: w.replicas().map(|(r, _)| r),
            autoscaling,
            disruption_budgets,
            service_account: w
                .pod_spec()
                .and_then(|p| p.service_account())
                .map(str::to_owned),
            mesh,
            labels: pod_labels,
            containers,
            evidence: self.ev(
                Loc::new(w.file, w.name_pos()),
                Some(format!("{} {}", w.kind, w.name)),
            ),
        }
    }

    fn compose_service(&mut self, cs: &ComposeService) {
        let ev = self.ev(cs.loc, Some(format!("compose service {}", cs.name)));
        let workload = Workload {
            kind: "compose".into(),
            name: cs.name.clone(),
            namespace: None,
            replicas: cs.replicas.as_ref().map(|r| r.value),
            autoscaling: None,
            disruption_budgets: Vec::new(),
            service_account: None,
            mesh: false,
            labels: Vec::new(),
            containers: vec![Container {
                name: cs.name.clone(),
                image: cs.image.as_ref().map(|i| i.value.clone()),
                init: false,
                ports: cs
                    .ports
                    .iter()
                    .filter_map(|p| container_port(&p.value))
                    .map(|port| Port {
                        port,
                        name: String::new(),
                    })
                    .collect(),
                resources: Resources {
                    cpu_request: cs.resources.cpu_request.clone(),
                    cpu_limit: cs.resources.cpu_limit.clone(),
                    memory_request: cs.resources.memory_request.clone(),
                    memory_limit: cs.resources.memory_limit.clone(),
                },
                probes: if cs.healthcheck.is_some() {
                    vec!["healthcheck"]
                } else {
                    Vec::new()
                },
                env: cs
                    .env
                    .iter()
                    .map(|e| EnvVar {
                        name: e.key.clone(),
                        value: e.value.clone(),
                        source: "compose",
                        evidence: self.ev(e.loc, None),
                    })
                    .collect(),
            }],
            evidence: ev.clone(),
        };
        // The same service in a Kubernetes flavour and a compose flavour is one service.
        if let Some(existing) = self.services.iter_mut().find(|s| s.name == cs.name) {
            existing.workloads.push(workload);
            existing.evidence.push(ev);
            for a in &cs.aliases {
                if *a != existing.name && !existing.aliases.contains(a) {
                    existing.aliases.push(a.clone());
                }
            }
            return;
        }
        let images: Vec<&str> = cs.image.iter().map(|i| i.value.as_str()).collect();
        let ports = workload.containers[0].ports.clone();
        let port_numbers: Vec<u16> = ports.iter().map(|p| p.port).collect();
        let (role, engine) = role::infer(&images, &cs.name, &port_numbers);
        if let Some(e) = engine
            && matches!(role, Role::Datastore | Role::Broker)
        {
            self.engines.insert(cs.name.clone(), e);
        }
        self.services.push(Service {
            name: cs.name.clone(),
            namespace: None,
            role,
            role_origin: Origin::Inferred,
            aliases: cs
                .aliases
                .iter()
                .filter(|a| **a != cs.name)
                .cloned()
                .collect(),
            owner: None,
            context: None,
            slo_availability: None,
            slo_latency_ms: Vec::new(),
            owner_label: None,
            ports,
            k8s_services: Vec::new(),
            workloads: vec![workload],
            mesh: Mesh::default(),
            monitoring: Vec::new(),
            contracts: Vec::new(),
            stated_only: false,
            evidence: vec![ev],
        });
    }

    fn apply_intent(&mut self, cfg: &cairn_ingest::CairnConfig) {
        for s in &cfg.services {
            let ev = s.loc.map(|l| self.ev(l, Some("cairn.yaml".into())));
            let idx = self
                .services
                .iter()
                .position(|x| x.name == s.name || x.aliases.contains(&s.name));
            let idx = idx.unwrap_or_else(|| {
                self.services.push(Service {
                    name: s.name.clone(),
                    namespace: None,
                    role: Role::App,
                    role_origin: Origin::Inferred,
                    aliases: Vec::new(),
                    owner: None,
                    context: None,
                    slo_availability: None,
                    slo_latency_ms: Vec::new(),
                    owner_label: None,
                    ports: Vec::new(),
                    k8s_services: Vec::new(),
                    workloads: Vec::new(),
                    mesh: Mesh::default(),
                    monitoring: Vec::new(),
                    contracts: Vec::new(),
                    stated_only: true,
                    evidence: Vec::new(),
                });
                if let Some(l) = s.loc {
                    self.diags.push(
                        Diagnostic::info(
                            "config-service-not-deployed",
                            format!(
                                "cairn.yaml names service `{}`, which no manifest defines",
                                s.name
                            ),
                        )
                        .in_file(l.file)
                        .at(l.pos),
                    );
                }
                self.services.len() - 1
            });
            let svc = &mut self.services[idx];
            svc.owner.clone_from(&s.owner);
            svc.context.clone_from(&s.context);
            svc.slo_availability = s.availability;
            svc.slo_latency_ms.clone_from(&s.latency_ms);
            svc.contracts.extend(s.contracts.iter().cloned());
            if let Some(r) = s.role.as_deref().and_then(Role::parse) {
                svc.role = r;
                svc.role_origin = Origin::Stated;
            }
            if let Some(ev) = ev {
                svc.evidence.push(ev);
            }
        }
    }

    /// Adds an edge for every address the environment names.
    fn edges_from_env(
        &mut self,
        index: &HostIndex,
        from: usize,
        ns: Option<&str>,
        env: &[ResolvedEnv],
        edges: &mut EdgeSet,
        unresolved: &mut BTreeMap<(String, String), Unresolved>,
    ) {
        let direction = async_direction(env);
        let topics: Vec<String> = env
            .iter()
            .filter(|e| {
                let k = e.name.to_ascii_uppercase();
                (k.contains("TOPIC")
                    || k.contains("QUEUE")
                    || k.ends_with("_EXCHANGE")
                    || k.contains("SUBJECT"))
                    && !e.value.contains("://")
            })
            .flat_map(|e| {
                e.value
                    .split(',')
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>()
            })
            .collect();
        for e in env {
            for a in address::extract(&e.name, &e.value) {
                let (name, a_ns) = a.cluster_parts();
                let target = index.lookup(&a.host, ns).or_else(|| {
                    if a.is_dotted() && a_ns.is_some() {
                        index.lookup_in(name, a_ns)
                    } else if a.host.contains(".svc") || !a.is_dotted() {
                        index.lookup(name, a_ns.or(ns))
                    } else {
                        None
                    }
                });
                match target {
                    Some(to) if to == from => {}
                    Some(to) => {
                        let mut ev = e.evidence.clone();
                        if let Some(first) = ev.first_mut()
                            && first.what.is_none()
                        {
                            first.what = Some(format!("env {}", e.name));
                        }
                        let role = self.services[to].role;
                        let kind = if role == Role::Broker {
                            Some(direction.unwrap_or(EdgeKind::Async))
                        } else {
                            None
                        };
                        let proto = protocol_for(
                            &a,
                            &self.services[to],
                            self.engines.get(&self.services[to].name).copied(),
                        );
                        let edge_topics = if role == Role::Broker {
                            topics.clone()
                        } else {
                            Vec::new()
                        };
                        let first = ev.remove(0);
                        let edge = edges.add(
                            &self.services,
                            from,
                            to,
                            kind,
                            Some(&proto),
                            first,
                            edge_topics,
                        );
                        edge.evidence.extend(ev);
                    }
                    None => {
                        let from_name = self.services[from].name.clone();
                        let entry = unresolved
                            .entry((from_name.clone(), a.host.clone()))
                            .or_insert_with(|| Unresolved {
                                from: from_name,
                                host: a.host.clone(),
                                port: a.port,
                                external: a.is_dotted(),
                                declared_by: None,
                                evidence: Vec::new(),
                            });
                        entry.evidence.extend(e.evidence.iter().cloned());
                    }
                }
            }
        }
    }

    /// Istio, Linkerd and Gateway API: policies on services, entry points.
    fn mesh(
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
        for o in objects {
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
                                    if let Some(from) =
                                        gateway_service(gw, &self.services).filter(|f| *f != to)
                                    {
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
                                    system.entrypoints.push(Entrypoint {
                                        via: format!("VirtualService/{} (gateway {gw})", o.name),
                                        host: spec
                                            .seq_at("hosts")
                                            .first()
                                            .and_then(Node::as_str)
                                            .map(str::to_owned),
                                        path: route
                                            .seq_at("match")
                                            .first()
                                            .and_then(|m| m.get("uri"))
                                            .and_then(|u| {
                                                u.get_str("prefix").or_else(|| u.get_str("exact"))
                                            })
                                            .map(str::to_owned),
                                        to: self.services[to].name.clone(),
                                        resolved: true,
                                        evidence: ev.clone(),
                                    });
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
                                path: rule
                                    .seq_at("matches")
                                    .first()
                                    .and_then(|m| m.path(&["path", "value"]))
                                    .and_then(Node::as_str)
                                    .map(str::to_owned),
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
                ("Ingress", g)
                    if g.starts_with("networking.k8s.io") || g.starts_with("extensions") =>
                {
                    let Some(spec) = o.spec() else { continue };
                    let mut backends: Vec<(Option<&str>, Option<&str>, &str)> = Vec::new();
                    if let Some(n) = spec
                        .path(&["defaultBackend", "service", "name"])
                        .or_else(|| spec.path(&["backend", "serviceName"]))
                        .and_then(Node::as_str)
                    {
                        backends.push((None, None, n));
                    }
                    for rule in spec.seq_at("rules") {
                        for p in rule.get("http").map_or(&[][..], |h| h.seq_at("paths")) {
                            if let Some(n) = p
                                .path(&["backend", "service", "name"])
                                .or_else(|| p.path(&["backend", "serviceName"]))
                                .and_then(Node::as_str)
                            {
                                backends.push((rule.get_str("host"), p.get_str("path"), n));
                            }
                        }
                    }
                    for (host, path, name) in backends {
                        let target = index.lookup(name, ns);
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

/// Union-find root with path halving.
fn find(p: &mut [usize], mut x: usize) -> usize {
    while p[x] != x {
        p[x] = p[p[x]];
        x = p[x];
    }
    x
}

fn evidence(src: &SourceMap, loc: Loc, what: Option<String>) -> Evidence {
    Evidence {
        file: src.path(loc.file).to_owned(),
        line: loc.pos.line,
        column: loc.pos.column,
        what,
    }
}

/// The name of a group of Services and workloads: a name both share, else
/// the single Service, else the single workload, else the first Service.
fn group_name(ss: &[&K8sObject], ws: &[&K8sObject]) -> String {
    let mut snames: Vec<&str> = ss.iter().map(|s| s.name.as_str()).collect();
    snames.sort_unstable();
    let mut wnames: Vec<&str> = ws.iter().map(|w| w.name.as_str()).collect();
    wnames.sort_unstable();
    if let Some(n) = snames.iter().find(|n| wnames.contains(n)) {
        return (*n).to_owned();
    }
    if snames.len() == 1 {
        return snames[0].to_owned();
    }
    if wnames.len() == 1 {
        return wnames[0].to_owned();
    }
    // Several Services over several workloads: prefer the shortest Service name (`jaeger` over `jaeger-query`).
    snames
        .iter()
        .chain(wnames.iter())
        .min_by_key(|n| (n.len(), **n))
        .map_or_else(String::new, |n| (*n).to_owned())
}

fn container_port(spec: &str) -> Option<u16> {
    // "8080:80", "127.0.0.1:8080:80/tcp", "9090" -> the container side
    let s = spec.split('/').next().unwrap_or(spec);
    s.rsplit(':').next()?.split('-').next()?.parse().ok()
}

/// Publish/consume direction from the variable names of one container.
fn async_direction(env: &[ResolvedEnv]) -> Option<EdgeKind> {
    let names: Vec<String> = env.iter().map(|e| e.name.to_ascii_uppercase()).collect();
    let consume = names.iter().any(|n| {
        n.contains("CONSUMER")
            || n.contains("GROUP_ID")
            || n.ends_with("_GROUP")
            || n.contains("SUBSCRI")
    });
    let publish = names
        .iter()
        .any(|n| n.contains("PRODUCER") || n.contains("PUBLISH"));
    match (publish, consume) {
        (true, false) => Some(EdgeKind::AsyncPublish),
        (false, true) => Some(EdgeKind::AsyncConsume),
        _ => None,
    }
}

fn protocol_for(a: &Address, to: &Service, engine: Option<&'static str>) -> String {
    if let Some(p) = a.scheme.as_deref().and_then(role::scheme_protocol) {
        // http(s) to an OTLP collector is OTLP over HTTP
        if to.role == Role::Observability && (a.port == Some(4317) || a.port == Some(4318)) {
            return "otlp".into();
        }
        return p.into();
    }
    if to.role == Role::Observability && (a.port == Some(4317) || a.port == Some(4318)) {
        return "otlp".into();
    }
    if let Some(e) = engine {
        return e.into();
    }
    if let Some(port) = a.port
        && let Some(Port { name: hint, .. }) = to.ports.iter().find(|p| p.port == port)
    {
        let h = hint.to_ascii_lowercase();
        if h.contains("grpc") || h.contains("h2c") {
            return "grpc".into();
        }
        if h.contains("http") || h == "web" {
            return "http".into();
        }
    }
    if let Some(Port { name: hint, .. }) = to.ports.first()
        && hint.to_ascii_lowercase().contains("grpc")
    {
        return "grpc".into();
    }
    // A service described by a .proto contract speaks gRPC.
    if to.contracts.iter().any(|c| {
        std::path::Path::new(c)
            .extension()
            .is_some_and(|e| e == "proto")
    }) {
        return "grpc".into();
    }
    "unknown".into()
}

/// Every name a service answers to, with its namespace.
struct HostIndex {
    names: HashMap<String, Vec<(Option<String>, usize)>>,
}

impl HostIndex {
    fn new(services: &[Service]) -> Self {
        let mut names: HashMap<String, Vec<(Option<String>, usize)>> = HashMap::new();
        for (i, s) in services.iter().enumerate() {
            for n in std::iter::once(&s.name).chain(s.aliases.iter()) {
                let e = names.entry(n.to_ascii_lowercase()).or_default();
                if !e.iter().any(|(ns, j)| *j == i && *ns == s.namespace) {
                    e.push((s.namespace.clone(), i));
                }
            }
        }
        HostIndex { names }
    }

    /// The service answering to `name`, preferring namespace `ns`.
    fn lookup(&self, name: &str, ns: Option<&str>) -> Option<usize> {
        let c = self.names.get(&name.to_ascii_lowercase())?;
        if c.len() == 1 {
            return Some(c[0].1);
        }
        c.iter()
            .find(|(n, _)| n.as_deref() == ns)
            .or_else(|| c.iter().find(|(n, _)| n.is_none()))
            .or_else(|| c.first())
            .map(|(_, i)| *i)
    }

    /// Like `lookup` but the namespace must match when both sides name one.
    fn lookup_in(&self, name: &str, ns: Option<&str>) -> Option<usize> {
        let c = self.names.get(&name.to_ascii_lowercase())?;
        c.iter()
            .find(|(n, _)| n.is_none() || ns.is_none() || n.as_deref() == ns)
            .map(|(_, i)| *i)
    }

    /// A mesh host (`reviews`, `reviews.default.svc.cluster.local`).
    fn lookup_host(&self, host: &str, ns: Option<&str>) -> Option<usize> {
        let a = Address {
            host: host.to_ascii_lowercase(),
            port: None,
            scheme: None,
        };
        let (name, a_ns) = a.cluster_parts();
        self.lookup(&a.host, ns)
            .or_else(|| self.lookup(name, a_ns.or(ns)))
    }

    fn owner_of_workload(&self, name: &str, ns: Option<&str>) -> Option<usize> {
        self.lookup(name, ns)
    }
}

#[derive(Default)]
struct EdgeSet {
    edges: BTreeMap<(String, String), Edge>,
}

impl EdgeSet {
    /// Adds evidence to the edge `from -> to`, creating it when new.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        services: &[Service],
        from: usize,
        to: usize,
        kind: Option<EdgeKind>,
        protocol: Option<&str>,
        ev: Evidence,
        topics: Vec<String>,
    ) -> &mut Edge {
        let (f, t) = (&services[from], &services[to]);
        let default_kind = match t.role {
            Role::Datastore => EdgeKind::Datastore,
            Role::Broker => EdgeKind::Async,
            _ => EdgeKind::Sync,
        };
        let e = self
            .edges
            .entry((f.name.clone(), t.name.clone()))
            .or_insert_with(|| Edge {
                from: f.name.clone(),
                to: t.name.clone(),
                kind: kind.unwrap_or(default_kind),
                protocol: protocol.unwrap_or("unknown").to_owned(),
                origin: Origin::Inferred,
                observability: t.role == Role::Observability,
                topics: Vec::new(),
                evidence: Vec::new(),
                policy: Policy::default(),
            });
        if e.protocol == "unknown"
            && let Some(p) = protocol
        {
            p.clone_into(&mut e.protocol);
        }
        if e.kind == EdgeKind::Async
            && let Some(k) = kind
        {
            e.kind = k;
        }
        if !ev.file.is_empty() && !e.evidence.contains(&ev) {
            e.evidence.push(ev);
        }
        for t in topics {
            if !e.topics.contains(&t) {
                e.topics.push(t);
            }
        }
        e
    }
}

/// Lookups a workload needs, built once: HPAs by target, PDBs by their first selector label, `ConfigMaps`.
struct WorkloadIndex<'a> {
    hpas: HashMap<(Option<&'a str>, &'a str), Vec<&'a K8sObject>>,
    pdbs: HashMap<(Option<&'a str>, &'a str, &'a str), Vec<&'a K8sObject>>,
    configmaps: ConfigMaps<'a>,
}

impl<'a> WorkloadIndex<'a> {
    fn new(objects: &'a [K8sObject]) -> Self {
        let mut hpas: HashMap<(Option<&str>, &str), Vec<&K8sObject>> = HashMap::new();
        let mut pdbs: HashMap<(Option<&str>, &str, &str), Vec<&K8sObject>> = HashMap::new();
        for o in objects {
            if o.kind == "HorizontalPodAutoscaler" {
                if let Some(t) = o
                    .spec()
                    .and_then(|s| s.path(&["scaleTargetRef", "name"]))
                    .and_then(Node::as_str)
                {
                    hpas.entry((o.namespace.as_deref(), t)).or_default().push(o);
                }
            } else if o.kind == "PodDisruptionBudget"
                && let Some(&(k, v)) = o.selector().first()
            {
                pdbs.entry((o.namespace.as_deref(), k, v))
                    .or_default()
                    .push(o);
            }
        }
        WorkloadIndex {
            hpas,
            pdbs,
            configmaps: ConfigMaps::new(objects),
        }
    }
}

/// `ConfigMaps` by (namespace, name).
struct ConfigMaps<'a> {
    maps: HashMap<(Option<&'a str>, &'a str), &'a K8sObject>,
}

impl<'a> ConfigMaps<'a> {
    fn new(objects: &'a [K8sObject]) -> Self {
        let maps = objects
            .iter()
            .filter(|o| o.kind == "ConfigMap")
            .map(|o| ((o.namespace.as_deref(), o.name.as_str()), o))
            .collect();
        ConfigMaps { maps }
    }

    fn get(&self, ns: Option<&str>, name: &str) -> Option<&'a K8sObject> {
        self.maps
            .get(&(ns, name))
            .or_else(|| self.maps.get(&(None, name)))
            .copied()
            .or_else(|| {
                if ns.is_none() {
                    self.maps
                        .iter()
                        .find(|((_, n), _)| *n == name)
                        .map(|(_, o)| *o)
                } else {
                    None
                }
            })
    }
}

/// The environment of one container as the pod would see it: `envFrom`
/// `ConfigMaps`, then `env` in order with `configMapKeyRef` lookups and
/// `$(VAR)` expansion against variables defined before.
fn resolve_k8s_env(
    obj: &K8sObject,
    c: &cairn_ingest::k8s::Container<'_>,
    cms: &ConfigMaps<'_>,
    src: &SourceMap,
) -> Vec<ResolvedEnv> {
    let ns = obj.namespace.as_deref();
    let mut out: Vec<ResolvedEnv> = Vec::new();
    let set = |out: &mut Vec<ResolvedEnv>, r: ResolvedEnv| {
        if let Some(x) = out.iter_mut().find(|x| x.name == r.name) {
            *x = r;
        } else {
            out.push(r);
        }
    };
    for ef in c.env_from() {
        if !ef.config_map {
            continue;
        }
        let Some(cm) = cms.get(ns, ef.name) else {
            continue;
        };
        let from_ev = evidence(
            src,
            Loc::new(obj.file, ef.node.pos),
            Some(format!("envFrom configMapRef {}", ef.name)),
        );
        for (k, v) in cm.config_data() {
            let (Some(key), Some(value)) = (k.as_str(), v.as_scalar()) else {
                continue;
            };
            set(
                &mut out,
                ResolvedEnv {
                    name: format!("{}{key}", ef.prefix),
                    value: value.text.to_string(),
                    evidence: vec![
                        evidence(
                            src,
                            Loc::new(cm.file, v.pos),
                            Some(format!("ConfigMap {} key {key}", cm.name)),
                        ),
                        from_ev.clone(),
                    ],
                },
            );
        }
    }
    for e in c.env() {
        match (e.value, e.source) {
            (Some(v), _) => {
                let raw = v
                    .as_scalar()
                    .map(|s| s.text.to_string())
                    .unwrap_or_default();
                let mut ev = Vec::new();
                let value = expand_vars(&raw, &out, &mut ev);
                ev.push(evidence(
                    src,
                    Loc::new(obj.file, v.pos),
                    Some(format!("env {}", e.name)),
                ));
                // the variable that supplied the host comes first, the referencing line after it
                set(
                    &mut out,
                    ResolvedEnv {
                        name: e.name.to_owned(),
                        value,
                        evidence: ev,
                    },
                );
            }
            (None, Some(EnvSource::ConfigMapKey { name, key, node })) => {
                let Some(cm) = cms.get(ns, name) else {
                    continue;
                };
                let Some((_, v)) = cm
                    .config_data()
                    .iter()
                    .find(|(k, _)| k.as_str() == Some(key))
                else {
                    continue;
                };
                let Some(sc) = v.as_scalar() else { continue };
                set(
                    &mut out,
                    ResolvedEnv {
                        name: e.name.to_owned(),
                        value: sc.text.to_string(),
                        evidence: vec![
                            evidence(
                                src,
                                Loc::new(cm.file, v.pos),
                                Some(format!("ConfigMap {name} key {key}")),
                            ),
                            evidence(
                                src,
                                Loc::new(obj.file, node.pos),
                                Some(format!("env {} configMapKeyRef", e.name)),
                            ),
                        ],
                    },
                );
            }
            _ => {}
        }
    }
    out
}

/// Kubernetes `$(VAR)` expansion; `$$(VAR)` stays literal; unknown names stay as written.
fn expand_vars(raw: &str, env: &[ResolvedEnv], ev: &mut Vec<Evidence>) -> String {
    if !raw.contains("$(") {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(t) = tail.strip_prefix("$$") {
            out.push('$');
            rest = t;
            continue;
        }
        if let Some(t) = tail.strip_prefix("$(")
            && let Some(end) = t.find(')')
        {
            let name = &t[..end];
            if let Some(v) = env.iter().find(|e| e.name == name) {
                out.push_str(&v.value);
                ev.extend(v.evidence.iter().cloned());
            } else {
                out.push_str(&tail[..end + 3]);
            }
            rest = &t[end + 1..];
            continue;
        }
        out.push('$');
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

/// Every scalar value in a tree with its dotted key path.
fn scalar_values(node: &Node, path: &str, out: &mut Vec<(String, String, Pos)>) {
    match &node.value {
        Value::Scalar(s) => out.push((path.to_owned(), s.text.to_string(), node.pos)),
        Value::Seq(items) => {
            for i in items {
                scalar_values(i, path, out);
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                let key = k.as_str().unwrap_or_default();
                let p = if path.is_empty() {
                    key.to_owned()
                } else {
                    format!("{path}.{key}")
                };
                scalar_values(v, &p, out);
            }
        }
    }
}

fn compile_netpols(objects: &[K8sObject], src: &SourceMap) -> NetworkPolicies {
    let selector = |n: Option<&Node>| -> Selector {
        let Some(n) = n else {
            return Selector::default();
        };
        Selector {
            labels: string_pairs(n.map_at("matchLabels"))
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            expressions: n
                .seq_at("matchExpressions")
                .iter()
                .filter_map(|e| {
                    Some(netpol::Expression {
                        key: e.get_str("key")?.to_owned(),
                        operator: e.get_str("operator")?.to_owned(),
                        values: e
                            .seq_at("values")
                            .iter()
                            .filter_map(|v| v.as_scalar().map(|s| s.text.to_string()))
                            .collect(),
                    })
                })
                .collect(),
        }
    };
    let rules = |items: &[Node], peer_key: &str| -> Vec<Rule> {
        items
            .iter()
            .map(|r| Rule {
                peers: r
                    .seq_at(peer_key)
                    .iter()
                    .map(|p| Peer {
                        pods: p.get("podSelector").map(|s| selector(Some(s))),
                        namespaces: p.get("namespaceSelector").map(|s| selector(Some(s))),
                        ip_block: p
                            .path(&["ipBlock", "cidr"])
                            .and_then(Node::as_str)
                            .map(str::to_owned),
                    })
                    .collect(),
                ports: r
                    .seq_at("ports")
                    .iter()
                    .map(|p| netpol::RulePort {
                        port: p
                            .get("port")
                            .and_then(|x| x.as_scalar())
                            .map(|s| s.text.to_string())
                            .unwrap_or_default(),
                        protocol: p.get_str("protocol").unwrap_or("TCP").to_owned(),
                    })
                    .filter(|p| !p.port.is_empty())
                    .collect(),
            })
            .collect()
    };
    let mut policies = Vec::new();
    for o in objects
        .iter()
        .filter(|o| o.kind == "NetworkPolicy" && o.group().starts_with("networking.k8s.io"))
    {
        let Some(spec) = o.spec() else { continue };
        let types: Vec<&str> = spec
            .seq_at("policyTypes")
            .iter()
            .filter_map(Node::as_str)
            .collect();
        let ingress_isolated = types.contains(&"Ingress") || types.is_empty();
        let egress_isolated =
            types.contains(&"Egress") || (types.is_empty() && spec.get("egress").is_some());
        policies.push(netpol::Policy {
            name: o.name.clone(),
            namespace: o.namespace.clone().unwrap_or_default(),
            pod_selector: selector(spec.get("podSelector")),
            ingress_isolated,
            egress_isolated,
            ingress: rules(spec.seq_at("ingress"), "from"),
            egress: rules(spec.seq_at("egress"), "to"),
            evidence: evidence(
                src,
                Loc::new(o.file, o.name_pos()),
                Some(format!("NetworkPolicy {}", o.name)),
            ),
        });
    }
    NetworkPolicies { policies }
}

fn attach_contracts(input: &Ingest, index: &HostIndex, services: &mut [Service]) {
    for c in &input.contracts {
        let path = input.sources.path(c.file).to_owned();
        // stated mapping first: a cairn.yaml contracts entry that ends this path
        if services.iter().any(|s| {
            s.contracts
                .iter()
                .any(|k| path.ends_with(k.trim_start_matches("./")))
        }) {
            for s in services.iter_mut() {
                for k in &mut s.contracts {
                    if path.ends_with(k.trim_start_matches("./")) {
                        k.clone_from(&path);
                    }
                }
            }
            continue;
        }
        let resolve = |n: &String| {
            let n = n.to_ascii_lowercase();
            let cands = [
                n.clone(),
                n.replace(' ', "-"),
                n.trim_end_matches("service")
                    .trim_end_matches('-')
                    .to_owned(),
                n.split('.').next_back().unwrap_or(&n).to_owned(),
            ];
            cands
                .iter()
                .find_map(|x| index.lookup(x, None))
                .or_else(|| {
                    // `ProductCatalogService` names service `product-catalog`
                    let squashed = cands[2].replace(['-', '_'], "");
                    services
                        .iter()
                        .position(|s| s.name.replace(['-', '_'], "") == squashed)
                })
        };
        // A .proto may define many gRPC services: attach it to each one it
        // names. An OpenAPI/AsyncAPI file describes one service: its title.
        // The file name is the last resort for both.
        let (named, stem) = c.names.split_at(c.names.len().saturating_sub(1));
        let mut found: Vec<usize> = if c.format == cairn_ingest::Format::Proto {
            named.iter().filter_map(resolve).collect()
        } else {
            named.iter().find_map(resolve).into_iter().collect()
        };
        if found.is_empty() {
            found.extend(stem.iter().find_map(resolve));
        }
        for i in found {
            if !services[i].contracts.contains(&path) {
                services[i].contracts.push(path.clone());
            }
        }
    }
}

fn topics(edges: &[Edge]) -> Vec<Topic> {
    let mut map: BTreeMap<String, Topic> = BTreeMap::new();
    for e in edges.iter().filter(|e| {
        matches!(
            e.kind,
            EdgeKind::AsyncPublish | EdgeKind::AsyncConsume | EdgeKind::Async
        )
    }) {
        for t in &e.topics {
            let topic = map.entry(t.clone()).or_insert_with(|| Topic {
                name: t.clone(),
                broker: Some(e.to.clone()),
                publishers: Vec::new(),
                consumers: Vec::new(),
            });
            match e.kind {
                EdgeKind::AsyncPublish => topic.publishers.push(e.from.clone()),
                EdgeKind::AsyncConsume => topic.consumers.push(e.from.clone()),
                _ => {}
            }
        }
    }
    map.into_values().collect()
}

fn datastores(
    services: &[Service],
    edges: &[Edge],
    engines: &HashMap<String, &'static str>,
) -> Vec<Datastore> {
    let mut users_of: HashMap<&str, Vec<String>> = HashMap::new();
    for e in edges {
        users_of
            .entry(e.to.as_str())
            .or_default()
            .push(e.from.clone());
    }
    services
        .iter()
        .filter(|s| matches!(s.role, Role::Datastore | Role::Broker))
        .map(|s| {
            let mut users: Vec<String> = users_of.remove(s.name.as_str()).unwrap_or_default();
            users.sort();
            users.dedup();
            Datastore {
                name: s.name.clone(),
                engine: engines
                    .get(&s.name)
                    .map_or_else(|| "unknown".to_owned(), |e| (*e).to_owned()),
                users,
            }
        })
        .collect()
}

/// Whether a mesh host pattern (`api.example.com`, `*.example.com`) covers `host`.
fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.ends_with(suffix) && host.len() > suffix.len(),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

/// Namespaces, service accounts with their grants, `ServiceEntries` and alert rules.
fn inventory(objects: &[K8sObject], src: &SourceMap, services: &[Service], system: &mut System) {
    let ev = |o: &K8sObject| {
        evidence(
            src,
            Loc::new(o.file, o.name_pos()),
            Some(format!("{} {}", o.kind, o.name)),
        )
    };
    let pairs = |v: Vec<(&str, &str)>| -> Vec<(String, String)> {
        v.into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    };
    for o in objects {
        match (o.kind.as_str(), o.group()) {
            ("Namespace", "") => system.namespaces.push(Namespace {
                name: o.name.clone(),
                labels: pairs(o.labels()),
                evidence: ev(o),
            }),
            ("ServiceEntry", g) if g.contains("istio") => {
                system.external_services.push(ExternalService {
                    name: format!("ServiceEntry/{}", o.name),
                    hosts: o
                        .spec()
                        .map_or(&[][..], |s| s.seq_at("hosts"))
                        .iter()
                        .filter_map(Node::as_str)
                        .map(str::to_owned)
                        .collect(),
                    location: o
                        .spec()
                        .and_then(|s| s.get_str("location"))
                        .map(str::to_owned),
                    evidence: ev(o),
                });
            }
            ("PrometheusRule", g) if g.contains("monitoring.coreos.com") => {
                system.alert_rules.push(AlertRules {
                    name: format!("PrometheusRule/{}", o.name),
                    namespace: o.namespace.clone(),
                    alerts: o
                        .spec()
                        .map_or(&[][..], |s| s.seq_at("groups"))
                        .iter()
                        .flat_map(|g| g.seq_at("rules"))
                        .filter_map(|r| r.get_str("alert").map(str::to_owned))
                        .collect(),
                    evidence: ev(o),
                });
            }
            _ => {}
        }
    }
    // Service accounts: defined ones, and ones workloads name without defining.
    let mut accounts: BTreeMap<(Option<String>, String), ServiceAccount> = BTreeMap::new();
    for o in objects
        .iter()
        .filter(|o| o.kind == "ServiceAccount" && o.group().is_empty())
    {
        accounts.insert(
            (o.namespace.clone(), o.name.clone()),
            ServiceAccount {
                name: o.name.clone(),
                namespace: o.namespace.clone(),
                automount_token: o
                    .root
                    .get("automountServiceAccountToken")
                    .and_then(Node::as_bool),
                used_by: Vec::new(),
                grants: Vec::new(),
                evidence: Some(ev(o)),
            },
        );
    }
    for w in services.iter().flat_map(|s| s.workloads.iter()) {
        let Some(sa) = &w.service_account else {
            continue;
        };
        let entry = accounts
            .entry((w.namespace.clone(), sa.clone()))
            .or_insert_with(|| ServiceAccount {
                name: sa.clone(),
                namespace: w.namespace.clone(),
                automount_token: None,
                used_by: Vec::new(),
                grants: Vec::new(),
                evidence: None,
            });
        entry.used_by.push(format!("{}/{}", w.kind, w.name));
    }
    let role_of = |kind: &str, name: &str, ns: Option<&str>| {
        objects.iter().find(|r| {
            r.kind == kind
                && r.name == name
                && (kind == "ClusterRole" || r.namespace.as_deref() == ns)
        })
    };
    for b in objects.iter().filter(|o| {
        (o.kind == "RoleBinding" || o.kind == "ClusterRoleBinding") && o.group().contains("rbac")
    }) {
        let Some(role_ref) = b.root.get("roleRef") else {
            continue;
        };
        let role_kind = role_ref.get_str("kind").unwrap_or("Role");
        let role_name = role_ref.get_str("name").unwrap_or_default();
        let role = role_of(role_kind, role_name, b.namespace.as_deref());
        let rules: Vec<&Node> =
            role.map_or_else(Vec::new, |r| r.root.seq_at("rules").iter().collect());
        let has =
            |r: &Node, key: &str, v: &str| r.seq_at(key).iter().any(|x| x.as_str() == Some(v));
        let wildcard = rules
            .iter()
            .any(|r| has(r, "verbs", "*") || has(r, "resources", "*") || has(r, "apiGroups", "*"));
        let reads_secrets = rules.iter().any(|r| {
            (has(r, "resources", "secrets") || has(r, "resources", "*"))
                && (has(r, "verbs", "get")
                    || has(r, "verbs", "list")
                    || has(r, "verbs", "watch")
                    || has(r, "verbs", "*"))
        });
        for subject in b.root.seq_at("subjects") {
            if subject.get_str("kind") != Some("ServiceAccount") {
                continue;
            }
            let Some(name) = subject.get_str("name") else {
                continue;
            };
            let ns = subject
                .get_str("namespace")
                .map(str::to_owned)
                .or_else(|| b.namespace.clone());
            let entry = accounts
                .entry((ns.clone(), name.to_owned()))
                .or_insert_with(|| ServiceAccount {
                    name: name.to_owned(),
                    namespace: ns,
                    automount_token: None,
                    used_by: Vec::new(),
                    grants: Vec::new(),
                    evidence: None,
                });
            entry.grants.push(Grant {
                binding: format!("{}/{}", b.kind, b.name),
                role: format!("{role_kind}/{role_name}"),
                cluster_wide: b.kind == "ClusterRoleBinding",
                wildcard,
                reads_secrets,
                role_found: role.is_some(),
                evidence: ev(b),
            });
        }
    }
    system.service_accounts = accounts.into_values().collect();
}
