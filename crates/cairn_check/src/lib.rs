//! `cairn check`: rules over the whole system model.
//!
//! A rule is one file in `src/rules/`: its `//!` documentation (what it
//! does, why it matters, an example, the fix, references), its metadata
//! ([`Rule`]: stable code, kebab-case name, category, severity per
//! environment profile) and its check function. `build.rs` lists the files,
//! so adding a rule is adding a file. Rules read the model ([`Ctx`]) and
//! report [`Finding`]s; the engine ([`run`]) runs them in parallel, applies
//! the profile, configuration and suppressions, and sorts the result. The
//! output formats live in [`output`].

pub mod config;
pub mod ctx;
pub mod docs;
pub mod kit_api;
pub mod kit_graph;
pub mod kit_manifest;
pub mod kit_mesh;
pub mod kit_resilience;
pub mod kit_security;
pub mod output;
pub mod quantity;
pub mod rules_kit;
mod suppress;

use std::fmt;

use cairn_source::{Diagnostic, FileId, Pos, Severity};
use rayon::prelude::*;
use serde::Serialize;

pub use config::Settings;
pub use ctx::Ctx;

include!(concat!(env!("OUT_DIR"), "/rules.rs"));

/// The environment profile a check runs for: how strict it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// A home lab: only what breaks or exposes the system.
    Homelab,
    /// A sandbox to try things in.
    Sandbox,
    /// A development environment (the default).
    Dev,
    /// A staging environment: production's rules, mostly as warnings.
    Staging,
    /// Production: every rule, strict.
    Production,
}

impl Profile {
    /// Every profile, least strict first.
    pub const ALL: [Profile; 5] = [
        Profile::Homelab,
        Profile::Sandbox,
        Profile::Dev,
        Profile::Staging,
        Profile::Production,
    ];

    /// The name used in `--env` and `cairn.yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Homelab => "homelab",
            Profile::Sandbox => "sandbox",
            Profile::Dev => "dev",
            Profile::Staging => "staging",
            Profile::Production => "production",
        }
    }

    /// Parses a profile name (`development`, `prod`, `stage` are accepted too).
    pub fn parse(name: &str) -> Option<Profile> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "homelab" | "home" => Profile::Homelab,
            "sandbox" => Profile::Sandbox,
            "dev" | "development" => Profile::Dev,
            "staging" | "stage" => Profile::Staging,
            "production" | "prod" => Profile::Production,
            _ => return None,
        })
    }
}

/// How a rule reports in one profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The rule does not run.
    Off,
    /// Findings are informational.
    Info,
    /// Findings are warnings.
    Warning,
    /// Findings are errors.
    Error,
}

impl Level {
    /// The severity of a finding at this level (`None` when off).
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Off => None,
            Level::Info => Some(Severity::Info),
            Level::Warning => Some(Severity::Warning),
            Level::Error => Some(Severity::Error),
        }
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }

    /// Parses `off`, `info`, `warning` or `error`.
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "off" | "none" => Level::Off,
            "info" | "note" => Level::Info,
            "warning" | "warn" => Level::Warning,
            "error" => Level::Error,
            _ => return None,
        })
    }
}

/// What a rule is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// CPU and memory requests and limits.
    Resources,
    /// Whether references between manifests resolve, and API versions.
    Manifest,
    /// Service accounts, roles and bindings.
    Access,
    /// Network policies.
    Network,
    /// The dependency graph: cycles, fan-out, shared data, call chains.
    Architecture,
    /// Timeouts, retries, probes, replicas and disruption.
    Resilience,
    /// Service mesh configuration.
    Mesh,
    /// Tracing and metrics.
    Observability,
    /// Owners, SLOs and runbooks.
    Ownership,
    /// Container and pod security.
    Security,
    /// Spend.
    Cost,
    /// API contracts: path conventions, authentication, rate limits, breaking changes.
    Api,
    /// The suppressions themselves.
    Suppression,
}

impl Category {
    /// Every category, in documentation order.
    pub const ALL: [Category; 13] = [
        Category::Resources,
        Category::Manifest,
        Category::Access,
        Category::Network,
        Category::Architecture,
        Category::Resilience,
        Category::Mesh,
        Category::Observability,
        Category::Ownership,
        Category::Security,
        Category::Cost,
        Category::Api,
        Category::Suppression,
    ];

    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Resources => "resources",
            Category::Manifest => "manifest",
            Category::Access => "access",
            Category::Network => "network",
            Category::Architecture => "architecture",
            Category::Resilience => "resilience",
            Category::Mesh => "mesh",
            Category::Observability => "observability",
            Category::Ownership => "ownership",
            Category::Security => "security",
            Category::Cost => "cost",
            Category::Api => "api",
            Category::Suppression => "suppression",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule: metadata and the check.
pub struct Rule {
    /// Stable code, e.g. `CA101`; never reused.
    pub code: &'static str,
    /// Stable kebab-case name, e.g. `missing-resource-requests`.
    pub name: &'static str,
    /// What it is about.
    pub category: Category,
    /// Level per profile: homelab, sandbox, dev, staging, production.
    pub levels: [Level; 5],
    /// One line: what a finding means.
    pub summary: &'static str,
    /// The fix, when a finding gives none of its own.
    pub help: &'static str,
    /// The check: reads the model and reports findings.
    pub check: fn(&Ctx<'_>, &mut Out),
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("code", &self.code)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Rule {
    /// The level in a profile.
    pub fn level(&self, profile: Profile) -> Level {
        self.levels[profile as usize]
    }

    /// The documentation: the rule file's `//!` lines.
    pub fn docs(&self) -> String {
        let text = RULE_FILES
            .iter()
            .find(|(r, _)| std::ptr::eq(*r, self))
            .map_or("", |(_, t)| t);
        let mut out = String::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("//!") else {
                if line.trim().is_empty() || line.starts_with("//") {
                    continue;
                }
                break;
            };
            out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            out.push('\n');
        }
        out
    }
}

/// Every rule, sorted by code (by number: `CA951` before `CA1001`).
pub fn rules() -> Vec<&'static Rule> {
    let mut all: Vec<&'static Rule> = RULE_FILES.iter().map(|(r, _)| *r).collect();
    all.sort_by_key(|r| (r.code.len(), r.code));
    all
}

/// A rule by code or name.
pub fn rule(code_or_name: &str) -> Option<&'static Rule> {
    RULE_FILES
        .iter()
        .map(|(r, _)| *r)
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// The object a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectKey {
    /// Kind, e.g. `Deployment`; `compose service` for compose; `service` for a model service.
    pub kind: String,
    /// Namespace, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// One finding of one rule.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The rule that reported it.
    pub rule: &'static Rule,
    /// Its severity, after the profile and configuration.
    pub severity: Severity,
    /// What is wrong, in one sentence: lower-case start, no trailing period.
    pub message: String,
    /// The file.
    pub file: Option<FileId>,
    /// Where in the file.
    pub pos: Option<Pos>,
    /// The object it is about.
    pub object: Option<ObjectKey>,
    /// Index of that object in `Ingest::objects`, for annotation suppressions.
    pub object_index: Option<usize>,
    /// What to do, when more specific than the rule's help.
    pub help: Option<String>,
}

impl Finding {
    /// Sets the help line.
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    /// The help line, falling back to the rule's.
    pub fn help_text(&self) -> &str {
        self.help.as_deref().unwrap_or(self.rule.help)
    }
}

/// Where a rule reports its findings.
pub struct Out {
    rule: &'static Rule,
    findings: Vec<Finding>,
}

impl Out {
    /// A collector for `rule`.
    pub fn new(rule: &'static Rule) -> Self {
        Out {
            rule,
            findings: Vec::new(),
        }
    }

    /// Reports a finding at `pos` in `file`, about no particular object.
    pub fn at(
        &mut self,
        file: Option<FileId>,
        pos: Option<Pos>,
        message: impl Into<String>,
    ) -> &mut Finding {
        self.findings.push(Finding {
            rule: self.rule,
            severity: Severity::Warning,
            message: message.into(),
            file,
            pos,
            object: None,
            object_index: None,
            help: None,
        });
        self.findings.last_mut().expect("just pushed")
    }

    /// Reports a finding about object `index` of the scan, at `pos` inside it.
    pub fn object(
        &mut self,
        cx: &Ctx<'_>,
        index: usize,
        pos: Pos,
        message: impl Into<String>,
    ) -> &mut Finding {
        let obj = &cx.ingest.objects[index];
        let f = self.at(Some(obj.file), Some(pos), message);
        f.object = Some(ObjectKey {
            kind: obj.kind.clone(),
            namespace: obj.namespace.clone(),
            name: obj.name.clone(),
        });
        f.object_index = Some(index);
        f
    }

    /// Reports a finding at a piece of model evidence, about `object` if known.
    pub fn evidence(
        &mut self,
        cx: &Ctx<'_>,
        ev: &cairn_model::Evidence,
        object: Option<ObjectKey>,
        message: impl Into<String>,
    ) -> &mut Finding {
        let (file, pos) = cx.locate(ev);
        let index = object
            .as_ref()
            .and_then(|o| cx.find_index(&o.kind, o.namespace.as_deref(), &o.name));
        let f = self.at(file, pos, message);
        f.object = object;
        f.object_index = index;
        f
    }

    /// The findings so far.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
}

/// The result of a check run.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings, sorted by file, line, column and code.
    pub findings: Vec<Finding>,
    /// How many findings suppressions removed.
    pub suppressed: usize,
    /// Problems with the check configuration.
    pub diagnostics: Vec<Diagnostic>,
    /// Rules that ran.
    pub rules_run: Vec<&'static Rule>,
}

impl Outcome {
    /// Findings at or above `level`.
    pub fn count_at_least(&self, level: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity >= level).count()
    }
}

/// Runs every enabled rule over the model and applies settings and suppressions.
pub fn run(
    ingest: &cairn_ingest::Ingest,
    system: &cairn_model::System,
    settings: &Settings,
) -> Outcome {
    let cx = Ctx::new(ingest, system, settings);
    let enabled: Vec<&'static Rule> = rules()
        .into_iter()
        .filter(|r| settings.level_of(r) != Level::Off)
        .collect();
    let mut findings: Vec<Finding> = enabled
        .par_iter()
        .flat_map_iter(|r| {
            let mut out = Out::new(r);
            (r.check)(&cx, &mut out);
            out.findings
        })
        .collect();
    findings.retain(|f| !settings.path_ignored(f.rule, f.file.map(|id| ingest.sources.path(id))));
    let mut suppressed = 0;
    let mut meta = suppress::apply(&cx, &mut findings, &mut suppressed);
    meta.retain(|f| {
        settings.level_of(f.rule) != Level::Off
            && !settings.path_ignored(f.rule, f.file.map(|id| ingest.sources.path(id)))
    });
    findings.extend(meta);
    for f in &mut findings {
        f.severity = settings
            .level_of(f.rule)
            .severity()
            .unwrap_or(Severity::Info);
    }
    findings.sort_by(|a, b| {
        let pa = a.file.map(|id| ingest.sources.path(id));
        let pb = b.file.map(|id| ingest.sources.path(id));
        (
            pa,
            a.pos.map(|p| (p.line, p.column)),
            a.rule.code,
            &a.message,
        )
            .cmp(&(
                pb,
                b.pos.map(|p| (p.line, p.column)),
                b.rule.code,
                &b.message,
            ))
    });
    findings.dedup_by(|a, b| {
        std::ptr::eq(a.rule, b.rule) && a.file == b.file && a.pos == b.pos && a.message == b.message
    });
    Outcome {
        findings,
        suppressed,
        diagnostics: settings.diagnostics.clone(),
        rules_run: enabled,
    }
}

/// Levels per profile, least strict first: `levels![off, info, warning, error, error]`.
#[macro_export]
macro_rules! levels {
    ($h:ident, $s:ident, $d:ident, $st:ident, $p:ident) => {
        [
            $crate::levels!(@ $h),
            $crate::levels!(@ $s),
            $crate::levels!(@ $d),
            $crate::levels!(@ $st),
            $crate::levels!(@ $p),
        ]
    };
    (@ off) => { $crate::Level::Off };
    (@ info) => { $crate::Level::Info };
    (@ warning) => { $crate::Level::Warning };
    (@ error) => { $crate::Level::Error };
}

/// What rule files import.
pub mod prelude {
    pub use crate::ctx::{Ctx, PodContainer, same_ns};
    pub use crate::quantity::{format_bytes, format_milli, parse_cpu_milli, parse_memory_bytes};
    pub use crate::rules_kit::{describe, key_pos, security_value};
    pub use crate::{Category, Finding, Level, ObjectKey, Out, Rule, levels};
    pub use cairn_ingest::k8s::K8sObject;
    pub use cairn_source::Pos;
    pub use cairn_yaml::Node;
}
