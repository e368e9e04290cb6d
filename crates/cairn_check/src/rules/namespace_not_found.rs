//! An object is placed in a namespace that nothing defines.
//!
//! Kubernetes refuses to create an object in a namespace that does not
//! exist (`namespaces "shop" not found`), so an apply of the whole set fails
//! part-way. A namespace counts as defined when a `Namespace` object in the
//! scanned files creates it, when it is one every cluster has (`default`,
//! `kube-system`, `kube-public`, `kube-node-lease`), when it is one that the
//! standard install of a platform component creates itself (`istio-system`,
//! `linkerd`, `cert-manager`, and GKE's managed Prometheus namespaces
//! `gmp-system` and `gmp-public`), or when `cairn.yaml` declares it under
//! `namespaces:` (for namespaces made by Terraform, a platform team, or
//! `helm install --create-namespace`).
//!
//! A misspelt namespace (`shop` vs `shops`) is the usual cause: the objects
//! land nowhere, or in a namespace that no policy, quota or RBAC covers.
//!
//! One finding per namespace, at the first object that uses it; the message
//! says how many objects use it.
//!
//! ## Example
//! ```yaml
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata:
//!   name: web
//!   namespace: shopp   # no Namespace "shopp" anywhere
//! ```
//!
//! ## Fix
//! Correct the name, add the `Namespace` object, or, when the namespace is
//! made outside these files, declare it in `cairn.yaml`:
//! ```yaml
//! namespaces: [shop]
//! ```
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/
//! - https://kubernetes.io/docs/tasks/administer-cluster/namespaces/
//!
//! ## Notes
//! Namespaces named by references (RoleBinding subjects, `namespaceSelector`
//! of network policy, cross-namespace Service addresses) are not checked:
//! they do not stop an apply. Cluster-scoped objects carry no namespace.

use std::collections::HashMap;

use crate::kit_manifest::plural;
use crate::prelude::*;

/// Namespaces that a platform component's standard install creates itself.
const PLATFORM_NAMESPACES: &[&str] = &[
    "istio-system",
    "linkerd",
    "cert-manager",
    "gmp-system",
    "gmp-public",
];

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA201",
    name: "namespace-not-found",
    category: Category::Manifest,
    levels: levels!(info, info, warning, error, error),
    summary: "an object is placed in a namespace that no scanned file defines",
    help: "add a Namespace object, fix the name, or declare the namespace in cairn.yaml under `namespaces:`",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let defined: Vec<&str> = cx
        .of_kind("Namespace")
        .filter(|(_, o)| o.group().is_empty())
        .map(|(_, o)| o.name.as_str())
        .collect();
    // namespace -> (first object, how many objects, how many files)
    let mut used: HashMap<&str, (usize, usize, Vec<cairn_source::FileId>)> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for (i, o) in cx.objects().iter().enumerate() {
        let Some(ns) = o.namespace.as_deref() else {
            continue;
        };
        if ns.is_empty()
            || crate::ctx::SYSTEM_NAMESPACES.contains(&ns)
            || PLATFORM_NAMESPACES.contains(&ns)
            || defined.contains(&ns)
            || cx.settings.namespaces.iter().any(|n| n == ns)
        {
            continue;
        }
        let e = used.entry(ns).or_insert_with(|| {
            order.push(ns);
            (i, 0, Vec::new())
        });
        e.1 += 1;
        if !e.2.contains(&o.file) {
            e.2.push(o.file);
        }
    }
    for ns in order {
        let (i, count, files) = &used[ns];
        let obj = &cx.objects()[*i];
        let at = obj
            .metadata()
            .and_then(|m| m.get("namespace"))
            .map_or_else(|| obj.name_pos(), |n| n.pos);
        let users = if *count == 1 {
            format!("used by {}", describe(obj))
        } else {
            format!(
                "used by {} in {}",
                plural(*count, "object", "objects"),
                plural(files.len(), "file", "files")
            )
        };
        out.object(
            cx,
            *i,
            at,
            format!("namespace `{ns}` is not defined by any scanned Namespace object nor declared in cairn.yaml ({users})"),
        )
        .help(match close(ns, &defined, &cx.settings.namespaces) {
            Some(near) => format!(
                "did you mean `{near}`? Otherwise add `kind: Namespace` named `{ns}` or declare it in cairn.yaml: `namespaces: [{ns}]`"
            ),
            None => format!(
                "add `kind: Namespace` named `{ns}`, fix the name, or declare it in cairn.yaml: `namespaces: [{ns}]`"
            ),
        });
    }
}

/// A defined namespace whose name is one or two edits away: a likely typo.
fn close<'a>(ns: &str, defined: &[&'a str], declared: &'a [String]) -> Option<&'a str> {
    defined
        .iter()
        .copied()
        .chain(declared.iter().map(String::as_str))
        .chain(crate::ctx::SYSTEM_NAMESPACES.iter().copied())
        .map(|d| (cairn_ingest::config::edit_distance(d, ns), d))
        .filter(|(dist, _)| *dist <= 2 && *dist < ns.len())
        .min_by_key(|(dist, _)| *dist)
        .map(|(_, d)| d)
}
