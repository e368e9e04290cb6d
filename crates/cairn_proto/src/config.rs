//! The `breaking:` section of a `buf.yaml` (v1beta1, v1 and v2).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cairn_source::Diagnostic;
use cairn_yaml::Node;

use crate::rules::{self, BufVersion, RULES};

/// Which rules run and which findings are dropped, as `buf breaking` reads
/// them from `buf.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakingConfig {
    /// The `buf.yaml` version (the rule set differs a little between them).
    pub version: BufVersion,
    /// Rule ids and categories to run; empty means `FILE`.
    pub use_: Vec<String>,
    /// Rule ids and categories not to run.
    pub except: Vec<String>,
    /// Paths (files or directories, relative to the module root) whose
    /// findings are dropped for every rule.
    pub ignore: Vec<String>,
    /// Per rule id (or category), paths whose findings are dropped.
    pub ignore_only: BTreeMap<String, Vec<String>>,
    /// Drop findings in packages whose version is alpha, beta or test.
    pub ignore_unstable_packages: bool,
    /// `breaking.disable_builtin` (v2): run no built-in rule of this file.
    pub disable_builtin: bool,
    /// The configurations of local `policies:` files, whose rules run too.
    pub policies: Vec<BreakingConfig>,
    /// Module roots (v1beta1 `build.roots`, v2 `modules[].path`), relative
    /// to the directory of `buf.yaml`; empty when the directory is the root.
    pub roots: Vec<String>,
}

impl Default for BreakingConfig {
    /// buf's default: `use: [FILE]`, v2 rule set.
    fn default() -> Self {
        BreakingConfig {
            version: BufVersion::V2,
            use_: vec!["FILE".to_owned()],
            except: Vec::new(),
            ignore: Vec::new(),
            ignore_only: BTreeMap::new(),
            ignore_unstable_packages: false,
            disable_builtin: false,
            policies: Vec::new(),
            roots: Vec::new(),
        }
    }
}

fn invalid(path: &Path, node: Option<&Node>, msg: impl std::fmt::Display) -> Diagnostic {
    let d = Diagnostic::error("buf-config-invalid", format!("{}: {msg}", path.display()))
        .with_help("see https://buf.build/docs/configuration/ for the buf.yaml format");
    match node {
        Some(n) => d.at(n.pos),
        None => d,
    }
}

fn strings(path: &Path, parent: &Node, key: &str, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    let Some(node) = parent.get(key) else {
        return Vec::new();
    };
    if node.is_null() {
        return Vec::new();
    }
    let Some(seq) = node.as_seq() else {
        diags.push(invalid(
            path,
            Some(node),
            format!(
                "`{key}` should be a list of strings, found {}",
                node.type_name()
            ),
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in seq {
        match item.as_str() {
            Some(s) => out.push(s.to_owned()),
            None => diags.push(invalid(
                path,
                Some(item),
                format!(
                    "`{key}` entries should be strings, found {}",
                    item.type_name()
                ),
            )),
        }
    }
    out
}

impl BreakingConfig {
    /// Reads `buf.yaml` (or `buf.yml`) in `dir`.
    ///
    /// `None` when there is no such file or it is not valid YAML; the
    /// diagnostics (`buf-config-invalid`) name the file in their message and
    /// carry the position in it.
    pub fn from_buf_yaml(dir: &Path) -> (Option<Self>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let path = ["buf.yaml", "buf.yml"]
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file());
        let Some(path) = path else {
            return (None, diags);
        };
        let text = match std::fs::read(&path).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                diags.push(invalid(&path, None, "the file is not valid UTF-8"));
                return (None, diags);
            }
            Err(e) => {
                diags.push(
                    Diagnostic::error("proto-read", format!("cannot read {}: {e}", path.display()))
                        .with_help("check the file's permissions"),
                );
                return (None, diags);
            }
        };
        let cfg = Self::from_yaml_text(&path, &text, dir, &mut diags);
        (cfg, diags)
    }

    /// Parses the text of a `buf.yaml`; `path` names it in diagnostics and
    /// `dir` is where local policy files are looked up.
    fn from_yaml_text(
        path: &Path,
        text: &str,
        dir: &Path,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Self> {
        let parsed = cairn_yaml::parse(text);
        for e in &parsed.errors {
            diags.push(
                Diagnostic::error(
                    "buf-config-invalid",
                    format!("{}: {}", path.display(), e.message),
                )
                .at(e.pos)
                .with_help("fix the YAML syntax"),
            );
        }
        if !parsed.errors.is_empty() {
            return None;
        }
        let Some(doc) = parsed.documents.first() else {
            return Some(Self::default());
        };
        let root = &doc.root;
        if root.is_null() {
            return Some(Self::default());
        }
        if root.as_map().is_none() {
            diags.push(invalid(
                path,
                Some(root),
                format!("expected a mapping, found {}", root.type_name()),
            ));
            return None;
        }
        let version = match root.get_str("version") {
            Some("v1beta1") => BufVersion::V1Beta1,
            Some("v1") => BufVersion::V1,
            Some("v2") | None => BufVersion::V2,
            Some(other) => {
                diags.push(invalid(
                    path,
                    root.get("version"),
                    format!("unknown version `{other}`; expected v1beta1, v1 or v2"),
                ));
                BufVersion::V2
            }
        };
        let mut cfg = BreakingConfig {
            version,
            ..Self::default()
        };
        if let Some(build) = root.get("build") {
            cfg.roots = strings(path, build, "roots", diags);
        }
        for m in root.seq_at("modules") {
            if let Some(p) = m.get_str("path") {
                cfg.roots.push(p.to_owned());
            }
        }
        cfg.roots = cfg
            .roots
            .iter()
            .map(|r| r.trim_end_matches('/').to_owned())
            .filter(|r| r != "." && !r.is_empty())
            .collect();
        if let Some(b) = root.get("breaking")
            && !b.is_null()
        {
            if b.as_map().is_none() {
                diags.push(invalid(path, Some(b), "`breaking` should be a mapping"));
            } else {
                let use_ = strings(path, b, "use", diags);
                if !use_.is_empty() {
                    cfg.use_ = use_;
                }
                cfg.except = strings(path, b, "except", diags);
                cfg.ignore = strings(path, b, "ignore", diags)
                    .into_iter()
                    .map(|p| p.trim_end_matches('/').to_owned())
                    .collect();
                for (k, v) in b.map_at("ignore_only") {
                    let Some(rule) = k.as_str() else { continue };
                    let mut paths = Vec::new();
                    for item in v.as_seq().unwrap_or(&[]) {
                        if let Some(s) = item.as_str() {
                            paths.push(s.trim_end_matches('/').to_owned());
                        }
                    }
                    cfg.ignore_only.insert(rule.to_owned(), paths);
                }
                if let Some(n) = b.get("ignore_unstable_packages") {
                    match n.as_bool() {
                        Some(v) => cfg.ignore_unstable_packages = v,
                        None => diags.push(invalid(
                            path,
                            Some(n),
                            "`ignore_unstable_packages` should be true or false",
                        )),
                    }
                }
                if let Some(n) = b.get("disable_builtin") {
                    cfg.disable_builtin = n.as_bool().unwrap_or(false);
                }
                for id in cfg.use_.iter().chain(&cfg.except) {
                    if !is_known(id, version) {
                        diags.push(invalid(
                            path,
                            None,
                            format!("unknown breaking rule or category `{id}`; it was ignored"),
                        ));
                    }
                }
            }
        }
        for p in root.seq_at("policies") {
            let Some(name) = p.get_str("policy") else {
                continue;
            };
            let policy_path = dir.join(name);
            match std::fs::read_to_string(&policy_path) {
                Ok(text) => {
                    if let Some(policy) = Self::from_yaml_text(&policy_path, &text, dir, diags) {
                        cfg.policies.push(policy);
                    }
                }
                Err(e) => diags.push(invalid(
                    path,
                    Some(p),
                    format!("cannot read policy {name}: {e}; it was skipped"),
                )),
            }
        }
        Some(cfg)
    }

    /// The rule ids that run under this configuration, policies included.
    pub fn enabled_rules(&self) -> BTreeSet<&'static str> {
        let mut out = BTreeSet::new();
        if !self.disable_builtin {
            let used = expand(&self.use_, self.version);
            let except = expand(&self.except, self.version);
            out.extend(used.difference(&except).copied());
        }
        for p in &self.policies {
            out.extend(p.enabled_rules());
        }
        out
    }

    /// Whether the finding of `rule` in the file at `path` (relative to the
    /// module root), of package `package`, is dropped.
    pub fn ignores(&self, rule: &str, path: &str, package: &str) -> bool {
        let matches = |p: &String| {
            let p = self.strip_root(p);
            p.is_empty() || path == p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/'))
        };
        if self.ignore.iter().any(matches) {
            return true;
        }
        for (key, paths) in &self.ignore_only {
            let applies = key == rule || rules::in_category(rule, key, self.version);
            if applies && paths.iter().any(matches) {
                return true;
            }
        }
        self.ignore_unstable_packages && is_unstable_package(package)
    }

    /// v2 writes ignore paths from the workspace root; files are named
    /// relative to their module.
    fn strip_root<'a>(&self, p: &'a str) -> &'a str {
        if self.version == BufVersion::V2 {
            for r in &self.roots {
                if let Some(rest) = p.strip_prefix(r.as_str())
                    && let Some(rest) = rest.strip_prefix('/')
                {
                    return rest;
                }
            }
        }
        p
    }
}

fn is_known(id: &str, version: BufVersion) -> bool {
    rules::CATEGORIES.contains(&id) || rules::exists_in(id, version)
}

/// Expands ids and categories into rule ids; deprecated ids become their
/// replacements.
fn expand(ids: &[String], version: BufVersion) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for id in ids {
        if rules::CATEGORIES.contains(&id.as_str()) {
            for r in RULES {
                if rules::in_category(r.id, id, version) {
                    out.insert(r.id);
                }
            }
        } else if let Some(repl) = rules::replacements(id, version) {
            out.extend(repl.iter().copied());
        } else if let Some(info) = rules::rule_info(id)
            && rules::exists_in(id, version)
        {
            out.insert(info.id);
        }
    }
    out
}

/// Whether a package's last version component is alpha, beta or test
/// (`foo.v1alpha1`, `foo.v2beta`, `foo.v1test`, `foo.v1p1beta1`).
pub(crate) fn is_unstable_package(package: &str) -> bool {
    let Some(last) = package.rsplit('.').next() else {
        return false;
    };
    let Some(rest) = last.strip_prefix('v') else {
        return false;
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let mut tail = &rest[digits..];
    if tail.is_empty() {
        return false;
    }
    if let Some(t) = tail.strip_prefix('p') {
        let d = t.chars().take_while(char::is_ascii_digit).count();
        if d == 0 {
            return false;
        }
        tail = &t[d..];
    }
    if tail.starts_with("test") {
        return true;
    }
    for stage in ["alpha", "beta"] {
        if let Some(t) = tail.strip_prefix(stage) {
            return t.chars().all(|c| c.is_ascii_digit());
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Option<BreakingConfig>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let cfg =
            BreakingConfig::from_yaml_text(Path::new("buf.yaml"), text, Path::new("."), &mut diags);
        (cfg, diags)
    }

    #[test]
    fn default_config_runs_the_file_category() {
        let rules = BreakingConfig::default().enabled_rules();
        assert!(rules.contains("FIELD_NO_DELETE"));
        assert!(rules.contains("FILE_NO_DELETE"));
        assert!(!rules.contains("PACKAGE_NO_DELETE"));
        assert!(!rules.contains("FIELD_WIRE_COMPATIBLE_TYPE"));
    }

    #[test]
    fn use_except_and_ignore_only_are_read() {
        let (cfg, diags) = parse(
            "version: v2\nbreaking:\n  use: [WIRE]\n  except: [FIELD_SAME_DEFAULT]\n  ignore_only:\n    FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED: [foo/bar.proto]\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let cfg = cfg.unwrap();
        let rules = cfg.enabled_rules();
        assert!(rules.contains("FIELD_WIRE_COMPATIBLE_TYPE"));
        assert!(!rules.contains("FIELD_SAME_DEFAULT"));
        assert!(cfg.ignores(
            "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
            "foo/bar.proto",
            ""
        ));
        assert!(!cfg.ignores("FIELD_SAME_ONEOF", "foo/bar.proto", ""));
    }

    #[test]
    fn deprecated_rules_run_their_replacements() {
        let (cfg, _) = parse("version: v1\nbreaking:\n  use: [FIELD_SAME_LABEL]\n");
        let rules = cfg.unwrap().enabled_rules();
        assert_eq!(rules.len(), 3);
        assert!(rules.contains("FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY"));
    }

    #[test]
    fn invalid_yaml_is_a_diagnostic_not_a_panic() {
        let (cfg, diags) = parse("version: v1\nbreaking: [use: {\n");
        assert!(cfg.is_none());
        assert_eq!(diags[0].code, "buf-config-invalid");
        let (_, diags) = parse("breaking:\n  use: FILE\n  except: [NOT_A_RULE]\n");
        assert_eq!(diags.len(), 2, "{diags:?}");
    }

    #[test]
    fn unstable_packages_are_recognised() {
        for p in ["a.v1alpha1", "a.v1beta", "a.v2test", "a.v1p1beta1"] {
            assert!(is_unstable_package(p), "{p}");
        }
        for p in ["a.v1", "a", "", "a.valpha", "a.v1foo"] {
            assert!(!is_unstable_package(p), "{p}");
        }
    }
}
