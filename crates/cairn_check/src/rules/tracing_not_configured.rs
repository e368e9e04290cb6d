//! An application service with no distributed tracing configured.
//!
//! A distributed trace follows a request through every service it touches,
//! but only through services that take part: each must read the incoming
//! trace context, record its span and pass the context on. One untraced
//! service in the path cuts every trace that crosses it in two, and the
//! latency it adds shows up nowhere. The rule therefore reports every
//! application service without tracing, whether or not others have it,
//! and says how many other services are traced (those are the traces it
//! breaks).
//!
//! A service counts as traced when one of its workloads (Kubernetes or
//! compose) has, in some container:
//!
//! - OpenTelemetry SDK settings (`OTEL_*`, e.g. `OTEL_EXPORTER_OTLP_ENDPOINT`,
//!   `OTEL_SERVICE_NAME`), Jaeger (`JAEGER_*`) or Zipkin (`*ZIPKIN*`)
//!   settings, a switch such as `ENABLE_TRACING=1`, a vendor agent's settings
//!   (Datadog `DD_AGENT_HOST`/`DD_SERVICE`, Elastic APM, New Relic,
//!   SkyWalking, Application Insights, Honeycomb, Lightstep), Spring
//!   `MANAGEMENT_TRACING_*`/`MANAGEMENT_ZIPKIN_*`, or a tracing agent in
//!   `JAVA_TOOL_OPTIONS`/`JAVA_OPTS`/`NODE_OPTIONS`;
//! - an OpenTelemetry Operator auto-instrumentation annotation
//!   (`instrumentation.opentelemetry.io/inject-<language>`) or the Datadog
//!   admission label on its pod template;
//! - or, for a Spring service, `management.tracing`, `management.zipkin`,
//!   `management.otlp.tracing`, `spring.zipkin` or `spring.sleuth` settings in
//!   its `application.yml`.
//!
//! Settings that turn tracing off (`OTEL_SDK_DISABLED=true`,
//! `OTEL_TRACES_EXPORTER=none`, `ENABLE_TRACING=0`, `DISABLE_TRACING=1`,
//! `…_ENABLED=false`, `-Dspring.zipkin.enabled=false` in `JAVA_OPTS`) win
//! over the others in the same container, and the finding says so.
//!
//! For a service that runs with a mesh sidecar (Istio or Linkerd, read as in
//! `mtls-not-strict`) the finding says what the sidecar does and does not
//! do; for a Spring service that imports its settings from a Spring Cloud
//! Config server (`spring.config.import: configserver:…`), it says that the
//! server may supply the tracing settings the files lack.
//!
//! ## Example
//! ```yaml
//! containers:
//!   - name: cart
//!     image: shop/cart:2.3.0
//!     env:
//!       - {name: REDIS_ADDR, value: "redis:6379"}   # and nothing about tracing
//! ```
//!
//! ## Fix
//! ```yaml
//!     env:
//!       - {name: OTEL_SERVICE_NAME, value: cart}
//!       - {name: OTEL_EXPORTER_OTLP_ENDPOINT, value: "http://otel-collector:4317"}
//! ```
//! or annotate the pod template for the OpenTelemetry Operator
//! (`instrumentation.opentelemetry.io/inject-java: "true"`).
//!
//! ## Notes
//! Tracing configured inside the image is not visible in the files. Mesh
//! sidecars (Istio, Linkerd) can emit spans for each hop, but the
//! application must still propagate the trace headers, so a mesh alone does
//! not count. Only services whose role is `app` are
//! checked, outside platform namespaces such as `kube-system` and
//! `monitoring`.
//!
//! ## References
//! - https://opentelemetry.io/docs/concepts/sdk-configuration/general-sdk-configuration/
//! - https://opentelemetry.io/docs/kubernetes/operator/automatic/
//! - https://opentelemetry.io/docs/concepts/context-propagation/
//! - https://microservices.io/patterns/observability/distributed-tracing.html

use cairn_ingest::Format;
use cairn_model::Service;

use crate::kit_mesh::{
    Anchor, Enrollment, app_services, falsy, meta_entry, pod_meta, text, workload_object,
};
use crate::prelude::*;

/// The rule.
pub static RULE: Rule = Rule {
    code: "CA801",
    name: "tracing-not-configured",
    category: Category::Observability,
    levels: levels!(off, off, info, warning, warning),
    summary: "an application service with no distributed tracing configured",
    help: "instrument the service with OpenTelemetry (set OTEL_SERVICE_NAME and OTEL_EXPORTER_OTLP_ENDPOINT, or use the OpenTelemetry Operator's injection annotation)",
    check,
};

/// What a service's configuration says about tracing.
enum Tracing {
    /// Some container is traced.
    On,
    /// Nothing in the files, but a Spring Cloud Config server supplies more settings.
    ConfigServer,
    /// Tracing is configured but turned off, by this setting.
    Off(String),
    /// Nothing.
    Absent,
}

fn check(cx: &Ctx<'_>, out: &mut Out) {
    let enrollment = Enrollment::new(cx);
    let services = app_services(cx, false);
    let states: Vec<Tracing> = services.iter().map(|s| tracing(cx, s)).collect();
    let traced = states.iter().filter(|t| matches!(t, Tracing::On)).count();
    for (s, state) in services.iter().zip(&states) {
        let meshed = s
            .workloads
            .iter()
            .filter_map(|w| workload_object(cx, w))
            .any(|i| enrollment.meshed(&cx.objects()[i]));
        let message = match state {
            Tracing::On => continue,
            Tracing::Off(setting) => format!(
                "service `{}` turns tracing off ({setting}): {}",
                s.name,
                effect(traced)
            ),
            Tracing::ConfigServer => format!(
                "service `{}` has no tracing configuration in the files (no OpenTelemetry, Jaeger, Zipkin or tracing agent settings); its Spring Cloud Config server may supply one",
                s.name
            ),
            Tracing::Absent if meshed => format!(
                "service `{}` configures no tracing of its own (no OpenTelemetry, Jaeger, Zipkin or tracing agent settings): only its mesh sidecar, if it runs one, records spans for it, and they join a trace only if the application forwards the trace headers",
                s.name
            ),
            Tracing::Absent => format!(
                "service `{}` has no tracing configuration (no OpenTelemetry, Jaeger, Zipkin or tracing agent settings): {}",
                s.name,
                effect(traced)
            ),
        };
        let Some(anchor) = Anchor::of(cx, s, false) else {
            continue;
        };
        let f = anchor.report(out, message);
        if let Tracing::Off(setting) = state {
            f.help(format!(
                "remove `{setting}` (or set it to turn tracing on) and export spans to the collector the other services use"
            ));
        }
    }
}

fn effect(traced: usize) -> String {
    match traced {
        0 => "nothing in the files sends its spans to a tracing backend".to_owned(),
        1 => "traces break at it (1 other service is traced)".to_owned(),
        n => format!("traces break at it ({n} other services are traced)"),
    }
}

fn tracing(cx: &Ctx<'_>, s: &Service) -> Tracing {
    let mut off: Option<String> = None;
    for w in &s.workloads {
        for c in &w.containers {
            let mut on = false;
            let mut container_off = None;
            for e in &c.env {
                match env_signal(&e.name, e.value.as_deref()) {
                    Some(true) => on = true,
                    Some(false) => {
                        let value = e.value.as_deref().unwrap_or_default();
                        // name the one option that turns it off, not the whole line
                        let shown = value
                            .split_whitespace()
                            .find(|t| t.starts_with("-D") && options_signal(t) == Some(false))
                            .unwrap_or(value);
                        container_off = Some(format!("{}={shown}", e.name));
                    }
                    None => {}
                }
            }
            match container_off {
                Some(setting) => off = off.or(Some(setting)),
                None if on => return Tracing::On,
                None => {}
            }
        }
        if let Some(i) = workload_object(cx, w)
            && annotated(&cx.objects()[i])
        {
            return Tracing::On;
        }
    }
    match spring_tracing(cx, s) {
        Some(true) => return Tracing::On,
        Some(false) if off.is_none() => return Tracing::ConfigServer,
        _ => {}
    }
    off.map_or(Tracing::Absent, Tracing::Off)
}

/// Environment variables whose presence configures a tracer.
const PREFIXES: &[&str] = &[
    "OTEL_",
    "JAEGER_",
    "DD_AGENT_HOST",
    "DD_TRACE_AGENT_URL",
    "DD_SERVICE",
    "ELASTIC_APM_SERVER_URL",
    "NEW_RELIC_LICENSE_KEY",
    "NEW_RELIC_APP_NAME",
    "SW_AGENT_",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "HONEYCOMB_API_KEY",
    "LIGHTSTEP_ACCESS_TOKEN",
    "MANAGEMENT_TRACING_",
    "MANAGEMENT_ZIPKIN_",
    "MANAGEMENT_OTLP_TRACING_",
    "SPRING_ZIPKIN_",
    "SPRING_SLEUTH_",
];

/// Whether an environment variable turns tracing on (`Some(true)`), off
/// (`Some(false)`), or says nothing about it.
fn env_signal(name: &str, value: Option<&str>) -> Option<bool> {
    let n = name.to_ascii_uppercase();
    let v = value.unwrap_or_default();
    let switch = |v: &str| !falsy(Some(v)) && !v.trim().is_empty();
    // explicit switches first
    match n.as_str() {
        "OTEL_SDK_DISABLED" => return (!falsy(Some(v)) && !v.is_empty()).then_some(false),
        "OTEL_TRACES_EXPORTER" => return Some(!v.trim().eq_ignore_ascii_case("none")),
        "JAEGER_DISABLED" | "DD_TRACE_DISABLED" => {
            return (!falsy(Some(v)) && !v.is_empty()).then_some(false);
        }
        _ => {}
    }
    if n.contains("DISABLE") && n.contains("TRAC") {
        return (!falsy(Some(v)) && !v.is_empty()).then_some(false);
    }
    if n.ends_with("TRACING")
        || n.contains("TRACING_ENABLED")
        || n.ends_with("TRACE_ENABLED")
        || (n.contains("TRACING") && n.starts_with("ENABLE"))
        || (n.starts_with("ELASTIC_APM") && n.ends_with("_ENABLED"))
        || (n.contains("ZIPKIN") && n.ends_with("_ENABLED"))
    {
        return Some(switch(v));
    }
    if PREFIXES.iter().any(|p| n.starts_with(p)) || n.contains("ZIPKIN") || n.contains("_JAEGER_") {
        return Some(true);
    }
    if matches!(
        n.as_str(),
        "JAVA_TOOL_OPTIONS" | "JAVA_OPTS" | "_JAVA_OPTIONS" | "NODE_OPTIONS"
    ) {
        return options_signal(v);
    }
    None
}

/// What JVM or Node options say about tracing: a tracing agent
/// (`-javaagent:…opentelemetry…`, `--require @opentelemetry/…`), or system
/// properties of Spring's and OpenTelemetry's tracing (`-Dspring.zipkin.enabled=false`).
fn options_signal(v: &str) -> Option<bool> {
    const PROPERTIES: &[&str] = &[
        "spring.zipkin.",
        "spring.sleuth.",
        "management.tracing.",
        "management.zipkin.",
        "management.otlp.tracing.",
        "otel.",
    ];
    const AGENTS: &[&str] = &[
        "opentelemetry",
        "dd-java-agent",
        "elastic-apm",
        "newrelic",
        "skywalking",
        "applicationinsights",
    ];
    let mut signal = None;
    for token in v.split_whitespace() {
        let l = token.to_ascii_lowercase();
        if let Some((key, value)) = l.strip_prefix("-d").and_then(|p| p.split_once('='))
            && PROPERTIES.iter().any(|p| key.starts_with(p))
        {
            let off = (key.ends_with(".enabled") && falsy(Some(value)))
                || (key == "otel.sdk.disabled" && !falsy(Some(value)))
                || (key == "otel.traces.exporter" && value == "none");
            if off {
                return Some(false);
            }
            signal = Some(true);
        }
        if (l.starts_with("-javaagent")
            || l.starts_with("@opentelemetry")
            || l.contains("/opentelemetry"))
            && AGENTS.iter().any(|a| l.contains(a))
        {
            signal = Some(true);
        }
    }
    signal
}

/// Whether the pod template asks an operator to inject instrumentation.
fn annotated(w: &K8sObject) -> bool {
    let meta = pod_meta(w);
    let injected = meta
        .and_then(|m| m.get("annotations"))
        .and_then(Node::as_map)
        .unwrap_or(&[])
        .iter()
        .any(|(k, v)| {
            text(k).is_some_and(|k| k.starts_with("instrumentation.opentelemetry.io/inject-"))
                && !falsy(text(v))
        });
    injected
        || meta_entry(meta, "labels", "admission.datadoghq.com/enabled").and_then(|(_, v)| text(v))
            == Some("true")
}

/// Whether a Spring `application.yml` of the service configures tracing
/// (`Some(true)`), or imports its settings from a Spring Cloud Config server,
/// which may (`Some(false)`).
fn spring_tracing(cx: &Ctx<'_>, s: &Service) -> Option<bool> {
    const KEYS: &[&str] = &[
        "management.tracing",
        "management.zipkin",
        "management.otlp.tracing",
        "spring.zipkin",
        "spring.sleuth",
    ];
    let mut config_server = false;
    for doc in cx
        .ingest
        .app_configs
        .iter()
        .filter(|a| a.format == Format::SpringConfig)
        .filter(|a| {
            a.app_name
                .as_deref()
                .is_some_and(|n| n == s.name || s.aliases.iter().any(|x| x == n))
        })
        .flat_map(|a| a.documents.iter())
    {
        let mut found = false;
        walk(doc, "", &mut |path, value| {
            if KEYS
                .iter()
                .any(|k| path == *k || path.starts_with(&format!("{k}.")))
            {
                let switch = path.ends_with(".enabled");
                if !switch || !falsy(text(value)) {
                    found = true;
                }
            }
            if (path == "spring.config.import"
                && text(value).is_some_and(|v| v.contains("configserver")))
                || path.starts_with("spring.cloud.config.uri")
            {
                config_server = true;
            }
        });
        if found {
            return Some(true);
        }
    }
    config_server.then_some(false)
}

/// Calls `f` with the dotted path of every scalar of a mapping tree.
fn walk(node: &Node, prefix: &str, f: &mut impl FnMut(&str, &Node)) {
    match node.as_map() {
        Some(entries) => {
            for (k, v) in entries {
                let Some(k) = text(k) else { continue };
                let path = if prefix.is_empty() {
                    k.to_owned()
                } else {
                    format!("{prefix}.{k}")
                };
                walk(v, &path, f);
            }
        }
        None => f(prefix, node),
    }
}
