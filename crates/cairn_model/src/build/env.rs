//! Dependencies named in configuration: resolved container environment, addresses, protocols.

use super::{Builder, EdgeSet, HostIndex, ResolvedEnv, evidence};
use crate::address::Address;
use crate::role::Role;
use crate::{EdgeKind, Evidence, Port, Service, Unresolved, address, role};
use cairn_ingest::k8s::{EnvSource, K8sObject};
use cairn_source::{Loc, Pos, SourceMap};
use cairn_yaml::{Node, Value};
use std::collections::{BTreeMap, HashMap};

/// One address found in configuration, before it is added to the model.
pub(super) struct Finding {
    from: usize,
    /// The service it names, or `None` when it names none.
    target: Option<usize>,
    address: Address,
    kind: Option<EdgeKind>,
    protocol: String,
    topics: Vec<String>,
    evidence: Vec<Evidence>,
}

impl Builder<'_> {
    /// The addresses one container's environment names, resolved to services.
    /// `links` are names only this caller uses for a service (compose
    /// `links: [db:database]`). Reads the model only, so containers can be
    /// searched in parallel.
    pub(super) fn env_findings(
        &self,
        index: &HostIndex,
        from: usize,
        ns: Option<&str>,
        links: &[(String, usize)],
        env: &[ResolvedEnv],
    ) -> Vec<Finding> {
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
        let mut out = Vec::new();
        for e in env {
            for a in address::extract(&e.name, &e.value) {
                let (name, a_ns) = a.cluster_parts();
                let linked = links
                    .iter()
                    .find(|(alias, _)| alias.eq_ignore_ascii_case(&a.host))
                    .map(|(_, to)| *to);
                let target = linked.or_else(|| index.lookup(&a.host, ns)).or_else(|| {
                    if a.is_dotted() && a_ns.is_some() {
                        index.lookup_in(name, a_ns)
                    } else if a.host.contains(".svc") || !a.is_dotted() {
                        index.lookup(name, a_ns.or(ns))
                    } else {
                        None
                    }
                });
                if target == Some(from) {
                    continue;
                }
                // A data file's links (a product catalogue's attribution URLs)
                // are not dependencies: from files, only host-named keys may
                // name something outside the system.
                if target.is_none()
                    && e.source == CONFIG_FILE
                    && !address::key_names_a_host(&e.name)
                {
                    continue;
                }
                let mut evidence = e.evidence.clone();
                if let Some(first) = evidence.first_mut()
                    && first.what.is_none()
                {
                    first.what = Some(format!("env {}", e.name));
                }
                let (kind, protocol, topics) = match target {
                    Some(to) => {
                        let broker = self.services[to].role == Role::Broker;
                        (
                            broker.then(|| direction.unwrap_or(EdgeKind::Async)),
                            protocol_for(
                                &a,
                                &self.services[to],
                                self.engines.get(&self.services[to].name).copied(),
                            ),
                            if broker { topics.clone() } else { Vec::new() },
                        )
                    }
                    None => (None, String::new(), Vec::new()),
                };
                out.push(Finding {
                    from,
                    target,
                    address: a,
                    kind,
                    protocol,
                    topics,
                    evidence,
                });
            }
        }
        out
    }

    /// Adds findings to the edges, or to the unresolved addresses.
    pub(super) fn add_findings(
        &self,
        found: Vec<Finding>,
        edges: &mut EdgeSet,
        unresolved: &mut BTreeMap<(String, String), Unresolved>,
    ) {
        for f in found {
            if let Some(to) = f.target {
                let mut evidence = f.evidence;
                let first = evidence.remove(0);
                let edge = edges.add(
                    &self.services,
                    f.from,
                    to,
                    f.kind,
                    Some(&f.protocol),
                    first,
                    f.topics,
                );
                edge.evidence.extend(evidence);
            } else {
                let from_name = self.services[f.from].name.clone();
                let entry = unresolved
                    .entry((from_name.clone(), f.address.host.clone()))
                    .or_insert_with(|| Unresolved {
                        from: from_name,
                        host: f.address.host.clone(),
                        port: f.address.port,
                        external: f.address.is_dotted(),
                        declared_by: None,
                        evidence: Vec::new(),
                    });
                entry.evidence.extend(f.evidence);
            }
        }
    }
}

/// Publish/consume direction from the variable names of one container.
pub(super) fn async_direction(env: &[ResolvedEnv]) -> Option<EdgeKind> {
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

pub(super) fn protocol_for(a: &Address, to: &Service, engine: Option<&'static str>) -> String {
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

/// `ConfigMaps` by (namespace, name).
pub(super) struct ConfigMaps<'a> {
    pub(super) maps: HashMap<(Option<&'a str>, &'a str), &'a K8sObject>,
}

impl<'a> ConfigMaps<'a> {
    pub(super) fn new(objects: &'a [K8sObject]) -> Self {
        let maps = objects
            .iter()
            .filter(|o| o.kind == "ConfigMap")
            .map(|o| ((o.namespace.as_deref(), o.name.as_str()), o))
            .collect();
        ConfigMaps { maps }
    }

    pub(super) fn get(&self, ns: Option<&str>, name: &str) -> Option<&'a K8sObject> {
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
pub(super) fn resolve_k8s_env(
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
                    source: "configmap",
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
                        source: "literal",
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
                        source: "configmap",
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
pub(super) fn expand_vars(raw: &str, env: &[ResolvedEnv], ev: &mut Vec<Evidence>) -> String {
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
pub(super) fn scalar_values(node: &Node, path: &str, out: &mut Vec<(String, String, Pos)>) {
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

/// The source of values read from mounted configuration files.
const CONFIG_FILE: &str = "config-file";

/// Configuration files a workload mounts from ConfigMaps (`volumes[].configMap`,
/// projected volumes), read as key paths and values: a collector's exporter
/// endpoints, a proxy's upstreams, a Spring `application.yml`. YAML and JSON
/// files are walked by key path; other formats (properties, INI, nginx) line
/// by line. Evidence points at the line inside the ConfigMap.
pub(super) fn mounted_config(
    obj: &K8sObject,
    cms: &ConfigMaps<'_>,
    src: &SourceMap,
) -> Vec<ResolvedEnv> {
    const MAX_FILE: usize = 1 << 20;
    let mut out = Vec::new();
    let Some(ps) = obj.pod_spec() else { return out };
    let mut names: Vec<&str> = Vec::new();
    for v in ps.node.seq_at("volumes") {
        if let Some(n) = v.path(&["configMap", "name"]).and_then(Node::as_str) {
            names.push(n);
        }
        for s in v.get("projected").map_or(&[][..], |p| p.seq_at("sources")) {
            if let Some(n) = s.path(&["configMap", "name"]).and_then(Node::as_str) {
                names.push(n);
            }
        }
    }
    for name in names {
        let Some(cm) = cms.get(obj.namespace.as_deref(), name) else {
            continue;
        };
        let file_text = src.get(cm.file).and_then(|f| f.text.clone());
        for (k, v) in cm.config_data() {
            let (Some(key), Some(sc)) = (k.as_str(), v.as_scalar()) else {
                continue;
            };
            if !sc.text.contains('\n') || sc.text.len() > MAX_FILE {
                continue;
            }
            // A block scalar (`key: |`) holds the file line for line, from
            // the line its span starts on; other scalars fold lines, so their
            // facts point at the scalar itself.
            let block = file_text
                .as_deref()
                .and_then(|t| t.lines().nth((v.pos.line as usize).checked_sub(2)?))
                .is_some_and(|prev| {
                    let p = prev.trim_end();
                    let tail =
                        p.trim_end_matches(|c: char| c == '-' || c == '+' || c.is_ascii_digit());
                    tail.ends_with('|') || tail.ends_with('>')
                });
            let place = |inner_line: u32, inner_col: u32| -> Pos {
                if !block {
                    return v.pos;
                }
                // the block's indentation is that of its first line
                let indent = file_text
                    .as_deref()
                    .and_then(|t| t.lines().nth(v.pos.line as usize - 1))
                    .map_or(0, |l| l.len() - l.trim_start().len())
                    as u32;
                Pos {
                    line: v.pos.line + inner_line - 1,
                    column: indent + inner_col,
                    start: v.pos.start,
                    end: v.pos.end,
                }
            };
            let what = |path: &str| Some(format!("ConfigMap {} file {key}: {path}", cm.name));
            // ConfigMap files that are YAML or JSON were parsed when the ConfigMap was read
            let docs: Vec<&Node> = cm
                .embedded
                .iter()
                .filter(|f| f.key == key)
                .flat_map(|f| f.documents.iter())
                .collect();
            if docs.is_empty() {
                for (i, line) in sc.text.lines().enumerate() {
                    let t = line.trim();
                    if t.is_empty() || t.starts_with(['#', ';', '/', '!']) {
                        continue;
                    }
                    let split = t.find(['=', ':', ' ', '\t']).unwrap_or(t.len());
                    let (name, value) = (
                        t[..split].trim(),
                        t[split..]
                            .trim_start_matches(['=', ':', ' ', '\t'])
                            .trim()
                            .trim_end_matches(';'),
                    );
                    let col = (line.len() - line.trim_start().len()) as u32 + 1;
                    let ev = evidence(src, Loc::new(cm.file, place(i as u32 + 1, col)), what(name));
                    out.push(ResolvedEnv {
                        name: name.to_owned(),
                        value: value.to_owned(),
                        source: CONFIG_FILE,
                        evidence: vec![ev],
                    });
                }
            } else {
                for root in docs {
                    let mut found = Vec::new();
                    scalar_values(root, "", &mut found);
                    for (path, value, pos) in found {
                        let ev = evidence(
                            src,
                            Loc::new(cm.file, place(pos.line, pos.column)),
                            what(&path),
                        );
                        out.push(ResolvedEnv {
                            name: path,
                            value,
                            source: CONFIG_FILE,
                            evidence: vec![ev],
                        });
                    }
                }
            }
        }
    }
    out
}

/// A container's `command` and `args` as name/value pairs: `--flag=value`,
/// `--flag value`, and other words under the name `arg` (a URL or
/// `host:port` among them still counts; a bare word does not).
pub(super) fn container_args(
    obj: &K8sObject,
    c: &cairn_ingest::k8s::Container<'_>,
    src: &SourceMap,
) -> Vec<ResolvedEnv> {
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    for item in c.node.seq_at("command").iter().chain(c.node.seq_at("args")) {
        let Some(t) = item.as_str() else { continue };
        let ev = || {
            vec![evidence(
                src,
                Loc::new(obj.file, item.pos),
                Some(format!("args of container {}", c.name())),
            )]
        };
        if let Some(flag) = t.strip_prefix('-').map(|f| f.trim_start_matches('-')) {
            match flag.split_once('=') {
                Some((name, value)) => out.push(ResolvedEnv {
                    name: name.to_owned(),
                    value: value.to_owned(),
                    source: "args",
                    evidence: ev(),
                }),
                None => pending = Some(flag.to_owned()),
            }
            continue;
        }
        let name = pending.take().unwrap_or_else(|| "arg".to_owned());
        out.push(ResolvedEnv {
            name,
            value: t.to_owned(),
            source: "args",
            evidence: ev(),
        });
    }
    out
}
