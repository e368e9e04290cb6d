//! Protobuf breaking-change detection, compatible with `buf breaking`.
//!
//! [`load`] compiles the `.proto` files under a directory (with protox, no
//! `protoc`) into a [`ProtoTree`] ([`load_pair`] loads the previous and the
//! current tree at once, on rayon's threads); [`diff`] compares a previous tree with the
//! current one under a [`BreakingConfig`] (read from `buf.yaml` by
//! [`BreakingConfig::from_buf_yaml`]) and returns [`ProtoChange`]s with buf's
//! rule ids, categories and messages, at the `file:line:column` buf reports.
//! [`rules`] lists every rule.
//!
//! Bad input never panics and never aborts the comparison; it becomes a
//! [`cairn_source::Diagnostic`] with one of these codes:
//!
//! | code | meaning |
//! | --- | --- |
//! | `proto-read` | a directory or `.proto` file could not be read, or is not UTF-8; it was skipped |
//! | `proto-compile` | a `.proto` file does not compile (syntax error, missing import, unknown type); the rest of the tree is still compared |
//! | `buf-config-invalid` | `buf.yaml` (or a policy file) is not valid YAML or has a wrong value; the setting was ignored |

mod check;
mod config;
mod rules;
mod synth;
mod tree;

pub use config::BreakingConfig;
pub use rules::{BufVersion, RULES, RuleInfo, rule_info};
pub use synth::{synth_pair, synth_tree};
pub use tree::{ProtoTree, load, load_files, load_pair};

/// One breaking change, as `buf breaking` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtoChange {
    /// buf's rule id, such as `FIELD_NO_DELETE`.
    pub rule: &'static str,
    /// The rule's categories (v2).
    pub categories: &'static [&'static str],
    /// buf's message, such as `Previously present field "1" with name "foo"
    /// on message "Bar" was deleted.`
    pub message: String,
    /// The file, relative to the tree root, as buf prints it; `None` when
    /// buf prints no file (a deleted file or package).
    pub file: Option<String>,
    /// 1-based start line; 0 when buf prints no position.
    pub start_line: u32,
    /// 1-based start column; 0 when unknown.
    pub start_column: u32,
    /// 1-based end line; 0 when unknown.
    pub end_line: u32,
    /// 1-based end column (exclusive, as buf prints it); 0 when unknown.
    pub end_column: u32,
    /// The file in the previous tree the change concerns, when there is one.
    pub previous_file: Option<String>,
    /// 1-based start line in `previous_file`; 0 when unknown.
    pub previous_line: u32,
    /// 1-based start column in `previous_file`; 0 when unknown.
    pub previous_column: u32,
    /// Whether `file` and the position are in the previous tree: set when
    /// the element is gone from the current tree and buf names no current
    /// file, so that `file` still says where it was.
    pub previous: bool,
}

/// Every breaking rule with its categories and a one-line summary.
pub fn rules() -> &'static [RuleInfo] {
    RULES
}

/// Compares `previous` with `current` and returns the breaking changes the
/// rules `cfg` enables find, after `cfg`'s ignores, sorted by file, line,
/// column and rule.
pub fn diff(previous: &ProtoTree, current: &ProtoTree, cfg: &BreakingConfig) -> Vec<ProtoChange> {
    let enabled = cfg.enabled_rules();
    let findings = check::run(previous, current, &enabled);
    let package_of = |tree: &ProtoTree, path: &str| -> String {
        tree.by_path
            .get(path)
            .map(|&i| tree.files[i].package.clone())
            .unwrap_or_default()
    };
    let mut out: Vec<ProtoChange> = Vec::with_capacity(findings.len());
    for f in findings {
        let ignored_current = f
            .file
            .as_deref()
            .is_some_and(|p| cfg.ignores(f.rule, p, &package_of(current, p)));
        let ignored_previous = f
            .against_file
            .as_deref()
            .is_some_and(|p| cfg.ignores(f.rule, p, &package_of(previous, p)));
        if ignored_current || ignored_previous {
            continue;
        }
        let categories = rule_info(f.rule).map_or(&[][..], |r| r.categories);
        let [pl, pc, _, _] = f.against_loc.unwrap_or_default();
        let mut change = ProtoChange {
            rule: f.rule,
            categories,
            message: f.message,
            file: f.file.clone(),
            start_line: 0,
            start_column: 0,
            end_line: 0,
            end_column: 0,
            previous_file: f.against_file.clone(),
            previous_line: pl,
            previous_column: pc,
            previous: false,
        };
        if let Some([sl, sc, el, ec]) = f.loc {
            change.start_line = sl;
            change.start_column = sc;
            change.end_line = el;
            change.end_column = ec;
        }
        if f.file.is_none() && f.against_file.is_some() {
            change.file = f.against_file;
            change.previous = true;
            if let Some([sl, sc, el, ec]) = f.against_loc {
                change.start_line = sl;
                change.start_column = sc;
                change.end_line = el;
                change.end_column = ec;
            }
        }
        out.push(change);
    }
    out.sort_by(|a, b| {
        (&a.file, a.start_line, a.start_column, a.rule, &a.message).cmp(&(
            &b.file,
            b.start_line,
            b.start_column,
            b.rule,
            &b.message,
        ))
    });
    out
}
