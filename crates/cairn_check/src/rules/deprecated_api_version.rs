//! An object uses an API version that Kubernetes no longer serves.
//!
//! Beta API versions are retired once their stable replacement has been
//! around for a while. An API server that no longer serves an object's
//! `apiVersion` rejects it (`no matches for kind "Deployment" in version
//! "extensions/v1beta1"`), so the manifest breaks on the first cluster
//! upgrade past the removal, often in the middle of a rollout. The rule
//! follows the Kubernetes deprecated API migration guide and names the
//! release that stopped serving the version and the version to use.
//!
//! ## Example
//! ```yaml
//! apiVersion: batch/v1beta1   # not served since Kubernetes 1.25
//! kind: CronJob
//! ```
//!
//! ## Fix
//! ```yaml
//! apiVersion: batch/v1
//! kind: CronJob
//! ```
//! Some versions changed fields on the way (an Ingress backend's
//! `serviceName` became `service.name`, a Deployment needs `spec.selector`);
//! `kubectl convert` rewrites a file, and the migration guide lists the
//! changes.
//!
//! ## References
//! - https://kubernetes.io/docs/reference/using-api/deprecation-guide/
//! - https://kubernetes.io/docs/reference/using-api/deprecation-policy/
//!
//! ## Differences from other tools
//! kube-score's `stable-version` depends on a configured Kubernetes version
//! and stays silent when the replacement did not exist yet in it; cairn
//! reports every removed version, since every supported Kubernetes release
//! has stopped serving them. kube-linter's `no-extensions-v1beta` covers
//! `extensions/v1beta1` only.
//!
//! ## Notes
//! Only API versions the guide lists as removed are reported. Versions of
//! the same groups that are still served (`admissionregistration.k8s.io/
//! v1beta1` ValidatingAdmissionPolicy, `networking.k8s.io/v1beta1`
//! ServiceCIDR) are not. Custom resources are not judged.

use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA207",
    name: "deprecated-api-version",
    category: Category::Manifest,
    levels: levels!(warning, warning, warning, error, error),
    summary: "an object uses an API version that Kubernetes no longer serves",
    help: "move the object to the API version that replaced it",
    check,
};

/// One removed API version: the kinds it applied to, the release that stopped serving it, and the replacement.
struct Removed {
    api_version: &'static str,
    kinds: &'static [&'static str],
    release: &'static str,
    replacement: &'static str,
}

const fn removed(
    api_version: &'static str,
    kinds: &'static [&'static str],
    release: &'static str,
    replacement: &'static str,
) -> Removed {
    Removed {
        api_version,
        kinds,
        release,
        replacement,
    }
}

const APPS: &[&str] = &[
    "Deployment",
    "DaemonSet",
    "ReplicaSet",
    "StatefulSet",
    "ControllerRevision",
];
const RBAC: &[&str] = &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"];
const WEBHOOKS: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];
const ACCESS_REVIEWS: &[&str] = &[
    "LocalSubjectAccessReview",
    "SelfSubjectAccessReview",
    "SubjectAccessReview",
    "SelfSubjectRulesReview",
];
const FLOW: &[&str] = &["FlowSchema", "PriorityLevelConfiguration"];
const HPA: &[&str] = &["HorizontalPodAutoscaler"];
/// PodSecurityPolicy has no successor API.
const PSP_SUCCESSOR: &str = "Pod Security Admission";

/// From the deprecated API migration guide, newest removals first.
const REMOVED: &[Removed] = &[
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        FLOW,
        "1.32",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        FLOW,
        "1.29",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    removed(
        "storage.k8s.io/v1beta1",
        &["CSIStorageCapacity"],
        "1.27",
        "storage.k8s.io/v1",
    ),
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        FLOW,
        "1.26",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    removed("autoscaling/v2beta2", HPA, "1.26", "autoscaling/v2"),
    removed("batch/v1beta1", &["CronJob"], "1.25", "batch/v1"),
    removed(
        "discovery.k8s.io/v1beta1",
        &["EndpointSlice"],
        "1.25",
        "discovery.k8s.io/v1",
    ),
    removed(
        "events.k8s.io/v1beta1",
        &["Event"],
        "1.25",
        "events.k8s.io/v1",
    ),
    removed("autoscaling/v2beta1", HPA, "1.25", "autoscaling/v2"),
    removed(
        "policy/v1beta1",
        &["PodDisruptionBudget"],
        "1.25",
        "policy/v1",
    ),
    removed(
        "policy/v1beta1",
        &["PodSecurityPolicy"],
        "1.25",
        PSP_SUCCESSOR,
    ),
    removed(
        "node.k8s.io/v1beta1",
        &["RuntimeClass"],
        "1.25",
        "node.k8s.io/v1",
    ),
    removed(
        "admissionregistration.k8s.io/v1beta1",
        WEBHOOKS,
        "1.22",
        "admissionregistration.k8s.io/v1",
    ),
    removed(
        "apiextensions.k8s.io/v1beta1",
        &["CustomResourceDefinition"],
        "1.22",
        "apiextensions.k8s.io/v1",
    ),
    removed(
        "apiregistration.k8s.io/v1beta1",
        &["APIService"],
        "1.22",
        "apiregistration.k8s.io/v1",
    ),
    removed(
        "authentication.k8s.io/v1beta1",
        &["TokenReview"],
        "1.22",
        "authentication.k8s.io/v1",
    ),
    removed(
        "authorization.k8s.io/v1beta1",
        ACCESS_REVIEWS,
        "1.22",
        "authorization.k8s.io/v1",
    ),
    removed(
        "certificates.k8s.io/v1beta1",
        &["CertificateSigningRequest"],
        "1.22",
        "certificates.k8s.io/v1",
    ),
    removed(
        "coordination.k8s.io/v1beta1",
        &["Lease"],
        "1.22",
        "coordination.k8s.io/v1",
    ),
    removed(
        "extensions/v1beta1",
        &["Ingress"],
        "1.22",
        "networking.k8s.io/v1",
    ),
    removed(
        "networking.k8s.io/v1beta1",
        &["Ingress", "IngressClass"],
        "1.22",
        "networking.k8s.io/v1",
    ),
    removed(
        "rbac.authorization.k8s.io/v1beta1",
        RBAC,
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    removed(
        "rbac.authorization.k8s.io/v1alpha1",
        RBAC,
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    removed(
        "scheduling.k8s.io/v1beta1",
        &["PriorityClass"],
        "1.22",
        "scheduling.k8s.io/v1",
    ),
    removed(
        "scheduling.k8s.io/v1alpha1",
        &["PriorityClass"],
        "1.22",
        "scheduling.k8s.io/v1",
    ),
    removed(
        "storage.k8s.io/v1beta1",
        &["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"],
        "1.22",
        "storage.k8s.io/v1",
    ),
    removed("batch/v2alpha1", &["CronJob"], "1.21", "batch/v1"),
    removed(
        "extensions/v1beta1",
        &["NetworkPolicy"],
        "1.16",
        "networking.k8s.io/v1",
    ),
    removed(
        "extensions/v1beta1",
        &["PodSecurityPolicy"],
        "1.16",
        PSP_SUCCESSOR,
    ),
    removed(
        "extensions/v1beta1",
        &["Deployment", "DaemonSet", "ReplicaSet"],
        "1.16",
        "apps/v1",
    ),
    removed("apps/v1beta1", APPS, "1.16", "apps/v1"),
    removed("apps/v1beta2", APPS, "1.16", "apps/v1"),
];

fn check(cx: &Ctx<'_>, out: &mut Out) {
    for (i, o) in cx.objects().iter().enumerate() {
        let Some(r) = REMOVED
            .iter()
            .find(|r| r.api_version == o.api_version && r.kinds.contains(&o.kind.as_str()))
        else {
            continue;
        };
        let at = o.root.get("apiVersion").map_or(o.root.pos, |n| n.pos);
        let help = if r.replacement == PSP_SUCCESSOR {
            "PodSecurityPolicy has no successor API: delete it and label the namespaces `pod-security.kubernetes.io/enforce: restricted` (or `baseline`)".to_owned()
        } else {
            format!("set `apiVersion: {}`", r.replacement)
        };
        out.object(
            cx,
            i,
            at,
            format!(
                "{} uses apiVersion {}, which Kubernetes {} stopped serving; use {}",
                describe(o),
                r.api_version,
                r.release,
                r.replacement
            ),
        )
        .help(help);
    }
}
