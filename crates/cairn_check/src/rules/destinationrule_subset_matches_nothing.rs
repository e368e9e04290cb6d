//! A `DestinationRule` subset whose labels select no pod of its host.
//!
//! A subset is the pods of the host's Service that also carry the subset's
//! labels. When no pod does (the label is `version: v2` but the pods say
//! `version: 2.0`, or the canary Deployment is not deployed yet), the subset
//! is empty: a route to it fails with `503` (no healthy upstream), and a
//! traffic split that sends it a share drops that share.
//!
//! The rule follows host → Service → the Service's selector, adds the
//! subset's labels, and looks for a workload whose pod template carries all
//! of them, in the Service's namespace. Istio `WorkloadEntry` objects (VMs
//! in the mesh) with matching labels count as members too. It reports only
//! when the Service itself selects pods (a Service that selects nothing is
//! `service-selector-matches-nothing`'s finding), and says whether a
//! `VirtualService` routes to the subset.
//!
//! ## Example
//! ```yaml
//! apiVersion: networking.istio.io/v1
//! kind: DestinationRule
//! metadata:
//!   name: reviews
//! spec:
//!   host: reviews
//!   subsets:
//!     - name: v2
//!       labels: {version: v2}   # the pods are labelled version: "2"
//! ```
//!
//! ## Fix
//! Make the subset's labels match the pod template's labels (or deploy the
//! workload the subset is for before routing to it); remove subsets of
//! versions that are gone.
//!
//! ## Notes
//! Hosts that are not Services of the input (`ServiceEntry` hosts, Services
//! outside the scanned files) and wildcard hosts are not checked. Pods
//! created outside the files (by an operator) are not seen.
//!
//! ## References
//! - https://istio.io/latest/docs/reference/config/networking/destination-rule/#Subset
//! - https://istio.io/latest/docs/concepts/traffic-management/#destination-rules
//! - https://istio.io/latest/docs/reference/config/networking/workload-entry/

use std::collections::HashMap;

use cairn_model::netpol::Selector;

use crate::kit_mesh::{DestRules, HostKey, Hosts, is_istio, vs_destinations};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA706",
    name: "destinationrule-subset-matches-nothing",
    category: Category::Mesh,
    levels: levels!(info, info, warning, error, error),
    summary: "a DestinationRule subset whose labels select no pod of its host",
    help: "make the subset's labels match the labels of the pods it is for, or remove the subset",
    check,
};

/// A route to a subset: the `VirtualService`'s name and namespace, and the destination host.
type Route<'a> = (&'a str, Option<&'a str>, &'a str);

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let rules = DestRules::new(cx);
    if rules.list.is_empty() {
        return;
    }
    let mut routes: HashMap<&str, Vec<Route<'_>>> = HashMap::new();
    for (subset, route) in cx
        .of_kind("VirtualService")
        .filter(|(_, o)| is_istio(o))
        .flat_map(|(_, vs)| {
            vs.spec()
                .map(vs_destinations)
                .unwrap_or_default()
                .into_iter()
                .filter_map(move |d| {
                    Some((
                        d.get_str("subset")?,
                        (
                            vs.name.as_str(),
                            vs.namespace.as_deref(),
                            d.get_str("host")?,
                        ),
                    ))
                })
        })
    {
        routes.entry(subset).or_default().push(route);
    }
    let entries: Vec<(&K8sObject, Vec<(String, String)>)> = cx
        .of_kind("WorkloadEntry")
        .filter(|(_, o)| is_istio(o))
        .map(|(_, o)| {
            let labels = o
                .spec()
                .map(|s| cairn_ingest::k8s::string_pairs(s.map_at("labels")))
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            (o, labels)
        })
        .collect();
    for dr in &rules.list {
        if dr.host.contains('*') {
            continue;
        }
        let key = HostKey::parse(dr.host, dr.obj.namespace.as_deref());
        // the Services behind the host that select pods: (namespace, selector)
        let services: Vec<(Option<&str>, Selector, &str)> = Hosts::services(cx, &key)
            .into_iter()
            .map(|i| &cx.objects()[i])
            .filter(|s| s.is_core_service())
            .filter_map(|s| {
                let sel = crate::ctx::selector(s.spec().and_then(|sp| sp.get("selector")));
                let ns = s.namespace.as_deref().or(dr.obj.namespace.as_deref());
                (!sel.labels.is_empty() && !cx.pods_selected(ns, &sel).is_empty()).then_some((
                    ns,
                    sel,
                    s.name.as_str(),
                ))
            })
            .collect();
        let Some(&(_, _, service_name)) = services.first() else {
            continue;
        };
        for subset in dr.subsets {
            let Some((labels_key, labels_node)) = subset.entry("labels") else {
                continue;
            };
            let labels: Vec<(String, String)> =
                cairn_ingest::k8s::string_pairs(labels_node.as_map().unwrap_or(&[]))
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
            if labels.is_empty() {
                continue;
            }
            let selects = services.iter().any(|(ns, sel, _)| {
                let combined = Selector {
                    labels: sel.labels.iter().chain(&labels).cloned().collect(),
                    expressions: Vec::new(),
                };
                !cx.pods_selected(*ns, &combined).is_empty()
                    || entries
                        .iter()
                        .any(|(e, el)| same_ns(e.namespace.as_deref(), *ns) && combined.matches(el))
            });
            if selects {
                continue;
            }
            let name = subset.get_str("name").unwrap_or_default();
            let label_text: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let routed = routes
                .get(name)
                .into_iter()
                .flatten()
                .find(|(_, vns, host)| dr.covers(&HostKey::parse(host, *vns)));
            let consequence = match routed {
                Some((vs, ..)) => {
                    format!("VirtualService/{vs} routes to it, and those requests fail")
                }
                None => "a route to it would fail".to_owned(),
            };
            out.object(
                cx,
                dr.index,
                labels_key.pos,
                format!(
                    "subset `{name}` of DestinationRule/{} selects no pod: no workload behind Service `{service_name}` has the {} {}; {consequence}",
                    dr.obj.name,
                    if label_text.len() == 1 { "label" } else { "labels" },
                    label_text.join(",")
                ),
            );
        }
    }
}
