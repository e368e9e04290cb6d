//! The human summary of `cairn scan`.

use std::fmt::Write;

use cairn_model::{EdgeKind, Role};
use cairn_source::Severity;

use crate::Report;

/// The summary: counts, services by role, dependencies, datastores, unresolved addresses, diagnostics.
pub fn summary(r: &Report<'_>) -> String {
    let s = r.system;
    let mut out = String::new();
    let title = s.name.as_deref().unwrap_or("system");
    let env = s
        .environment
        .as_deref()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{title}{env}: {} services, {} dependencies, {} datastores/brokers, {} objects in {} files",
        s.services.len(),
        s.edges.len(),
        s.datastores.len(),
        s.objects.len(),
        s.files.len()
    );
    let _ = writeln!(out, "\nservices");
    let width = s
        .services
        .iter()
        .map(|x| x.name.len())
        .max()
        .unwrap_or(0)
        .min(40);
    for svc in &s.services {
        let mut notes: Vec<String> = Vec::new();
        let replicas: Vec<String> = svc
            .workloads
            .iter()
            .map(|w| {
                format!(
                    "{} {}",
                    w.kind,
                    w.replicas.map_or_else(|| "1".to_owned(), |r| r.to_string())
                )
            })
            .collect();
        if !replicas.is_empty() {
            notes.push(replicas.join(", "));
        }
        if let Some(o) = svc.owner.as_ref().or(svc.owner_label.as_ref()) {
            notes.push(format!("owner {o}"));
        }
        if let Some(by) = &svc.implied {
            notes.push(format!("implied ({by}); its pods are not in the files"));
        }
        if !svc.aliases.is_empty() {
            notes.push(format!("aka {}", svc.aliases.join(", ")));
        }
        let _ = writeln!(
            out,
            "  {:width$}  {:13} {}",
            svc.name,
            svc.role.as_str(),
            notes.join("; ")
        );
    }
    if !s.edges.is_empty() {
        let _ = writeln!(out, "\ndependencies");
        for e in &s.edges {
            let arrow = match e.kind {
                EdgeKind::Sync | EdgeKind::Datastore => "->",
                EdgeKind::AsyncPublish => "=>",
                EdgeKind::AsyncConsume => "<=",
                EdgeKind::Async => "<>",
            };
            let at = e
                .evidence
                .first()
                .map(|ev| format!("{}:{}", ev.file, ev.line))
                .unwrap_or_default();
            let topics = if e.topics.is_empty() {
                String::new()
            } else {
                format!(" [{}]", e.topics.join(", "))
            };
            let obs = match (e.observability, e.origin) {
                (true, _) => " (telemetry)",
                (false, cairn_model::Origin::Stated) => " (stated only)",
                _ => "",
            };
            let _ = writeln!(
                out,
                "  {:width$} {arrow} {:width$}  {:13} {:9}{topics}{obs}  {at}",
                e.from,
                e.to,
                e.kind.as_str(),
                e.protocol
            );
        }
    }
    let stores: Vec<_> = s.datastores.iter().collect();
    if !stores.is_empty() {
        let _ = writeln!(out, "\ndatastores and brokers");
        for d in stores {
            let role = s.service(&d.name).map_or(Role::Datastore, |x| x.role);
            let _ = writeln!(
                out,
                "  {:width$}  {:13} {:10} used by {}",
                d.name,
                role.as_str(),
                d.engine,
                if d.users.is_empty() {
                    "nobody".to_owned()
                } else {
                    d.users.join(", ")
                }
            );
        }
    }
    if !s.entrypoints.is_empty() {
        let _ = writeln!(out, "\nentry points");
        for e in &s.entrypoints {
            let route = format!(
                "{}{}",
                e.host.as_deref().unwrap_or("*"),
                e.path.as_deref().unwrap_or("")
            );
            let at = format!("{}:{}", e.evidence.file, e.evidence.line);
            let unknown = if e.resolved { "" } else { " (no such service)" };
            let _ = writeln!(out, "  {route} -> {}{unknown}  via {}  {at}", e.to, e.via);
        }
    }
    if !s.unresolved.is_empty() {
        let _ = writeln!(out, "\naddresses that name no service");
        for u in &s.unresolved {
            let at = u
                .evidence
                .first()
                .map(|ev| format!("{}:{}", ev.file, ev.line))
                .unwrap_or_default();
            let kind = if u.external { "external" } else { "unknown" };
            let _ = writeln!(out, "  {:width$} -> {} ({kind})  {at}", u.from, u.host);
        }
    }
    let errors = r
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = r
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    let shown: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .collect();
    if !shown.is_empty() {
        let _ = writeln!(out, "\ndiagnostics");
        for d in shown {
            out.push_str(&crate::diagnostic::render(d, r.sources));
        }
    }
    let infos = r.diagnostics.len() - errors - warnings;
    let _ = writeln!(
        out,
        "\n{errors} errors, {warnings} warnings, {infos} notes (--format json lists them all)"
    );
    out
}
