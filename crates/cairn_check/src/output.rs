//! The output formats of `cairn check`: human, JSON, SARIF 2.1.0, JUnit XML,
//! GitHub workflow annotations and a Markdown summary.

use std::fmt::Write;

use cairn_source::{Diagnostic, Pos, Severity, SourceMap};
use serde_json::{Value, json};

use crate::{Finding, Outcome, Profile, Rule};

/// Where the rule documentation lives; SARIF `helpUri`s and Markdown links point here.
pub const DOCS_URL: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/rules/");

/// Everything an output needs.
pub struct Report<'a> {
    /// The check result.
    pub outcome: &'a Outcome,
    /// Problems reading the input (shown beside the findings).
    pub scan: &'a [Diagnostic],
    /// The files, for paths and excerpts.
    pub sources: &'a SourceMap,
    /// The profile the check ran for.
    pub profile: Profile,
}

impl Report<'_> {
    fn path(&self, f: &Finding) -> Option<&str> {
        f.file.map(|id| self.sources.path(id))
    }

    fn counts(&self) -> (usize, usize, usize) {
        let n = |s| {
            self.outcome
                .findings
                .iter()
                .filter(|f| f.severity == s)
                .count()
        };
        (n(Severity::Error), n(Severity::Warning), n(Severity::Info))
    }
}

/// The link to a rule's documentation.
pub fn rule_url(rule: &Rule) -> String {
    format!("{DOCS_URL}{}.md", rule.name)
}

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn severity(&self, s: Severity) -> String {
        match s {
            Severity::Error => self.paint("1;31", "error"),
            Severity::Warning => self.paint("1;33", "warning"),
            Severity::Info => self.paint("1;36", "info"),
        }
    }
}

/// Excerpt lines: the source line with the value underlined.
/// Where each line of each file starts, built on first use: findings come
/// by the hundred thousand on large inputs, and counting lines from the top
/// of a 20,000-line file for each would be quadratic.
#[derive(Default)]
struct Lines {
    starts: std::collections::HashMap<cairn_source::FileId, Vec<usize>>,
}

impl Lines {
    fn line<'t>(&mut self, id: cairn_source::FileId, text: &'t str, line: u32) -> Option<&'t str> {
        let starts = self.starts.entry(id).or_insert_with(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let i = line.checked_sub(1)? as usize;
        let start = *starts.get(i)?;
        let end = starts.get(i + 1).map_or(text.len(), |e| e - 1);
        text.get(start..end)
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
    }
}

fn excerpt(
    out: &mut String,
    sources: &SourceMap,
    lines: &mut Lines,
    file: Option<cairn_source::FileId>,
    pos: Option<Pos>,
    style: &Style,
) {
    let (Some(id), Some(p)) = (file, pos) else {
        return;
    };
    let Some(f) = sources.get(id) else { return };
    let Some(line) = f
        .text
        .as_deref()
        .and_then(|t| lines.line(id, t, p.line))
        .filter(|l| l.len() <= 400)
    else {
        return;
    };
    let width = p.line.to_string().len();
    let bar = style.paint("1;34", "|");
    let _ = writeln!(out, "{:width$} {bar}", "");
    let _ = writeln!(
        out,
        "{} {bar} {}",
        style.paint("1;34", &p.line.to_string()),
        line.trim_end()
    );
    let col = p.column.saturating_sub(1) as usize;
    let prefix: String = line
        .chars()
        .take(col)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let rest: String = line.chars().skip(col).collect();
    let rest = rest.trim_end();
    let span = if p.end > p.start {
        let text = f.text.as_deref().unwrap_or_default();
        text.get(p.start as usize..(p.end as usize).min(text.len()))
            .map_or(1, |t| {
                t.lines().next().unwrap_or("").trim_end().chars().count()
            })
    } else {
        // no span: underline the word that starts here (a key without its colon)
        rest.split_whitespace()
            .next()
            .map_or(1, |w| w.trim_end_matches([':', ',']).chars().count())
    };
    let span = span.clamp(1, rest.chars().count().max(1)).min(80);
    let _ = writeln!(
        out,
        "{:width$} {bar} {prefix}{}",
        "",
        style.paint("1;31", &"^".repeat(span))
    );
}

/// Human output: one block per finding, like a compiler, then a summary line.
pub fn human(r: &Report<'_>, color: bool) -> String {
    let style = Style { on: color };
    let mut lines = Lines::default();
    let mut out = String::new();
    // notes about the input (info) are in the JSON and SARIF outputs and in
    // `cairn scan`; here only what degraded the reading is shown
    let quiet = r
        .scan
        .iter()
        .filter(|d| d.severity == Severity::Info)
        .count();
    for d in r
        .scan
        .iter()
        .filter(|d| d.severity > Severity::Info)
        .chain(&r.outcome.diagnostics)
    {
        let _ = writeln!(
            out,
            "{}[{}]: {}",
            style.severity(d.severity),
            d.code,
            d.message
        );
        if let Some(f) = d.file {
            let _ = writeln!(
                out,
                "  {} {}{}",
                style.paint("1;34", "-->"),
                r.sources.path(f),
                d.pos
                    .map_or(String::new(), |p| format!(":{}:{}", p.line, p.column))
            );
        }
        excerpt(&mut out, r.sources, &mut lines, d.file, d.pos, &style);
        if let Some(h) = &d.help {
            let _ = writeln!(out, "  = help: {h}");
        }
        out.push('\n');
    }
    for f in &r.outcome.findings {
        let _ = writeln!(
            out,
            "{}[{}]: {}",
            style.severity(f.severity),
            style.paint("1", &format!("{} {}", f.rule.code, f.rule.name)),
            f.message
        );
        if let Some(p) = r.path(f) {
            let _ = writeln!(
                out,
                "  {} {p}{}",
                style.paint("1;34", "-->"),
                f.pos
                    .map_or(String::new(), |p| format!(":{}:{}", p.line, p.column))
            );
        }
        excerpt(&mut out, r.sources, &mut lines, f.file, f.pos, &style);
        let _ = writeln!(out, "  = help: {}", f.help_text());
        out.push('\n');
    }
    let (errors, warnings, infos) = r.counts();
    if quiet > 0 {
        let _ = writeln!(
            out,
            "{quiet} note{} about the input not shown (`cairn scan` lists them)",
            if quiet == 1 { "" } else { "s" }
        );
    }
    let _ = writeln!(
        out,
        "{} error{}, {} warning{}, {} info ({} rules, profile {}{})",
        errors,
        if errors == 1 { "" } else { "s" },
        warnings,
        if warnings == 1 { "" } else { "s" },
        infos,
        r.outcome.rules_run.len(),
        r.profile.as_str(),
        if r.outcome.suppressed > 0 {
            format!(", {} suppressed", r.outcome.suppressed)
        } else {
            String::new()
        }
    );
    out
}

fn finding_json(r: &Report<'_>, f: &Finding) -> Value {
    let mut v = json!({
        "rule": f.rule.name,
        "code": f.rule.code,
        "category": f.rule.category.as_str(),
        "severity": f.severity.as_str(),
        "message": f.message,
        "file": r.path(f),
        "line": f.pos.map(|p| p.line),
        "column": f.pos.map(|p| p.column),
        "object": f.object.as_ref().map(|o| json!({"kind": o.kind, "namespace": o.namespace, "name": o.name})),
        "help": f.help_text(),
    });
    if f.object.is_none() {
        v["object"] = Value::Null;
    }
    v
}

fn diagnostic_json(sources: &SourceMap, d: &Diagnostic) -> Value {
    json!({
        "code": d.code,
        "severity": d.severity.as_str(),
        "message": d.message,
        "file": d.file.map(|f| sources.path(f)),
        "line": d.pos.map(|p| p.line),
        "column": d.pos.map(|p| p.column),
        "help": d.help,
    })
}

/// JSON output (fields in `docs/check-json.md`), streamed: one finding per
/// line, so a check with a hundred thousand findings is written as it goes.
pub fn write_json(r: &Report<'_>, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let (errors, warnings, infos) = r.counts();
    let head = json!({
        "version": 1,
        "profile": r.profile.as_str(),
        "summary": {
            "error": errors,
            "warning": warnings,
            "info": infos,
            "suppressed": r.outcome.suppressed,
            "rules_run": r.outcome.rules_run.len(),
        },
    });
    let head = serde_json::to_string(&head)?;
    w.write_all(&head.as_bytes()[..head.len() - 1])?;
    w.write_all(b",\"findings\":[")?;
    for (i, f) in r.outcome.findings.iter().enumerate() {
        w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *w, &finding_json(r, f))?;
    }
    w.write_all(b"\n],\"diagnostics\":")?;
    let diags: Vec<Value> = r
        .scan
        .iter()
        .chain(&r.outcome.diagnostics)
        .map(|d| diagnostic_json(r.sources, d))
        .collect();
    serde_json::to_writer(&mut *w, &diags)?;
    w.write_all(b"}\n")
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A path as a SARIF URI reference: forward slashes, reserved bytes escaped.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn region(pos: Pos) -> Value {
    json!({"startLine": pos.line.max(1), "startColumn": pos.column.max(1)})
}

/// SARIF 2.1.0 output, streamed one result per line.
pub fn write_sarif(r: &Report<'_>, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let rules: Vec<&Rule> = r.outcome.rules_run.clone();
    let index_of = |rule: &Rule| rules.iter().position(|x| std::ptr::eq(*x, rule));
    let descriptors: Vec<Value> = rules
        .iter()
        .map(|rule| {
            let docs = rule.docs();
            let first_para = docs
                .split("\n\n")
                .nth(1)
                .unwrap_or(rule.summary)
                .replace('\n', " ");
            json!({
                "id": rule.code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": first_para.trim()},
                "help": {"text": rule.help, "markdown": docs},
                "helpUri": rule_url(rule),
                "defaultConfiguration": {
                    "level": rule.level(r.profile).severity().map_or("none", sarif_level)
                },
                "properties": {"category": rule.category.as_str(), "tags": [rule.category.as_str()]},
            })
        })
        .collect();
    let result = |f: &Finding| {
        let mut loc = json!({});
        if let Some(path) = r.path(f) {
            let mut phys = json!({"artifactLocation": {"uri": uri(path)}});
            if let Some(p) = f.pos.filter(|p| p.line > 0) {
                phys["region"] = region(p);
            }
            loc["physicalLocation"] = phys;
        }
        if let Some(o) = &f.object {
            loc["logicalLocations"] =
                json!([{"fullyQualifiedName": o.to_string(), "kind": "object"}]);
        }
        let mut result = json!({
            "ruleId": f.rule.code,
            "level": sarif_level(f.severity),
            "message": {"text": format!("{} ({})", f.message, f.help_text())},
            "locations": [loc],
            "partialFingerprints": {"cairnFinding/v1": fingerprint(r, f)},
            "properties": {"rule": f.rule.name},
        });
        if let Some(i) = index_of(f.rule) {
            result["ruleIndex"] = json!(i);
        }
        result
    };
    let notifications: Vec<Value> = r
        .scan
        .iter()
        .chain(&r.outcome.diagnostics)
        .map(|d| {
            let mut n = json!({
                "level": sarif_level(d.severity),
                "message": {"text": d.message},
                "descriptor": {"id": d.code},
            });
            if let Some(f) = d.file {
                let mut phys = json!({"artifactLocation": {"uri": uri(r.sources.path(f))}});
                if let Some(p) = d.pos.filter(|p| p.line > 0) {
                    phys["region"] = region(p);
                }
                n["locations"] = json!([{"physicalLocation": phys}]);
            }
            n
        })
        .collect();
    let run = json!({
        "tool": {"driver": {
            "name": "cairn",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": env!("CARGO_PKG_REPOSITORY"),
            "rules": descriptors,
        }},
        "invocations": [{
            "executionSuccessful": true,
            "toolExecutionNotifications": notifications,
            "properties": {"profile": r.profile.as_str()},
        }],
        "columnKind": "unicodeCodePoints",
    });
    let run = serde_json::to_string(&run)?;
    w.write_all(
        b"{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[",
    )?;
    w.write_all(&run.as_bytes()[..run.len() - 1])?;
    w.write_all(b",\"results\":[")?;
    for (i, f) in r.outcome.findings.iter().enumerate() {
        w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *w, &result(f))?;
    }
    w.write_all(b"\n]}]}\n")
}

/// A fingerprint stable across runs and line moves: rule, file, object and message.
fn fingerprint(r: &Report<'_>, f: &Finding) -> String {
    // FNV-1a: small, deterministic, no dependency
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let object = f
        .object
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    for part in [
        f.rule.code,
        r.path(f).unwrap_or_default(),
        &object,
        &f.message,
    ] {
        for b in part.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one test suite per rule that ran, one failing test case per
/// finding, and a passing case for a rule with none.
pub fn junit(r: &Report<'_>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total_failures = r.outcome.findings.len();
    let total_tests: usize = r
        .outcome
        .rules_run
        .iter()
        .map(|rule| {
            r.outcome
                .findings
                .iter()
                .filter(|f| std::ptr::eq(f.rule, *rule))
                .count()
                .max(1)
        })
        .sum();
    let _ = writeln!(
        out,
        "<testsuites name=\"cairn check\" tests=\"{total_tests}\" failures=\"{total_failures}\">"
    );
    for rule in &r.outcome.rules_run {
        let mine: Vec<&Finding> = r
            .outcome
            .findings
            .iter()
            .filter(|f| std::ptr::eq(f.rule, *rule))
            .collect();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{} {}\" tests=\"{}\" failures=\"{}\">",
            rule.code,
            rule.name,
            mine.len().max(1),
            mine.len()
        );
        let class = format!("cairn.{}.{}", rule.category.as_str(), rule.name);
        if mine.is_empty() {
            let _ = writeln!(
                out,
                "    <testcase name=\"no findings\" classname=\"{class}\"/>"
            );
        }
        for f in mine {
            let at = match (r.path(f), f.pos) {
                (Some(p), Some(pos)) => format!("{p}:{}:{}", pos.line, pos.column),
                (Some(p), None) => p.to_owned(),
                _ => String::new(),
            };
            let name = f
                .object
                .as_ref()
                .map_or_else(|| at.clone(), ToString::to_string);
            let _ = writeln!(
                out,
                "    <testcase name=\"{}\" classname=\"{class}\" file=\"{}\">\n      <failure message=\"{}\" type=\"{}\">{}\nhelp: {}</failure>\n    </testcase>",
                xml(&name),
                xml(r.path(f).unwrap_or_default()),
                xml(&f.message),
                f.severity.as_str(),
                xml(&at),
                xml(f.help_text())
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn gh_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_property(text: &str) -> String {
    gh_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands (`::error file=…,line=…::message`).
pub fn github(r: &Report<'_>) -> String {
    let mut out = String::new();
    let mut line = |sev: Severity, file: Option<&str>, pos: Option<Pos>, title: &str, msg: &str| {
        let cmd = match sev {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(f) = file {
            props.push(format!("file={}", gh_property(f)));
        }
        if let Some(p) = pos.filter(|p| p.line > 0) {
            props.push(format!("line={}", p.line));
            props.push(format!("col={}", p.column));
        }
        props.push(format!("title={}", gh_property(title)));
        let _ = writeln!(out, "::{cmd} {}::{}", props.join(","), gh_data(msg));
    };
    for d in r.scan.iter().chain(&r.outcome.diagnostics) {
        line(
            d.severity,
            d.file.map(|f| r.sources.path(f)),
            d.pos,
            d.code,
            &d.message,
        );
    }
    for f in &r.outcome.findings {
        line(
            f.severity,
            r.path(f),
            f.pos,
            &format!("{} {}", f.rule.code, f.rule.name),
            &format!("{}\nhelp: {}", f.message, f.help_text()),
        );
    }
    out
}

/// A Markdown summary fit for a pull-request comment.
pub fn markdown(r: &Report<'_>) -> String {
    const SHOWN: usize = 100;
    let (errors, warnings, infos) = r.counts();
    let mut out = String::new();
    let _ = writeln!(out, "### cairn check ({} profile)\n", r.profile.as_str());
    if r.outcome.findings.is_empty() {
        let _ = writeln!(out, "No findings from {} rules.", r.outcome.rules_run.len());
        return out;
    }
    let _ = writeln!(
        out,
        "**{errors}** error{}, **{warnings}** warning{}, **{infos}** info from {} rules{}.\n",
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
        r.outcome.rules_run.len(),
        if r.outcome.suppressed > 0 {
            format!(" ({} suppressed)", r.outcome.suppressed)
        } else {
            String::new()
        }
    );
    let mut per_rule: Vec<(&Rule, Severity, usize)> = Vec::new();
    for f in &r.outcome.findings {
        match per_rule
            .iter_mut()
            .find(|(x, _, _)| std::ptr::eq(*x, f.rule))
        {
            Some(entry) => {
                entry.2 += 1;
                entry.1 = entry.1.max(f.severity);
            }
            None => per_rule.push((f.rule, f.severity, 1)),
        }
    }
    per_rule.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(b.2.cmp(&a.2))
            .then(a.0.code.cmp(b.0.code))
    });
    out.push_str("| rule | severity | findings |\n|---|---|---:|\n");
    for (rule, sev, n) in &per_rule {
        let _ = writeln!(
            out,
            "| [`{}`]({}) {} | {} | {n} |",
            rule.name,
            rule_url(rule),
            rule.code,
            sev.as_str()
        );
    }
    let _ = writeln!(out, "\n<details><summary>Findings</summary>\n");
    let mut sorted: Vec<&Finding> = r.outcome.findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in sorted.iter().take(SHOWN) {
        let at = match (r.path(f), f.pos) {
            (Some(p), Some(pos)) => format!("`{p}:{}`", pos.line),
            (Some(p), None) => format!("`{p}`"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "- **{}** `{}` {at}: {}",
            f.severity.as_str(),
            f.rule.name,
            f.message.replace('|', "\\|")
        );
    }
    if sorted.len() > SHOWN {
        let _ = writeln!(out, "- and {} more", sorted.len() - SHOWN);
    }
    out.push_str("\n</details>\n");
    out
}
