//! Lookups: every name a service answers to, and the edge set being built.

use crate::address::Address;
use crate::role::Role;
use crate::{Edge, EdgeKind, Evidence, Origin, Policy, Service};
use std::collections::{BTreeMap, HashMap};

/// Every name a service answers to, with its namespace.
pub(super) struct HostIndex {
    pub(super) names: HashMap<String, Vec<(Option<String>, usize)>>,
}

impl HostIndex {
    pub(super) fn new(services: &[Service]) -> Self {
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
    pub(super) fn lookup(&self, name: &str, ns: Option<&str>) -> Option<usize> {
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
    pub(super) fn lookup_in(&self, name: &str, ns: Option<&str>) -> Option<usize> {
        let c = self.names.get(&name.to_ascii_lowercase())?;
        c.iter()
            .find(|(n, _)| n.is_none() || ns.is_none() || n.as_deref() == ns)
            .map(|(_, i)| *i)
    }

    /// A mesh host (`reviews`, `reviews.default.svc.cluster.local`).
    pub(super) fn lookup_host(&self, host: &str, ns: Option<&str>) -> Option<usize> {
        let a = Address {
            host: host.to_ascii_lowercase(),
            port: None,
            scheme: None,
        };
        let (name, a_ns) = a.cluster_parts();
        self.lookup(&a.host, ns)
            .or_else(|| self.lookup(name, a_ns.or(ns)))
    }
}

#[derive(Default)]
pub(super) struct EdgeSet {
    pub(super) edges: BTreeMap<(String, String), Edge>,
}

impl EdgeSet {
    /// Adds evidence to the edge `from -> to`, creating it when new.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add(
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
        // a later piece of evidence may know the protocol an earlier one did not
        if e.protocol == "unknown"
            && let Some(p) = protocol.filter(|p| *p != "unknown")
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
