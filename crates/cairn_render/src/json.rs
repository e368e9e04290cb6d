//! The model as JSON: the schema documented in `docs/scan-json.md`.

use serde_json::{Value, json};

use crate::Report;

/// The full model, with diagnostics, as a JSON value. Deterministic: the
/// same input gives the same output, key order included.
pub fn model(r: &Report<'_>) -> Value {
    let s = r.system;
    let diagnostics: Vec<Value> = r
        .diagnostics
        .iter()
        .map(|d| {
            json!({
                "severity": d.severity,
                "code": d.code,
                "message": d.message,
                "file": d.file.map(|f| r.sources.path(f)),
                "line": d.pos.map(|p| p.line),
                "column": d.pos.map(|p| p.column),
                "help": d.help,
            })
        })
        .collect();
    json!({
        "schema_version": cairn_model::SCHEMA_VERSION,
        "system": {"name": s.name, "environment": s.environment},
        "services": s.services,
        "edges": s.edges,
        "unresolved": s.unresolved,
        "topics": s.topics,
        "datastores": s.datastores,
        "entrypoints": s.entrypoints,
        "network_policies": s.network_policies.policies,
        "objects": s.objects,
        "files": s.files,
        "diagnostics": diagnostics,
    })
}

/// Pretty-printed JSON text with a final newline.
pub fn to_string(v: &Value) -> String {
    let mut s =
        serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
