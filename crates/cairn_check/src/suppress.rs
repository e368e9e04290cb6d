//! Suppressions where users can put them: the annotation
//! `cairn.dev/ignore: "<rule>[,<rule>] <reason>"` on an object or its pod
//! template, and a YAML comment `# cairn:ignore <rule>[,<rule>] <reason>` on
//! the finding's line or the line above. A suppression without a reason, one
//! naming no rule, and one that matches nothing are reported themselves.

use cairn_source::{FileId, Pos};

use crate::ctx::Ctx;
use crate::{Finding, Out, Rule};

/// The annotation key.
pub const ANNOTATION: &str = "cairn.dev/ignore";
/// The comment marker.
pub const COMMENT: &str = "cairn:ignore";

struct Suppression {
    file: FileId,
    pos: Pos,
    /// Names as written, with the rule they resolve to.
    rules: Vec<(String, Option<&'static Rule>)>,
    has_reason: bool,
    scope: Scope,
    used: Vec<bool>,
}

enum Scope {
    /// Findings about this object.
    Object(usize),
    /// Findings in this file on this line or the next.
    Lines(u32),
}

fn parse_spec(text: &str) -> (Vec<(String, Option<&'static Rule>)>, bool) {
    let text = text.trim();
    let (names, reason) = text
        .split_once(char::is_whitespace)
        .map_or((text, ""), |(a, b)| (a, b.trim()));
    let rules = names
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| (n.to_owned(), crate::rule(n)))
        .collect();
    (rules, !reason.is_empty())
}

fn collect(cx: &Ctx<'_>) -> Vec<Suppression> {
    let mut out = Vec::new();
    for (i, obj) in cx.objects().iter().enumerate() {
        let metas = [
            obj.metadata(),
            obj.pod_template().and_then(|t| t.get("metadata")),
        ];
        for meta in metas.into_iter().flatten() {
            let Some(v) = meta
                .get("annotations")
                .and_then(|a| a.get(ANNOTATION))
                .filter(|v| v.as_str().is_some())
            else {
                continue;
            };
            let (rules, has_reason) = parse_spec(v.as_str().unwrap_or_default());
            let n = rules.len();
            out.push(Suppression {
                file: obj.file,
                pos: v.pos,
                rules,
                has_reason,
                scope: Scope::Object(i),
                used: vec![false; n],
            });
        }
    }
    for (file, src) in cx.ingest.sources.iter() {
        let Some(text) = src.text.as_deref() else {
            continue;
        };
        if !text.contains(COMMENT) {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            let Some(at) = line.find(COMMENT) else {
                continue;
            };
            let Some(hash) = line[..at].rfind('#') else {
                continue;
            };
            if !line[hash + 1..at].trim().is_empty() {
                continue;
            }
            let (rules, has_reason) = parse_spec(&line[at + COMMENT.len()..]);
            let line_no = n as u32 + 1;
            let k = rules.len();
            out.push(Suppression {
                file,
                pos: Pos {
                    line: line_no,
                    column: line[..hash].chars().count() as u32 + 1,
                    start: 0,
                    end: 0,
                },
                rules,
                has_reason,
                scope: Scope::Lines(line_no),
                used: vec![false; k],
            });
        }
    }
    out
}

/// Removes suppressed findings, counting them, and returns the findings
/// about the suppressions themselves.
pub(crate) fn apply(
    cx: &Ctx<'_>,
    findings: &mut Vec<Finding>,
    suppressed: &mut usize,
) -> Vec<Finding> {
    let mut sups = collect(cx);
    if sups.is_empty() {
        return Vec::new();
    }
    findings.retain(|f| {
        let mut hit = false;
        for s in &mut sups {
            let applies = match s.scope {
                Scope::Object(i) => f.object_index == Some(i),
                Scope::Lines(l) => {
                    f.file == Some(s.file) && f.pos.is_some_and(|p| p.line == l || p.line == l + 1)
                }
            };
            if !applies {
                continue;
            }
            for (k, (_, r)) in s.rules.iter().enumerate() {
                if r.is_some_and(|r| std::ptr::eq(r, f.rule)) {
                    s.used[k] = true;
                    hit = true;
                }
            }
        }
        if hit {
            *suppressed += 1;
        }
        !hit
    });
    let mut meta = Vec::new();
    let no_reason = crate::rule("suppression-without-reason").expect("registered");
    let unused = crate::rule("unused-suppression").expect("registered");
    for s in &sups {
        let object = match s.scope {
            Scope::Object(i) => Some(i),
            Scope::Lines(_) => None,
        };
        let mut push = |rule: &'static Rule, message: String, help: String| {
            let mut out = Out::new(rule);
            match object {
                Some(i) => {
                    out.object(cx, i, s.pos, message).help(help);
                }
                None => {
                    out.at(Some(s.file), Some(s.pos), message).help(help);
                }
            }
            meta.extend(out.findings);
        };
        if !s.has_reason {
            push(
                no_reason,
                format!(
                    "suppression of `{}` gives no reason",
                    s.rules.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(",")
                ),
                "write why after the rule names, e.g. `cairn:ignore run-as-root vendor image needs uid 0`".into(),
            );
        }
        if s.rules.is_empty() {
            push(
                unused,
                "suppression names no rule".into(),
                "write the rule's name after `cairn:ignore`".into(),
            );
        }
        for ((name, rule), used) in s.rules.iter().zip(&s.used) {
            match rule {
                None => push(
                    unused,
                    format!("suppression names `{name}`, which is no rule"),
                    "`cairn rules` lists the rule names".into(),
                ),
                Some(r) if !used && cx.settings.level_of(r) != crate::Level::Off => push(
                    unused,
                    format!("suppression of `{}` matches no finding", r.name),
                    "remove it: the finding it silenced is gone".into(),
                ),
                _ => {}
            }
        }
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::parse_spec;

    #[test]
    fn spec_with_and_without_reason() {
        let (rules, reason) =
            parse_spec("missing-resource-limits,missing-resource-requests  vendor image");
        assert_eq!(rules.len(), 2);
        assert!(rules.iter().all(|(_, r)| r.is_some()));
        assert!(reason);
        let (rules, reason) = parse_spec(" missing-resource-limits ");
        assert_eq!(rules.len(), 1);
        assert!(!reason);
        let (rules, _) = parse_spec("no-such-rule because");
        assert!(rules[0].1.is_none());
    }
}
