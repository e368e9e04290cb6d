//! Writing a comparison for people and for CI: text, JSON, SARIF 2.1.0,
//! Markdown, GitHub workflow annotations and JUnit XML.
//!
//! Every format carries the same facts: id, level, text, operation, path
//! and the source position. The JSON shape is documented in
//! `docs/diff-json.md`.

use std::fmt::Write as _;

use cairn_source::{Diagnostic, Loc, SourceMap};
use serde_json::{Value, json};

use crate::{Change, Level};

/// A comparison to write.
pub struct Report<'a> {
    /// The changes, sorted.
    pub changes: &'a [Change],
    /// Problems with the input.
    pub diagnostics: &'a [Diagnostic],
    /// The files, for paths and excerpts.
    pub sources: &'a SourceMap,
}

impl Report<'_> {
    fn place(&self, loc: Option<Loc>) -> Option<(&str, u32, u32)> {
        let loc = loc?;
        let f = self.sources.get(loc.file)?;
        Some((&*f.path, loc.pos.line, loc.pos.column))
    }

    fn count(&self, level: Level) -> usize {
        self.changes.iter().filter(|c| c.level == level).count()
    }

    fn summary(&self) -> String {
        format!(
            "{} changes: {} error, {} warning, {} info",
            self.changes.len(),
            self.count(Level::Err),
            self.count(Level::Warn),
            self.count(Level::Info)
        )
    }
}

fn level_word(l: Level) -> &'static str {
    match l {
        Level::Err => "error",
        Level::Warn => "warning",
        Level::Info => "info",
    }
}

/// What to do about a breaking change, by the family of its id.
pub fn help(id: &str) -> Option<&'static str> {
    let has = |w: &str| id.contains(w);
    let hint = if id.starts_with("FIELD_NO_DELETE") || id.starts_with("ENUM_VALUE_NO_DELETE") {
        "deprecate it instead of deleting it; once no client uses it, delete it and reserve its number and name"
    } else if id.ends_with("_SAME_TYPE")
        || id.ends_with("_SAME_CARDINALITY")
        || id.ends_with("_SAME_LABEL")
    {
        "add a new field with a new number and deprecate the old one"
    } else if id.ends_with("_NO_DELETE") {
        "deprecate it first and delete it in a new major version (a new package)"
    } else if id.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
        "keep the old wire and JSON form; make the change in a new package version"
    } else if has("sunset") || has("stability") {
        "give clients the notice your policy promises: a sunset date far enough ahead, and removal only after it"
    } else if id.starts_with("new-required")
        || has("became-required")
        || id == "request-body-added-required"
    {
        "add it as optional (or with a server-side default) so existing clients keep working; require it in a new API version"
    } else if has("removed-without-deprecation")
        || has("removed-before-sunset")
        || id == "request-body-removed"
        || id == "webhook-removed"
    {
        "deprecate it first (`deprecated: true` with an `x-sunset` date) and remove it after the sunset date"
    } else if id.starts_with("response")
        && (has("became-optional")
            || has("became-nullable")
            || has("property-removed")
            || has("status-removed")
            || has("header-removed"))
    {
        "keep returning it as before; clients read it. Change the response in a new API version"
    } else if id.starts_with("sent")
        && (has("became-optional") || has("became-nullable") || has("property-removed"))
    {
        "keep sending it as before; consumers read it. Publish the new shape as a new message or channel version"
    } else if has("type") {
        "add a new field or parameter with the new type and deprecate the old one"
    } else if id.starts_with("request") || id.starts_with("received") {
        "accept everything the previous version accepted; tighten validation in a new API version"
    } else if id.starts_with("response") || id.starts_with("sent") {
        "return only what the previous version could return; widen it in a new API version"
    } else if has("removed") {
        "deprecate it first and remove it in a new API version"
    } else {
        return None;
    };
    Some(hint)
}

/// Longest source line shown under a change.
const MAX_SHOWN_LINE: usize = 300;

/// The line of `text` that holds byte `at`, without its line break, when it
/// is at most [`MAX_SHOWN_LINE`] bytes long. Found from the byte offset, by
/// looking no further than that length either side: a specification on one
/// line (minified JSON, several MB) with thousands of changes is not
/// scanned from its start for each one.
fn short_line_at(text: &str, at: usize) -> Option<&str> {
    let bytes = text.as_bytes();
    let at = at.min(bytes.len());
    let lo = at.saturating_sub(MAX_SHOWN_LINE + 1);
    let start = match bytes[lo..at].iter().rposition(|b| *b == b'\n') {
        Some(i) => lo + i + 1,
        None if lo == 0 => 0,
        None => return None,
    };
    let hi = (start + MAX_SHOWN_LINE + 1).min(bytes.len());
    let end = match bytes[at.max(start)..hi].iter().position(|b| *b == b'\n') {
        Some(i) => at.max(start) + i,
        None if hi == bytes.len() => hi,
        None => return None,
    };
    let line = text.get(start..end)?.trim_end_matches('\r');
    (line.len() <= MAX_SHOWN_LINE).then_some(line)
}

/// Text for a terminal: one block per change, with the source line.
pub fn text(r: &Report<'_>, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    };
    let mut out = String::new();
    for c in r.changes {
        let lvl = match c.level {
            Level::Err => paint("1;31", "error"),
            Level::Warn => paint("1;33", "warning"),
            Level::Info => paint("1;36", "info"),
        };
        let _ = writeln!(out, "{lvl}[{}]: {}", c.id, c.text);
        if let (Some(op), Some(path)) = (&c.operation, &c.path) {
            let _ = writeln!(out, "  in {op} {path}");
        } else if let Some(path) = &c.path {
            let _ = writeln!(out, "  in {path}");
        }
        if let Some((file, line, col)) = r.place(c.loc) {
            let _ = writeln!(out, "  --> {file}:{line}:{col}");
            if let Some(src) = c.loc.and_then(|l| {
                let text = r.sources.get(l.file)?.text.as_deref()?;
                short_line_at(text, l.pos.start as usize)
            }) {
                let width = line.to_string().len();
                let _ = writeln!(out, "{:width$} |", "");
                let _ = writeln!(out, "{line} | {}", src.trim_end());
                let pad: String = src
                    .chars()
                    .take(col.saturating_sub(1) as usize)
                    .map(|ch| if ch == '\t' { '\t' } else { ' ' })
                    .collect();
                let _ = writeln!(out, "{:width$} | {pad}{}", "", paint("1;31", "^"));
            }
        }
        if c.level == Level::Err
            && let Some(h) = help(c.id)
        {
            let _ = writeln!(out, "  = help: {h}");
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", r.summary());
    out
}

/// The JSON form: `{"changes": [...], "diagnostics": [...], "summary": {...}}`.
pub fn json(r: &Report<'_>) -> Value {
    let changes: Vec<Value> = r
        .changes
        .iter()
        .map(|c| {
            let source = r
                .place(c.loc)
                .map(|(file, line, column)| json!({"file": file, "line": line, "column": column}));
            json!({
                "id": c.id,
                "level": c.level.as_str(),
                "text": c.text,
                "operation": c.operation,
                "path": c.path,
                "source": source,
            })
        })
        .collect();
    let diagnostics: Vec<Value> = r
        .diagnostics
        .iter()
        .map(|d| {
            let file = d
                .file
                .and_then(|f| r.sources.get(f))
                .map(|f| f.path.to_string());
            json!({
                "severity": d.severity.as_str(),
                "code": d.code,
                "message": d.message,
                "file": file,
                "line": d.pos.map(|p| p.line),
                "column": d.pos.map(|p| p.column),
                "help": d.help,
            })
        })
        .collect();
    json!({
        "changes": changes,
        "diagnostics": diagnostics,
        "summary": {
            "total": r.changes.len(),
            "ERR": r.count(Level::Err),
            "WARN": r.count(Level::Warn),
            "INFO": r.count(Level::Info),
        },
    })
}

fn sarif_level(l: Level) -> &'static str {
    match l {
        Level::Err => "error",
        Level::Warn => "warning",
        Level::Info => "note",
    }
}

fn uri(path: &str) -> String {
    let p = path.strip_prefix("./").unwrap_or(path);
    p.replace('\\', "/").replace(' ', "%20")
}

/// SARIF 2.1.0: one rule per id reported, one result per change.
pub fn sarif(r: &Report<'_>) -> Value {
    let mut ids: Vec<&str> = r.changes.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    ids.dedup();
    let rules: Vec<Value> = ids
        .iter()
        .map(|id| {
            let level = crate::openapi::ids::level(id).map_or("note", sarif_level);
            json!({
                "id": id,
                "name": id,
                "shortDescription": {"text": id.replace('-', " ")},
                "defaultConfiguration": {"level": level},
            })
        })
        .collect();
    let results: Vec<Value> = r
        .changes
        .iter()
        .map(|c| {
            let mut loc = json!({});
            if let Some((file, line, col)) = r.place(c.loc) {
                let mut phys = json!({"artifactLocation": {"uri": uri(file)}});
                if line > 0 {
                    phys["region"] = json!({"startLine": line, "startColumn": col.max(1)});
                }
                loc["physicalLocation"] = phys;
            }
            if let (Some(op), Some(path)) = (&c.operation, &c.path) {
                loc["logicalLocations"] =
                    json!([{"fullyQualifiedName": format!("{op} {path}"), "kind": "function"}]);
            } else if let Some(path) = &c.path {
                loc["logicalLocations"] = json!([{"fullyQualifiedName": path, "kind": "member"}]);
            }
            json!({
                "ruleId": c.id,
                "ruleIndex": ids.iter().position(|i| *i == c.id),
                "level": sarif_level(c.level),
                "message": {"text": c.text},
                "locations": [loc],
            })
        })
        .collect();
    let notifications: Vec<Value> = r
        .diagnostics
        .iter()
        .map(|d| {
            let mut n = json!({
                "level": match d.severity {
                    cairn_source::Severity::Error => "error",
                    cairn_source::Severity::Warning => "warning",
                    cairn_source::Severity::Info => "note",
                },
                "message": {"text": d.message},
                "descriptor": {"id": d.code},
            });
            if let Some(f) = d.file.and_then(|f| r.sources.get(f)) {
                let mut phys = json!({"artifactLocation": {"uri": uri(&f.path)}});
                if let Some(p) = d.pos.filter(|p| p.line > 0) {
                    phys["region"] = json!({"startLine": p.line, "startColumn": p.column.max(1)});
                }
                n["locations"] = json!([{"physicalLocation": phys}]);
            }
            n
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cairn",
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    })
}

/// A Markdown summary for a pull-request comment.
pub fn markdown(r: &Report<'_>) -> String {
    let mut out = String::from("## API changes\n\n");
    if r.changes.is_empty() {
        out.push_str("No changes.\n");
        return out;
    }
    let _ = writeln!(out, "{}\n", r.summary());
    out.push_str("| Level | Id | Operation | Change | Where |\n|---|---|---|---|---|\n");
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    for c in r.changes {
        let op = match (&c.operation, &c.path) {
            (Some(o), Some(p)) => format!("`{o} {p}`"),
            (None, Some(p)) => format!("`{p}`"),
            _ => String::new(),
        };
        let at = r
            .place(c.loc)
            .map(|(f, l, col)| format!("`{f}:{l}:{col}`"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} |",
            c.level.as_str(),
            c.id,
            cell(&op),
            cell(&c.text),
            at
        );
    }
    out
}

/// GitHub Actions workflow commands: one annotation per change.
pub fn github(r: &Report<'_>) -> String {
    let esc = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let prop = |s: &str| esc(s).replace(':', "%3A").replace(',', "%2C");
    let mut out = String::new();
    for c in r.changes {
        let kind = match c.level {
            Level::Err => "error",
            Level::Warn => "warning",
            Level::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some((file, line, col)) = r.place(c.loc) {
            props.push(format!("file={}", prop(file)));
            props.push(format!("line={line}"));
            props.push(format!("col={col}"));
        }
        props.push(format!("title={}", prop(c.id)));
        let _ = writeln!(out, "::{kind} {}::{}", props.join(","), esc(&c.text));
    }
    out
}

/// JUnit XML: one test case per change; ERR and WARN changes are failures.
pub fn junit(r: &Report<'_>) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let failures = r.changes.iter().filter(|c| c.level != Level::Info).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"cairn diff\" tests=\"{}\" failures=\"{failures}\">",
        r.changes.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"api-changes\" tests=\"{}\" failures=\"{failures}\">",
        r.changes.len()
    );
    for c in r.changes {
        let name = match (&c.operation, &c.path) {
            (Some(o), Some(p)) => format!("{} {o} {p}", c.id),
            (None, Some(p)) => format!("{} {p}", c.id),
            _ => c.id.to_owned(),
        };
        let at = r
            .place(c.loc)
            .map(|(f, l, col)| format!("{f}:{l}:{col}"))
            .unwrap_or_default();
        if c.level == Level::Info {
            let _ = writeln!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\"/>",
                esc(&name),
                c.id
            );
        } else {
            let _ = writeln!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\">",
                esc(&name),
                c.id
            );
            let _ = writeln!(
                out,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                level_word(c.level),
                esc(&c.text),
                esc(&at)
            );
            out.push_str("    </testcase>\n");
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::short_line_at;

    #[test]
    fn the_line_under_a_change_is_found_from_its_offset_and_long_lines_are_not_shown() {
        let text = "a: 1\nbb: 2\r\nccc: 3";
        assert_eq!(short_line_at(text, 0), Some("a: 1"));
        assert_eq!(short_line_at(text, 5), Some("bb: 2"));
        assert_eq!(short_line_at(text, 9), Some("bb: 2"));
        assert_eq!(short_line_at(text, 14), Some("ccc: 3"));
        // A minified specification: one line of several MB is not shown (and
        // not scanned from its start for every change).
        let one_line = format!("{{\"openapi\":\"3.0.0\",{}}}", "\"x\":1,".repeat(100_000));
        assert_eq!(short_line_at(&one_line, 300_000), None);
        let long_last = format!("a: 1\n{}", "b".repeat(400));
        assert_eq!(short_line_at(&long_last, 2), Some("a: 1"));
        assert_eq!(short_line_at(&long_last, 200), None);
    }
}
