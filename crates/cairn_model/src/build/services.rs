//! Services: Kubernetes Services grouped with the workloads they select, compose services, stated services.

use rayon::prelude::*;

use super::env::{container_args, mounted_config};
use super::{Builder, ConfigMaps, ResolvedEnv, resolve_k8s_env};
use crate::role::Role;
use crate::{
    Autoscaling, Container, DisruptionBudget, EnvVar, KubeService, Origin, Port, Resources,
    Service, Workload, role,
};
use cairn_ingest::ComposeService;
use cairn_ingest::k8s::{EnvSource, K8sObject, string_pairs};
use cairn_source::{Diagnostic, Loc};
use cairn_yaml::Node;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Services, workloads and the workloads' indices, of one group linked by selection.
type Group<'a> = (Vec<&'a K8sObject>, Vec<&'a K8sObject>, Vec<usize>);

impl Builder<'_> {
    pub(super) fn k8s_services(&mut self, objects: &[K8sObject]) {
        let (workload_ids, workloads): (Vec<usize>, Vec<&K8sObject>) = objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.is_workload())
            .unzip();
        let svcs: Vec<&K8sObject> = objects.iter().filter(|o| o.is_core_service()).collect();
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
        // Workloads are independent of each other: build them in parallel.
        let mut built: Vec<Option<(Workload, Vec<Vec<ResolvedEnv>>)>> = workloads
            .par_iter()
            .map(|w| Some(self.workload(w, &aux)))
            .collect();
        let mut groups: BTreeMap<usize, Group<'_>> = BTreeMap::new();
        for i in 0..n {
            let r = find(&mut parent, i);
            let g = groups.entry(r).or_default();
            if i < svcs.len() {
                g.0.push(svcs[i]);
            } else {
                g.1.push(workloads[i - svcs.len()]);
                g.2.push(i - svcs.len());
            }
        }
        for (_, (ss, ws, wis)) in groups {
            let name = group_name(&ss, &ws);
            let namespace = ss.first().or(ws.first()).and_then(|o| o.namespace.clone());
            let mut aliases: BTreeSet<String> =
                ss.iter().chain(ws.iter()).map(|o| o.name.clone()).collect();
            aliases.remove(&name);
            let mut workloads: Vec<Workload> = Vec::with_capacity(wis.len());
            for wi in wis {
                if let Some((w, envs)) = built[wi].take() {
                    workloads.push(w);
                    self.k8s_env.insert(workload_ids[wi], envs);
                }
            }
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
            let (mut role, engine) = role::infer(&images, &name, &container_ports);
            // A Service of type ExternalName is a local name for something outside.
            if ws.is_empty()
                && !ss.is_empty()
                && ss
                    .iter()
                    .all(|s| s.spec().and_then(|sp| sp.get_str("type")) == Some("ExternalName"))
            {
                role = Role::External;
            }
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
                aliases: aliases.into_iter().collect(),
                owner_label,
                ports,
                k8s_services,
                workloads,
                monitoring,
                evidence,
                ..Service::new(name, namespace, role)
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
            for s in &svcs {
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

    /// A workload and the resolved environment of each of its containers.
    pub(super) fn workload(
        &self,
        w: &K8sObject,
        aux: &WorkloadIndex<'_>,
    ) -> (Workload, Vec<Vec<ResolvedEnv>>) {
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
        let mut disruption_budgets: Vec<DisruptionBudget> = Vec::new();
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
                    && !disruption_budgets.iter().any(|d| d.name == p.name)
                {
                    let text = |k: &str| {
                        p.spec()
                            .and_then(|s| s.get(k))
                            .and_then(|n| n.as_scalar())
                            .map(|s| s.text.to_string())
                    };
                    disruption_budgets.push(DisruptionBudget {
                        name: p.name.clone(),
                        min_available: text("minAvailable"),
                        max_unavailable: text("maxUnavailable"),
                        evidence: self.ev(
                            Loc::new(p.file, p.name_pos()),
                            Some(format!("PodDisruptionBudget {}", p.name)),
                        ),
                    });
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
        let mut envs: Vec<Vec<ResolvedEnv>> = Vec::new();
        let containers = w
            .pod_spec()
            .map(|ps| {
                ps.all_containers()
                    .map(|c| {
                        let env = resolve_k8s_env(w, &c, configmaps, self.src);
                        // what the container sees: envFrom and env values, resolved;
                        // Secrets and field references by name only
                        let mut env_vars: Vec<EnvVar> = env
                            .iter()
                            .map(|r| EnvVar {
                                name: r.name.clone(),
                                value: Some(r.value.clone()),
                                source: r.source,
                                evidence: r
                                    .evidence
                                    .last()
                                    .cloned()
                                    .unwrap_or_else(Builder::ev_none),
                            })
                            .collect();
                        for e in c.env() {
                            let source = match e.source {
                                Some(EnvSource::SecretKey { .. }) => "secret",
                                Some(EnvSource::Field) => "field",
                                _ => continue,
                            };
                            env_vars.retain(|v| v.name != e.name);
                            env_vars.push(EnvVar {
                                name: e.name.to_owned(),
                                value: None,
                                source,
                                evidence: self.ev(Loc::new(w.file, e.node.pos), None),
                            });
                        }
                        envs.push(env);
                        let args = container_args(w, &c, self.src);
                        if !args.is_empty() {
                            envs.push(args);
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
        // Configuration files the pods mount are read as one more environment.
        let files = mounted_config(w, configmaps, self.src);
        if !files.is_empty() {
            envs.push(files);
        }
        let workload = Workload {
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
        };
        (workload, envs)
    }

    pub(super) fn compose_service(&mut self, cs: &ComposeService) {
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
            aliases: cs
                .aliases
                .iter()
                .filter(|a| **a != cs.name)
                .cloned()
                .collect(),
            ports,
            workloads: vec![workload],
            evidence: vec![ev],
            ..Service::new(cs.name.clone(), None, role)
        });
    }

    pub(super) fn apply_intent(&mut self, cfg: &cairn_ingest::CairnConfig) {
        for s in &cfg.services {
            let ev = s.loc.map(|l| self.ev(l, Some("cairn.yaml".into())));
            let idx = self
                .services
                .iter()
                .position(|x| x.name == s.name || x.aliases.contains(&s.name));
            let idx = idx.unwrap_or_else(|| {
                self.services.push(Service {
                    stated_only: true,
                    ..Service::new(s.name.clone(), None, Role::App)
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
}

/// Union-find root with path halving.
pub(super) fn find(p: &mut [usize], mut x: usize) -> usize {
    while p[x] != x {
        p[x] = p[p[x]];
        x = p[x];
    }
    x
}

/// The name of a group of Services and workloads: a name both share, else
/// the single Service, else the single workload, else the first Service.
pub(super) fn group_name(ss: &[&K8sObject], ws: &[&K8sObject]) -> String {
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

pub(super) fn container_port(spec: &str) -> Option<u16> {
    // "8080:80", "127.0.0.1:8080:80/tcp", "9090" -> the container side
    let s = spec.split('/').next().unwrap_or(spec);
    s.rsplit(':').next()?.split('-').next()?.parse().ok()
}

/// Lookups a workload needs, built once: HPAs by target, PDBs by their first selector label, `ConfigMaps`.
pub(super) struct WorkloadIndex<'a> {
    pub(super) hpas: HashMap<(Option<&'a str>, &'a str), Vec<&'a K8sObject>>,
    pub(super) pdbs: HashMap<(Option<&'a str>, &'a str, &'a str), Vec<&'a K8sObject>>,
    pub(super) configmaps: ConfigMaps<'a>,
}

impl<'a> WorkloadIndex<'a> {
    pub(super) fn new(objects: &'a [K8sObject]) -> Self {
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
