//! `cairn.yaml`: the team's stated intent.
//!
//! One table, [`SCHEMA`], describes every key: it drives reading (unknown
//! keys and wrong types become diagnostics) and the published JSON Schema
//! ([`json_schema`]), so the two cannot drift apart.

use cairn_source::{Diagnostic, FileId, Loc, Pos};
use cairn_yaml::Node;
use serde::Serialize;

/// Environment profiles.
pub const ENVIRONMENTS: &[&str] = &["homelab", "sandbox", "dev", "staging", "production"];
/// Dependency kinds a team may declare.
pub const DEPENDENCY_KINDS: &[&str] = &["sync", "async-publish", "async-consume", "datastore"];

/// The intent of one service.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ServiceIntent {
    /// Service name.
    pub name: String,
    /// Where the service's key is written.
    #[serde(skip)]
    pub loc: Option<Loc>,
    /// Owning team.
    pub owner: Option<String>,
    /// Bounded context.
    pub context: Option<String>,
    /// Availability objective, in percent.
    pub availability: Option<f64>,
    /// Latency objectives, e.g. `("p99", 400.0)` in milliseconds.
    pub latency_ms: Vec<(String, f64)>,
    /// Contract files, relative to `cairn.yaml`.
    pub contracts: Vec<String>,
    /// Declared dependencies.
    pub dependencies: Vec<DeclaredDependency>,
    /// Role override (`app`, `datastore`, …).
    pub role: Option<String>,
    /// Runbook URL or path.
    pub runbook: Option<String>,
    /// Declared rate limit as written (`100/min`), with where its value is.
    #[serde(skip)]
    pub rate_limit: Option<(String, Loc)>,
}

/// A dependency the team declares, with its policies.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DeclaredDependency {
    /// Callee service (or external host).
    pub to: String,
    /// Where `to` is written.
    #[serde(skip)]
    pub loc: Option<Loc>,
    /// `sync`, `async-publish`, `async-consume` or `datastore`.
    pub kind: Option<String>,
    /// Protocol, e.g. `http`, `grpc`, `kafka`.
    pub protocol: Option<String>,
    /// Timeout in milliseconds.
    pub timeout_ms: Option<f64>,
    /// Retry attempts.
    pub retries: Option<i64>,
    /// Whether a circuit breaker guards the call.
    pub circuit_breaker: Option<bool>,
    /// Whether the call is idempotent.
    pub idempotent: Option<bool>,
    /// What happens when the callee is down.
    pub fallback: Option<String>,
    /// Topic or queue, for async dependencies.
    pub topic: Option<String>,
}

/// The whole `cairn.yaml`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CairnConfig {
    /// The file.
    #[serde(skip)]
    pub file: Option<FileId>,
    /// System name.
    pub system: Option<String>,
    /// Environment profile.
    pub environment: Option<String>,
    /// Per-service intent, in file order.
    pub services: Vec<ServiceIntent>,
    /// Namespaces that exist though no scanned file defines them.
    pub namespaces: Vec<String>,
    /// The `checks:` section, read by `cairn check`.
    #[serde(skip)]
    pub checks: Option<Node>,
}

/// The type of a key in [`SCHEMA`].
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    /// A string.
    Str,
    /// A string from a fixed list.
    Enum(&'static [&'static str]),
    /// A number.
    Num,
    /// An integer.
    Int,
    /// A boolean.
    Bool,
    /// A duration such as `250ms`, `2s`, `1m`.
    Duration,
    /// A list of strings.
    StrList,
    /// A mapping with the keys of another table.
    Object(&'static [Key]),
    /// A mapping from names to objects of another table.
    MapOf(&'static [Key]),
    /// A list of objects of another table.
    ListOf(&'static [Key]),
    /// Anything (reserved sections).
    Any,
}

/// One key of `cairn.yaml`.
#[derive(Clone, Copy, Debug)]
pub struct Key {
    /// The key.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
    /// What it means.
    pub doc: &'static str,
}

const fn key(name: &'static str, ty: Ty, doc: &'static str) -> Key {
    Key { name, ty, doc }
}

const LATENCY: &[Key] = &[
    key("p50", Ty::Duration, "median latency objective"),
    key("p90", Ty::Duration, "90th percentile latency objective"),
    key("p95", Ty::Duration, "95th percentile latency objective"),
    key("p99", Ty::Duration, "99th percentile latency objective"),
    key("p999", Ty::Duration, "99.9th percentile latency objective"),
];
const SLO: &[Key] = &[
    key(
        "availability",
        Ty::Num,
        "availability objective in percent, e.g. 99.9",
    ),
    key(
        "latency",
        Ty::Object(LATENCY),
        "latency objectives by percentile",
    ),
];
const DEPENDENCY: &[Key] = &[
    key("to", Ty::Str, "the service (or external host) depended on"),
    key(
        "kind",
        Ty::Enum(DEPENDENCY_KINDS),
        "how the dependency is used",
    ),
    key(
        "protocol",
        Ty::Str,
        "protocol, e.g. http, grpc, kafka, amqp, postgres",
    ),
    key("timeout", Ty::Duration, "client timeout for one call"),
    key("retries", Ty::Int, "retry attempts after the first call"),
    key(
        "circuit_breaker",
        Ty::Bool,
        "whether a circuit breaker guards the call",
    ),
    key("idempotent", Ty::Bool, "whether repeating the call is safe"),
    key(
        "fallback",
        Ty::Str,
        "what the caller does when the dependency fails",
    ),
    key("topic", Ty::Str, "topic or queue of an async dependency"),
];
const SERVICE: &[Key] = &[
    key("owner", Ty::Str, "owning team"),
    key(
        "runbook",
        Ty::Str,
        "where the on-call finds what to do when the service fails (a URL or path)",
    ),
    key("context", Ty::Str, "bounded context the service belongs to"),
    key(
        "role",
        Ty::Enum(&[
            "app",
            "datastore",
            "broker",
            "gateway",
            "loadgen",
            "observability",
            "infra",
            "external",
        ]),
        "role, when inference gets it wrong",
    ),
    key("slo", Ty::Object(SLO), "service level objectives"),
    key(
        "rate-limit",
        Ty::Str,
        "requests the service accepts per period, e.g. `100/min` or `10/s`",
    ),
    key(
        "contracts",
        Ty::StrList,
        "API contract files (OpenAPI, AsyncAPI, .proto), relative to cairn.yaml",
    ),
    key(
        "dependencies",
        Ty::ListOf(DEPENDENCY),
        "dependencies the team declares; they win over inferred ones",
    ),
];
/// Every top-level key of `cairn.yaml`.
pub const SCHEMA: &[Key] = &[
    key("system", Ty::Str, "the system's name"),
    key(
        "environment",
        Ty::Enum(ENVIRONMENTS),
        "environment profile; checks use it to pick their strictness",
    ),
    key(
        "services",
        Ty::MapOf(SERVICE),
        "per-service intent, keyed by service name",
    ),
    key(
        "namespaces",
        Ty::StrList,
        "namespaces that exist in the cluster though no scanned file defines them",
    ),
    key("checks", Ty::Object(CHECKS), "settings of `cairn check`"),
];
const IGNORE_PATH: &[Key] = &[
    key("path", Ty::Str, "a glob over file paths, e.g. `legacy/**`"),
    key(
        "rules",
        Ty::StrList,
        "rule names, codes or categories to ignore there (all rules when omitted)",
    ),
];
const THRESHOLDS: &[Key] = &[
    key(
        "cpu",
        Ty::Str,
        "allowed CPU request/limit range, `min-max` (default `10m-4000m`)",
    ),
    key(
        "memory",
        Ty::Str,
        "allowed memory request/limit range, `min-max` (default `64Mi-8Gi`)",
    ),
    key(
        "max-fan-out",
        Ty::Int,
        "synchronous dependencies one service may have (default 7)",
    ),
    key(
        "max-call-depth",
        Ty::Int,
        "longest chain of synchronous calls, in hops (default 4)",
    ),
    key(
        "max-limit-request-ratio",
        Ty::Num,
        "how many times its request a limit may be (default 4)",
    ),
];
const API: &[Key] = &[
    key(
        "version",
        Ty::Enum(&["path", "header", "none"]),
        "where API versions are: a path segment such as `/v1` (default), a header, or none",
    ),
    key(
        "prefix",
        Ty::Str,
        "a prefix every API path must start with, server base path included, e.g. `/api`",
    ),
];
const CHECKS: &[Key] = &[
    key(
        "select",
        Ty::StrList,
        "run only these rules (names, codes or categories)",
    ),
    key(
        "ignore",
        Ty::StrList,
        "do not run these rules (names, codes or categories)",
    ),
    key(
        "severity",
        Ty::Any,
        "severity overrides: rule name or code to `error`, `warning`, `info` or `off`",
    ),
    key(
        "ignore-paths",
        Ty::ListOf(IGNORE_PATH),
        "rules to ignore in some files",
    ),
    key("thresholds", Ty::Object(THRESHOLDS), "limits the rules use"),
    key(
        "api",
        Ty::Object(API),
        "conventions the API contract rules check",
    ),
];

/// Whether a document is a `cairn.yaml` by its content: a `system` name, no
/// Kubernetes header, `services` (when present) a mapping, and at most one
/// top-level key cairn does not know (a typo is reported, a foreign file is not taken).
pub fn looks_like_config(root: &Node) -> bool {
    let Some(entries) = root.as_map() else {
        return false;
    };
    let unknown = entries
        .iter()
        .filter(|(k, _)| {
            !k.as_str()
                .is_some_and(|k| SCHEMA.iter().any(|s| s.name == k))
        })
        .count();
    root.get("system").and_then(Node::as_scalar).is_some()
        && root.get("apiVersion").is_none()
        && root.get("kind").is_none()
        && root
            .get("services")
            .is_none_or(|s| s.as_map().is_some() || s.is_null())
        && unknown <= 1
}

/// Whether a file name is one cairn reads as its configuration whatever it holds.
pub fn is_config_name(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    matches!(base, "cairn.yaml" | "cairn.yml")
}

/// Parses a duration (`250ms`, `2s`, `1.5s`, `1m`, `1h`, or a bare number of seconds) into milliseconds.
pub fn parse_duration_ms(text: &str) -> Option<f64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let factor = match unit.trim() {
        "ms" => 1.0,
        "" | "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        "us" | "µs" => 0.001,
        _ => return None,
    };
    Some(n * factor)
}

/// Reads a `cairn.yaml` document, reporting unknown keys and wrong types.
pub fn read_config(file: FileId, root: &Node, diags: &mut Vec<Diagnostic>) -> CairnConfig {
    validate(file, root, SCHEMA, "", diags);
    let mut cfg = CairnConfig {
        file: Some(file),
        system: root.get_str("system").map(str::to_owned),
        environment: root.get_str("environment").map(str::to_owned),
        checks: root.get("checks").cloned(),
        namespaces: root
            .seq_at("namespaces")
            .iter()
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect(),
        ..CairnConfig::default()
    };
    for (k, v) in root.map_at("services") {
        let Some(name) = k.as_str() else { continue };
        let mut s = ServiceIntent {
            name: name.to_owned(),
            loc: Some(Loc::new(file, k.pos)),
            owner: v.get_str("owner").map(str::to_owned),
            context: v.get_str("context").map(str::to_owned),
            role: v.get_str("role").map(str::to_owned),
            runbook: v.get_str("runbook").map(str::to_owned),
            rate_limit: v
                .get("rate-limit")
                .filter(|r| !r.is_null())
                .and_then(|r| Some((r.as_scalar()?.text.to_string(), Loc::new(file, r.pos)))),
            availability: v.path(&["slo", "availability"]).and_then(Node::as_f64),
            ..ServiceIntent::default()
        };
        if let Some(lat) = v.path(&["slo", "latency"]) {
            for (pk, pv) in lat.as_map().unwrap_or(&[]) {
                if let (Some(p), Some(ms)) = (
                    pk.as_str(),
                    pv.as_scalar().and_then(|s| parse_duration_ms(&s.text)),
                ) {
                    s.latency_ms.push((p.to_owned(), ms));
                }
            }
        }
        s.contracts = v
            .seq_at("contracts")
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
        for d in v.seq_at("dependencies") {
            let Some(to) = d.get("to").filter(|t| t.as_str().is_some()) else {
                continue;
            };
            s.dependencies.push(DeclaredDependency {
                to: to.as_str().unwrap_or_default().to_owned(),
                loc: Some(Loc::new(file, to.pos)),
                kind: d.get_str("kind").map(str::to_owned),
                protocol: d.get_str("protocol").map(str::to_owned),
                timeout_ms: d
                    .get("timeout")
                    .and_then(|t| t.as_scalar())
                    .and_then(|t| parse_duration_ms(&t.text)),
                retries: d.get("retries").and_then(Node::as_i64),
                circuit_breaker: d.get("circuit_breaker").and_then(Node::as_bool),
                idempotent: d.get("idempotent").and_then(Node::as_bool),
                fallback: d.get_str("fallback").map(str::to_owned),
                topic: d.get_str("topic").map(str::to_owned),
            });
        }
        cfg.services.push(s);
    }
    cfg
}

fn validate(file: FileId, node: &Node, keys: &[Key], path: &str, diags: &mut Vec<Diagnostic>) {
    let Some(entries) = node.as_map() else {
        diags.push(type_diag(
            file,
            node.pos,
            path,
            "a mapping",
            node.type_name(),
        ));
        return;
    };
    for (k, v) in entries {
        let name = k.as_str().unwrap_or_default();
        let here = if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        let Some(spec) = keys.iter().find(|key| key.name == name) else {
            let known: Vec<&str> = keys.iter().map(|k| k.name).collect();
            let close = known
                .iter()
                .filter(|k| edit_distance(k, name) <= 2)
                .min_by_key(|k| edit_distance(k, name));
            let help = match close {
                Some(c) => format!("did you mean `{c}`? known keys here: {}", known.join(", ")),
                None => format!("known keys here: {}", known.join(", ")),
            };
            diags.push(
                Diagnostic::warning(
                    "config-unknown-key",
                    format!("unknown key `{here}` in cairn.yaml"),
                )
                .in_file(file)
                .at(k.pos)
                .with_help(help),
            );
            continue;
        };
        if v.is_null() {
            continue;
        }
        check_type(file, v, spec.ty, &here, diags);
    }
}

/// Levenshtein distance, for "did you mean" hints on short keys.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn check_type(file: FileId, v: &Node, ty: Ty, here: &str, diags: &mut Vec<Diagnostic>) {
    let bad = |want: &str, diags: &mut Vec<Diagnostic>| {
        diags.push(type_diag(file, v.pos, here, want, v.type_name()));
    };
    match ty {
        Ty::Str => {
            if v.as_scalar().is_none() {
                bad("a string", diags);
            }
        }
        Ty::Enum(allowed) => match v.as_str() {
            Some(s) if allowed.contains(&s) => {}
            _ => diags.push(
                Diagnostic::warning(
                    "config-invalid-value",
                    format!("`{here}` must be one of {}", allowed.join(", ")),
                )
                .in_file(file)
                .at(v.pos),
            ),
        },
        Ty::Num => {
            if v.as_f64().is_none() {
                bad("a number", diags);
            }
        }
        Ty::Int => {
            if v.as_i64().is_none() {
                bad("an integer", diags);
            }
        }
        Ty::Bool => {
            if v.as_bool().is_none() {
                bad("true or false", diags);
            }
        }
        Ty::Duration => {
            if v.as_scalar()
                .and_then(|s| parse_duration_ms(&s.text))
                .is_none()
            {
                bad("a duration such as 250ms or 2s", diags);
            }
        }
        Ty::StrList => match v.as_seq() {
            Some(items) => {
                for i in items {
                    if i.as_scalar().is_none() {
                        diags.push(type_diag(file, i.pos, here, "a string", i.type_name()));
                    }
                }
            }
            None => bad("a list of strings", diags),
        },
        Ty::Object(keys) => validate(file, v, keys, here, diags),
        Ty::MapOf(keys) => match v.as_map() {
            Some(entries) => {
                for (k, item) in entries {
                    if !item.is_null() {
                        validate(
                            file,
                            item,
                            keys,
                            &format!("{here}.{}", k.as_str().unwrap_or("?")),
                            diags,
                        );
                    }
                }
            }
            None => bad("a mapping", diags),
        },
        Ty::ListOf(keys) => match v.as_seq() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    validate(file, item, keys, &format!("{here}[{i}]"), diags);
                }
            }
            None => bad("a list", diags),
        },
        Ty::Any => {}
    }
}

fn type_diag(file: FileId, pos: Pos, path: &str, want: &str, got: &str) -> Diagnostic {
    Diagnostic::warning(
        "config-wrong-type",
        format!("`{path}` is {got}, expected {want}"),
    )
    .in_file(file)
    .at(pos)
}

/// The JSON Schema of `cairn.yaml`, generated from [`SCHEMA`].
pub fn json_schema() -> serde_json::Value {
    let mut root = object_schema(SCHEMA);
    if let serde_json::Value::Object(m) = &mut root {
        let mut head = serde_json::Map::new();
        head.insert(
            "$schema".into(),
            "https://json-schema.org/draft/2020-12/schema".into(),
        );
        head.insert(
            "$id".into(),
            "https://cairn.dev/schemas/cairn.yaml.json".into(),
        );
        head.insert("title".into(), "cairn.yaml".into());
        head.insert("description".into(), "A system's stated intent: owners, bounded contexts, SLOs, declared dependencies and check settings.".into());
        head.extend(std::mem::take(m));
        *m = head;
    }
    root
}

fn object_schema(keys: &[Key]) -> serde_json::Value {
    let mut props = serde_json::Map::new();
    for k in keys {
        let mut s = type_schema(k.ty);
        if let serde_json::Value::Object(m) = &mut s {
            m.insert("description".into(), k.doc.into());
        }
        props.insert(k.name.into(), s);
    }
    serde_json::json!({"type": "object", "additionalProperties": false, "properties": props})
}

fn type_schema(ty: Ty) -> serde_json::Value {
    use serde_json::json;
    match ty {
        Ty::Str => json!({"type": "string"}),
        Ty::Enum(values) => json!({"type": "string", "enum": values}),
        Ty::Num => json!({"type": "number"}),
        Ty::Int => json!({"type": "integer", "minimum": 0}),
        Ty::Bool => json!({"type": "boolean"}),
        Ty::Duration => {
            json!({"type": ["string", "number"], "pattern": "^[0-9]+(\\.[0-9]+)?(us|µs|ms|s|m|h)?$"})
        }
        Ty::StrList => json!({"type": "array", "items": {"type": "string"}}),
        Ty::Object(keys) => object_schema(keys),
        Ty::MapOf(keys) => json!({"type": "object", "additionalProperties": object_schema(keys)}),
        Ty::ListOf(keys) => json!({"type": "array", "items": object_schema(keys)}),
        Ty::Any => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_files_with_a_system_key_are_not_configs() {
        // the shape of the corpus' expected-graph.json files
        let p = cairn_yaml::parse(
            "{\"system\": \"x\", \"scope\": \"y\", \"services\": [{\"name\": \"a\"}], \"edges\": []}",
        );
        assert!(!looks_like_config(&p.documents[0].root));
        let p = cairn_yaml::parse("system: shop\nenviroment: prod\nservices:\n  a: {owner: t}\n");
        assert!(
            looks_like_config(&p.documents[0].root),
            "one typo'd key is still a config"
        );
        assert!(is_config_name("deploy/cairn.yaml") && !is_config_name("deploy/not-cairn.yaml"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("250ms"), Some(250.0));
        assert_eq!(parse_duration_ms("1.5s"), Some(1500.0));
        assert_eq!(parse_duration_ms("2"), Some(2000.0));
        assert_eq!(parse_duration_ms("soon"), None);
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_reported() {
        let p = cairn_yaml::parse(
            "system: s\nenviroment: prod\nservices:\n  a:\n    owner: [x]\n    dependencies:\n      - to: b\n        retries: many\n",
        );
        let mut d = Vec::new();
        let cfg = read_config(FileId(0), &p.documents[0].root, &mut d);
        let codes: Vec<_> = d.iter().map(|d| (d.code, d.pos.map(|p| p.line))).collect();
        assert!(
            codes.contains(&("config-unknown-key", Some(2))),
            "{codes:?}"
        );
        assert!(codes.contains(&("config-wrong-type", Some(5))), "{codes:?}");
        assert!(codes.contains(&("config-wrong-type", Some(8))), "{codes:?}");
        assert_eq!(cfg.services[0].dependencies[0].to, "b");
    }
}
