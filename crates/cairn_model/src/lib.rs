//! The system model.
//!
//! [`build`] turns what `cairn_ingest` read into one [`System`]: services and
//! their workloads, the dependencies between them (sync calls, async
//! publish/consume through brokers, datastore use), topics, datastores, mesh
//! policies, entry points and network policy. Every fact carries
//! [`Evidence`]: the file, line and column it came from. Stated intent from
//! `cairn.yaml` wins over inference, and each fact says which it is.
//!
//! This crate does no IO: it reads only the [`cairn_ingest::Ingest`] it is given.

pub mod address;
mod build;
pub mod netpol;
mod role;

use serde::Serialize;

pub use build::build;
pub use netpol::{NetworkPolicies, PodRef, Verdict};
pub use role::Role;

/// Serialises `(key, value)` pairs as a JSON object, keeping their order.
pub(crate) fn pairs_as_map<S, K, V>(pairs: &[(K, V)], s: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
    K: Serialize,
    V: Serialize,
{
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        m.serialize_entry(k, v)?;
    }
    m.end()
}

/// A port a service exposes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Port {
    /// Port number.
    pub port: u16,
    /// The port's name or `appProtocol` (`grpc`, `http`), empty when unnamed.
    pub name: String,
}

/// The version of the JSON the model serialises to; bumped on breaking changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Where a fact came from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Evidence {
    /// File path as given.
    pub file: std::sync::Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is written there, briefly (`env FRONTEND_ADDR`, `depends_on`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what: Option<String>,
}

/// Whether a fact was stated by the team or inferred by cairn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Written in `cairn.yaml`.
    Stated,
    /// Inferred from deployment configuration.
    Inferred,
    /// Stated in `cairn.yaml` and also found in deployment configuration.
    Both,
}

/// How a dependency is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// A request/response call (HTTP, gRPC, …).
    Sync,
    /// Publishing to a broker.
    AsyncPublish,
    /// Consuming from a broker.
    AsyncConsume,
    /// Talking to a broker, direction not stated in the configuration.
    Async,
    /// Reading or writing a datastore.
    Datastore,
}

impl EdgeKind {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Sync => "sync",
            EdgeKind::AsyncPublish => "async-publish",
            EdgeKind::AsyncConsume => "async-consume",
            EdgeKind::Async => "async",
            EdgeKind::Datastore => "datastore",
        }
    }

    /// Parses a kind as written in `cairn.yaml`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "sync" => EdgeKind::Sync,
            "async-publish" => EdgeKind::AsyncPublish,
            "async-consume" => EdgeKind::AsyncConsume,
            "async" => EdgeKind::Async,
            "datastore" => EdgeKind::Datastore,
            _ => return None,
        })
    }
}

/// Retry policy on a dependency.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Retries {
    /// Attempts after the first call.
    pub attempts: Option<i64>,
    /// Timeout of each attempt, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_try_timeout_ms: Option<f64>,
    /// Conditions that trigger a retry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_on: Option<String>,
}

/// The policies that govern calls to a service or along one edge.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Policy {
    /// Request timeout in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<f64>,
    /// Retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<Retries>,
    /// Whether a circuit breaker (or outlier detection) guards calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<bool>,
    /// Outlier detection: consecutive errors before ejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outlier_consecutive_errors: Option<i64>,
    /// Connection pool: maximum connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<i64>,
    /// Connection pool: maximum pending requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_pending_requests: Option<i64>,
    /// Whether the call is idempotent (stated only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<bool>,
    /// Fallback behaviour (stated only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// Where the policy is written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
}

impl Policy {
    /// Whether no policy field is set.
    pub fn is_empty(&self) -> bool {
        self.timeout_ms.is_none()
            && self.retries.is_none()
            && self.circuit_breaker.is_none()
            && self.outlier_consecutive_errors.is_none()
            && self.max_connections.is_none()
            && self.max_pending_requests.is_none()
            && self.idempotent.is_none()
            && self.fallback.is_none()
    }
}

/// A dependency between two services.
#[derive(Clone, Debug, Serialize)]
pub struct Edge {
    /// Caller (or publisher/consumer) service name.
    pub from: String,
    /// Callee, broker or datastore service name.
    pub to: String,
    /// How the dependency is used.
    pub kind: EdgeKind,
    /// Protocol: `http`, `grpc`, `kafka`, `amqp`, `postgres`, `redis`, `otlp`, … or `unknown`.
    pub protocol: String,
    /// Stated in `cairn.yaml` or inferred.
    pub origin: Origin,
    /// Whether the callee is an observability backend.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub observability: bool,
    /// Topics or queues, for async edges.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// Where the dependency is declared.
    pub evidence: Vec<Evidence>,
    /// Policies that govern the calls.
    #[serde(skip_serializing_if = "Policy::is_empty")]
    pub policy: Policy,
}

/// An address that names no service in the system: a typo, an external
/// dependency, or a service outside the scanned files.
#[derive(Clone, Debug, Serialize)]
pub struct Unresolved {
    /// The service whose configuration names it.
    pub from: String,
    /// The host as written.
    pub host: String,
    /// The port, when written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Whether the host looks external (a dotted, non-cluster name).
    pub external: bool,
    /// The mesh object that declares the host as external, e.g. `ServiceEntry/payments-api`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_by: Option<String>,
    /// Where it is written.
    pub evidence: Vec<Evidence>,
}

/// Resource requests and limits of one container, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Resources {
    /// `requests.cpu`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_request: Option<String>,
    /// `limits.cpu`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_limit: Option<String>,
    /// `requests.memory`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_request: Option<String>,
    /// `limits.memory`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<String>,
}

/// One environment variable of a container, resolved.
#[derive(Clone, Debug, Serialize)]
pub struct EnvVar {
    /// Name.
    pub name: String,
    /// Value after `ConfigMap` lookup and `$(VAR)` expansion; `None` for Secrets
    /// (never read) and values cairn cannot know (field refs).
    pub value: Option<String>,
    /// `literal`, `configmap`, `secret`, `field`, or `compose`.
    pub source: &'static str,
    /// Where the value is written.
    pub evidence: Evidence,
}

/// A PodDisruptionBudget that selects a workload's pods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DisruptionBudget {
    /// Name.
    pub name: String,
    /// `minAvailable`, as written (`1`, `50%`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_available: Option<String>,
    /// `maxUnavailable`, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<String>,
    /// Where it is defined.
    pub evidence: Evidence,
}

/// Autoscaling bounds of a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Autoscaling {
    /// `minReplicas` (1 when not written).
    pub min: i64,
    /// `maxReplicas`.
    pub max: i64,
}

/// One container.
#[derive(Clone, Debug, Serialize)]
pub struct Container {
    /// Name.
    pub name: String,
    /// Image reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Whether it is an init container.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub init: bool,
    /// Container ports, with their names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    /// Resources.
    pub resources: Resources,
    /// Probes defined: `liveness`, `readiness`, `startup`.
    pub probes: Vec<&'static str>,
    /// Environment, resolved.
    pub env: Vec<EnvVar>,
}

/// A workload: a Deployment, `StatefulSet`, … or a compose service.
#[derive(Clone, Debug, Serialize)]
pub struct Workload {
    /// Kind (`Deployment`, `StatefulSet`, `compose`).
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Replicas as written (`None`: not set, Kubernetes defaults to 1).
    pub replicas: Option<i64>,
    /// `HorizontalPodAutoscaler` bounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,
    /// Names of `PodDisruptionBudgets` that select its pods.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disruption_budgets: Vec<DisruptionBudget>,
    /// Service account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// Whether the pods join a mesh (Istio or Linkerd injection).
    pub mesh: bool,
    /// Pod labels; JSON: an object.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "pairs_as_map")]
    pub labels: Vec<(String, String)>,
    /// Containers.
    pub containers: Vec<Container>,
    /// Where it is defined.
    pub evidence: Evidence,
}

/// Mesh settings that govern calls to a service (Istio, Linkerd, Gateway API).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Mesh {
    /// Policy from `VirtualService` / `DestinationRule` / `ServiceProfile`.
    #[serde(skip_serializing_if = "Policy::is_empty")]
    pub policy: Policy,
    /// mTLS mode (`STRICT`, `PERMISSIVE`, `ISTIO_MUTUAL`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtls: Option<String>,
    /// Traffic split: destination (service or `service/subset`) to weight; JSON: an object.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "pairs_as_map")]
    pub traffic_split: Vec<(String, i64)>,
    /// Authorization policies that apply to the service.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorization: Vec<String>,
    /// Hosts an Istio `Sidecar` lets the service reach (empty: not restricted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub egress_hosts: Vec<String>,
}

/// A logical service.
#[derive(Clone, Debug, Serialize)]
pub struct Service {
    /// Name: the Kubernetes Service, workload, or compose service name.
    pub name: String,
    /// Namespace, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Role.
    pub role: Role,
    /// Whether the role was stated or inferred.
    pub role_origin: Origin,
    /// Other names it answers to (extra Services, versioned workloads, container names).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Owning team (stated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Bounded context (stated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Availability objective in percent (stated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slo_availability: Option<f64>,
    /// Latency objectives (stated), e.g. `("p99", 400.0)` ms; JSON: `{"p99": 400.0}`.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "pairs_as_map")]
    pub slo_latency_ms: Vec<(String, f64)>,
    /// Owner label from the manifests (`app.kubernetes.io/part-of`, `team`, `owner`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_label: Option<String>,
    /// Ports the service exposes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    /// Kubernetes Service objects behind it and their selectors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub k8s_services: Vec<KubeService>,
    /// Workloads behind it.
    pub workloads: Vec<Workload>,
    /// Mesh settings.
    #[serde(skip_serializing_if = "is_default_mesh")]
    pub mesh: Mesh,
    /// Monitoring: `servicemonitor`, `podmonitor`, `prometheus-annotations`, `otel`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub monitoring: Vec<String>,
    /// Contract files attached to it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contracts: Vec<String>,
    /// Whether the service is only known from `cairn.yaml`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stated_only: bool,
    /// For a gateway whose pods a controller runs (no workload in the files):
    /// what implies it, e.g. `Ingress controller`, `Istio Gateway`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implied: Option<String>,
    /// Where it is defined.
    pub evidence: Vec<Evidence>,
}

fn is_default_mesh(m: &Mesh) -> bool {
    m.policy.is_empty()
        && m.mtls.is_none()
        && m.traffic_split.is_empty()
        && m.authorization.is_empty()
        && m.egress_hosts.is_empty()
}

/// A Kubernetes Service object behind a logical service, and what it selects.
#[derive(Clone, Debug, Serialize)]
pub struct KubeService {
    /// The Service's name.
    pub name: String,
    /// `spec.type` (`ClusterIP` when not written).
    #[serde(rename = "type")]
    pub service_type: String,
    /// `spec.selector`; JSON: an object.
    #[serde(serialize_with = "pairs_as_map")]
    pub selector: Vec<(String, String)>,
    /// Where it is defined.
    pub evidence: Evidence,
}

/// A namespace object and its labels (namespace selectors of network policy match them).
#[derive(Clone, Debug, Serialize)]
pub struct Namespace {
    /// Name.
    pub name: String,
    /// Labels; JSON: an object.
    #[serde(serialize_with = "pairs_as_map")]
    pub labels: Vec<(String, String)>,
    /// Where it is defined.
    pub evidence: Evidence,
}

/// A role granted to a service account through a binding.
// A record of independent facts about one grant, read by checks one by one.
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Debug, Serialize)]
pub struct Grant {
    /// The binding, e.g. `RoleBinding/read-config`.
    pub binding: String,
    /// The role, e.g. `ClusterRole/view`.
    pub role: String,
    /// Whether the grant applies cluster-wide (a `ClusterRoleBinding`).
    pub cluster_wide: bool,
    /// Whether the role has a `*` verb, resource or API group.
    pub wildcard: bool,
    /// Whether the role can read Secrets.
    pub reads_secrets: bool,
    /// Whether the role was found among the scanned objects.
    pub role_found: bool,
    /// Where the binding is defined.
    pub evidence: Evidence,
}

/// A service account, the workloads that run as it, and what it may do.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceAccount {
    /// Name.
    pub name: String,
    /// Namespace, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `automountServiceAccountToken`, when written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automount_token: Option<bool>,
    /// Workloads that run as it.
    pub used_by: Vec<String>,
    /// Roles bound to it.
    pub grants: Vec<Grant>,
    /// Where it is defined (absent when only referenced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

/// External hosts the mesh declares (Istio `ServiceEntry`).
#[derive(Clone, Debug, Serialize)]
pub struct ExternalService {
    /// `ServiceEntry/name`.
    pub name: String,
    /// Hosts it declares.
    pub hosts: Vec<String>,
    /// `MESH_EXTERNAL` or `MESH_INTERNAL`, when written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Where it is defined.
    pub evidence: Evidence,
}

/// Alerting rules (Prometheus-operator `PrometheusRule`).
#[derive(Clone, Debug, Serialize)]
pub struct AlertRules {
    /// `PrometheusRule/name`.
    pub name: String,
    /// Namespace, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Alert names.
    pub alerts: Vec<String>,
    /// Where it is defined.
    pub evidence: Evidence,
}

/// A topic or queue and who uses it.
#[derive(Clone, Debug, Serialize)]
pub struct Topic {
    /// Topic or queue name.
    pub name: String,
    /// Broker service, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker: Option<String>,
    /// Publishing services.
    pub publishers: Vec<String>,
    /// Consuming services.
    pub consumers: Vec<String>,
}

/// A datastore and the services that use it.
#[derive(Clone, Debug, Serialize)]
pub struct Datastore {
    /// Service name of the datastore.
    pub name: String,
    /// Engine: `postgres`, `redis`, `mongodb`, …
    pub engine: String,
    /// Services that use it.
    pub users: Vec<String>,
}

/// A route into the system from outside (Ingress, Gateway API route, Istio gateway).
#[derive(Clone, Debug, Serialize)]
pub struct Entrypoint {
    /// The routing object's kind and name, e.g. `Ingress/web`.
    pub via: String,
    /// Host matched, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Path prefix matched, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Target service (as written; resolved to a service name when possible).
    pub to: String,
    /// Whether `to` names a service of the system.
    pub resolved: bool,
    /// Where the route is written.
    pub evidence: Evidence,
}

/// A Kubernetes object kept as written, for inventory and later checks.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectRef {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Where it is defined.
    pub evidence: Evidence,
}

/// A file read, and its format.
#[derive(Clone, Debug, Serialize)]
pub struct FileEntry {
    /// Path as given.
    pub path: String,
    /// Format recognised.
    pub format: &'static str,
}

/// The whole system.
#[derive(Clone, Debug, Default, Serialize)]
pub struct System {
    /// System name (stated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Environment profile (stated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Services, sorted by name.
    pub services: Vec<Service>,
    /// Dependencies, sorted by `(from, to, kind)`.
    pub edges: Vec<Edge>,
    /// Addresses that name no service.
    pub unresolved: Vec<Unresolved>,
    /// Topics and queues.
    pub topics: Vec<Topic>,
    /// Datastores and their users.
    pub datastores: Vec<Datastore>,
    /// Routes into the system.
    pub entrypoints: Vec<Entrypoint>,
    /// Network policy, compiled.
    pub network_policies: NetworkPolicies,
    /// Namespace objects.
    pub namespaces: Vec<Namespace>,
    /// Service accounts and their grants.
    pub service_accounts: Vec<ServiceAccount>,
    /// External hosts declared to the mesh.
    pub external_services: Vec<ExternalService>,
    /// Alerting rules.
    pub alert_rules: Vec<AlertRules>,
    /// Every Kubernetes object read.
    pub objects: Vec<ObjectRef>,
    /// Every file read.
    pub files: Vec<FileEntry>,
}

impl Service {
    /// A service with a name, a namespace and a role, and nothing else known yet.
    pub fn new(name: impl Into<String>, namespace: Option<String>, role: Role) -> Self {
        Service {
            name: name.into(),
            namespace,
            role,
            role_origin: Origin::Inferred,
            aliases: Vec::new(),
            owner: None,
            context: None,
            slo_availability: None,
            slo_latency_ms: Vec::new(),
            owner_label: None,
            ports: Vec::new(),
            k8s_services: Vec::new(),
            workloads: Vec::new(),
            mesh: Mesh::default(),
            monitoring: Vec::new(),
            contracts: Vec::new(),
            stated_only: false,
            implied: None,
            evidence: Vec::new(),
        }
    }
}

impl System {
    /// The pods of a service as the network-policy relation sees them, one per workload.
    pub fn pod_refs(&self, service: &Service) -> Vec<PodRef> {
        service
            .workloads
            .iter()
            .filter(|w| w.kind != "compose")
            .map(|w| {
                let namespace = w.namespace.clone().unwrap_or_default();
                PodRef {
                    namespace_labels: self
                        .namespaces
                        .iter()
                        .find(|n| n.name == namespace)
                        .map(|n| n.labels.clone())
                        .unwrap_or_default(),
                    namespace,
                    labels: w.labels.clone(),
                    named_ports: w
                        .containers
                        .iter()
                        .flat_map(|c| c.ports.iter())
                        .filter(|p| !p.name.is_empty())
                        .map(|p| (p.name.clone(), p.port))
                        .collect(),
                }
            })
            .collect()
    }

    /// The service named `name` (or answering to it as an alias).
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name).or_else(|| {
            self.services
                .iter()
                .find(|s| s.aliases.iter().any(|a| a == name))
        })
    }
}
