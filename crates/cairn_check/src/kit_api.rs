//! Helpers shared by the API contract rules: the scan's OpenAPI and AsyncAPI contracts
//! parsed once per run with `cairn_contract` (their `$ref`s followed through
//! the files the scan read, never the disk), positions mapped back into the
//! scan, the paths that are not resources, and security requirements.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use cairn_contract::openapi::{At, Docs, Spec, normalize};
use cairn_ingest::{Format, Ingest};
use cairn_source::{FileId, Loc, Pos};
use cairn_yaml::Node;

use crate::config::Baseline;

/// The `space` of baseline files in [`Docs`]: the scan's files are space 0,
/// so a file and its old version are kept apart though they share a path.
const BASELINE_SPACE: u32 = 1;

/// One OpenAPI or AsyncAPI contract of the scan.
#[derive(Clone, Copy, Debug)]
pub struct ApiContract {
    /// The contract file in the scan.
    pub file: FileId,
    /// Its root document in [`Contracts::docs`].
    pub current: FileId,
    /// The baseline's version in [`Contracts::docs`], when there is a
    /// baseline and the contract is in it.
    pub base: Option<FileId>,
    /// An AsyncAPI contract: only compared with its baseline; the
    /// other API rules are about HTTP operations.
    pub asyncapi: bool,
}

/// The scan's OpenAPI and AsyncAPI contracts, parsed.
pub struct Contracts {
    /// Every file read: the contracts, the files their `$ref`s reach, and
    /// the baseline's versions.
    pub docs: Docs,
    /// The contracts that parsed, in scan order.
    pub list: Vec<ApiContract>,
    /// Files of `docs` that are files of the scan, with the same text.
    in_scan: HashMap<FileId, FileId>,
}

impl Contracts {
    /// Parses every OpenAPI contract of the scan from the text the scan
    /// holds, and its baseline version when `baseline` is given. A contract
    /// that does not parse is left out: the scan reported it.
    pub fn build(ingest: &Ingest, baseline: Option<&Baseline>) -> Contracts {
        let wanted = |f: Format| f == Format::OpenApi || f == Format::AsyncApi;
        if !ingest.contracts.iter().any(|c| wanted(c.format)) {
            return Contracts {
                docs: Docs::new(),
                list: Vec::new(),
                in_scan: HashMap::new(),
            };
        }
        let by_path: HashMap<PathBuf, FileId> = ingest
            .sources
            .iter()
            .filter(|(_, f)| f.text.is_some())
            .map(|(id, f)| (normalize(Path::new(&*f.path)), id))
            .collect();
        let text_of = |id: FileId| ingest.sources.get(id).and_then(|f| f.text.as_deref());
        let scan_read = |p: &Path| -> std::io::Result<Vec<u8>> {
            by_path
                .get(&normalize(p))
                .and_then(|id| text_of(*id))
                .map(|t| t.as_bytes().to_vec())
                .ok_or_else(|| std::io::Error::other("it is not among the files the scan read"))
        };
        let mut docs = Docs::new();
        let mut list = Vec::new();
        let mut seen = HashSet::new();
        for c in &ingest.contracts {
            if !wanted(c.format) || !seen.insert(c.file) {
                continue;
            }
            let path = ingest.sources.path(c.file);
            let Some(current) = docs.load_with(Path::new(path), path.to_owned(), 0, &scan_read)
            else {
                continue;
            };
            let base = baseline.and_then(|b| {
                let read = |p: &Path| b.read(p);
                docs.load_with(
                    Path::new(path),
                    b.show(Path::new(path)),
                    BASELINE_SPACE,
                    &read,
                )
            });
            list.push(ApiContract {
                file: c.file,
                current,
                base,
                asyncapi: c.format == Format::AsyncApi,
            });
        }
        let mut in_scan = HashMap::new();
        for (id, f) in docs.sources.iter() {
            if let (Some(&scan), Some(text)) = (
                by_path.get(&normalize(Path::new(&*f.path))),
                f.text.as_deref(),
            ) && text_of(scan) == Some(text)
            {
                in_scan.insert(id, scan);
            }
        }
        Contracts {
            docs,
            list,
            in_scan,
        }
    }

    /// The current version of a contract.
    pub fn spec(&self, c: &ApiContract) -> Option<Spec<'_>> {
        Spec::new(&self.docs, c.current)
    }

    /// The file of the scan a file of [`Contracts::docs`] is, if it is one.
    pub fn scan_file(&self, file: FileId) -> Option<FileId> {
        self.in_scan.get(&file).copied()
    }

    /// `file:line:column` of a location in [`Contracts::docs`], for messages.
    pub fn show(&self, loc: Loc) -> String {
        format!(
            "{}:{}:{}",
            self.docs.sources.path(loc.file),
            loc.pos.line,
            loc.pos.column
        )
    }
}

/// The position of a contract file's first line, for findings about the
/// whole contract or about a place outside the scan.
pub fn first_line() -> Pos {
    Pos {
        line: 1,
        column: 1,
        start: 0,
        end: 0,
    }
}

/// Paths that are not resources of the API: health, readiness and liveness
/// probes, metrics, `/.well-known/…` and the API's own description.
const WELL_KNOWN: &[&str] = &[
    "health",
    "healthz",
    "healthcheck",
    "readyz",
    "livez",
    "readiness",
    "liveness",
    "metrics",
    ".well-known",
    "openapi.json",
    "openapi.yaml",
    "swagger.json",
    "swagger.yaml",
];

/// Whether `segment` names an API version: `v1`, `v2`, `v1beta1`, `v2alpha`, `v1.2`.
pub fn is_version_segment(segment: &str) -> bool {
    let Some(rest) = segment.strip_prefix(['v', 'V']) else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let tail = &rest[digits..];
    let tail = tail.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    if tail.is_empty() {
        return true;
    }
    ["alpha", "beta", "rc"].iter().any(|w| {
        tail.strip_prefix(w)
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Whether a path is not a resource: its first segment, after an `api`
/// segment, version segments and `prefix`, is a health, readiness,
/// liveness or metrics endpoint, `.well-known`, or the API's description.
pub fn is_well_known(path: &str, prefix: Option<&str>) -> bool {
    let rest = prefix
        .and_then(|p| path.strip_prefix(p))
        .filter(|r| r.is_empty() || r.starts_with('/'))
        .unwrap_or(path);
    rest.split('/')
        .filter(|s| !s.is_empty())
        .find(|s| !s.eq_ignore_ascii_case("api") && !is_version_segment(s))
        .is_some_and(|s| {
            WELL_KNOWN
                .iter()
                .any(|w| w.eq_ignore_ascii_case(s.split(':').next().unwrap_or(s)))
        })
}

/// A security scheme a contract defines.
#[derive(Clone, Copy)]
pub struct Scheme<'a> {
    /// Its name, as requirements use it.
    pub name: &'a str,
    /// The scheme object.
    pub node: At<'a>,
}

impl Scheme<'_> {
    /// What the scheme is, in words, when its `type` is one OpenAPI defines
    /// (2.0: basic, apiKey, oauth2; 3.x: http, apiKey, oauth2,
    /// openIdConnect, mutualTLS); `None` for any other type.
    pub fn kind(&self) -> Option<String> {
        let n = self.node.node;
        Some(match n.get_str("type")? {
            "http" => match n.get_str("scheme").map(str::to_ascii_lowercase).as_deref() {
                Some("bearer") => match n.get_str("bearerFormat") {
                    Some(f) => format!("HTTP bearer token ({f})"),
                    None => "HTTP bearer token".to_owned(),
                },
                Some("basic") => "HTTP basic".to_owned(),
                Some(other) => format!("HTTP {other}"),
                None => "HTTP authentication".to_owned(),
            },
            "basic" => "HTTP basic".to_owned(),
            "apiKey" => match (n.get_str("in"), n.get_str("name")) {
                (Some(place), Some(name)) => format!("API key in {place} `{name}`"),
                _ => "API key".to_owned(),
            },
            "oauth2" => "OAuth 2".to_owned(),
            "openIdConnect" => "OpenID Connect".to_owned(),
            "mutualTLS" => "mutual TLS".to_owned(),
            _ => return None,
        })
    }
}

/// The security schemes a contract defines: 3.x `components.securitySchemes`,
/// 2.0 `securityDefinitions`.
pub fn schemes<'a>(spec: &Spec<'a>) -> Vec<Scheme<'a>> {
    let at = if spec.swagger2 {
        spec.get(spec.root, "securityDefinitions")
    } else {
        spec.get_d(spec.root, "components")
            .and_then(|c| spec.get(c, "securitySchemes"))
    };
    spec.entries(at)
        .into_iter()
        .map(|(name, node)| Scheme { name, node })
        .collect()
}

/// A `security` list: its alternatives, each the schemes it names (all of
/// them are needed) with where each name is written.
pub struct Security<'a> {
    /// The file the list is in.
    pub file: FileId,
    /// Where the `security` key is.
    pub key: Pos,
    /// The alternatives: `(the requirement's position, [(scheme, position)])`.
    pub alternatives: Vec<(Pos, Vec<(&'a str, Pos)>)>,
    /// Written as an empty list, `security: []`.
    pub empty: bool,
}

impl Security<'_> {
    /// Whether the list lets a client in without credentials: it is empty
    /// (`security: []`) or an alternative names no scheme (`- {}`).
    pub fn anonymous(&self) -> bool {
        self.empty || self.alternatives.iter().any(|(_, s)| s.is_empty())
    }
}

/// The `security` list of a document or an operation object, when it has
/// one. A value that is not a list is no requirement at all; items that are
/// not mappings are left out.
pub fn security(at: At<'_>) -> Option<Security<'_>> {
    let (k, v) = at.node.entry("security")?;
    let items = v.as_seq()?;
    let alternatives = items
        .iter()
        .filter(|req| req.as_map().is_some())
        .map(|req| {
            let names = req
                .as_map()
                .unwrap_or(&[])
                .iter()
                .filter_map(|(name, _)| Some((name.as_str()?, name.pos)))
                .collect();
            (req.pos, names)
        })
        .collect();
    Some(Security {
        file: at.file,
        key: k.pos,
        alternatives,
        empty: items.is_empty(),
    })
}

/// An operation of a contract, with where its method key is written.
pub struct Operation<'a> {
    /// The path, as written.
    pub path: &'a str,
    /// The method, upper case.
    pub method: String,
    /// The operation object.
    pub node: At<'a>,
    /// Where the method key is.
    pub loc: Loc,
}

/// The paths of a contract with where each path key is written, and their
/// path items: `(path, key location, item)`. Extension keys are left out.
pub fn paths<'a>(spec: &Spec<'a>) -> Vec<(&'a str, Loc, At<'a>)> {
    let Some(paths) = spec.get_d(spec.root, "paths") else {
        return Vec::new();
    };
    paths
        .node
        .as_map()
        .unwrap_or(&[])
        .iter()
        .filter_map(|(k, v)| {
            let path = k.as_str().filter(|p| p.starts_with('/'))?;
            let item = spec.deref(At {
                file: paths.file,
                node: v,
                key: Some(k.pos),
            });
            Some((path, Loc::new(paths.file, k.pos), item))
        })
        .collect()
}

/// Every operation of a contract, in path then method order.
pub fn operations<'a>(spec: &Spec<'a>) -> Vec<Operation<'a>> {
    let mut out = Vec::new();
    for (path, _, item) in paths(spec) {
        for m in cairn_contract::openapi::METHODS {
            let Some((k, v)) = item.node.entry(m) else {
                continue;
            };
            let node = spec.deref(At {
                file: item.file,
                node: v,
                key: Some(k.pos),
            });
            if node.node.as_map().is_none() {
                continue;
            }
            out.push(Operation {
                path,
                method: m.to_ascii_uppercase(),
                node,
                loc: Loc::new(item.file, k.pos),
            });
        }
    }
    out
}

/// The text of a scalar node, for messages.
pub fn scalar_text(node: &Node) -> Option<&str> {
    node.as_scalar().map(|s| s.text.as_str())
}

/// A breaking change in the scan's `.proto` files since the baseline.
pub struct ProtoBreak {
    /// The change, as buf reports it.
    pub change: cairn_proto::ProtoChange,
    /// The scan's file and position it is at, when it is in the current tree.
    pub at: Option<(FileId, Pos)>,
    /// A file of the tree to report on when the change has no current position.
    pub fallback: FileId,
}

/// Compares the scan's `.proto` files with their baseline versions, with
/// buf's default (`FILE`) rules. The files are one tree rooted at their
/// deepest common folder; a file the baseline does not have is new.
pub fn proto_breaks(ingest: &Ingest, baseline: &Baseline) -> Vec<ProtoBreak> {
    let files: Vec<(FileId, PathBuf)> = ingest
        .contracts
        .iter()
        .filter(|c| c.format == Format::Proto)
        .map(|c| (c.file, normalize(Path::new(ingest.sources.path(c.file)))))
        .collect();
    let Some((fallback, _)) = files.first() else {
        return Vec::new();
    };
    let mut root = files[0]
        .1
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    for (_, p) in &files {
        while !p.starts_with(&root) {
            if !root.pop() {
                break;
            }
        }
    }
    let rel = |p: &Path| {
        p.strip_prefix(&root)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    };
    let current: Vec<(String, std::io::Result<Vec<u8>>)> = files
        .iter()
        .map(|(id, p)| {
            let text = ingest
                .sources
                .get(*id)
                .and_then(|f| f.text.as_deref())
                .unwrap_or_default();
            (rel(p), Ok(text.as_bytes().to_vec()))
        })
        .collect();
    let old: Vec<(String, std::io::Result<Vec<u8>>)> = files
        .iter()
        .filter_map(|(_, p)| baseline.read(p).ok().map(|b| (rel(p), Ok(b))))
        .collect();
    if old.is_empty() {
        return Vec::new();
    }
    let (prev, _) = cairn_proto::load_files(&root, old);
    let (cur, _) = cairn_proto::load_files(&root, current);
    let by_rel: HashMap<String, FileId> = files.iter().map(|(id, p)| (rel(p), *id)).collect();
    cairn_proto::diff(&prev, &cur, &cairn_proto::BreakingConfig::default())
        .into_iter()
        .map(|change| {
            let at = if change.previous {
                None
            } else {
                change
                    .file
                    .as_deref()
                    .and_then(|f| by_rel.get(f))
                    .map(|id| {
                        let text = ingest
                            .sources
                            .get(*id)
                            .and_then(|f| f.text.as_deref())
                            .unwrap_or_default();
                        (
                            *id,
                            pos_of(
                                text,
                                change.start_line,
                                change.start_column,
                                change.end_line,
                                change.end_column,
                            ),
                        )
                    })
            };
            ProtoBreak {
                change,
                at,
                fallback: *fallback,
            }
        })
        .collect()
}

/// A position from 1-based line and column (characters) pairs, as buf reports them.
fn pos_of(text: &str, line: u32, column: u32, end_line: u32, end_column: u32) -> Pos {
    if line == 0 {
        return first_line();
    }
    let offset = |l: u32, c: u32| -> u32 {
        let start: usize = text
            .split_inclusive('\n')
            .take(l.saturating_sub(1) as usize)
            .map(str::len)
            .sum();
        let line_text = text[start..].lines().next().unwrap_or("");
        let within: usize = line_text
            .chars()
            .take(c.saturating_sub(1) as usize)
            .map(char::len_utf8)
            .sum();
        (start + within) as u32
    };
    let start = offset(line, column);
    let end = if end_line >= line && end_line > 0 {
        offset(end_line, end_column).max(start)
    } else {
        start
    };
    Pos {
        line,
        column: column.max(1),
        start,
        end,
    }
}
