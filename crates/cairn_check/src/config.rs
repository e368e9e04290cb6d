//! Settings of a check run: the profile, which rules run at what severity,
//! per-path ignores and thresholds, read from `cairn.yaml`'s `checks:`
//! section and the command line. Problems are diagnostics with a position.

use std::path::Path;
use std::sync::Arc;

use cairn_ingest::config::{CairnConfig, edit_distance};
use cairn_source::{Diagnostic, FileId, Pos, Severity};
use cairn_yaml::Node;
use globset::{Glob, GlobMatcher};

use crate::quantity::{parse_cpu_milli, parse_memory_bytes};
use crate::{Category, Level, Profile, Rule, rules};

/// Limits rules compare against.
#[derive(Clone, Debug)]
pub struct Thresholds {
    /// Lowest CPU request or limit, in millicores.
    pub cpu_min_milli: f64,
    /// Highest CPU request or limit, in millicores.
    pub cpu_max_milli: f64,
    /// Lowest memory request or limit, in bytes.
    pub memory_min: f64,
    /// Highest memory request or limit, in bytes.
    pub memory_max: f64,
    /// Synchronous dependencies one service may have.
    pub max_fan_out: usize,
    /// Longest chain of synchronous calls, in hops.
    pub max_call_depth: usize,
    /// How many times its request a limit may be.
    pub max_limit_request_ratio: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            cpu_min_milli: 10.0,
            cpu_max_milli: 4000.0,
            memory_min: 64.0 * 1024.0 * 1024.0,
            memory_max: 8.0 * 1024.0 * 1024.0 * 1024.0,
            max_fan_out: 7,
            max_call_depth: 4,
            max_limit_request_ratio: 4.0,
        }
    }
}

/// Where an API says which version of it a client calls (`checks.api.version`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiVersioning {
    /// A path segment (`/v1/...`), in the path or the servers' base URL (the default).
    Path,
    /// A header or media type: paths carry no version.
    Header,
    /// The API is not versioned.
    None,
}

/// Conventions the API contract rules check (`checks.api`).
#[derive(Clone, Debug)]
pub struct ApiConventions {
    /// Where the version is.
    pub version: ApiVersioning,
    /// A prefix every path must start with (server base path included), e.g. `/api`.
    pub prefix: Option<String>,
}

impl Default for ApiConventions {
    fn default() -> Self {
        ApiConventions {
            version: ApiVersioning::Path,
            prefix: None,
        }
    }
}

/// Reads a file of the baseline, given its path in the current tree.
type ReadFn = dyn Fn(&Path) -> std::io::Result<Vec<u8>> + Send + Sync;
/// Names a file of the baseline for messages, given its path in the current tree.
type ShowFn = dyn Fn(&Path) -> String + Send + Sync;

/// The old version of the tree that rules comparing versions read
/// (`cairn check --baseline`). The caller decides where it comes from (a git
/// revision, a folder); the engine only asks for files by their current path,
/// so the check itself does no IO of its own choosing.
#[derive(Clone)]
pub struct Baseline {
    name: String,
    read: Arc<ReadFn>,
    show: Arc<ShowFn>,
}

impl std::fmt::Debug for Baseline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Baseline")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Baseline {
    /// A baseline called `name` (`git:main`), whose files `read` returns and
    /// `show` names, both given a file's path in the current tree.
    pub fn new(
        name: impl Into<String>,
        read: impl Fn(&Path) -> std::io::Result<Vec<u8>> + Send + Sync + 'static,
        show: impl Fn(&Path) -> String + Send + Sync + 'static,
    ) -> Self {
        Baseline {
            name: name.into(),
            read: Arc::new(read),
            show: Arc::new(show),
        }
    }

    /// Its name, as given on the command line.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The baseline's version of the file at `path` in the current tree.
    pub fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        (self.read)(path)
    }

    /// How to name the baseline's version of `path` in a message.
    pub fn show(&self, path: &Path) -> String {
        (self.show)(path)
    }
}

/// A rule selector: a rule, a category, or everything.
#[derive(Clone, Copy, Debug)]
pub enum Selection {
    /// One rule.
    Rule(&'static Rule),
    /// Every rule of a category.
    Category(Category),
    /// Every rule.
    All,
}

impl Selection {
    /// Whether it covers `rule`.
    pub fn covers(&self, rule: &Rule) -> bool {
        match self {
            Selection::Rule(r) => std::ptr::eq(*r, rule),
            Selection::Category(c) => rule.category == *c,
            Selection::All => true,
        }
    }

    /// Parses a rule name, code, category or `all`.
    pub fn parse(text: &str) -> Result<Selection, String> {
        let t = text.trim();
        if t == "all" || t == "*" {
            return Ok(Selection::All);
        }
        if let Some(r) = crate::rule(t) {
            return Ok(Selection::Rule(r));
        }
        if let Some(c) = Category::ALL.iter().find(|c| c.as_str() == t) {
            return Ok(Selection::Category(*c));
        }
        let mut names: Vec<&str> = rules().iter().map(|r| r.name).collect();
        names.extend(Category::ALL.iter().map(|c| c.as_str()));
        let close = names
            .iter()
            .filter(|n| edit_distance(n, t) <= 3)
            .min_by_key(|n| edit_distance(n, t));
        Err(match close {
            Some(c) => format!("no rule or category is called `{t}`; did you mean `{c}`?"),
            None => format!("no rule or category is called `{t}`; `cairn rules` lists them"),
        })
    }
}

/// Everything that decides what a check run reports.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The environment profile.
    pub profile: Profile,
    /// Only these run, when not empty.
    pub select: Vec<Selection>,
    /// These do not run.
    pub ignore: Vec<Selection>,
    /// Severity overrides, last one wins.
    pub overrides: Vec<(Selection, Level)>,
    /// Rules ignored in files matching a glob.
    pub path_ignores: Vec<(GlobMatcher, Vec<Selection>)>,
    /// Limits.
    pub thresholds: Thresholds,
    /// Namespaces declared in `cairn.yaml`.
    pub namespaces: Vec<String>,
    /// API conventions (`checks.api`).
    pub api: ApiConventions,
    /// The old version of the tree, for rules that compare (`--baseline`).
    pub baseline: Option<Baseline>,
    /// Problems with the settings.
    pub diagnostics: Vec<Diagnostic>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings::for_profile(Profile::Dev)
    }
}

impl Settings {
    /// Default settings for a profile.
    pub fn for_profile(profile: Profile) -> Self {
        Settings {
            profile,
            select: Vec::new(),
            ignore: Vec::new(),
            overrides: Vec::new(),
            path_ignores: Vec::new(),
            thresholds: Thresholds::default(),
            namespaces: Vec::new(),
            api: ApiConventions::default(),
            baseline: None,
            diagnostics: Vec::new(),
        }
    }

    /// Settings from `cairn.yaml` (the first one read, if any), with the
    /// command line's profile winning over the file's `environment`.
    pub fn from_config(config: Option<&CairnConfig>, cli_profile: Option<Profile>) -> Self {
        let mut diags = Vec::new();
        let file_profile = config.and_then(|c| {
            let env = c.environment.as_deref()?;
            let p = Profile::parse(env);
            if p.is_none() {
                diags.push(
                    Diagnostic::error(
                        "check-config-invalid",
                        format!("`environment: {env}` is not a profile"),
                    )
                    .in_file_opt(c.file)
                    .with_help("use homelab, sandbox, dev, staging or production"),
                );
            }
            p
        });
        let mut s = Settings::for_profile(cli_profile.or(file_profile).unwrap_or(Profile::Dev));
        s.diagnostics = diags;
        if let Some(c) = config {
            s.namespaces.clone_from(&c.namespaces);
            if let (Some(file), Some(node)) = (c.file, c.checks.as_ref()) {
                s.read(file, node);
            }
        }
        s
    }

    fn read(&mut self, file: FileId, node: &Node) {
        let mut bad = |pos: Pos, message: String, help: &str| {
            self.diagnostics.push(
                Diagnostic::error("check-config-invalid", message)
                    .in_file(file)
                    .at(pos)
                    .with_help(help),
            );
        };
        let selections = |key: &str, bad: &mut dyn FnMut(Pos, String, &str)| {
            let mut out = Vec::new();
            for item in node.seq_at(key) {
                match item.as_str().map(Selection::parse) {
                    Some(Ok(sel)) => out.push(sel),
                    Some(Err(e)) => bad(item.pos, e, "name a rule, a code or a category"),
                    None => bad(
                        item.pos,
                        format!("`checks.{key}` entries are strings"),
                        "write a rule name",
                    ),
                }
            }
            out
        };
        let select = selections("select", &mut bad);
        let ignore = selections("ignore", &mut bad);
        let mut overrides = Vec::new();
        if let Some(sev) = node.get("severity") {
            match sev.as_map() {
                Some(entries) => {
                    for (k, v) in entries {
                        let key = k.as_str().unwrap_or_default();
                        let sel = match Selection::parse(key) {
                            Ok(s) => s,
                            Err(e) => {
                                bad(k.pos, e, "name a rule, a code or a category");
                                continue;
                            }
                        };
                        match v.as_str().and_then(Level::parse) {
                            Some(level) => overrides.push((sel, level)),
                            None => bad(
                                v.pos,
                                format!("`{}` is not a severity", v.as_str().unwrap_or("?")),
                                "use error, warning, info or off",
                            ),
                        }
                    }
                }
                None if sev.is_null() => {}
                None => bad(
                    sev.pos,
                    "`checks.severity` must be a mapping of rule to severity".into(),
                    "e.g. `severity: {image-tag-latest: error}`",
                ),
            }
        }
        let mut path_ignores = Vec::new();
        for entry in node.seq_at("ignore-paths") {
            let Some(path) = entry.get("path").and_then(Node::as_str) else {
                bad(
                    entry.pos,
                    "an `ignore-paths` entry needs a `path`".into(),
                    "e.g. `- path: legacy/**`",
                );
                continue;
            };
            let glob = match Glob::new(path) {
                Ok(g) => g.compile_matcher(),
                Err(e) => {
                    bad(
                        entry.get("path").map_or(entry.pos, |n| n.pos),
                        format!("`{path}` is not a valid glob: {e}"),
                        "use `*`, `**`, `?` and `[...]`",
                    );
                    continue;
                }
            };
            let mut sels = Vec::new();
            for r in entry.seq_at("rules") {
                match r.as_str().map(Selection::parse) {
                    Some(Ok(s)) => sels.push(s),
                    Some(Err(e)) => bad(r.pos, e, "name a rule, a code or a category"),
                    None => bad(
                        r.pos,
                        "rule entries are strings".into(),
                        "write a rule name",
                    ),
                }
            }
            if entry.get("rules").is_none() {
                sels.push(Selection::All);
            }
            path_ignores.push((glob, sels));
        }
        let mut t = Thresholds::default();
        if let Some(th) = node.get("thresholds") {
            for (key, parse, min, max) in [
                (
                    "cpu",
                    parse_cpu_milli as fn(&str) -> Option<f64>,
                    &mut t.cpu_min_milli,
                    &mut t.cpu_max_milli,
                ),
                (
                    "memory",
                    parse_memory_bytes,
                    &mut t.memory_min,
                    &mut t.memory_max,
                ),
            ] {
                let Some(v) = th.get(key) else { continue };
                let text = v.as_str().unwrap_or_default();
                match parse_range(text, parse) {
                    Some((lo, hi)) => {
                        *min = lo;
                        *max = hi;
                    }
                    None => bad(
                        v.pos,
                        format!("`{text}` is not a {key} range"),
                        "write `min-max`, e.g. `10m-4000m` or `64Mi-8Gi`",
                    ),
                }
            }
            for (key, slot) in [
                ("max-fan-out", &mut t.max_fan_out),
                ("max-call-depth", &mut t.max_call_depth),
            ] {
                if let Some(v) = th.get(key) {
                    match v.as_i64().and_then(|n| usize::try_from(n).ok()) {
                        Some(n) if n > 0 => *slot = n,
                        _ => bad(
                            v.pos,
                            format!("`{key}` must be a positive integer"),
                            "e.g. 7",
                        ),
                    }
                }
            }
            if let Some(v) = th.get("max-limit-request-ratio") {
                match v.as_f64() {
                    Some(x) if x >= 1.0 => t.max_limit_request_ratio = x,
                    _ => bad(
                        v.pos,
                        "`max-limit-request-ratio` must be a number of at least 1".into(),
                        "e.g. 4",
                    ),
                }
            }
        }
        let api = read_api(node.get("api"), &mut bad);
        self.select.extend(select);
        self.ignore.extend(ignore);
        self.api = api;
        self.overrides.extend(overrides);
        self.path_ignores.extend(path_ignores);
        self.thresholds = t;
    }

    /// Adds command-line selections (`--select`, `--ignore`), reporting bad names.
    pub fn add_cli(&mut self, select: &[String], ignore: &[String]) -> Result<(), String> {
        for s in select {
            self.select.push(Selection::parse(s)?);
        }
        for s in ignore {
            self.ignore.push(Selection::parse(s)?);
        }
        Ok(())
    }

    /// The level a rule runs at under these settings.
    pub fn level_of(&self, rule: &Rule) -> Level {
        let mut level = rule.level(self.profile);
        if !self.select.is_empty() {
            if !self.select.iter().any(|s| s.covers(rule)) {
                return Level::Off;
            }
            if level == Level::Off {
                // selected by name: run it at its level in the strictest profile
                level = rule.levels[4];
            }
        }
        if self.ignore.iter().any(|s| s.covers(rule)) {
            return Level::Off;
        }
        for (sel, l) in &self.overrides {
            if sel.covers(rule) {
                level = *l;
            }
        }
        level
    }

    /// Whether a per-path ignore covers `rule` in `path`.
    pub fn path_ignored(&self, rule: &Rule, path: Option<&str>) -> bool {
        let Some(path) = path else { return false };
        let path = path.strip_prefix("./").unwrap_or(path);
        self.path_ignores
            .iter()
            .any(|(g, sels)| g.is_match(path) && sels.iter().any(|s| s.covers(rule)))
    }

    /// The severity at which `cairn check` fails, for `--fail-on`.
    pub fn parse_fail_on(text: &str) -> Option<Severity> {
        Level::parse(text).and_then(Level::severity)
    }
}

/// Reads `checks.api`: `version` (path, header, none) and `prefix`.
fn read_api(node: Option<&Node>, bad: &mut dyn FnMut(Pos, String, &str)) -> ApiConventions {
    let mut api = ApiConventions::default();
    let Some(node) = node.filter(|n| !n.is_null()) else {
        return api;
    };
    if let Some(v) = node.get("version").filter(|v| !v.is_null()) {
        match v.as_str() {
            Some("path") => api.version = ApiVersioning::Path,
            Some("header") => api.version = ApiVersioning::Header,
            Some("none") => api.version = ApiVersioning::None,
            other => bad(
                v.pos,
                format!("`{}` is not a way to version an API", other.unwrap_or("?")),
                "use path (`/v1/...`), header or none",
            ),
        }
    }
    if let Some(p) = node.get("prefix").filter(|p| !p.is_null()) {
        match p.as_str().map(str::trim) {
            Some(text) if text.starts_with('/') => {
                let t = text.trim_end_matches('/');
                api.prefix = (!t.is_empty()).then(|| t.to_owned());
            }
            other => bad(
                p.pos,
                format!(
                    "`checks.api.prefix` is `{}`, not a path",
                    other.unwrap_or("?")
                ),
                "write a path that starts with `/`, e.g. `/api`",
            ),
        }
    }
    api
}

fn parse_range(text: &str, parse: fn(&str) -> Option<f64>) -> Option<(f64, f64)> {
    // split at a `-` that is not a sign: `10m-4000m`, `64Mi - 8Gi`
    let idx = text
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == '-')
        .map(|(i, _)| i)?;
    let lo = parse(text[..idx].trim())?;
    let hi = parse(text[idx + 1..].trim())?;
    (lo <= hi).then_some((lo, hi))
}

trait InFileOpt {
    fn in_file_opt(self, file: Option<FileId>) -> Self;
}

impl InFileOpt for Diagnostic {
    fn in_file_opt(self, file: Option<FileId>) -> Self {
        match file {
            Some(f) => self.in_file(f),
            None => self,
        }
    }
}
