//! An application service whose metrics nothing collects.
//!
//! Alerts, dashboards, autoscaling on custom metrics and SLOs all start from
//! metrics. A service no scraper reads (and that pushes none) is invisible:
//! its error rate and latency are unknown until users report them. The
//! rule reports an application service when none of these collects it:
//!
//! - a Prometheus-operator `ServiceMonitor` whose selector matches the labels
//!   of one of its Services, or a `PodMonitor` (or a VictoriaMetrics
//!   `VMServiceScrape`/`VMPodScrape`, a Google Managed Prometheus
//!   `PodMonitoring`/`ClusterPodMonitoring`) whose selector matches its pod
//!   labels, in a namespace its `namespaceSelector` allows (its own
//!   namespace when it has none);
//! - the annotation `prometheus.io/scrape: "true"` on its pod template or
//!   Service (the convention Prometheus' Kubernetes service discovery
//!   examples keep);
//! - a `static_configs` target of a Prometheus configuration (a file, or a
//!   file in a ConfigMap) that names it (`cart:8080`), or an endpoint of a
//!   receiver in a metrics pipeline of an OpenTelemetry Collector
//!   configuration in a ConfigMap (`nginx: {endpoint: http://images:8081}`);
//! - a push exporter in its environment: OpenTelemetry OTLP
//!   (`OTEL_EXPORTER_OTLP_ENDPOINT` or `…_METRICS_ENDPOINT`, unless
//!   `OTEL_METRICS_EXPORTER=none`), a Spring Micrometer registry
//!   (`MANAGEMENT_METRICS_EXPORT_*`, `MANAGEMENT_<REGISTRY>_METRICS_EXPORT_*`),
//!   an `ENABLE_METRICS=true` switch, or an OpenLLMetry `TRACELOOP_BASE_URL`;
//! - a mesh sidecar (Istio or Linkerd, read as in `mtls-not-strict`): Istio's
//!   injector adds the `prometheus.io` scrape annotations for the sidecar's
//!   merged metrics, and Linkerd's proxies are scraped by its viz extension,
//!   so the service's request rate, errors and latency are collected.
//!
//! ## Example
//! ```yaml
//! apiVersion: v1
//! kind: Service
//! metadata:
//!   name: cart
//!   labels: {app: cart}
//! # ... and no ServiceMonitor selects app=cart, no prometheus.io/scrape annotation
//! ```
//!
//! ## Fix
//! ```yaml
//! apiVersion: monitoring.coreos.com/v1
//! kind: ServiceMonitor
//! metadata:
//!   name: cart
//! spec:
//!   selector:
//!     matchLabels: {app: cart}
//!   endpoints:
//!     - port: metrics
//! ```
//!
//! ## Notes
//! A scraper configured outside the files (a Prometheus whose configuration is
//! not scanned, an agent on the nodes) is not seen. A `prometheus.io/scrape`
//! annotation only works when the Prometheus configuration keeps those
//! targets; the rule trusts the convention. Only services whose role is
//! `app` are checked, outside platform namespaces such as `kube-system`.
//!
//! ## References
//! - https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.ServiceMonitor
//! - https://prometheus.io/docs/prometheus/latest/configuration/configuration/#kubernetes_sd_config
//! - https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#exporter-selection

use cairn_ingest::Format;
use cairn_model::Service;
use cairn_model::netpol::Selector;

use crate::kit_mesh::{
    Anchor, Enrollment, app_services, falsy, service_objects, text, workload_object,
};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA802",
    name: "metrics-not-scraped",
    category: Category::Observability,
    levels: levels!(off, off, info, warning, warning),
    summary: "an application service whose metrics nothing collects",
    help: "add a ServiceMonitor or PodMonitor that selects the service (or the `prometheus.io/scrape: \"true\"` annotation), or export metrics over OTLP",
    check,
};

/// A scrape object: what it selects, and in which namespaces.
struct Scraper<'a> {
    selector: Selector,
    /// `None`: any namespace; otherwise these (the object's own by default).
    namespaces: Option<Vec<&'a str>>,
    /// Selects Services (else pods).
    services: bool,
}

impl Scraper<'_> {
    fn covers(&self, ns: Option<&str>, labels: &[(String, String)]) -> bool {
        let in_ns = match &self.namespaces {
            None => true,
            Some(list) => ns.is_none() || list.is_empty() || list.iter().any(|n| Some(*n) == ns),
        };
        in_ns && self.selector.matches(labels)
    }
}

fn scrapers<'a>(cx: &Ctx<'a>) -> Vec<Scraper<'a>> {
    const KINDS: &[(&str, &str, bool)] = &[
        ("ServiceMonitor", "monitoring.coreos.com", true),
        ("PodMonitor", "monitoring.coreos.com", false),
        ("VMServiceScrape", "operator.victoriametrics.com", true),
        ("VMPodScrape", "operator.victoriametrics.com", false),
        ("PodMonitoring", "monitoring.googleapis.com", false),
        ("ClusterPodMonitoring", "monitoring.googleapis.com", false),
    ];
    let mut out = Vec::new();
    for (kind, group, services) in KINDS {
        for (_, o) in cx
            .of_kind(kind)
            .filter(|(_, o)| o.group().starts_with(group))
        {
            let Some(spec) = o.spec() else { continue };
            let selector = crate::ctx::selector(spec.get("selector"));
            let ns_sel = spec.get("namespaceSelector");
            let namespaces = if *kind == "ClusterPodMonitoring"
                || ns_sel.and_then(|n| n.get("any")).and_then(Node::as_bool) == Some(true)
            {
                None
            } else {
                let names: Vec<&str> = ns_sel
                    .map(|n| n.seq_at("matchNames"))
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::as_str)
                    .collect();
                Some(if names.is_empty() {
                    o.namespace.as_deref().into_iter().collect()
                } else {
                    names
                })
            };
            out.push(Scraper {
                selector,
                namespaces,
                services: *services,
            });
        }
    }
    out
}

/// Hosts (first DNS label, lower case) that a scraper in the input reads:
/// `static_configs` targets of Prometheus configurations (files, or files in
/// ConfigMaps), and the endpoints of the receivers an OpenTelemetry Collector
/// configuration (in a ConfigMap) uses in a metrics pipeline.
fn scraped_hosts(cx: &Ctx<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let files = cx
        .ingest
        .app_configs
        .iter()
        .filter(|a| a.format == Format::PrometheusConfig)
        .flat_map(|a| a.documents.iter());
    let embedded = cx
        .of_kind("ConfigMap")
        .flat_map(|(_, o)| o.embedded.iter())
        .flat_map(|e| e.documents.iter());
    for doc in files.chain(embedded) {
        for sc in doc.seq_at("scrape_configs") {
            for st in sc.seq_at("static_configs") {
                for t in st.seq_at("targets").iter().filter_map(Node::as_str) {
                    out.extend(host_of(t));
                }
            }
        }
        collector_hosts(doc, &mut out);
    }
    out
}

/// The endpoints of an OpenTelemetry Collector's metrics receivers.
fn collector_hosts(doc: &Node, out: &mut Vec<String>) {
    let Some(receivers) = doc.get("receivers").and_then(Node::as_map) else {
        return;
    };
    let Some(pipelines) = doc.path(&["service", "pipelines"]).and_then(Node::as_map) else {
        return;
    };
    let used: Vec<&str> = pipelines
        .iter()
        .filter(|(k, _)| text(k).is_some_and(|k| k == "metrics" || k.starts_with("metrics/")))
        .flat_map(|(_, p)| p.seq_at("receivers"))
        .filter_map(Node::as_str)
        .collect();
    for (k, v) in receivers {
        let Some(name) = text(k) else { continue };
        // an availability check reads no metrics of the service
        if !used.contains(&name) || name.starts_with("httpcheck") {
            continue;
        }
        let mut stack = vec![v];
        while let Some(n) = stack.pop() {
            match (n.as_map(), n.as_seq(), n.as_str()) {
                (Some(m), ..) => stack.extend(m.iter().map(|(_, v)| v)),
                (_, Some(items), _) => stack.extend(items),
                (.., Some(t)) => out.extend(host_of(t)),
                _ => {}
            }
        }
    }
}

/// The host of `host:port`, `scheme://host:port/path`, or a plain host;
/// None for placeholders and loopback addresses.
fn host_of(target: &str) -> Option<String> {
    let t = target.split_once("://").map_or(target, |(_, rest)| rest);
    let host = t.split(['/', ':']).next().unwrap_or(t);
    let first = host.split('.').next().unwrap_or(host).to_ascii_lowercase();
    let placeholder = host.contains('$') || host.contains('{');
    (!first.is_empty() && !placeholder && !matches!(first.as_str(), "localhost" | "127" | "0"))
        .then_some(first)
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let scrapers = scrapers(cx);
    let targets = scraped_hosts(cx);
    let enrollment = Enrollment::new(cx);
    for s in app_services(cx, false) {
        let meshed = s
            .workloads
            .iter()
            .filter_map(|w| workload_object(cx, w))
            .any(|i| enrollment.meshed(&cx.objects()[i]));
        if meshed || collected(cx, s, &scrapers, &targets) {
            continue;
        }
        let Some(anchor) = Anchor::of(cx, s, false) else {
            continue;
        };
        anchor.report(
            out,
            format!(
                "no ServiceMonitor, PodMonitor, `prometheus.io/scrape: \"true\"` annotation, Prometheus scrape target or OTLP metrics export covers service `{}`: its metrics are not collected",
                s.name
            ),
        );
    }
}

fn collected(cx: &Ctx<'_>, s: &Service, scrapers: &[Scraper<'_>], targets: &[String]) -> bool {
    let objects = service_objects(cx, s);
    // the scrape annotation, on the pod template or the Service
    let annotated = objects.iter().any(|o| {
        let meta = if o.kind == "Service" {
            o.metadata()
        } else {
            o.pod_template().and_then(|t| t.get("metadata"))
        };
        crate::kit_mesh::meta_entry(meta, "annotations", "prometheus.io/scrape")
            .and_then(|(_, v)| text(v))
            == Some("true")
    });
    if annotated {
        return true;
    }
    for o in &objects {
        let ns = o.namespace.as_deref();
        let service = o.kind == "Service";
        let labels: Vec<(String, String)> = if service { o.labels() } else { o.pod_labels() }
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let covered = scrapers
            .iter()
            .any(|sc| sc.services == service && sc.covers(ns, &labels));
        if covered {
            return true;
        }
    }
    let names: Vec<String> = std::iter::once(&s.name)
        .chain(&s.aliases)
        .map(|n| n.to_ascii_lowercase())
        .collect();
    if targets.iter().any(|t| names.contains(t)) {
        return true;
    }
    s.workloads
        .iter()
        .any(|w| w.containers.iter().any(|c| pushes(&c.env)))
}

/// Whether a container's environment configures a metrics push exporter.
fn pushes(env: &[cairn_model::EnvVar]) -> bool {
    let get = |name: &str| {
        env.iter()
            .find(|e| e.name == name)
            .map(|e| e.value.as_deref().unwrap_or_default())
    };
    let otlp = (get("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT").is_some())
        && get("OTEL_METRICS_EXPORTER")
            .is_none_or(|v| !v.trim().eq_ignore_ascii_case("none") && !v.contains("prometheus"))
        && get("OTEL_SDK_DISABLED").is_none_or(|v| falsy(Some(v)) || v.is_empty());
    let micrometer = env.iter().any(|e| {
        let n = e.name.to_ascii_uppercase();
        (n.starts_with("MANAGEMENT_METRICS_EXPORT_")
            || (n.starts_with("MANAGEMENT_") && n.contains("_METRICS_EXPORT_")))
            && !(n.ends_with("_ENABLED") && falsy(e.value.as_deref()))
    });
    // a service that exports its own metrics (bank-of-anthos' ENABLE_METRICS,
    // an OpenLLMetry SDK pointed at a collector)
    let own = ["ENABLE_METRICS", "METRICS_ENABLED"]
        .iter()
        .any(|n| get(n).is_some_and(|v| !v.trim().is_empty() && !falsy(Some(v))))
        || get("TRACELOOP_BASE_URL").is_some();
    otlp || micrometer || own
}
