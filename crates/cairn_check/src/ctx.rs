//! What a rule sees: the scan, the model, the settings, and lookups built
//! once per run so that cross-object rules stay linear.

use std::collections::HashMap;
use std::sync::OnceLock;

use cairn_ingest::Ingest;
use cairn_ingest::k8s::K8sObject;
use cairn_model::netpol::{Expression, Selector};
use cairn_model::{Evidence, System};
use cairn_source::{FileId, Pos};
use cairn_yaml::Node;

use crate::config::Settings;
use crate::kit_api::Contracts;

/// Namespaces every cluster has.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Whether two namespaces can be the same: an object without a namespace is
/// applied to whichever namespace the user picks, so it matches any.
pub fn same_ns(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// One container of a workload's pod spec.
#[derive(Clone, Copy, Debug)]
pub struct PodContainer<'a> {
    /// The container node.
    pub node: &'a Node,
    /// `name`.
    pub name: &'a str,
    /// An init container.
    pub init: bool,
    /// An ephemeral (debug) container.
    pub ephemeral: bool,
}

impl PodContainer<'_> {
    /// `init container`, `ephemeral container` or `container`, for messages.
    pub fn what(&self) -> &'static str {
        if self.init {
            "init container"
        } else if self.ephemeral {
            "ephemeral container"
        } else {
            "container"
        }
    }

    /// Where the container's name is written (the container when it has none).
    pub fn name_pos(&self) -> Pos {
        self.node.get("name").map_or(self.node.pos, |n| n.pos)
    }
}

/// The context every rule reads.
pub struct Ctx<'a> {
    /// Everything read.
    pub ingest: &'a Ingest,
    /// The model.
    pub system: &'a System,
    /// Settings: profile and thresholds.
    pub settings: &'a Settings,
    by_kind: HashMap<&'a str, Vec<usize>>,
    by_name: HashMap<&'a str, HashMap<&'a str, Vec<usize>>>,
    files: HashMap<&'a str, FileId>,
    workloads: Vec<usize>,
    pod_label_index: HashMap<&'a str, HashMap<&'a str, Vec<usize>>>,
    pod_labels: HashMap<usize, Vec<(String, String)>>,
    contracts: OnceLock<Contracts>,
}

impl<'a> Ctx<'a> {
    /// Builds the lookups.
    pub fn new(ingest: &'a Ingest, system: &'a System, settings: &'a Settings) -> Self {
        let mut by_kind: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_name: HashMap<&str, HashMap<&str, Vec<usize>>> = HashMap::new();
        let mut workloads = Vec::new();
        let mut pod_label_index: HashMap<&str, HashMap<&str, Vec<usize>>> = HashMap::new();
        let mut pod_labels = HashMap::new();
        for (i, o) in ingest.objects.iter().enumerate() {
            by_kind.entry(o.kind.as_str()).or_default().push(i);
            by_name
                .entry(o.kind.as_str())
                .or_default()
                .entry(o.name.as_str())
                .or_default()
                .push(i);
            if o.is_workload() && !controlled(o) {
                workloads.push(i);
                let labels = o.pod_labels();
                for (k, v) in &labels {
                    pod_label_index
                        .entry(k)
                        .or_default()
                        .entry(v)
                        .or_default()
                        .push(i);
                }
                pod_labels.insert(
                    i,
                    labels
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect(),
                );
            }
        }
        let files = ingest
            .sources
            .iter()
            .map(|(id, f)| (f.path.as_ref(), id))
            .collect();
        Ctx {
            ingest,
            system,
            settings,
            by_kind,
            by_name,
            files,
            workloads,
            pod_label_index,
            pod_labels,
            contracts: OnceLock::new(),
        }
    }

    /// The OpenAPI contracts of the scan, parsed with their `$ref`s (and
    /// their baseline versions under `--baseline`): built by the first rule
    /// that asks, once per run.
    pub fn contracts(&self) -> &Contracts {
        self.contracts
            .get_or_init(|| Contracts::build(self.ingest, self.settings.baseline.as_ref()))
    }

    /// Every Kubernetes object read.
    pub fn objects(&self) -> &'a [K8sObject] {
        &self.ingest.objects
    }

    /// Objects of one kind, with their indices.
    pub fn of_kind(&self, kind: &str) -> impl Iterator<Item = (usize, &'a K8sObject)> + '_ {
        let objects = self.objects();
        self.by_kind
            .get(kind)
            .into_iter()
            .flatten()
            .map(move |&i| (i, &objects[i]))
    }

    /// Objects of `kind` named `name` in a namespace that can be `namespace`.
    pub fn named<'s>(
        &'s self,
        kind: &str,
        namespace: Option<&'s str>,
        name: &str,
    ) -> impl Iterator<Item = (usize, &'a K8sObject)> + 's {
        let objects = self.objects();
        self.by_name
            .get(kind)
            .and_then(|m| m.get(name))
            .into_iter()
            .flatten()
            .map(move |&i| (i, &objects[i]))
            .filter(move |(_, o)| same_ns(o.namespace.as_deref(), namespace))
    }

    /// Index of an object by kind, namespace and name.
    pub fn find_index(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<usize> {
        self.named(kind, namespace, name).next().map(|(i, _)| i)
    }

    /// Objects that run pods (workloads, Knative services, bare Pods), leaving
    /// out those a controller in the input owns (a Deployment's ReplicaSets
    /// and Pods in `kubectl get` output), so each pod template is checked once.
    pub fn workloads(&self) -> impl Iterator<Item = (usize, &'a K8sObject)> + '_ {
        let objects = self.objects();
        self.workloads.iter().map(move |&i| (i, &objects[i]))
    }

    /// Labels of a workload's pods.
    pub fn pod_labels(&self, index: usize) -> &[(String, String)] {
        self.pod_labels.get(&index).map_or(&[], Vec::as_slice)
    }

    /// Workloads in a namespace that can be `namespace` whose pods `selector` selects.
    pub fn pods_selected(&self, namespace: Option<&str>, selector: &Selector) -> Vec<usize> {
        let candidates: Box<dyn Iterator<Item = usize>> = match selector.labels.first() {
            Some((k, v)) => Box::new(
                self.pod_label_index
                    .get(k.as_str())
                    .and_then(|m| m.get(v.as_str()))
                    .into_iter()
                    .flatten()
                    .copied(),
            ),
            None => Box::new(self.workloads.iter().copied()),
        };
        candidates
            .filter(|&i| {
                same_ns(self.objects()[i].namespace.as_deref(), namespace)
                    && selector.matches(self.pod_labels(i))
            })
            .collect()
    }

    /// The containers of a workload: init, main and ephemeral.
    pub fn containers(&self, obj: &'a K8sObject) -> Vec<PodContainer<'a>> {
        let Some(spec) = obj.pod_spec() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, init, ephemeral) in [
            ("initContainers", true, false),
            ("containers", false, false),
            ("ephemeralContainers", false, true),
        ] {
            for node in spec.node.seq_at(key) {
                if node.as_map().is_none() {
                    continue;
                }
                out.push(PodContainer {
                    node,
                    name: node.get_str("name").unwrap_or_default(),
                    init,
                    ephemeral,
                });
            }
        }
        out
    }

    /// The file and position a piece of model evidence points at.
    pub fn locate(&self, ev: &Evidence) -> (Option<FileId>, Option<Pos>) {
        let file = self.files.get(ev.file.as_ref()).copied();
        let pos = (ev.line > 0).then(|| Pos {
            line: ev.line,
            column: ev.column.max(1),
            start: 0,
            end: 0,
        });
        (file, pos)
    }

    /// The path of a file.
    pub fn path(&self, file: FileId) -> &'a str {
        self.ingest.sources.path(file)
    }
}

/// Whether a controller in the same input owns the object (`ownerReferences`
/// with `controller: true`).
fn controlled(o: &K8sObject) -> bool {
    o.metadata()
        .map(|m| m.seq_at("ownerReferences"))
        .unwrap_or_default()
        .iter()
        .any(|r| r.get("controller").and_then(Node::as_bool) == Some(true))
}

/// Reads a label selector node: `matchLabels` and `matchExpressions`, or a
/// plain map (a Service's selector).
pub fn selector(node: Option<&Node>) -> Selector {
    let Some(node) = node else {
        return Selector::default();
    };
    let plain = node.get("matchLabels").is_none() && node.get("matchExpressions").is_none();
    let pairs = if plain {
        node.as_map().unwrap_or(&[])
    } else {
        node.map_at("matchLabels")
    };
    Selector {
        labels: cairn_ingest::k8s::string_pairs(pairs)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        expressions: node
            .seq_at("matchExpressions")
            .iter()
            .map(|e| Expression {
                key: e.get_str("key").unwrap_or_default().to_owned(),
                operator: e.get_str("operator").unwrap_or_default().to_owned(),
                values: e
                    .seq_at("values")
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
            })
            .collect(),
    }
}
