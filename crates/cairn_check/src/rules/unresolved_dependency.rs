//! An address in configuration names no known service.
//!
//! A service finds its dependencies by the names written in its
//! configuration: `CART_ADDR=cartservice:7070`, `DATABASE_URL=postgres://orders-db/orders`.
//! When the name matches no service, the call fails at runtime with a DNS
//! error, usually only when the code path that uses it runs. Most often it
//! is a typo (`cartservise`), a service renamed on one side only, or a
//! dependency whose manifests live somewhere else.
//!
//! The rule reports every place where a service's configuration (container
//! environment, ConfigMaps it reads, mounted configuration files, Spring
//! configuration, `cairn.yaml` dependencies) names a cluster host that no
//! scanned service, alias or `cairn.yaml` service answers to, and suggests
//! the closest known name when one is near.
//!
//! Not reported: hosts that look external (dotted names outside
//! `.svc`/`.cluster.local`) and hosts an Istio `ServiceEntry` declares; values
//! that cannot be host names (an underscore, as in the placeholder
//! `REDIS_CONNECTION_STRING`, is not allowed in a Kubernetes Service name);
//! and bare words in configuration files under keys that do not name a host
//! (`legendFormat: mean` in a dashboard), unless a port is written with them.
//!
//! ## Example
//! ```yaml
//! env:
//!   - name: CART_SERVICE_ADDR
//!     value: cartservise:7070   # the Service is `cartservice`
//! ```
//!
//! ## Fix
//! Correct the name. If the service runs outside the scanned files (another
//! repository, a managed database), scan its manifests too or name it in
//! `cairn.yaml`:
//! ```yaml
//! services:
//!   payments-gateway: {owner: team-payments}
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/
//! - https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#rfc-1035-label-names
//! - https://istio.io/latest/docs/reference/config/networking/service-entry/

use std::collections::HashSet;

use cairn_ingest::config::edit_distance;
use cairn_model::address::{Address, key_names_a_host};
use cairn_model::{Evidence, Unresolved};

use crate::kit_graph::{report, services_by_name};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA506",
    name: "unresolved-dependency",
    category: Category::Architecture,
    levels: levels!(info, info, warning, warning, warning),
    summary: "an address in configuration names no known service",
    help: "correct the name, scan the service's manifests too, or name the service in cairn.yaml",
    check,
};

/// Whether `host` can be a DNS name (RFC 1123 labels: letters, digits and
/// inner hyphens), as every Kubernetes Service name is.
fn dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.trim_end_matches('.').split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The key an address was written under, from the evidence's description
/// (`env CART_ADDR`, `ConfigMap app key DB_HOST`, `ConfigMap x file y: a.b.url`).
fn key_of(what: &str) -> &str {
    let text = what
        .strip_prefix("env ")
        .or_else(|| what.strip_prefix("environment "))
        .map(|r| r.split_whitespace().next().unwrap_or(r))
        .or_else(|| what.rsplit_once(" key ").map(|(_, k)| k))
        .or_else(|| what.rsplit_once(": ").map(|(_, k)| k))
        .unwrap_or(what);
    text.rsplit('.').next().unwrap_or(text)
}

/// Whether a piece of evidence only refers to a value written elsewhere
/// (`envFrom`, `configMapKeyRef`): the value's own place is reported.
fn reference_only(ev: &Evidence) -> bool {
    ev.what
        .as_deref()
        .is_some_and(|w| w.starts_with("envFrom") || w.ends_with("configMapKeyRef"))
}

fn stated(ev: &Evidence) -> bool {
    ev.what.as_deref() == Some("cairn.yaml dependency")
}

/// Whether the entry is an address at all, rather than a word that looked like one.
fn plausible(u: &Unresolved) -> bool {
    dns_name(&u.host)
        && (u.port.is_some()
            || u.evidence.iter().any(|ev| {
                stated(ev)
                    || ev
                        .what
                        .as_deref()
                        .is_some_and(|w| key_names_a_host(key_of(w)))
            }))
}

/// The known name nearest to `name` within a small edit distance (a quarter
/// of its length, 1 to 3), with the distance. Cheap filters (length, then
/// the bag distance, a lower bound of the edit distance) keep this linear in
/// the number of names for practical purposes.
fn closest<'a>(name: &str, known: &[&'a str]) -> Option<(usize, &'a str)> {
    let len = name.chars().count();
    let limit = (len / 4).clamp(1, 3);
    let bag = |s: &str| {
        let mut counts = [0i32; 64];
        for b in s.bytes() {
            counts[usize::from(b) % 64] += 1;
        }
        counts
    };
    let mine = bag(name);
    known
        .iter()
        .filter(|k| k.chars().count().abs_diff(len) <= limit)
        .filter(|k| {
            let theirs = bag(k);
            let (mut more, mut fewer) = (0, 0);
            for (a, b) in mine.iter().zip(theirs.iter()) {
                if a > b {
                    more += a - b;
                } else {
                    fewer += b - a;
                }
            }
            usize::try_from(more.max(fewer)).unwrap_or(usize::MAX) <= limit
        })
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min()
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let by_name = services_by_name(cx.system);
    let mut known: Vec<&str> = by_name.keys().copied().collect();
    known.sort_unstable();
    for u in &cx.system.unresolved {
        if u.external || u.declared_by.is_some() || !plausible(u) {
            continue;
        }
        let address = Address {
            host: u.host.clone(),
            port: u.port,
            scheme: None,
        };
        let (name, _) = address.cluster_parts();
        let closest = closest(name, &known);
        let written = match u.port {
            Some(p) => format!("{}:{p}", u.host),
            None => u.host.clone(),
        };
        let help = match closest {
            Some((0, k)) => format!(
                "a service `{k}` exists in another namespace: check the namespace in the address"
            ),
            Some((_, k)) => format!(
                "did you mean `{k}`? If not, scan the manifests of `{name}` too or name it in cairn.yaml"
            ),
            None => format!(
                "correct the name, or scan the manifests of `{name}` too or name it in cairn.yaml if it runs elsewhere"
            ),
        };
        let from = by_name.get(u.from.as_str()).copied();
        let mut seen = HashSet::new();
        for ev in u.evidence.iter().filter(|ev| !reference_only(ev)) {
            if !seen.insert((&ev.file, ev.line, ev.column)) {
                continue;
            }
            let under = ev
                .what
                .as_deref()
                .map_or_else(String::new, |w| format!(" ({w})"));
            let message = format!(
                "the configuration of `{}` names `{written}`{under}, which no scanned service answers to",
                u.from
            );
            report(cx, out, Some(ev), from, message).help(help.clone());
        }
    }
}
