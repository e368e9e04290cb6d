//! A pod references a Secret that is not in the scanned files.
//!
//! A container whose environment reads a Secret (`env[].valueFrom.
//! secretKeyRef`, `envFrom[].secretRef`) does not start while the Secret is
//! missing (`CreateContainerConfigError`), and a pod with a `secret` volume
//! (or a projected one) waits in `ContainerCreating`. Unless the reference
//! says `optional: true`, the Secret must exist in the pod's namespace.
//!
//! Secrets are often kept out of git on purpose, so a Secret counts as
//! present when something in the scanned files produces it: a `Secret`, a
//! Bitnami `SealedSecret` (`spec.template.metadata.name`, else its name), an
//! External Secrets `ExternalSecret` (`spec.target.name`, else its name) or
//! `ClusterExternalSecret`, a cert-manager `Certificate` (`spec.secretName`),
//! a Vault Secrets Operator `VaultStaticSecret`/`VaultDynamicSecret`/
//! `VaultPKISecret` (`spec.destination.name`), or a 1Password
//! `OnePasswordItem`. What is left is a Secret that is made by hand or by a
//! pipeline, or a misspelt name; the message says it is not in the scanned
//! files, not that it does not exist.
//!
//! One finding per workload and Secret name, at the first reference.
//!
//! ## Example
//! ```yaml
//! containers:
//!   - name: api
//!     env:
//!       - name: DB_PASSWORD
//!         valueFrom:
//!           secretKeyRef: {name: db-credentials, key: password}
//! ```
//!
//! ## Fix
//! Fix the name, add the object that produces the Secret (a `SealedSecret`
//! or an `ExternalSecret` keeps the value out of git), or mark the reference
//! `optional: true` when the pod can run without it.
//!
//! ## References
//! - https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets
//! - https://external-secrets.io/latest/api/externalsecret/
//! - https://github.com/bitnami-labs/sealed-secrets#usage
//!
//! ## Differences from other tools
//! kube-linter's `env-value-from` also reports a missing key in a Secret
//! that exists; this rule is about the object only.
//!
//! ## Notes
//! `imagePullSecrets` are not checked: a missing pull secret does not stop a
//! pod (the kubelet warns and pulls without it, which works for public
//! images and nodes with registry credentials), and pull secrets are
//! nearly always created outside the manifests. Secrets named by Ingress
//! `tls` or by CSI volumes are not checked either.

use crate::kit_manifest::{Produced, missing_config_refs};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA205",
    name: "secret-not-found",
    category: Category::Manifest,
    levels: levels!(info, info, warning, warning, warning),
    summary: "a pod references a Secret that is not in the scanned files",
    help: "fix the name, add the Secret (or the SealedSecret/ExternalSecret that makes it), or mark the reference `optional: true`",
    check,
};

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let produced = producers(cx);
    missing_config_refs(
        cx,
        out,
        true,
        &produced,
        "which no scanned file defines or produces",
    );
}

/// Everything in the input that makes a Secret, by the Secret's name.
fn producers<'a>(cx: &Ctx<'a>) -> Produced<'a> {
    let mut p = Produced::default();
    for o in cx.objects() {
        let ns = o.namespace.as_deref();
        let spec = o.spec();
        let at = |path: &[&str]| spec.and_then(|s| s.path(path)).and_then(Node::as_str);
        let group = o.group();
        let made: Option<(&str, Option<&str>)> = match o.kind.as_str() {
            "Secret" if group.is_empty() => Some((o.name.as_str(), ns)),
            "SealedSecret" if group.starts_with("bitnami.com") => Some((
                at(&["template", "metadata", "name"]).unwrap_or(&o.name),
                at(&["template", "metadata", "namespace"]).or(ns),
            )),
            "ExternalSecret" if group.contains("external-secrets.io") => {
                Some((at(&["target", "name"]).unwrap_or(&o.name), ns))
            }
            // made in every namespace the selector picks
            "ClusterExternalSecret" if group.contains("external-secrets.io") => Some((
                at(&["externalSecretSpec", "target", "name"])
                    .or_else(|| at(&["externalSecretName"]))
                    .unwrap_or(&o.name),
                None,
            )),
            "Certificate" if group.starts_with("cert-manager.io") => {
                at(&["secretName"]).map(|n| (n, ns))
            }
            "VaultStaticSecret" | "VaultDynamicSecret" | "VaultPKISecret"
                if group.starts_with("secrets.hashicorp.com") =>
            {
                at(&["destination", "name"]).map(|n| (n, ns))
            }
            "OnePasswordItem" if group.starts_with("onepassword.com") => {
                Some((o.name.as_str(), ns))
            }
            _ => None,
        };
        if let Some((name, ns)) = made {
            p.add(name, ns, format!("{}/{}", o.kind, o.name));
        }
    }
    p
}
