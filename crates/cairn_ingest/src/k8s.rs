//! Kubernetes objects: every object is kept whole as a spanned tree, and thin
//! views read the fields the model needs without decoding the object into
//! typed structs (a typed decode would lose positions and fail whole objects
//! on one bad field).

use cairn_source::{Diagnostic, FileId, Pos};
use cairn_yaml::{Node, Value};

/// One Kubernetes object of any kind, as written.
#[derive(Clone, Debug)]
pub struct K8sObject {
    /// The file it came from.
    pub file: FileId,
    /// `apiVersion`, e.g. `apps/v1`.
    pub api_version: String,
    /// `kind`, e.g. `Deployment`.
    pub kind: String,
    /// `metadata.name` (empty when missing, which is reported).
    pub name: String,
    /// `metadata.namespace`, when set.
    pub namespace: Option<String>,
    /// The whole object. For a `Secret`, the values of `data` and `stringData`
    /// are blanked at read time: cairn never holds secret values.
    pub root: Node,
    /// For a ConfigMap: the data values that are whole files (several lines)
    /// and parse as YAML or JSON mappings, parsed. Positions are relative to
    /// the value's text.
    pub embedded: Vec<EmbeddedFile>,
}

/// Kinds besides the workloads ([`WORKLOAD_KINDS`]) that cairn reads with a
/// typed view or knows as standard; anything else is kept as a generic object.
pub const KNOWN_KINDS: &[&str] = &[
    "Service",
    "Ingress",
    "NetworkPolicy",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Namespace",
    "VirtualService",
    "DestinationRule",
    "Gateway",
    "ServiceEntry",
    "Sidecar",
    "PeerAuthentication",
    "AuthorizationPolicy",
    "RequestAuthentication",
    "ServiceProfile",
    "Server",
    "HTTPRoute",
    "GRPCRoute",
    "ServiceMonitor",
    "PodMonitor",
    "PrometheusRule",
    "CustomResourceDefinition",
    "PersistentVolumeClaim",
    "LimitRange",
    "ResourceQuota",
    "PriorityClass",
    "StorageClass",
    "PersistentVolume",
    "Endpoints",
    "EndpointSlice",
];

/// Workload kinds: objects that run pods.
pub const WORKLOAD_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Pod",
    "Rollout",
    "DeploymentConfig",
];

impl K8sObject {
    /// Builds an object from a document root; `None` when it is not a Kubernetes object.
    pub fn from_node(file: FileId, mut root: Node, diags: &mut Vec<Diagnostic>) -> Option<Self> {
        let api_version = root.get_str("apiVersion")?.to_owned();
        let kind = root.get_str("kind")?.to_owned();
        let meta = root.get("metadata");
        let name = meta
            .and_then(|m| m.get_str("name").or_else(|| m.get_str("generateName")))
            .unwrap_or_default()
            .to_owned();
        if name.is_empty() && kind != "List" {
            diags.push(
                Diagnostic::warning("k8s-missing-name", format!("{kind} has no metadata.name"))
                    .in_file(file)
                    .at(root.get("kind").map_or(root.pos, |k| k.pos))
                    .with_help("give every object a metadata.name"),
            );
        }
        let namespace = meta.and_then(|m| m.get_str("namespace")).map(str::to_owned);
        if kind == "Secret" {
            blank_secret_values(&mut root);
        }
        let embedded = if kind == "ConfigMap" {
            embedded_files(&root)
        } else {
            Vec::new()
        };
        Some(K8sObject {
            file,
            api_version,
            kind,
            name,
            namespace,
            root,
            embedded,
        })
    }

    /// The API group (`apps`, `networking.istio.io`; empty for the core group).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// Whether the object is of `kind` in a group that contains `group_hint` (empty matches any).
    pub fn is(&self, kind: &str, group_hint: &str) -> bool {
        self.kind == kind && self.group().contains(group_hint)
    }

    /// Whether the object runs pods.
    pub fn is_workload(&self) -> bool {
        (WORKLOAD_KINDS.contains(&self.kind.as_str()) || self.is_knative_service())
            && self.pod_template().is_some()
    }

    /// Whether the object is a core `v1` Service (not a Knative or other CRD `Service`).
    pub fn is_core_service(&self) -> bool {
        self.kind == "Service" && self.group().is_empty()
    }

    /// Whether the object is a Knative Service: a workload that is also its own address.
    pub fn is_knative_service(&self) -> bool {
        self.kind == "Service" && self.group().starts_with("serving.knative.dev")
    }

    /// `metadata`.
    pub fn metadata(&self) -> Option<&Node> {
        self.root.get("metadata")
    }

    /// `metadata.labels` as pairs.
    pub fn labels(&self) -> Vec<(&str, &str)> {
        string_pairs(self.metadata().map_or(&[][..], |m| m.map_at("labels")))
    }

    /// `metadata.annotations` as pairs.
    pub fn annotations(&self) -> Vec<(&str, &str)> {
        string_pairs(self.metadata().map_or(&[][..], |m| m.map_at("annotations")))
    }

    /// Where the name is written (or the object, when it has none).
    pub fn name_pos(&self) -> Pos {
        self.metadata()
            .and_then(|m| m.get("name"))
            .map_or(self.root.pos, |n| n.pos)
    }

    /// `spec`.
    pub fn spec(&self) -> Option<&Node> {
        self.root.get("spec")
    }

    /// The pod template (`metadata` + `spec`) of a workload; for a Pod, the Pod itself.
    pub fn pod_template(&self) -> Option<&Node> {
        match self.kind.as_str() {
            "Pod" => Some(&self.root),
            "CronJob" => self.root.path(&["spec", "jobTemplate", "spec", "template"]),
            _ => self.root.path(&["spec", "template"]),
        }
    }

    /// The pod spec of a workload.
    pub fn pod_spec(&self) -> Option<PodSpec<'_>> {
        self.pod_template()?
            .get("spec")
            .filter(|n| n.as_map().is_some())
            .map(|node| PodSpec { node })
    }

    /// Labels on the pods a workload runs.
    pub fn pod_labels(&self) -> Vec<(&str, &str)> {
        self.pod_template()
            .and_then(|t| t.get("metadata"))
            .map_or_else(Vec::new, |m| string_pairs(m.map_at("labels")))
    }

    /// Annotations on the pods a workload runs.
    pub fn pod_annotations(&self) -> Vec<(&str, &str)> {
        self.pod_template()
            .and_then(|t| t.get("metadata"))
            .map_or_else(Vec::new, |m| string_pairs(m.map_at("annotations")))
    }

    /// `spec.replicas` of a workload, when written as a number.
    pub fn replicas(&self) -> Option<(i64, Pos)> {
        let n = self.spec()?.get("replicas")?;
        n.as_i64().map(|r| (r, n.pos))
    }

    /// The selector of a Service (`spec.selector`) or a workload (`spec.selector.matchLabels`).
    pub fn selector(&self) -> Vec<(&str, &str)> {
        let Some(sel) = self.spec().and_then(|s| s.get("selector")) else {
            return Vec::new();
        };
        if self.kind == "Service" {
            string_pairs(sel.as_map().unwrap_or(&[]))
        } else {
            string_pairs(sel.map_at("matchLabels"))
        }
    }

    /// For a `ConfigMap`: its `data` entries (key node, value node).
    pub fn config_data(&self) -> &[(Node, Node)] {
        self.root.map_at("data")
    }
}

/// A file held in a ConfigMap value, parsed.
#[derive(Clone, Debug)]
pub struct EmbeddedFile {
    /// The data key (the file name once mounted).
    pub key: String,
    /// Its YAML or JSON mapping documents.
    pub documents: Vec<Node>,
}

/// Files larger than this inside a ConfigMap are not parsed.
const MAX_EMBEDDED: usize = 1 << 20;

fn embedded_files(root: &Node) -> Vec<EmbeddedFile> {
    let mut out = Vec::new();
    for (k, v) in root.map_at("data") {
        let (Some(key), Some(sc)) = (k.as_str(), v.as_scalar()) else {
            continue;
        };
        if !sc.text.contains('\n') || sc.text.len() > MAX_EMBEDDED {
            continue;
        }
        let parsed = cairn_yaml::parse(&sc.text);
        let documents: Vec<Node> = parsed
            .documents
            .into_iter()
            .map(|d| d.root)
            .filter(|r| r.as_map().is_some())
            .collect();
        if parsed.errors.is_empty() && !documents.is_empty() {
            out.push(EmbeddedFile {
                key: key.to_owned(),
                documents,
            });
        }
    }
    out
}

/// A pod spec.
#[derive(Clone, Copy, Debug)]
pub struct PodSpec<'a> {
    /// The `spec` node.
    pub node: &'a Node,
}

impl<'a> PodSpec<'a> {
    /// Init containers then containers, in order.
    pub fn all_containers(&self) -> impl Iterator<Item = Container<'a>> + 'a {
        let init = self
            .node
            .seq_at("initContainers")
            .iter()
            .map(|node| Container { node, init: true });
        let main = self
            .node
            .seq_at("containers")
            .iter()
            .map(|node| Container { node, init: false });
        init.chain(main)
    }

    /// The regular containers.
    pub fn containers(&self) -> impl Iterator<Item = Container<'a>> + 'a {
        self.node
            .seq_at("containers")
            .iter()
            .map(|node| Container { node, init: false })
    }

    /// `serviceAccountName`.
    pub fn service_account(&self) -> Option<&'a str> {
        self.node
            .get_str("serviceAccountName")
            .or_else(|| self.node.get_str("serviceAccount"))
    }
}

/// A container of a pod spec.
#[derive(Clone, Copy, Debug)]
pub struct Container<'a> {
    /// The container node.
    pub node: &'a Node,
    /// Whether it is an init container.
    pub init: bool,
}

/// Where an environment variable takes its value from, besides a literal.
#[derive(Clone, Copy, Debug)]
pub enum EnvSource<'a> {
    /// `valueFrom.configMapKeyRef`.
    ConfigMapKey {
        /// The `ConfigMap`'s name.
        name: &'a str,
        /// The key.
        key: &'a str,
        /// The reference node.
        node: &'a Node,
    },
    /// `valueFrom.secretKeyRef` (the value is never read).
    SecretKey {
        /// The Secret's name.
        name: &'a str,
        /// The key.
        key: &'a str,
    },
    /// `valueFrom.fieldRef` or `resourceFieldRef`.
    Field,
}

/// One `env` entry.
#[derive(Clone, Copy, Debug)]
pub struct EnvVar<'a> {
    /// The variable's name.
    pub name: &'a str,
    /// The whole entry node.
    pub node: &'a Node,
    /// The literal `value`, if any.
    pub value: Option<&'a Node>,
    /// `valueFrom`, if any.
    pub source: Option<EnvSource<'a>>,
}

/// One `envFrom` entry.
#[derive(Clone, Copy, Debug)]
pub struct EnvFrom<'a> {
    /// `true` for `configMapRef`, `false` for `secretRef`.
    pub config_map: bool,
    /// The referenced object's name.
    pub name: &'a str,
    /// `prefix`, empty when absent.
    pub prefix: &'a str,
    /// The entry node.
    pub node: &'a Node,
}

impl<'a> Container<'a> {
    /// `name`.
    pub fn name(&self) -> &'a str {
        self.node.get_str("name").unwrap_or_default()
    }

    /// `image`.
    pub fn image(&self) -> Option<&'a str> {
        self.node.get_str("image")
    }

    /// The `env` entries.
    pub fn env(&self) -> Vec<EnvVar<'a>> {
        self.node
            .seq_at("env")
            .iter()
            .filter_map(|node| {
                let name = node.get_str("name")?;
                let source = node.get("valueFrom").map(|vf| {
                    if let Some(r) = vf.get("configMapKeyRef") {
                        EnvSource::ConfigMapKey {
                            name: r.get_str("name").unwrap_or_default(),
                            key: r.get_str("key").unwrap_or_default(),
                            node: r,
                        }
                    } else if let Some(r) = vf.get("secretKeyRef") {
                        EnvSource::SecretKey {
                            name: r.get_str("name").unwrap_or_default(),
                            key: r.get_str("key").unwrap_or_default(),
                        }
                    } else {
                        EnvSource::Field
                    }
                });
                Some(EnvVar {
                    name,
                    node,
                    value: node.get("value").filter(|v| v.as_scalar().is_some()),
                    source,
                })
            })
            .collect()
    }

    /// The `envFrom` entries.
    pub fn env_from(&self) -> Vec<EnvFrom<'a>> {
        self.node
            .seq_at("envFrom")
            .iter()
            .filter_map(|node| {
                let prefix = node.get_str("prefix").unwrap_or_default();
                if let Some(r) = node.get("configMapRef") {
                    Some(EnvFrom {
                        config_map: true,
                        name: r.get_str("name")?,
                        prefix,
                        node,
                    })
                } else {
                    node.get("secretRef").and_then(|r| {
                        Some(EnvFrom {
                            config_map: false,
                            name: r.get_str("name")?,
                            prefix,
                            node,
                        })
                    })
                }
            })
            .collect()
    }

    /// `ports[].containerPort` with their names.
    pub fn ports(&self) -> Vec<(i64, Option<&'a str>)> {
        self.node
            .seq_at("ports")
            .iter()
            .filter_map(|p| Some((p.get("containerPort")?.as_i64()?, p.get_str("name"))))
            .collect()
    }
}

/// String pairs of a mapping, skipping entries whose key or value is not a scalar.
pub fn string_pairs(entries: &[(Node, Node)]) -> Vec<(&str, &str)> {
    entries
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?, v.as_scalar().map(|s| s.text.as_str())?)))
        .collect()
}

fn blank_secret_values(root: &mut Node) {
    let Value::Map(entries) = &mut root.value else {
        return;
    };
    for (k, v) in entries.iter_mut() {
        if matches!(k.as_str(), Some("data" | "stringData"))
            && let Value::Map(items) = &mut v.value
        {
            for (_, value) in items.iter_mut() {
                value.value = Value::Scalar(cairn_yaml::Scalar {
                    text: cairn_yaml::CompactString::default(),
                    plain: false,
                });
            }
        }
    }
}

/// Expected types of well-known fields, checked so that a wrong type
/// (`replicas: "three"`) is a diagnostic at the field instead of a silent miss.
enum Expect {
    Int,
    Seq,
    Map,
    Str,
}

const FIELD_TYPES: &[(&[&str], Expect)] = &[
    (&["metadata"], Expect::Map),
    (&["metadata", "name"], Expect::Str),
    (&["metadata", "namespace"], Expect::Str),
    (&["metadata", "labels"], Expect::Map),
    (&["metadata", "annotations"], Expect::Map),
    (&["spec", "replicas"], Expect::Int),
    (&["spec", "template", "spec", "containers"], Expect::Seq),
    (&["spec", "template", "spec", "initContainers"], Expect::Seq),
    (&["spec", "ports"], Expect::Seq),
    (&["spec", "minReplicas"], Expect::Int),
    (&["spec", "maxReplicas"], Expect::Int),
    (&["data"], Expect::Map),
];

/// Reports fields of well-known kinds whose value has the wrong type.
pub fn check_field_types(obj: &K8sObject, diags: &mut Vec<Diagnostic>) {
    for (path, expect) in FIELD_TYPES {
        let Some(node) = obj.root.path(path) else {
            continue;
        };
        if node.is_null() {
            continue;
        }
        let ok = match expect {
            Expect::Int => node.as_i64().is_some(),
            Expect::Seq => node.as_seq().is_some(),
            Expect::Map => node.as_map().is_some(),
            Expect::Str => node.as_scalar().is_some(),
        };
        if !ok {
            let want = match expect {
                Expect::Int => "a number",
                Expect::Seq => "a list",
                Expect::Map => "a mapping",
                Expect::Str => "a string",
            };
            diags.push(
                Diagnostic::warning(
                    "k8s-wrong-type",
                    format!(
                        "{} `{}`: `{}` is {}, expected {want}; the field was ignored",
                        obj.kind,
                        obj.name,
                        path.join("."),
                        node.type_name()
                    ),
                )
                .in_file(obj.file)
                .at(node.pos)
                .with_help(format!("write `{}` as {want}", path.last().unwrap_or(&""))),
            );
        }
    }
    // Containers: each must be a mapping with env as a list.
    if let Some(ps) = obj.pod_spec() {
        for c in ps.all_containers() {
            for key in ["env", "envFrom", "ports"] {
                if let Some(v) = c.node.get(key)
                    && v.as_seq().is_none()
                    && !v.is_null()
                {
                    diags.push(
                            Diagnostic::warning(
                                "k8s-wrong-type",
                                format!(
                                    "{} `{}`: container `{}` field `{key}` is {}, expected a list; it was ignored",
                                    obj.kind,
                                    obj.name,
                                    c.name(),
                                    v.type_name()
                                ),
                            )
                            .in_file(obj.file)
                            .at(v.pos),
                        );
                }
            }
        }
    }
}
