//! API contracts: loading OpenAPI documents and finding what changed
//! between two versions of one, with the level of each change for the
//! clients of the API.
//!
//! Reading is lenient: many real specifications are not strictly valid,
//! and a change that can be found is worth more than a refusal. Every
//! change points at the file, line and column it concerns: the revision
//! for additions and modifications, the base for removals. Problems with
//! the input (YAML that does not parse, a `$ref` that resolves nowhere)
//! are [`Diagnostic`]s, and the rest of the comparison still runs.

pub mod asyncapi;
pub mod filter;
pub mod openapi;
pub mod output;

use cairn_source::Loc;
use serde::Serialize;

pub use cairn_source::Diagnostic;

/// How much a change matters to the clients of an API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Level {
    /// Worth knowing; no client breaks.
    #[serde(rename = "INFO")]
    Info,
    /// May break some clients; review it.
    #[serde(rename = "WARN")]
    Warn,
    /// Breaks clients.
    #[serde(rename = "ERR")]
    Err,
}

impl Level {
    /// The upper-case name used in output and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Err => "ERR",
        }
    }

    /// Parses `ERR`, `WARN` or `INFO` (any case; `error`, `warning` too).
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "err" | "error" => Some(Level::Err),
            "warn" | "warning" => Some(Level::Warn),
            "info" => Some(Level::Info),
            _ => None,
        }
    }
}

/// One change between two versions of a contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The check id, such as `request-property-became-required`.
    pub id: &'static str,
    /// The level after severity overrides.
    pub level: Level,
    /// What changed, in a sentence.
    pub text: String,
    /// The HTTP method (upper case) or message operation, when the change is in one.
    pub operation: Option<String>,
    /// The path (as written in the revision, or the base for removals) or channel.
    pub path: Option<String>,
    /// Where the change is: in the revision, or in the base for removals.
    #[serde(skip)]
    pub loc: Option<Loc>,
}

/// Compares two contract documents already read into `docs`: AsyncAPI
/// when both are AsyncAPI, else OpenAPI (2.0 or 3.x).
pub fn compare(
    docs: &openapi::Docs,
    base: cairn_source::FileId,
    revision: cairn_source::FileId,
    opts: &openapi::Options,
) -> (Vec<Change>, Vec<Diagnostic>) {
    let kind = |f| docs.root(f).map(|r| asyncapi::is_asyncapi(r.node));
    match (kind(base), kind(revision)) {
        (Some(true), Some(true)) => asyncapi::compare(docs, base, revision, opts),
        (Some(a), Some(b)) if a != b => {
            let (f, which) = if a {
                (revision, "the new version")
            } else {
                (base, "the base")
            };
            let d = Diagnostic::error(
                "contract-kind-mismatch",
                format!("one version is an AsyncAPI document and the other is not ({which} is OpenAPI); they cannot be compared"),
            )
            .in_file(f)
            .with_help("compare two versions of the same contract");
            (Vec::new(), vec![d])
        }
        _ => openapi::compare(docs, base, revision, opts),
    }
}

/// Changes from several comparisons in one order: level (most severe
/// first), path, operation, id, text.
pub fn openapi_sorted(changes: Vec<Change>) -> Vec<Change> {
    openapi::diff::finish(changes)
}
