//! A NetworkPolicy ingress rule admits every source.
//!
//! An ingress rule admits the sources its `from` peers match. A rule
//! without `from` (the bare `- {}`, or one that lists only `ports`) admits
//! every source, inside the cluster and out; so does a peer with
//! `namespaceSelector: {}` and no (or an empty) `podSelector`, which matches
//! every pod of every namespace, and an `ipBlock` of `0.0.0.0/0` or `::/0`
//! whose `except` ranges leave most addresses in. Such a rule undoes the
//! isolation the policy exists for: since policies only add up, one
//! allow-all rule opens the selected pods to everything, whatever the other
//! policies say.
//!
//! A public entry point (an ingress gateway, a frontend behind a
//! LoadBalancer) may need exactly this on its serving port; suppress the
//! finding there with a reason.
//!
//! ## Example
//! ```yaml
//! kind: NetworkPolicy
//! metadata: {name: api, namespace: shop}
//! spec:
//!   podSelector: {matchLabels: {app: api}}
//!   policyTypes: [Ingress]
//!   ingress:
//!     - {}
//! ```
//!
//! ## Fix
//! Name the sources:
//! ```yaml
//!   ingress:
//!     - from:
//!         - podSelector: {matchLabels: {app: web}}
//!       ports: [{port: 8080, protocol: TCP}]
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/services-networking/network-policies/#behavior-of-to-and-from-selectors
//! - https://kubernetes.io/docs/concepts/services-networking/network-policies/#allow-all-ingress-traffic
//!
//! ## Notes
//! Ingress rules of a policy whose `policyTypes` leaves out `Ingress` are
//! ignored by Kubernetes and not reported. An `ipBlock` counts as admitting
//! every source when its prefix is `/0` and its `except` ranges cover less
//! than half of the address space.

use crate::kit_manifest::{isolation, network_policies};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA402",
    name: "network-policy-allows-all-ingress",
    category: Category::Network,
    levels: levels!(info, info, warning, warning, warning),
    summary: "a NetworkPolicy ingress rule admits every source",
    help: "list the sources in `from` (podSelector, namespaceSelector, ipBlock) instead of admitting everyone",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for (i, np) in network_policies(cx) {
        let Some(spec) = np.spec() else { continue };
        if !isolation(spec).0 {
            continue;
        }
        for (n, rule) in spec.seq_at("ingress").iter().enumerate() {
            let from = rule.seq_at("from");
            let who = if from.is_empty() {
                Some(("every source".to_owned(), rule.pos))
            } else {
                from.iter()
                    .find_map(|peer| all_sources(peer).map(|w| (w, peer.pos)))
            };
            let Some((who, at)) = who else { continue };
            let ports = ports(rule);
            out.object(
                cx,
                i,
                at,
                format!(
                    "ingress rule {} of {} admits {who}{ports}",
                    n + 1,
                    describe(np)
                ),
            );
        }
    }
}

/// What a peer admits when it admits every source, for the message.
fn all_sources(peer: &Node) -> Option<String> {
    let empty = |n: &Node| {
        n.is_null()
            || n.as_map().is_some_and(|m| {
                m.iter().all(|(k, v)| {
                    matches!(k.as_str(), Some("matchLabels" | "matchExpressions"))
                        && (v.is_null()
                            || v.as_map().is_some_and(<[(Node, Node)]>::is_empty)
                            || v.as_seq().is_some_and(<[Node]>::is_empty))
                })
            })
    };
    if let Some(ns) = peer.get("namespaceSelector")
        && empty(ns)
        && peer.get("podSelector").is_none_or(empty)
    {
        return Some("every pod of every namespace".to_owned());
    }
    let block = peer.get("ipBlock")?;
    let cidr = block.get_str("cidr")?;
    let (addr, prefix) = cidr.split_once('/')?;
    if prefix.trim() != "0" {
        return None;
    }
    let bits: u32 = if addr.contains(':') { 128 } else { 32 };
    // the share of the address space the excepts take out (overlaps ignored)
    let excluded: f64 = block
        .seq_at("except")
        .iter()
        .filter_map(|e| e.as_str()?.split_once('/')?.1.trim().parse::<u32>().ok())
        .filter(|p| *p <= bits)
        .map(|p| 0.5f64.powi(i32::try_from(p).unwrap_or(i32::MAX)))
        .sum();
    if excluded >= 0.5 {
        return None;
    }
    let excepts = block.seq_at("except").len();
    Some(if excepts == 0 {
        format!("every address ({cidr})")
    } else {
        format!(
            "nearly every address ({cidr} except {excepts} range{})",
            if excepts == 1 { "" } else { "s" }
        )
    })
}

/// ` on port 8080` / ` on every port`, for the message.
fn ports(rule: &Node) -> String {
    let ports: Vec<String> = rule
        .seq_at("ports")
        .iter()
        .map(|p| {
            let port = p
                .get("port")
                .and_then(|n| n.as_scalar())
                .map_or_else(|| "any port".to_owned(), |s| s.text.to_string());
            match p.get_str("protocol") {
                Some(proto) if proto != "TCP" => format!("{port}/{proto}"),
                _ => port,
            }
        })
        .collect();
    match ports.len() {
        0 => " on every port".to_owned(),
        1 => format!(" on port {}", ports[0]),
        _ => format!(" on ports {}", ports.join(", ")),
    }
}
