//! One diagnostic, rendered the way compilers do.

use std::fmt::Write;

use cairn_source::{Diagnostic, SourceMap};

/// `file:line:col: severity[code]: message`, the source line with a caret, and the help.
pub fn render(d: &Diagnostic, sources: &SourceMap) -> String {
    let mut out = String::new();
    let file = d.file.and_then(|f| sources.get(f));
    let location = match (file, d.pos) {
        (Some(f), Some(p)) if p.line > 0 => format!("{}:{}:{}: ", f.path, p.line, p.column),
        (Some(f), _) => format!("{}: ", f.path),
        (None, _) => String::new(),
    };
    let _ = writeln!(
        out,
        "{location}{}[{}]: {}",
        d.severity.as_str(),
        d.code,
        d.message
    );
    if let (Some(f), Some(p)) = (file, d.pos)
        && let Some(line) = f.line(p.line).filter(|l| l.len() <= 300)
    {
        let width = p.line.to_string().len();
        let _ = writeln!(out, "{:width$} |", "");
        let _ = writeln!(out, "{} | {}", p.line, line.trim_end());
        let col = p.column.saturating_sub(1) as usize;
        let prefix: String = line
            .chars()
            .take(col)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let span_chars = if p.end > p.start {
            let text = f.text.as_deref().unwrap_or_default();
            let s = p.start as usize;
            let e = (p.end as usize).min(text.len());
            text.get(s..e)
                .map_or(1, |t| t.lines().next().unwrap_or("").chars().count().max(1))
        } else {
            1
        };
        let _ = writeln!(
            out,
            "{:width$} | {prefix}{}",
            "",
            "^".repeat(span_chars.min(80))
        );
    }
    if let Some(h) = &d.help {
        let _ = writeln!(out, "  = help: {h}");
    }
    out
}
