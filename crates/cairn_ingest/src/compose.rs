//! docker-compose: v2, v3 and the Compose Specification.
//!
//! Each file is read into per-service records that keep the file and position
//! of every value, then files of one project are merged in order, as
//! `docker compose -f A -f B` does: later files override scalars and add to
//! or override map entries (environment, labels, `depends_on`).

use std::collections::{BTreeMap, HashMap};

use cairn_source::{Diagnostic, FileId, Loc, Pos};
use cairn_yaml::{Node, Scalar, Value};

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub loc: Loc,
}

/// One environment variable of a compose service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvEntry {
    /// Variable name.
    pub key: String,
    /// Value after interpolation (`None` for a bare `KEY`, taken from the shell).
    pub value: Option<String>,
    /// Where the entry is written (a compose file or an `env_file`).
    pub loc: Loc,
}

/// A reference from one compose service to another (`depends_on`, `links`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRef {
    /// The referenced service (for `links: [db:database]`, `db`).
    pub name: String,
    /// `condition` of long-form `depends_on`.
    pub condition: Option<String>,
    /// For `links: [db:database]`, `database`: the name the linking service
    /// uses for the target.
    pub alias: Option<String>,
    /// Where the reference is written.
    pub loc: Loc,
}

/// A compose service, merged over every file of its project.
#[derive(Clone, Debug)]
pub struct ComposeService {
    /// The service key.
    pub name: String,
    /// Where the service key is first written.
    pub loc: Loc,
    /// `image`.
    pub image: Option<Located<String>>,
    /// `container_name`, `hostname` and network aliases: other names it answers to.
    pub aliases: Vec<String>,
    /// `environment` and `env_file`, later definitions overriding earlier ones.
    pub env: Vec<EnvEntry>,
    /// `depends_on`.
    pub depends_on: Vec<ServiceRef>,
    /// `links`.
    pub links: Vec<ServiceRef>,
    /// Published and exposed ports, as written (`"8080:80"`, `"9090"`).
    pub ports: Vec<Located<String>>,
    /// Whether a `healthcheck` is defined (and not disabled).
    pub healthcheck: Option<Loc>,
    /// `deploy.replicas`.
    pub replicas: Option<Located<i64>>,
    /// CPU and memory: `deploy.resources` (Compose Specification, v3) or `cpus` /
    /// `mem_limit` / `mem_reservation` (v2), as written.
    pub resources: ComposeResources,
    /// The service's nodes, one per file that defines it, for later checks.
    pub nodes: Vec<(FileId, Node)>,
}

/// CPU and memory settings of a compose service, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComposeResources {
    /// `deploy.resources.limits.cpus` or `cpus`.
    pub cpu_limit: Option<String>,
    /// `deploy.resources.limits.memory` or `mem_limit`.
    pub memory_limit: Option<String>,
    /// `deploy.resources.reservations.cpus`.
    pub cpu_request: Option<String>,
    /// `deploy.resources.reservations.memory` or `mem_reservation`.
    pub memory_request: Option<String>,
}

/// A compose project: one file, or several merged in order.
#[derive(Clone, Debug)]
pub struct ComposeProject {
    /// Files, in merge order.
    pub files: Vec<FileId>,
    /// Services, sorted by name.
    pub services: Vec<ComposeService>,
}

/// Whether a document looks like a compose file.
pub fn looks_like_compose(root: &Node) -> bool {
    let Some(services) = root.get("services").and_then(Node::as_map) else {
        return false;
    };
    if root.get("apiVersion").is_some() || root.get("system").is_some() {
        return false;
    }
    root.get("version").is_some()
        || services.is_empty()
        || services.iter().any(|(_, s)| {
            [
                "image",
                "build",
                "environment",
                "depends_on",
                "ports",
                "command",
                "extends",
            ]
            .iter()
            .any(|k| s.get(k).is_some())
        })
}

/// Parses `.env` text into variables (`KEY=VALUE`, `export KEY=VALUE`, quotes, comments).
pub fn parse_dotenv(text: &str) -> Vec<(String, String, u32)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = if (v.starts_with('"') && v.ends_with('"') && v.len() >= 2)
            || (v.starts_with('\'') && v.ends_with('\'') && v.len() >= 2)
        {
            &v[1..v.len() - 1]
        } else {
            // an unquoted value ends at ` #`
            v.split(" #").next().unwrap_or(v).trim_end()
        };
        out.push((k.trim().to_owned(), v.to_owned(), i as u32 + 1));
    }
    out
}

/// Interpolates `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`,
/// `${VAR?err}`, `${VAR:+alt}`, `$VAR` and `$$` in `text`. Unset variables
/// without a default become empty, as in Compose; they are returned for a diagnostic.
pub fn interpolate(text: &str, vars: &HashMap<String, String>) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut missing = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        if bytes.get(i + 1) == Some(&b'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'{') {
            // find the matching brace (defaults may nest `${A:-${B}}`)
            let mut depth = 0;
            let mut end = None;
            for (j, &b) in bytes.iter().enumerate().skip(i + 1) {
                if b == b'{' {
                    depth += 1;
                } else if b == b'}' {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
            }
            let Some(end) = end else {
                out.push_str(&text[i..]);
                break;
            };
            let inner = &text[i + 2..end];
            let name_end = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            let (name, rest) = inner.split_at(name_end);
            let value = vars.get(name).map(String::as_str);
            let set_nonempty = value.is_some_and(|v| !v.is_empty());
            let resolved = if let Some(d) = rest.strip_prefix(":-") {
                if set_nonempty {
                    value.unwrap_or_default().to_owned()
                } else {
                    interpolate(d, vars).0
                }
            } else if let Some(d) = rest.strip_prefix('-') {
                value.map_or_else(|| interpolate(d, vars).0, str::to_owned)
            } else if let Some(a) = rest.strip_prefix(":+") {
                if set_nonempty {
                    interpolate(a, vars).0
                } else {
                    String::new()
                }
            } else if let Some(a) = rest.strip_prefix('+') {
                if value.is_some() {
                    interpolate(a, vars).0
                } else {
                    String::new()
                }
            } else {
                // `${VAR}`, `${VAR?err}` and `${VAR:?err}`: an unset variable is reported
                if value.is_none() {
                    missing.push(name.to_owned());
                }
                value.unwrap_or_default().to_owned()
            };
            out.push_str(&resolved);
            i = end + 1;
            continue;
        }
        let name_len = text[i + 1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(text.len() - i - 1);
        if name_len == 0 {
            out.push('$');
            i += 1;
            continue;
        }
        let name = &text[i + 1..i + 1 + name_len];
        match vars.get(name) {
            Some(v) => out.push_str(v),
            None => missing.push(name.to_owned()),
        }
        i += 1 + name_len;
    }
    (out, missing)
}

/// Interpolates every scalar of `node` in place, keeping positions; reports unset variables.
pub fn interpolate_tree(
    node: &mut Node,
    vars: &HashMap<String, String>,
    file: FileId,
    diags: &mut Vec<Diagnostic>,
) {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        let pos = n.pos;
        match &mut n.value {
            Value::Scalar(Scalar { text, .. }) => {
                if text.contains('$') {
                    let (new, missing) = interpolate(text, vars);
                    for name in missing {
                        diags.push(
                            Diagnostic::info(
                                "compose-unset-variable",
                                format!("variable `{name}` is not set in .env and has no default; it reads as empty"),
                            )
                            .in_file(file)
                            .at(pos)
                            .with_help("set it in the project's .env file or give it a default with ${VAR:-default}"),
                        );
                    }
                    *text = new.into();
                }
            }
            Value::Seq(items) => stack.extend(items.iter_mut()),
            Value::Map(entries) => {
                for (_, v) in entries.iter_mut() {
                    stack.push(v);
                }
            }
        }
    }
}

/// Reads the services of one (interpolated) compose document.
///
/// A bare `environment` entry (`- VAR` or `VAR:` with no value) takes its
/// value from the project environment, `vars` (the `.env` file), as `docker
/// compose` does.
pub fn read_services(
    file: FileId,
    root: &Node,
    vars: &HashMap<String, String>,
    env_files: &mut dyn FnMut(&str) -> Option<(FileId, String)>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ComposeService> {
    let mut out = Vec::new();
    let Some(services) = root.get("services").and_then(Node::as_map) else {
        return out;
    };
    for (key, svc) in services {
        let Some(name) = key.as_str() else { continue };
        let loc = |pos: Pos| Loc::new(file, pos);
        if svc.as_map().is_none() {
            if !svc.is_null() {
                diags.push(
                    Diagnostic::warning(
                        "compose-wrong-type",
                        format!(
                            "service `{name}` is {}, expected a mapping; it was ignored",
                            svc.type_name()
                        ),
                    )
                    .in_file(file)
                    .at(svc.pos),
                );
            }
            continue;
        }
        let mut s = ComposeService {
            name: name.to_owned(),
            loc: loc(key.pos),
            image: svc.get("image").and_then(|n| {
                Some(Located {
                    value: n.as_str()?.to_owned(),
                    loc: loc(n.pos),
                })
            }),
            aliases: Vec::new(),
            env: Vec::new(),
            depends_on: Vec::new(),
            links: Vec::new(),
            ports: Vec::new(),
            healthcheck: None,
            replicas: None,
            resources: ComposeResources::default(),
            nodes: vec![(file, svc.clone())],
        };
        for k in ["container_name", "hostname"] {
            if let Some(v) = svc.get_str(k) {
                s.aliases.push(v.to_owned());
            }
        }
        for (_, net) in svc.map_at("networks") {
            for a in net.seq_at("aliases") {
                if let Some(v) = a.as_str() {
                    s.aliases.push(v.to_owned());
                }
            }
        }
        // env_file first, then environment overrides it (Compose precedence)
        let env_file_list: Vec<&Node> = match svc.get("env_file") {
            Some(n) if n.as_seq().is_some() => n.as_seq().unwrap_or(&[]).iter().collect(),
            Some(n) => vec![n],
            None => Vec::new(),
        };
        for ef in env_file_list {
            let (path, required) = match ef.as_str() {
                Some(p) => (p, true),
                None => match ef.get_str("path") {
                    Some(p) => (
                        p,
                        ef.get("required").and_then(Node::as_bool).unwrap_or(true),
                    ),
                    None => continue,
                },
            };
            match env_files(path) {
                Some((fid, text)) => {
                    for (k, v, line) in parse_dotenv(&text) {
                        set_env(
                            &mut s.env,
                            k,
                            Some(v),
                            Loc::new(
                                fid,
                                Pos {
                                    line,
                                    column: 1,
                                    start: 0,
                                    end: 0,
                                },
                            ),
                        );
                    }
                }
                None if required => diags.push(
                    Diagnostic::warning(
                        "compose-env-file-missing",
                        format!("env_file `{path}` of service `{name}` could not be read"),
                    )
                    .in_file(file)
                    .at(ef.pos)
                    .with_help("check the path; it is relative to the compose file's folder"),
                ),
                None => {}
            }
        }
        match svc.get("environment").map(|n| &n.value) {
            Some(Value::Map(entries)) => {
                for (k, v) in entries {
                    if let Some(k) = k.as_str() {
                        let value = v
                            .as_scalar()
                            .map(|sc| sc.text.to_string())
                            .filter(|_| !v.is_null())
                            .or_else(|| vars.get(k).cloned());
                        set_env(&mut s.env, k.to_owned(), value, loc(v.pos));
                    }
                }
            }
            Some(Value::Seq(items)) => {
                for item in items {
                    if let Some(t) = item.as_str() {
                        let (k, v) = match t.split_once('=') {
                            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                            None => (t.to_owned(), vars.get(t).cloned()),
                        };
                        set_env(&mut s.env, k, v, loc(item.pos));
                    }
                }
            }
            Some(_) => {
                if let Some(n) = svc.get("environment").filter(|n| !n.is_null()) {
                    diags.push(
                        Diagnostic::warning("compose-wrong-type", format!("`environment` of service `{name}` is {}, expected a list or a mapping", n.type_name()))
                            .in_file(file)
                            .at(n.pos),
                    );
                }
            }
            None => {}
        }
        match svc.get("depends_on").map(|n| &n.value) {
            Some(Value::Seq(items)) => {
                for item in items {
                    if let Some(t) = item.as_str() {
                        s.depends_on.push(ServiceRef {
                            name: t.to_owned(),
                            condition: None,
                            alias: None,
                            loc: loc(item.pos),
                        });
                    }
                }
            }
            Some(Value::Map(entries)) => {
                for (k, v) in entries {
                    if let Some(t) = k.as_str() {
                        s.depends_on.push(ServiceRef {
                            name: t.to_owned(),
                            condition: v.get_str("condition").map(str::to_owned),
                            alias: None,
                            loc: loc(k.pos),
                        });
                    }
                }
            }
            _ => {}
        }
        for item in svc.seq_at("links") {
            if let Some(t) = item.as_str() {
                let (target, alias) = match t.split_once(':') {
                    Some((target, alias)) => (target, Some(alias.to_owned())),
                    None => (t, None),
                };
                s.links.push(ServiceRef {
                    name: target.to_owned(),
                    condition: None,
                    alias,
                    loc: loc(item.pos),
                });
            }
        }
        for key in ["ports", "expose"] {
            for p in svc.seq_at(key) {
                let text = match &p.value {
                    Value::Scalar(sc) => sc.text.to_string(),
                    Value::Map(_) => p
                        .get("target")
                        .and_then(|t| t.as_scalar())
                        .map(|t| t.text.to_string())
                        .unwrap_or_default(),
                    Value::Seq(_) => String::new(),
                };
                if !text.is_empty() {
                    s.ports.push(Located {
                        value: text,
                        loc: loc(p.pos),
                    });
                }
            }
        }
        let text = |path: &[&str]| {
            svc.path(path)
                .and_then(|n| n.as_scalar())
                .map(|s| s.text.to_string())
        };
        s.resources = ComposeResources {
            cpu_limit: text(&["deploy", "resources", "limits", "cpus"]).or_else(|| text(&["cpus"])),
            memory_limit: text(&["deploy", "resources", "limits", "memory"])
                .or_else(|| text(&["mem_limit"])),
            cpu_request: text(&["deploy", "resources", "reservations", "cpus"]),
            memory_request: text(&["deploy", "resources", "reservations", "memory"])
                .or_else(|| text(&["mem_reservation"])),
        };
        if let Some(h) = svc.get("healthcheck")
            && h.get("disable").and_then(Node::as_bool) != Some(true)
        {
            s.healthcheck = Some(loc(h.pos));
        }
        if let Some(r) = svc
            .path(&["deploy", "replicas"])
            .or_else(|| svc.get("scale"))
            && let Some(v) = r.as_i64()
        {
            s.replicas = Some(Located {
                value: v,
                loc: loc(r.pos),
            });
        }
        out.push(s);
    }
    out
}

fn set_env(env: &mut Vec<EnvEntry>, key: String, value: Option<String>, loc: Loc) {
    if let Some(e) = env.iter_mut().find(|e| e.key == key) {
        e.value = value;
        e.loc = loc;
    } else {
        env.push(EnvEntry { key, value, loc });
    }
}

/// Merges the services of several files of one project, in order.
pub fn merge_services(files: Vec<Vec<ComposeService>>) -> Vec<ComposeService> {
    let mut merged: BTreeMap<String, ComposeService> = BTreeMap::new();
    for services in files {
        for s in services {
            match merged.get_mut(&s.name) {
                None => {
                    merged.insert(s.name.clone(), s);
                }
                Some(m) => {
                    if s.image.is_some() {
                        m.image = s.image;
                    }
                    m.aliases.extend(s.aliases);
                    m.aliases.sort();
                    m.aliases.dedup();
                    for e in s.env {
                        set_env(&mut m.env, e.key, e.value, e.loc);
                    }
                    for d in s.depends_on {
                        if let Some(x) = m.depends_on.iter_mut().find(|x| x.name == d.name) {
                            *x = d;
                        } else {
                            m.depends_on.push(d);
                        }
                    }
                    for l in s.links {
                        if !m.links.iter().any(|x| x.name == l.name) {
                            m.links.push(l);
                        }
                    }
                    for p in s.ports {
                        if !m.ports.iter().any(|x| x.value == p.value) {
                            m.ports.push(p);
                        }
                    }
                    if s.healthcheck.is_some() {
                        m.healthcheck = s.healthcheck;
                    }
                    if s.replicas.is_some() {
                        m.replicas = s.replicas;
                    }
                    let r = &mut m.resources;
                    r.cpu_limit = s.resources.cpu_limit.or(r.cpu_limit.take());
                    r.memory_limit = s.resources.memory_limit.or(r.memory_limit.take());
                    r.cpu_request = s.resources.cpu_request.or(r.cpu_request.take());
                    r.memory_request = s.resources.memory_request.or(r.memory_request.take());
                    m.nodes.extend(s.nodes);
                }
            }
        }
    }
    merged.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn interpolation_forms() {
        let v = vars(&[("A", "x"), ("E", "")]);
        assert_eq!(interpolate("${A}", &v).0, "x");
        assert_eq!(interpolate("$A/b", &v).0, "x/b");
        assert_eq!(interpolate("${B:-def}", &v).0, "def");
        assert_eq!(interpolate("${E:-def}", &v).0, "def");
        assert_eq!(interpolate("${E-def}", &v).0, "");
        assert_eq!(interpolate("${B-${A}}", &v).0, "x");
        assert_eq!(interpolate("$${A}", &v).0, "${A}");
        assert_eq!(interpolate("${A:+yes}", &v).0, "yes");
        let (out, missing) = interpolate("http://${HOST?need host}:80", &v);
        assert_eq!(out, "http://:80");
        assert_eq!(missing, ["HOST"]);
    }

    #[test]
    fn dotenv_forms() {
        let got = parse_dotenv("# c\nA=1\nexport B=\"two words\"\nC=x # note\n\nbad line\n");
        let kv: Vec<_> = got
            .iter()
            .map(|(k, v, _)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(kv, [("A", "1"), ("B", "two words"), ("C", "x")]);
        assert_eq!(got[2].2, 4);
    }
}
