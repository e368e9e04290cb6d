//! A Service's selector matches no pod template in its namespace.
//!
//! A Service sends traffic to the pods its `spec.selector` matches. When no
//! pod carries those labels, the Service has no endpoints: every connection
//! to it is refused or times out. The usual causes are a label typo
//! (`app: cart` for pods labelled `app: carts`), a label changed on the
//! workload but not on the Service, or the two placed in different
//! namespaces.
//!
//! Pods are taken from the pod templates of the workloads in the scanned
//! files (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, bare Pods,
//! Argo Rollouts, Knative Services) in the Service's namespace; an object
//! without a namespace matches any namespace.
//!
//! ## Example
//! ```yaml
//! kind: Service
//! metadata: {name: cart}
//! spec:
//!   selector: {app: cart}     # the pods are labelled app: carts
//!   ports: [{port: 80, targetPort: 8080}]
//! ```
//!
//! ## Fix
//! Make the selector match the pod template's labels:
//! ```yaml
//!   selector: {app: carts}
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service
//! - https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
//!
//! ## Notes
//! A Service without a selector (its endpoints are managed by hand or by a
//! controller) and an `ExternalName` Service are not checked. Pods made by an
//! operator from a custom resource are not in the scanned files, so a
//! Service selecting them is reported; suppress it with a reason.

use crate::kit_manifest::{SelectingService, selecting_services};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA202",
    name: "service-selector-matches-nothing",
    category: Category::Manifest,
    levels: levels!(warning, warning, warning, error, error),
    summary: "a Service's selector matches no pod template in its namespace",
    help: "make spec.selector match the labels of the pod template it should route to",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for SelectingService {
        index: i,
        svc,
        spec,
        node,
        selector,
    } in selecting_services(cx)
    {
        if !cx
            .pods_selected(svc.namespace.as_deref(), &selector)
            .is_empty()
        {
            continue;
        }
        let labels: Vec<String> = selector
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let at = key_pos(spec, "selector").unwrap_or(node.pos);
        out.object(
            cx,
            i,
            at,
            format!(
                "{} selects no pods: no pod template{} in the scanned files has the labels {}",
                describe(svc),
                crate::kit_manifest::in_ns(svc.namespace.as_deref()),
                labels.join(", ")
            ),
        );
    }
}
