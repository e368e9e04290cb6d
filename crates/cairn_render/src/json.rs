//! The model as JSON: the schema documented in `docs/scan-json.md`.
//!
//! The model is serialised straight to the writer from borrowed data, so a
//! 10,000-service system never exists twice in memory.

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

use crate::Report;

#[derive(Serialize)]
struct SystemHeader<'a> {
    name: Option<&'a str>,
    environment: Option<&'a str>,
}

#[derive(Serialize)]
struct DiagnosticOut<'a> {
    severity: cairn_source::Severity,
    code: &'a str,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<u32>,
    column: Option<u32>,
    help: Option<&'a str>,
}

#[derive(Serialize)]
struct ModelOut<'a> {
    schema_version: u32,
    system: SystemHeader<'a>,
    services: &'a [cairn_model::Service],
    edges: &'a [cairn_model::Edge],
    unresolved: &'a [cairn_model::Unresolved],
    topics: &'a [cairn_model::Topic],
    datastores: &'a [cairn_model::Datastore],
    entrypoints: &'a [cairn_model::Entrypoint],
    network_policies: &'a [cairn_model::netpol::Policy],
    namespaces: &'a [cairn_model::Namespace],
    service_accounts: &'a [cairn_model::ServiceAccount],
    external_services: &'a [cairn_model::ExternalService],
    alert_rules: &'a [cairn_model::AlertRules],
    objects: &'a [cairn_model::ObjectRef],
    files: &'a [cairn_model::FileEntry],
    diagnostics: Vec<DiagnosticOut<'a>>,
}

fn model_out<'a>(r: &'a Report<'a>) -> ModelOut<'a> {
    let s = r.system;
    ModelOut {
        schema_version: cairn_model::SCHEMA_VERSION,
        system: SystemHeader {
            name: s.name.as_deref(),
            environment: s.environment.as_deref(),
        },
        services: &s.services,
        edges: &s.edges,
        unresolved: &s.unresolved,
        topics: &s.topics,
        datastores: &s.datastores,
        entrypoints: &s.entrypoints,
        network_policies: &s.network_policies.policies,
        namespaces: &s.namespaces,
        service_accounts: &s.service_accounts,
        external_services: &s.external_services,
        alert_rules: &s.alert_rules,
        objects: &s.objects,
        files: &s.files,
        diagnostics: r
            .diagnostics
            .iter()
            .map(|d| DiagnosticOut {
                severity: d.severity,
                code: d.code,
                message: &d.message,
                file: d.file.map(|f| r.sources.path(f)),
                line: d.pos.map(|p| p.line),
                column: d.pos.map(|p| p.column),
                help: d.help.as_deref(),
            })
            .collect(),
    }
}

/// Writes the full model, with diagnostics, as pretty JSON and a final newline.
/// Deterministic: the same input gives the same bytes.
pub fn write_model(r: &Report<'_>, mut w: impl Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut w, &model_out(r))?;
    w.write_all(b"\n")
}

/// The full model as a JSON value (for embedding; prefer [`write_model`] for output).
pub fn model(r: &Report<'_>) -> Value {
    serde_json::to_value(model_out(r)).unwrap_or(Value::Null)
}

/// Pretty-printed JSON text with a final newline.
pub fn to_string(v: &Value) -> String {
    let mut s =
        serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
