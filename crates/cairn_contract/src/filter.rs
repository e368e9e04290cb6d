//! What a team decides about changes: severity overrides and ignores.
//!
//! A severity file has one `<id> <LEVEL>` per line (`ERR`, `WARN`, `INFO`
//! or `NONE` to drop the id), like oasdiff's `--severity-levels`. An
//! ignore file has one rule per line: an id, an operation (`GET /pets`,
//! `* /pets/{id}`), or both (`request-parameter-removed GET /pets`);
//! `#` starts a comment. A line that means nothing is a diagnostic at
//! its line, and the other lines still apply.

use std::collections::HashMap;

use cairn_source::{Diagnostic, FileId, Pos};

use crate::{Change, Level};

/// Severity overrides and ignore rules.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    levels: HashMap<String, Option<Level>>,
    ignores: Vec<Ignore>,
}

#[derive(Clone, Debug)]
struct Ignore {
    id: Option<String>,
    method: Option<String>,
    path: Option<String>,
}

fn line_pos(line: usize, text: &str) -> Pos {
    Pos {
        line: line as u32 + 1,
        column: 1,
        start: 0,
        end: text.len() as u32,
    }
}

fn known(id: &str) -> bool {
    crate::openapi::ids::level(id).is_some() || crate::asyncapi::event_id(id).is_some()
}

fn suggest(id: &str) -> String {
    let best = crate::openapi::ids::IDS
        .iter()
        .map(|(i, _)| (edit_distance(id, i), *i))
        .min()
        .filter(|(d, _)| *d <= 4);
    best.map(|(_, i)| format!("; did you mean `{i}`?"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

impl Filter {
    /// No overrides, no ignores.
    pub fn new() -> Filter {
        Filter::default()
    }

    /// Sets the level of `id`; `None` drops the id.
    pub fn set_level(&mut self, id: &str, level: Option<Level>) {
        self.levels.insert(id.to_owned(), level);
    }

    /// Reads a severity file.
    pub fn add_levels(&mut self, file: FileId, text: &str) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut words = line.split_whitespace();
            let (Some(id), Some(level), None) = (words.next(), words.next(), words.next()) else {
                diags.push(
                    Diagnostic::error(
                        "diff-config-invalid",
                        format!("`{line}` is not `<id> <level>`"),
                    )
                    .in_file(file)
                    .at(line_pos(i, raw))
                    .with_help("write one id and one level (ERR, WARN, INFO or NONE) per line"),
                );
                continue;
            };
            let level = if level.eq_ignore_ascii_case("none") {
                None
            } else if let Some(l) = Level::parse(level) {
                Some(l)
            } else {
                diags.push(
                    Diagnostic::error("diff-config-invalid", format!("`{level}` is not a level"))
                        .in_file(file)
                        .at(line_pos(i, raw))
                        .with_help("use ERR, WARN, INFO or NONE"),
                );
                continue;
            };
            if !known(id) {
                diags.push(
                    Diagnostic::warning(
                        "diff-config-invalid",
                        format!("`{id}` is not a change id{}", suggest(id)),
                    )
                    .in_file(file)
                    .at(line_pos(i, raw))
                    .with_help("`cairn diff --list-ids` prints every id"),
                );
            }
            self.set_level(id, level);
        }
        diags
    }

    /// Reads an ignore file.
    pub fn add_ignores(&mut self, file: FileId, text: &str) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split(" #").next().unwrap_or("").trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let is_method = |w: &str| {
                w == "*"
                    || crate::openapi::METHODS
                        .iter()
                        .any(|m| m.eq_ignore_ascii_case(w))
            };
            let rule = match words.as_slice() {
                [id] if known(id) => Ignore {
                    id: Some((*id).to_owned()),
                    method: None,
                    path: None,
                },
                [p] if p.starts_with('/') => Ignore {
                    id: None,
                    method: None,
                    path: Some((*p).to_owned()),
                },
                [m, p] if is_method(m) && p.starts_with('/') => Ignore {
                    id: None,
                    method: Some(m.to_ascii_uppercase()),
                    path: Some((*p).to_owned()),
                },
                [id, p] if known(id) && p.starts_with('/') => Ignore {
                    id: Some((*id).to_owned()),
                    method: None,
                    path: Some((*p).to_owned()),
                },
                [id, m, p] if known(id) && is_method(m) && p.starts_with('/') => Ignore {
                    id: Some((*id).to_owned()),
                    method: Some(m.to_ascii_uppercase()),
                    path: Some((*p).to_owned()),
                },
                _ => {
                    let hint = words
                        .first()
                        .filter(|w| !w.starts_with('/') && !is_method(w))
                        .map(|w| suggest(w))
                        .unwrap_or_default();
                    diags.push(
                        Diagnostic::error(
                            "diff-config-invalid",
                            format!("ignore rule `{line}` names no known id or operation{hint}"),
                        )
                        .in_file(file)
                        .at(line_pos(i, raw))
                        .with_help("write `<id>`, `<METHOD> <path>` or `<id> <METHOD> <path>`"),
                    );
                    continue;
                }
            };
            self.ignores.push(rule);
        }
        diags
    }

    /// The changes left after ignores, with overridden levels.
    pub fn apply(&self, changes: Vec<Change>) -> Vec<Change> {
        changes
            .into_iter()
            .filter_map(|mut c| {
                if self.ignores.iter().any(|ig| {
                    ig.id.as_deref().is_none_or(|i| i == c.id)
                        && ig
                            .method
                            .as_deref()
                            .is_none_or(|m| m == "*" || c.operation.as_deref() == Some(m))
                        && ig
                            .path
                            .as_deref()
                            .is_none_or(|p| c.path.as_deref().is_some_and(|cp| same_path(p, cp)))
                }) {
                    return None;
                }
                match self.levels.get(c.id) {
                    Some(None) => None,
                    Some(Some(l)) => {
                        c.level = *l;
                        Some(c)
                    }
                    None => Some(c),
                }
            })
            .collect()
    }
}

/// Paths match when equal after blanking parameter names (`/pets/{id}` is `/pets/{petId}`).
fn same_path(a: &str, b: &str) -> bool {
    crate::openapi::path_key(a) == crate::openapi::path_key(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(id: &'static str, op: &str, path: &str) -> Change {
        Change {
            id,
            level: Level::Err,
            text: String::new(),
            operation: Some(op.into()),
            path: Some(path.into()),
            loc: None,
        }
    }

    #[test]
    fn ignores_and_levels_apply_and_bad_lines_are_reported() {
        let mut f = Filter::new();
        let d = f.add_ignores(
            FileId(0),
            "# team decisions\nrequest-parameter-removed GET /pets/{id}\nPOST /orders\nnot-an-id\n",
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].pos.map(|p| p.line), Some(4));
        let d = f.add_levels(
            FileId(1),
            "response-success-status-removed WARN\nendpoint-added NONE\nx y z\n",
        );
        assert_eq!(d.len(), 1);
        let out = f.apply(vec![
            change("request-parameter-removed", "GET", "/pets/{petId}"),
            change("request-parameter-removed", "PUT", "/pets/{petId}"),
            change("request-body-removed", "POST", "/orders"),
            change("response-success-status-removed", "GET", "/x"),
            change("endpoint-added", "GET", "/y"),
        ]);
        let got: Vec<_> = out
            .iter()
            .map(|c| (c.id, c.level, c.operation.clone().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("request-parameter-removed", Level::Err, "PUT".to_owned()),
                (
                    "response-success-status-removed",
                    Level::Warn,
                    "GET".to_owned()
                ),
            ]
        );
    }
}
