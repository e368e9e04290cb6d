//! `cairn map`: the system as a diagram, in text formats other tools draw:
//! Mermaid, Graphviz DOT, Structurizr DSL (C4) and C4-PlantUML.
//!
//! [`graph`] reduces the model to what a picture shows: one node per
//! service with its role, one edge per (caller, callee, kind) with its
//! protocols and, where known, timeout and retries, services grouped by
//! bounded context or namespace, optionally only the neighbourhood of one
//! service. The writers then only spell that graph in their syntax: node
//! shape by role, line style by kind (sync solid, async dashed, datastore
//! dotted).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;

use cairn_model::{EdgeKind, Role, System};

/// How services are grouped into clusters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// By bounded context (`cairn.yaml`); services without one are not grouped.
    Context,
    /// By namespace.
    Namespace,
    /// Not grouped.
    None,
}

/// What to draw.
#[derive(Clone, Debug)]
pub struct MapOptions {
    /// Clusters.
    pub group_by: GroupBy,
    /// Only this service and its neighbours up to `depth` hops (either direction).
    pub focus: Option<String>,
    /// Hops from `focus`.
    pub depth: usize,
}

impl Default for MapOptions {
    fn default() -> Self {
        MapOptions {
            group_by: GroupBy::Context,
            focus: None,
            depth: 2,
        }
    }
}

/// A node: one service.
#[derive(Clone, Debug)]
pub struct Node {
    /// Service name.
    pub name: String,
    /// Its role, which decides the shape.
    pub role: Role,
    /// Its cluster, if any.
    pub group: Option<String>,
}

/// How an edge is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Line {
    /// A request/response call: solid.
    Sync,
    /// Through a broker: dashed.
    Async,
    /// To a datastore: dotted.
    Datastore,
}

/// An edge: every dependency of one kind between two services.
#[derive(Clone, Debug)]
pub struct Edge {
    /// Index of the caller in [`Graph::nodes`].
    pub from: usize,
    /// Index of the callee.
    pub to: usize,
    /// Line style.
    pub line: Line,
    /// Protocols, timeout and retries, e.g. `grpc, timeout 2s, 3 retries`.
    pub label: String,
}

/// What a diagram shows.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// System name, when stated.
    pub title: String,
    /// Nodes, sorted by group then name.
    pub nodes: Vec<Node>,
    /// Edges, sorted.
    pub edges: Vec<Edge>,
}

fn line_of(kind: EdgeKind) -> Line {
    match kind {
        EdgeKind::Sync => Line::Sync,
        EdgeKind::Async | EdgeKind::AsyncPublish | EdgeKind::AsyncConsume => Line::Async,
        EdgeKind::Datastore => Line::Datastore,
    }
}

fn seconds(ms: f64) -> String {
    if ms >= 1000.0 && (ms / 1000.0).fract() == 0.0 {
        format!("{}s", ms / 1000.0)
    } else {
        format!("{ms}ms")
    }
}

/// What the dependencies between two services have in common: their
/// protocols, the shortest timeout and the most retries.
type Merged = (BTreeSet<String>, Option<f64>, Option<u32>);

/// The graph of `system` under `opts`; an unknown `focus` is an error that
/// names the closest service.
pub fn graph(system: &System, opts: &MapOptions) -> Result<Graph, String> {
    let index: HashMap<&str, usize> = system
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut keep: Vec<bool> = vec![true; system.services.len()];
    if let Some(focus) = &opts.focus {
        let Some(&start) = index.get(focus.as_str()) else {
            let near = system
                .services
                .iter()
                .map(|s| (strsim_distance(focus, &s.name), s.name.as_str()))
                .min()
                .filter(|(d, _)| *d <= 3)
                .map(|(_, n)| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            return Err(format!("no service is called `{focus}`{near}"));
        };
        let mut adj: Vec<Vec<usize>> = vec![Vec::new(); system.services.len()];
        for e in &system.edges {
            if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
                adj[a].push(b);
                adj[b].push(a);
            }
        }
        keep = vec![false; system.services.len()];
        keep[start] = true;
        let mut queue = VecDeque::from([(start, 0)]);
        while let Some((n, d)) = queue.pop_front() {
            if d == opts.depth {
                continue;
            }
            for &m in &adj[n] {
                if !keep[m] {
                    keep[m] = true;
                    queue.push_back((m, d + 1));
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..system.services.len()).filter(|&i| keep[i]).collect();
    let group_of = |i: usize| -> Option<String> {
        let s = &system.services[i];
        match opts.group_by {
            GroupBy::Context => s.context.clone(),
            GroupBy::Namespace => s.namespace.clone(),
            GroupBy::None => None,
        }
    };
    order.sort_by(|&a, &b| {
        group_of(a)
            .cmp(&group_of(b))
            .then_with(|| system.services[a].name.cmp(&system.services[b].name))
    });
    let mut new_index = HashMap::new();
    let nodes: Vec<Node> = order
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            new_index.insert(system.services[i].name.as_str(), k);
            Node {
                name: system.services[i].name.clone(),
                role: system.services[i].role,
                group: group_of(i),
            }
        })
        .collect();
    // One edge per (from, to, line): protocols and policies merged.
    let mut merged: BTreeMap<(usize, usize, Line), Merged> = BTreeMap::new();
    for e in &system.edges {
        let (Some(&a), Some(&b)) = (new_index.get(e.from.as_str()), new_index.get(e.to.as_str()))
        else {
            continue;
        };
        let entry = merged.entry((a, b, line_of(e.kind))).or_default();
        if e.protocol != "unknown" {
            entry.0.insert(e.protocol.clone());
        }
        if let Some(t) = e.policy.timeout_ms {
            entry.1 = Some(entry.1.map_or(t, |x: f64| x.min(t)));
        }
        if let Some(r) = e.policy.retries.as_ref().and_then(|r| r.attempts) {
            let r = u32::try_from(r).unwrap_or(0);
            entry.2 = Some(entry.2.map_or(r, |x: u32| x.max(r)));
        }
    }
    let edges = merged
        .into_iter()
        .map(|((from, to, line), (protocols, timeout, retries))| {
            let mut parts: Vec<String> = protocols.into_iter().collect();
            if let Some(t) = timeout {
                parts.push(format!("timeout {}", seconds(t)));
            }
            match retries {
                Some(1) => parts.push("1 retry".to_owned()),
                Some(r) if r > 1 => parts.push(format!("{r} retries")),
                _ => {}
            }
            Edge {
                from,
                to,
                line,
                label: parts.join(", "),
            }
        })
        .collect();
    Ok(Graph {
        title: system.name.clone().unwrap_or_else(|| "system".to_owned()),
        nodes,
        edges,
    })
}

/// Edit distance, for did-you-mean.
fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Nodes grouped: `(group, node indices)` in node order, ungrouped first under `None`.
fn groups(g: &Graph) -> Vec<(Option<&str>, Vec<usize>)> {
    let mut out: Vec<(Option<&str>, Vec<usize>)> = Vec::new();
    for (i, n) in g.nodes.iter().enumerate() {
        let key = n.group.as_deref();
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(i),
            None => out.push((key, vec![i])),
        }
    }
    out
}

/// Mermaid flowchart.
pub fn mermaid(g: &Graph) -> String {
    let esc = |s: &str| s.replace('"', "#quot;");
    let mut out = String::from("flowchart LR\n");
    let node = |out: &mut String, i: usize, indent: &str| {
        let n = &g.nodes[i];
        let name = esc(&n.name);
        let shape = match n.role {
            Role::App => format!("[\"{name}\"]"),
            Role::Datastore => format!("[(\"{name}\")]"),
            Role::Broker => format!("[[\"{name}\"]]"),
            Role::Gateway => format!("{{{{\"{name}\"}}}}"),
            Role::Loadgen => format!(">\"{name}\"]"),
            Role::Observability => format!("([\"{name}\"])"),
            Role::Infra => format!("[/\"{name}\"/]"),
            Role::External => format!("((\"{name}\"))"),
        };
        let _ = writeln!(out, "{indent}n{i}{shape}");
    };
    for (k, (group, members)) in groups(g).into_iter().enumerate() {
        match group {
            Some(name) => {
                let _ = writeln!(out, "  subgraph g{k}[\"{}\"]", esc(name));
                for i in members {
                    node(&mut out, i, "    ");
                }
                out.push_str("  end\n");
            }
            None => {
                for i in members {
                    node(&mut out, i, "  ");
                }
            }
        }
    }
    let mut styles = Vec::new();
    for (k, e) in g.edges.iter().enumerate() {
        let arrow = if e.line == Line::Sync { "-->" } else { "-.->" };
        if e.label.is_empty() {
            let _ = writeln!(out, "  n{} {arrow} n{}", e.from, e.to);
        } else {
            let _ = writeln!(
                out,
                "  n{} {arrow}|\"{}\"| n{}",
                e.from,
                esc(&e.label),
                e.to
            );
        }
        match e.line {
            Line::Async => styles.push(format!("  linkStyle {k} stroke-dasharray: 6 4")),
            Line::Datastore => styles.push(format!("  linkStyle {k} stroke-dasharray: 2 3")),
            Line::Sync => {}
        }
    }
    for s in styles {
        out.push_str(&s);
        out.push('\n');
    }
    out
}

/// Graphviz DOT.
pub fn dot(g: &Graph) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", q(&g.title));
    out.push_str("  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n");
    let node = |out: &mut String, i: usize, indent: &str| {
        let n = &g.nodes[i];
        let shape = match n.role {
            Role::App => "box",
            Role::Datastore => "cylinder",
            Role::Broker => "component",
            Role::Gateway => "hexagon",
            Role::Loadgen => "cds",
            Role::Observability => "note",
            Role::Infra => "parallelogram",
            Role::External => "ellipse",
        };
        let _ = writeln!(
            out,
            "{indent}{} [shape={shape}, tooltip={}];",
            q(&n.name),
            q(n.role.as_str())
        );
    };
    for (k, (group, members)) in groups(g).into_iter().enumerate() {
        match group {
            Some(name) => {
                let _ = writeln!(
                    out,
                    "  subgraph \"cluster_{k}\" {{\n    label={};\n    style=rounded;",
                    q(name)
                );
                for i in members {
                    node(&mut out, i, "    ");
                }
                out.push_str("  }\n");
            }
            None => {
                for i in members {
                    node(&mut out, i, "  ");
                }
            }
        }
    }
    for e in &g.edges {
        let style = match e.line {
            Line::Sync => "solid",
            Line::Async => "dashed",
            Line::Datastore => "dotted",
        };
        let _ = writeln!(
            out,
            "  {} -> {} [style={style}, label={}];",
            q(&g.nodes[e.from].name),
            q(&g.nodes[e.to].name),
            q(&e.label)
        );
    }
    out.push_str("}\n");
    out
}

fn role_tag(r: Role) -> &'static str {
    r.as_str()
}

/// Structurizr DSL: one software system, a container per service, a group per cluster.
pub fn structurizr(g: &Graph) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('"', "'"));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "workspace {} \"generated by cairn map\" {{",
        q(&g.title)
    );
    out.push_str("    model {\n");
    let _ = writeln!(out, "        system = softwareSystem {} {{", q(&g.title));
    for (group, members) in groups(g) {
        let indent = if group.is_some() {
            "                "
        } else {
            "            "
        };
        if let Some(name) = group {
            let _ = writeln!(out, "            group {} {{", q(name));
        }
        for i in members {
            let n = &g.nodes[i];
            let _ = writeln!(
                out,
                "{indent}c{i} = container {} \"\" \"\" {}",
                q(&n.name),
                q(role_tag(n.role))
            );
        }
        if group.is_some() {
            out.push_str("            }\n");
        }
    }
    out.push_str("        }\n");
    for e in &g.edges {
        let _ = writeln!(
            out,
            "        c{} -> c{} {} {}",
            e.from,
            e.to,
            q(&e.label),
            q(&e.label)
        );
    }
    out.push_str("    }\n    views {\n        container system {\n            include *\n            autolayout lr\n        }\n        styles {\n");
    for (tag, shape) in [
        ("datastore", "Cylinder"),
        ("broker", "Pipe"),
        ("gateway", "Hexagon"),
        ("external", "Circle"),
        ("loadgen", "Robot"),
        ("observability", "Folder"),
        ("infra", "Component"),
    ] {
        let _ = writeln!(
            out,
            "            element \"{tag}\" {{\n                shape {shape}\n            }}"
        );
    }
    out.push_str("        }\n    }\n}\n");
    out
}

/// C4-PlantUML container diagram.
pub fn plantuml(g: &Graph) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('"', "'"));
    let mut out = String::from("@startuml\n!include <C4/C4_Container>\nLAYOUT_LEFT_RIGHT()\n");
    let _ = writeln!(out, "System_Boundary(system, {}) {{", q(&g.title));
    for (k, (group, members)) in groups(g).into_iter().enumerate() {
        if let Some(name) = group {
            let _ = writeln!(out, "  Boundary(g{k}, {}) {{", q(name));
        }
        for i in members {
            let n = &g.nodes[i];
            let macro_name = match n.role {
                Role::Datastore => "ContainerDb",
                Role::Broker => "ContainerQueue",
                Role::External => "Container_Ext",
                _ => "Container",
            };
            let _ = writeln!(
                out,
                "    {macro_name}(c{i}, {}, {})",
                q(&n.name),
                q(role_tag(n.role))
            );
        }
        if group.is_some() {
            out.push_str("  }\n");
        }
    }
    out.push_str("}\n");
    for e in &g.edges {
        let _ = writeln!(out, "Rel(c{}, c{}, {})", e.from, e.to, q(&e.label));
    }
    out.push_str("@enduml\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::{Edge as ModelEdge, Origin, Policy, Retries, Service};

    fn edge(from: &str, to: &str, kind: EdgeKind, protocol: &str, policy: Policy) -> ModelEdge {
        ModelEdge {
            from: from.into(),
            to: to.into(),
            kind,
            protocol: protocol.into(),
            origin: Origin::Inferred,
            observability: false,
            topics: Vec::new(),
            evidence: Vec::new(),
            policy,
        }
    }

    fn system() -> System {
        let mut web = Service::new("web", Some("shop".into()), Role::App);
        web.context = Some("storefront".into());
        let mut orders = Service::new("orders", Some("shop".into()), Role::App);
        orders.context = Some("ordering".into());
        let db = Service::new("orders-db", Some("data".into()), Role::Datastore);
        let slow = Policy {
            timeout_ms: Some(2000.0),
            retries: Some(Retries {
                attempts: Some(3),
                ..Retries::default()
            }),
            ..Policy::default()
        };
        System {
            name: Some("shop \"demo\"".into()),
            services: vec![orders, db, web],
            edges: vec![
                edge("web", "orders", EdgeKind::Sync, "http", slow),
                edge(
                    "web",
                    "orders",
                    EdgeKind::Sync,
                    "grpc",
                    Policy {
                        timeout_ms: Some(500.0),
                        ..Policy::default()
                    },
                ),
                edge(
                    "orders",
                    "orders-db",
                    EdgeKind::Datastore,
                    "postgres",
                    Policy::default(),
                ),
            ],
            ..System::default()
        }
    }

    #[test]
    fn edges_of_one_kind_merge_with_the_shortest_timeout_and_most_retries() {
        let g = graph(&system(), &MapOptions::default()).unwrap();
        let web_orders: Vec<_> = g
            .edges
            .iter()
            .filter(|e| g.nodes[e.from].name == "web")
            .collect();
        assert_eq!(web_orders.len(), 1);
        assert_eq!(web_orders[0].label, "grpc, http, timeout 500ms, 3 retries");
        assert_eq!(
            g.edges.iter().filter(|e| e.line == Line::Datastore).count(),
            1
        );
    }

    #[test]
    fn writers_quote_names_and_group() {
        let g = graph(
            &system(),
            &MapOptions {
                group_by: GroupBy::Namespace,
                ..MapOptions::default()
            },
        )
        .unwrap();
        let dot = dot(&g);
        assert!(dot.starts_with("digraph \"shop \\\"demo\\\"\" {"), "{dot}");
        assert!(dot.contains("\"orders-db\" [shape=cylinder"));
        assert!(dot.contains("style=dotted"));
        let mm = mermaid(&g);
        assert!(mm.contains("subgraph g0[\"data\"]"), "{mm}");
        assert!(mm.contains("[(\"orders-db\")]"));
        assert!(structurizr(&g).contains("workspace \"shop 'demo'\""));
        assert!(plantuml(&g).contains("ContainerDb("));
    }

    #[test]
    fn focus_on_an_unknown_service_suggests_one() {
        let opts = MapOptions {
            focus: Some("order".into()),
            ..MapOptions::default()
        };
        assert_eq!(
            graph(&system(), &opts).unwrap_err(),
            "no service is called `order`; did you mean `orders`?"
        );
        let opts = MapOptions {
            focus: Some("orders-db".into()),
            depth: 1,
            ..MapOptions::default()
        };
        let names: Vec<_> = graph(&system(), &opts)
            .unwrap()
            .nodes
            .into_iter()
            .map(|n| n.name)
            .collect();
        assert_eq!(names, vec!["orders-db", "orders"]);
    }
}
