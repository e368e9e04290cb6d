//! Helpers shared by the manifest, access and network-policy rules.

use std::collections::HashMap;

use cairn_ingest::k8s::K8sObject;
use cairn_model::PodRef;
use cairn_model::netpol::Policy as NetPolicy;
use cairn_yaml::Node;

use crate::Out;
use crate::ctx::{Ctx, same_ns};
use crate::rules_kit::describe;

/// The RBAC API group.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Whether the object is an RBAC object of `kind` (`Role`, `RoleBinding`, …).
pub fn is_rbac(o: &K8sObject, kind: &str) -> bool {
    o.kind == kind && o.group() == RBAC_GROUP
}

/// The RBAC role bindings, `RoleBinding`s then `ClusterRoleBinding`s, with
/// their index and the namespace of subjects that name none: a
/// RoleBinding's own, none (`None`) for a ClusterRoleBinding.
pub fn role_bindings<'c, 'a>(
    cx: &'c Ctx<'a>,
) -> impl Iterator<Item = (usize, &'a K8sObject, Option<&'a str>)> + 'c {
    ["RoleBinding", "ClusterRoleBinding"]
        .into_iter()
        .flat_map(move |kind| {
            cx.of_kind(kind)
                .filter(|(_, b)| b.group() == RBAC_GROUP)
                .map(move |(i, b)| {
                    let own_ns = if kind == "RoleBinding" {
                        b.namespace.as_deref()
                    } else {
                        None
                    };
                    (i, b, own_ns)
                })
        })
}

/// The service account a pod spec names, `serviceAccountName` or the
/// deprecated `serviceAccount`, when it is a string.
pub fn pod_service_account(spec: &Node) -> Option<&Node> {
    spec.get("serviceAccountName")
        .filter(|n| n.as_str().is_some())
        .or_else(|| spec.get("serviceAccount").filter(|n| n.as_str().is_some()))
}

/// Whether service account `name` exists in `ns`: it is `default`, which
/// every namespace has, or a scanned file defines it.
pub fn service_account_known(cx: &Ctx<'_>, ns: Option<&str>, name: &str) -> bool {
    name == "default"
        || cx
            .named("ServiceAccount", ns, name)
            .any(|(_, sa)| sa.group().is_empty())
}

/// A core Service, not of type `ExternalName`, whose `selector` is set
/// and not empty.
pub struct SelectingService<'a> {
    /// The Service's index among the objects.
    pub index: usize,
    /// The Service.
    pub svc: &'a K8sObject,
    /// Its `spec`.
    pub spec: &'a Node,
    /// Its `spec.selector`.
    pub node: &'a Node,
    /// The selector read from `node`.
    pub selector: cairn_model::netpol::Selector,
}

/// Every [`SelectingService`] of the input.
pub fn selecting_services<'c, 'a>(
    cx: &'c Ctx<'a>,
) -> impl Iterator<Item = SelectingService<'a>> + 'c {
    cx.of_kind("Service").filter_map(|(index, svc)| {
        if !svc.is_core_service() {
            return None;
        }
        let spec = svc.spec()?;
        if spec.get_str("type") == Some("ExternalName") {
            return None;
        }
        let node = spec.get("selector").filter(|s| !s.is_null())?;
        let selector = crate::ctx::selector(Some(node));
        (!selector.labels.is_empty() || !selector.expressions.is_empty()).then_some(
            SelectingService {
                index,
                svc,
                spec,
                node,
                selector,
            },
        )
    })
}

/// Whether the object is a Kubernetes `NetworkPolicy` (`networking.k8s.io`,
/// or the long-removed `extensions/v1beta1`), not a Calico or Cilium one,
/// whose schema differs.
pub fn is_network_policy(o: &K8sObject) -> bool {
    o.kind == "NetworkPolicy" && matches!(o.group(), "networking.k8s.io" | "extensions")
}

/// Every Kubernetes `NetworkPolicy`, with its index.
pub fn network_policies<'a>(cx: &'a Ctx<'a>) -> impl Iterator<Item = (usize, &'a K8sObject)> + 'a {
    cx.of_kind("NetworkPolicy")
        .filter(|(_, o)| is_network_policy(o))
}

/// The directions a policy isolates: `(ingress, egress)`. Without
/// `policyTypes`, Kubernetes assumes `Ingress`, and `Egress` only when the
/// policy has at least one egress rule.
pub fn isolation(spec: &Node) -> (bool, bool) {
    let types: Vec<&str> = spec
        .seq_at("policyTypes")
        .iter()
        .filter_map(Node::as_str)
        .collect();
    if spec.get("policyTypes").is_none_or(Node::is_null) || types.is_empty() {
        (true, !spec.seq_at("egress").is_empty())
    } else {
        (types.contains(&"Ingress"), types.contains(&"Egress"))
    }
}

/// Whether the pods of a workload share the node's network namespace:
/// network policy does not apply to them.
pub fn host_network(obj: &K8sObject) -> bool {
    obj.pod_spec()
        .and_then(|s| s.node.get("hostNetwork"))
        .and_then(Node::as_bool)
        == Some(true)
}

/// ` in namespace `shop``, or nothing when the object has no namespace.
pub fn in_ns(ns: Option<&str>) -> String {
    ns.map(|n| format!(" in namespace `{n}`"))
        .unwrap_or_default()
}

/// `a, b and 3 more`: a short list for a message.
pub fn name_list<S: AsRef<str>>(names: &[S], max: usize) -> String {
    let shown: Vec<&str> = names.iter().take(max).map(AsRef::as_ref).collect();
    let rest = names.len().saturating_sub(max);
    match (shown.len(), rest) {
        (0, _) => String::new(),
        (1, 0) => shown[0].to_owned(),
        (_, 0) => {
            let (last, head) = shown.split_last().expect("two or more");
            format!("{} and {last}", head.join(", "))
        }
        (_, r) => format!("{} and {r} more", shown.join(", ")),
    }
}

/// Names in backticks, for [`name_list`].
pub fn quoted<S: AsRef<str>>(names: &[S]) -> Vec<String> {
    names.iter().map(|n| format!("`{}`", n.as_ref())).collect()
}

/// `1 object` / `3 objects`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// ClusterRoles every cluster has (the user-facing defaults and the
/// `system:` roles of the control plane).
pub fn builtin_cluster_role(name: &str) -> bool {
    matches!(name, "cluster-admin" | "admin" | "edit" | "view") || name.starts_with("system:")
}

/// A reference from a pod spec to a `ConfigMap` or a `Secret`.
#[derive(Clone, Copy, Debug)]
pub struct ConfigRef<'a> {
    /// The name referenced.
    pub name: &'a str,
    /// The node holding the name (where findings point).
    pub at: &'a Node,
    /// `optional: true`: the pod starts without it.
    pub optional: bool,
    /// Where the reference is: `env `DB_URL` of container `web``, `volume `config``.
    pub what: Where<'a>,
}

/// Where a [`ConfigRef`] sits in the pod spec.
#[derive(Clone, Copy, Debug)]
pub enum Where<'a> {
    /// `env[].valueFrom`: container name and variable name.
    Env(&'a str, &'a str),
    /// `envFrom[]`: container name.
    EnvFrom(&'a str),
    /// A volume, by name.
    Volume(&'a str),
}

impl Where<'_> {
    /// For messages.
    pub fn describe(&self) -> String {
        match self {
            Where::Env(c, v) => format!("env `{v}` of container `{c}`"),
            Where::EnvFrom(c) => format!("envFrom of container `{c}`"),
            Where::Volume(v) => format!("volume `{v}`"),
        }
    }
}

/// The references a workload's pod spec makes to ConfigMaps (`secret` false)
/// or Secrets (`secret` true): env `valueFrom`, `envFrom`, volumes and
/// projected volume sources, in every container (init and ephemeral too).
pub fn config_refs<'a>(cx: &Ctx<'a>, obj: &'a K8sObject, secret: bool) -> Vec<ConfigRef<'a>> {
    let (key_ref, from_ref, volume_key, volume_name) = if secret {
        ("secretKeyRef", "secretRef", "secret", "secretName")
    } else {
        ("configMapKeyRef", "configMapRef", "configMap", "name")
    };
    let optional = |n: &Node| n.get("optional").and_then(Node::as_bool) == Some(true);
    let mut out = Vec::new();
    for c in cx.containers(obj) {
        for e in c.node.seq_at("env") {
            let Some(r) = e.get("valueFrom").and_then(|v| v.get(key_ref)) else {
                continue;
            };
            if let Some(at) = r.get("name").filter(|n| n.as_str().is_some()) {
                out.push(ConfigRef {
                    name: at.as_str().unwrap_or_default(),
                    at,
                    optional: optional(r),
                    what: Where::Env(c.name, e.get_str("name").unwrap_or_default()),
                });
            }
        }
        for e in c.node.seq_at("envFrom") {
            let Some(r) = e.get(from_ref) else { continue };
            if let Some(at) = r.get("name").filter(|n| n.as_str().is_some()) {
                out.push(ConfigRef {
                    name: at.as_str().unwrap_or_default(),
                    at,
                    optional: optional(r),
                    what: Where::EnvFrom(c.name),
                });
            }
        }
    }
    let Some(spec) = obj.pod_spec() else {
        return out;
    };
    for v in spec.node.seq_at("volumes") {
        let vname = v.get_str("name").unwrap_or_default();
        if let Some(src) = v.get(volume_key)
            && let Some(at) = src.get(volume_name).filter(|n| n.as_str().is_some())
        {
            out.push(ConfigRef {
                name: at.as_str().unwrap_or_default(),
                at,
                optional: optional(src),
                what: Where::Volume(vname),
            });
        }
        for s in v.get("projected").map_or(&[][..], |p| p.seq_at("sources")) {
            if let Some(src) = s.get(volume_key)
                && let Some(at) = src.get("name").filter(|n| n.as_str().is_some())
            {
                out.push(ConfigRef {
                    name: at.as_str().unwrap_or_default(),
                    at,
                    optional: optional(src),
                    what: Where::Volume(vname),
                });
            }
        }
    }
    out
}

/// Names produced in the input, by name: the namespaces they are in
/// (`None`: any namespace).
#[derive(Debug, Default)]
pub struct Produced<'a> {
    by_name: HashMap<&'a str, Vec<(Option<&'a str>, String)>>,
}

impl<'a> Produced<'a> {
    /// Records that `by` makes an object called `name` in `ns`.
    pub fn add(&mut self, name: &'a str, ns: Option<&'a str>, by: String) {
        self.by_name.entry(name).or_default().push((ns, by));
    }

    /// What makes `name` in a namespace that can be `ns`, if anything.
    pub fn find(&self, name: &str, ns: Option<&str>) -> Option<&str> {
        self.by_name
            .get(name)?
            .iter()
            .find(|(pns, _)| same_ns(*pns, ns))
            .map(|(_, by)| by.as_str())
    }
}

/// Reports, for `config_refs` of every workload, the names `produced` does not
/// know: once per (workload, name), at the first reference, skipping
/// `optional` ones, with how many references name the same thing. The
/// references are to Secrets (`secret`) or ConfigMaps; `which` ends the
/// message ("which no scanned file defines").
pub fn missing_config_refs(
    cx: &Ctx<'_>,
    out: &mut Out,
    secret: bool,
    produced: &Produced<'_>,
    which: &str,
) {
    let kind = if secret { "Secret" } else { "ConfigMap" };
    for (i, obj) in cx.workloads() {
        let mut missing: Vec<(ConfigRef<'_>, usize)> = Vec::new();
        for r in config_refs(cx, obj, secret) {
            if r.optional || produced.find(r.name, obj.namespace.as_deref()).is_some() {
                continue;
            }
            match missing.iter_mut().find(|(m, _)| m.name == r.name) {
                Some((_, n)) => *n += 1,
                None => missing.push((r, 1)),
            }
        }
        for (r, n) in missing {
            let more = if n > 1 {
                format!(" ({n} references)")
            } else {
                String::new()
            };
            out.object(
                cx,
                i,
                r.at.pos,
                format!(
                    "{} of {} reads {kind} `{}`, {which}{}{more}",
                    r.what.describe(),
                    describe(obj),
                    r.name,
                    in_ns(obj.namespace.as_deref())
                ),
            );
        }
    }
}

/// How a label selector fares against labels that are only partly known:
/// keys outside `known` could carry any value, so a term on them counts as a
/// possible match. Returns whether the selector may match.
pub fn may_match(sel: &cairn_model::netpol::Selector, known: &[(&str, &str)]) -> bool {
    let get = |k: &str| known.iter().find(|(kk, _)| *kk == k).map(|(_, v)| *v);
    let knows = |k: &str| known.iter().any(|(kk, _)| *kk == k);
    sel.labels
        .iter()
        .all(|(k, v)| !knows(k) || get(k) == Some(v.as_str()))
        && sel
            .expressions
            .iter()
            .all(|e| !knows(&e.key) || expression_holds(e, get(&e.key)))
}

/// Whether a selector expression holds for its key's value `v` (`None`:
/// the key is absent).
fn expression_holds(e: &cairn_model::netpol::Expression, v: Option<&str>) -> bool {
    match e.operator.as_str() {
        "In" => v.is_some_and(|v| e.values.iter().any(|x| x == v)),
        "NotIn" => v.is_none_or(|v| !e.values.iter().any(|x| x == v)),
        "Exists" => v.is_some(),
        "DoesNotExist" => v.is_none(),
        _ => false,
    }
}

/// Whether the policies refuse a connection from `from` to `to` on `port`,
/// looking at one direction only: the sender's egress (`egress`) or the
/// receiver's ingress. Returns the names of the isolating policies when
/// none admits it. The semantics are those of
/// [`cairn_model::NetworkPolicies::may_reach`], evaluated over borrowed
/// policies (the few that select either pod) so that a large system is not
/// matched policy by policy.
pub fn refusal(
    policies: &[&NetPolicy],
    from: &PodRef,
    to: &PodRef,
    port: u16,
    egress: bool,
) -> Option<Vec<String>> {
    let (subject, peer) = if egress { (from, to) } else { (to, from) };
    let isolating = || {
        policies.iter().copied().filter(move |p| {
            (if egress {
                p.egress_isolated
            } else {
                p.ingress_isolated
            }) && pod_in_ns(&p.namespace, &subject.namespace)
                && p.pod_selector.matches(&subject.labels)
        })
    };
    let admits = |p: &NetPolicy| {
        let rules = if egress { &p.egress } else { &p.ingress };
        rules.iter().any(|r| {
            port_matches(&r.ports, port, to)
                && (r.peers.is_empty()
                    || r.peers.iter().any(|x| peer_matches(x, &p.namespace, peer)))
        })
    };
    // no allocation unless refused: this runs for every dependency
    if isolating().next().is_none() || isolating().any(admits) {
        return None;
    }
    Some(isolating().map(|p| p.name.clone()).collect())
}

fn pod_in_ns(policy_ns: &str, pod_ns: &str) -> bool {
    policy_ns == pod_ns || policy_ns.is_empty() || pod_ns.is_empty()
}

fn peer_matches(peer: &cairn_model::netpol::Peer, policy_ns: &str, pod: &PodRef) -> bool {
    if peer.ip_block.is_some() && peer.pods.is_none() && peer.namespaces.is_none() {
        return false;
    }
    let ns_ok = match &peer.namespaces {
        None => pod_in_ns(policy_ns, &pod.namespace),
        // the namespace's labels, and the name label every namespace has
        Some(s) => matches_with(s, |k| {
            if k == "kubernetes.io/metadata.name" {
                return Some(pod.namespace.as_str());
            }
            pod.namespace_labels
                .iter()
                .find(|(lk, _)| lk == k)
                .map(|(_, v)| v.as_str())
        }),
    };
    ns_ok && peer.pods.as_ref().is_none_or(|s| s.matches(&pod.labels))
}

/// [`cairn_model::netpol::Selector::matches`] over labels read by `get`.
fn matches_with<'l>(
    sel: &cairn_model::netpol::Selector,
    get: impl Fn(&str) -> Option<&'l str>,
) -> bool {
    sel.labels.iter().all(|(k, v)| get(k) == Some(v.as_str()))
        && sel
            .expressions
            .iter()
            .all(|e| expression_holds(e, get(&e.key)))
}

fn port_matches(ports: &[cairn_model::netpol::RulePort], port: u16, target: &PodRef) -> bool {
    ports.is_empty()
        || ports.iter().any(|p| {
            p.port.parse::<u16>().ok() == Some(port)
                || target
                    .named_ports
                    .iter()
                    .any(|(n, num)| *n == p.port && *num == port)
        })
}
