//! Reads the files a team keeps for a system of services.
//!
//! [`ingest`] walks the paths it is given (files, folders, `-` for stdin),
//! recognises each file's format from its content, parses YAML into spanned
//! trees in parallel, renders Kustomize folders, merges Compose files, and
//! returns everything it read as [`Ingest`], with a diagnostic for anything
//! it could not read. This crate is where cairn's input IO happens; the model
//! built from its output does none.

pub mod compose;
pub mod config;
pub mod detect;
pub mod k8s;
mod kustomize;
mod provenance;
mod walk;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairn_source::{Diagnostic, FileId, SourceMap};
use cairn_yaml::{Document, Node, YamlErrorKind};
use rayon::prelude::*;

pub use compose::{ComposeProject, ComposeService};
pub use config::CairnConfig;
pub use detect::Format;
pub use k8s::K8sObject;

/// One input path as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputPath {
    /// A file or folder.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

/// How to read the inputs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Globs of paths to leave out (`--exclude`), matched like `.gitignore` lines.
    pub exclude: Vec<String>,
    /// Compose files merged in order into one project (`--compose-file`).
    pub compose_files: Vec<PathBuf>,
    /// Files larger than this many bytes are reported and not read.
    pub max_file_size: u64,
    /// Whether to render Kustomize folders with `kubectl kustomize`.
    pub render_kustomize: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            exclude: Vec::new(),
            compose_files: Vec::new(),
            max_file_size: 64 * 1024 * 1024,
            render_kustomize: true,
        }
    }
}

/// A contract file and what it names.
#[derive(Clone, Debug)]
pub struct Contract {
    /// The file.
    pub file: FileId,
    /// `OpenAPI`, `AsyncAPI` or Proto.
    pub format: Format,
    /// `info.title`, or the proto `package`.
    pub title: Option<String>,
    /// Names that may match a service: the title, gRPC service names, the file stem.
    pub names: Vec<String>,
}

/// A service's application configuration (Spring `application.yml`, Prometheus config).
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// The file.
    pub file: FileId,
    /// Spring or Prometheus.
    pub format: Format,
    /// `spring.application.name`, when set.
    pub app_name: Option<String>,
    /// The documents (Spring profiles are separate documents).
    pub documents: Vec<Node>,
}

/// Everything read from the inputs.
#[derive(Debug, Default)]
pub struct Ingest {
    /// Every file touched, with its text.
    pub sources: SourceMap,
    /// The format of each file read (index = `FileId`).
    pub formats: Vec<Format>,
    /// Kubernetes objects, in file order.
    pub objects: Vec<K8sObject>,
    /// Compose projects.
    pub compose: Vec<ComposeProject>,
    /// `cairn.yaml` files.
    pub configs: Vec<CairnConfig>,
    /// Contract files.
    pub contracts: Vec<Contract>,
    /// Application configuration files.
    pub app_configs: Vec<AppConfig>,
    /// Problems found while reading.
    pub diagnostics: Vec<Diagnostic>,
    /// How many files were read and parsed.
    pub files_read: usize,
}

/// A file to read: where it is and how to show its path.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    pub(crate) path: Option<PathBuf>,
    pub(crate) display: String,
    /// Named explicitly: read whatever its extension.
    pub(crate) explicit: bool,
    /// Text already in hand (stdin, rendered kustomize output).
    pub(crate) text: Option<Vec<u8>>,
    /// For rendered Kustomize output: the local files it was built from, so
    /// positions can point back into them.
    pub(crate) origins: Vec<PathBuf>,
}

/// What one file turned into, before ids are final.
struct Loaded {
    text: Option<Arc<str>>,
    format: Format,
    documents: Vec<Document>,
    diagnostics: Vec<Diagnostic>,
}

/// Reads every input. `progress` is called with the number of files done so
/// far and the number of files to read.
pub fn ingest(
    inputs: &[InputPath],
    opts: &Options,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Ingest {
    let mut diagnostics = Vec::new();
    let mut candidates = walk::collect(inputs, opts, &mut diagnostics);
    kustomize::expand(&mut candidates, opts, &mut diagnostics);
    for path in &opts.compose_files {
        let display = walk::display_path(path);
        if !candidates.iter().any(|c| c.display == display) {
            candidates.push(Candidate {
                path: Some(path.clone()),
                display,
                explicit: true,
                text: None,
                origins: Vec::new(),
            });
        }
    }
    read_all(&candidates, diagnostics, opts, progress)
}

/// Reads files already in memory, as `(name, bytes)`: no file system access
/// at all (no walking, no `.env`, no Kustomize rendering). For fuzzing,
/// servers and tests.
pub fn ingest_in_memory(files: Vec<(String, Vec<u8>)>, opts: &Options) -> Ingest {
    let candidates: Vec<Candidate> = files
        .into_iter()
        .map(|(display, bytes)| Candidate {
            path: None,
            display,
            explicit: true,
            text: Some(bytes),
            origins: Vec::new(),
        })
        .collect();
    read_all(&candidates, Vec::new(), opts, &|_, _| {})
}

fn read_all(
    candidates: &[Candidate],
    diagnostics: Vec<Diagnostic>,
    opts: &Options,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Ingest {
    let mut out = Ingest {
        diagnostics,
        ..Ingest::default()
    };
    let ids: Vec<FileId> = candidates
        .iter()
        .map(|c| out.sources.add(c.display.clone(), None))
        .collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let loaded: Vec<Loaded> = candidates
        .par_iter()
        .zip(ids.par_iter())
        .map(|(c, &id)| {
            let l = load(c, id, opts);
            progress(
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                candidates.len(),
            );
            l
        })
        .collect();
    let mut compose_docs: Vec<(FileId, Node)> = Vec::new();
    let mut origin_ids: Vec<FileId> = Vec::new();
    for ((c, id), l) in candidates.iter().zip(ids).zip(loaded) {
        if let Some(t) = &l.text {
            out.sources.set_text(id, t.clone());
            out.files_read += 1;
        }
        out.formats.push(l.format);
        out.diagnostics.extend(l.diagnostics);
        match l.format {
            Format::Proto => {
                let text = l.text.as_deref().unwrap_or_default();
                out.contracts.push(proto_contract(id, c, text));
            }
            Format::SpringConfig | Format::PrometheusConfig => {
                let documents: Vec<Node> = l.documents.into_iter().map(|d| d.root).collect();
                let app_name = documents
                    .iter()
                    .find_map(|d| {
                        d.path(&["spring", "application", "name"])
                            .and_then(Node::as_str)
                    })
                    .map(str::to_owned);
                out.app_configs.push(AppConfig {
                    file: id,
                    format: l.format,
                    app_name,
                    documents,
                });
            }
            _ => {
                let first = out.objects.len();
                for doc in l.documents {
                    route_document(&mut out, id, c, doc.root, &mut compose_docs);
                }
                if !c.origins.is_empty() {
                    point_into_origins(&mut out, first, &c.origins, &mut origin_ids);
                }
            }
        }
    }
    out.formats.resize(out.sources.len(), Format::Unknown);
    for id in origin_ids {
        out.formats[id.0 as usize] = Format::Kubernetes;
    }
    build_compose(&mut out, compose_docs, opts, candidates);
    out
}

/// Re-points the objects of rendered Kustomize output, from `first` on, at
/// the resource files they were built from (see [`provenance`]).
fn point_into_origins(
    out: &mut Ingest,
    first: usize,
    files: &[PathBuf],
    origin_ids: &mut Vec<FileId>,
) {
    let mut origins = Vec::new();
    for path in files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let display = provenance::display(path);
        let existing = out
            .sources
            .iter()
            .find(|(_, f)| *f.path == *display && f.text.is_some())
            .map(|(id, _)| id);
        let id = if let Some(id) = existing {
            id
        } else {
            let id = out.sources.add(display, Some(Arc::from(text.as_str())));
            out.files_read += 1;
            origin_ids.push(id);
            id
        };
        origins.extend(provenance::objects_of(id, &text));
    }
    for obj in &mut out.objects[first..] {
        if let Some(o) = provenance::find(&origins, &obj.kind, &obj.name) {
            provenance::remap(&mut obj.root, &o.root);
            obj.file = o.file;
        }
    }
}

fn route_document(
    out: &mut Ingest,
    id: FileId,
    c: &Candidate,
    root: Node,
    compose_docs: &mut Vec<(FileId, Node)>,
) {
    match detect::format_of(&root, &c.display) {
        Format::Kubernetes => {
            if root.get_str("kind") == Some("List")
                || root.get_str("kind").is_some_and(|k| k.ends_with("List"))
                    && root.get("items").is_some()
            {
                for item in root.seq_at("items") {
                    add_object(out, id, item.clone());
                }
            } else {
                add_object(out, id, root);
            }
        }
        Format::Compose => compose_docs.push((id, root)),
        Format::CairnConfig => {
            let cfg = config::read_config(id, &root, &mut out.diagnostics);
            out.configs.push(cfg);
        }
        f @ (Format::OpenApi | Format::AsyncApi) => {
            let title = root
                .path(&["info", "title"])
                .and_then(Node::as_str)
                .map(str::to_owned);
            let mut names: Vec<String> = title.iter().cloned().collect();
            names.push(file_stem(&c.display));
            out.contracts.push(Contract {
                file: id,
                format: f,
                title,
                names,
            });
        }
        Format::Kustomization => {}
        _ => {
            if c.explicit || root.as_map().is_some() {
                out.diagnostics.push(
                    Diagnostic::info("unrecognised-document", "document is not Kubernetes, Compose, a contract or cairn.yaml; it was not used")
                        .in_file(id)
                        .at(root.pos),
                );
            }
        }
    }
}

fn add_object(out: &mut Ingest, id: FileId, root: Node) {
    if root.get_str("apiVersion").is_none() || root.get_str("kind").is_none() {
        out.diagnostics.push(
            Diagnostic::warning(
                "k8s-missing-kind",
                "list item has no apiVersion or kind; it was ignored",
            )
            .in_file(id)
            .at(root.pos),
        );
        return;
    }
    if let Some(obj) = K8sObject::from_node(id, root, &mut out.diagnostics) {
        if !k8s::KNOWN_KINDS.contains(&obj.kind.as_str())
            && !k8s::WORKLOAD_KINDS.contains(&obj.kind.as_str())
        {
            out.diagnostics.push(
                Diagnostic::info(
                    "k8s-unknown-kind",
                    format!(
                        "kind `{}` ({}) is not modelled; it is kept as a generic object",
                        obj.kind, obj.api_version
                    ),
                )
                .in_file(id)
                .at(obj.root.get("kind").map_or(obj.root.pos, |k| k.pos)),
            );
        }
        k8s::check_field_types(&obj, &mut out.diagnostics);
        out.objects.push(obj);
    }
}

fn file_stem(display: &str) -> String {
    let base = display.rsplit('/').next().unwrap_or(display);
    base.split('.').next().unwrap_or(base).to_owned()
}

fn proto_contract(id: FileId, c: &Candidate, text: &str) -> Contract {
    let mut title = None;
    let mut names = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if let Some(p) = l.strip_prefix("package ") {
            title = Some(p.trim_end_matches(';').trim().to_owned());
        }
        if let Some(s) = l.strip_prefix("service ")
            && let Some(name) = s.split(|ch: char| ch.is_whitespace() || ch == '{').next()
        {
            names.push(name.to_owned());
        }
    }
    names.push(file_stem(&c.display));
    Contract {
        file: id,
        format: Format::Proto,
        title,
        names,
    }
}

/// Reads, decodes and parses one file. Never panics on content.
fn load(c: &Candidate, id: FileId, opts: &Options) -> Loaded {
    let mut diags = Vec::new();
    let fail = |diags: Vec<Diagnostic>| Loaded {
        text: None,
        format: Format::Unknown,
        documents: Vec::new(),
        diagnostics: diags,
    };
    let bytes = match (&c.text, &c.path) {
        (Some(t), _) => t.clone(),
        (None, Some(p)) => match walk::read_limited(p, opts.max_file_size) {
            Ok(b) => b,
            Err(e) => {
                diags.push(e.in_file(id));
                return fail(diags);
            }
        },
        (None, None) => return fail(diags),
    };
    if bytes.is_empty() || bytes.iter().all(u8::is_ascii_whitespace) {
        diags.push(Diagnostic::info("file-empty", "file is empty").in_file(id));
        return Loaded {
            text: Some(Arc::from("")),
            format: Format::Unknown,
            documents: Vec::new(),
            diagnostics: diags,
        };
    }
    if detect::looks_binary(&bytes) {
        diags.push(
            Diagnostic::warning(
                "file-binary",
                "file looks binary (it holds NUL bytes); it was not read",
            )
            .in_file(id)
            .with_help("exclude it with --exclude, or check that it is the file you meant"),
        );
        return fail(diags);
    }
    let text: Arc<str> = match std::str::from_utf8(&bytes) {
        Ok(t) => Arc::from(t),
        Err(e) => {
            let line = detect::line_of(&bytes, e.valid_up_to());
            diags.push(
                Diagnostic::warning("file-not-utf8", format!("file is not valid UTF-8 (first bad byte at line {line}); invalid bytes were read as U+FFFD"))
                    .in_file(id)
                    .at(cairn_source::Pos { line, column: 1, start: e.valid_up_to() as u32, end: e.valid_up_to() as u32 })
                    .with_help("save the file as UTF-8"),
            );
            Arc::from(String::from_utf8_lossy(&bytes).as_ref())
        }
    };
    let is_yaml_name = std::path::Path::new(&c.display)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| {
            ["yaml", "yml", "json"]
                .iter()
                .any(|x| e.eq_ignore_ascii_case(x))
        });
    if detect::is_helm_template(&c.display, &text) {
        diags.push(
            Diagnostic::info(
                "helm-template-not-rendered",
                "file is a Helm chart template; its objects exist only after rendering, so it was not read",
            )
            .in_file(id)
            .with_help("render the chart and scan the output: helm template RELEASE CHART | cairn scan -"),
        );
        return Loaded {
            text: Some(text),
            format: Format::Unknown,
            documents: Vec::new(),
            diagnostics: diags,
        };
    }
    if !is_yaml_name && detect::looks_like_proto(&text) {
        return Loaded {
            text: Some(text),
            format: Format::Proto,
            documents: Vec::new(),
            diagnostics: diags,
        };
    }
    let parsed = cairn_yaml::parse(&text);
    for e in parsed.errors {
        let code = match e.kind {
            YamlErrorKind::Syntax => "yaml-syntax",
            YamlErrorKind::DuplicateKey => "yaml-duplicate-key",
            YamlErrorKind::AliasLimit => "yaml-alias-limit",
            YamlErrorKind::TooDeep => "yaml-too-deep",
            YamlErrorKind::UnknownAlias => "yaml-unknown-alias",
            YamlErrorKind::BadMerge => "yaml-bad-merge",
            YamlErrorKind::LenientIndentation => "yaml-lenient-indentation",
        };
        let d = if matches!(
            e.kind,
            YamlErrorKind::DuplicateKey
                | YamlErrorKind::BadMerge
                | YamlErrorKind::LenientIndentation
        ) {
            Diagnostic::warning(code, e.message)
        } else {
            Diagnostic::error(code, e.message)
        };
        diags.push(d.in_file(id).at(e.pos));
    }
    let format = parsed
        .documents
        .iter()
        .map(|d| detect::format_of(&d.root, &c.display))
        .find(|f| *f != Format::Unknown)
        .unwrap_or(Format::Unknown);
    if format == Format::Unknown && !parsed.documents.is_empty() && c.explicit {
        diags.push(
            Diagnostic::info(
                "unrecognised-file",
                "file holds no format cairn reads (Kubernetes, Compose, contracts, cairn.yaml)",
            )
            .in_file(id),
        );
    }
    Loaded {
        text: Some(text),
        format,
        documents: parsed.documents,
        diagnostics: diags,
    }
}

/// Groups compose documents into projects: `--compose-file` files form one
/// project merged in order; every other file is its own project, with a
/// `*.override.y(a)ml` beside it merged on top, as `docker compose` does.
fn build_compose(
    out: &mut Ingest,
    docs: Vec<(FileId, Node)>,
    opts: &Options,
    candidates: &[Candidate],
) {
    if docs.is_empty() {
        return;
    }
    let explicit: Vec<String> = opts
        .compose_files
        .iter()
        .map(|p| walk::display_path(p))
        .collect();
    let mut groups: Vec<(String, Vec<(FileId, Node)>)> = Vec::new();
    for (id, root) in docs {
        let display = out.sources.path(id).to_owned();
        let key = if explicit.contains(&display) {
            "\0explicit".to_owned()
        } else {
            display.replace(".override.", ".")
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push((id, root)),
            None => groups.push((key, vec![(id, root)])),
        }
    }
    for (key, mut files) in groups {
        if key == "\0explicit" {
            files.sort_by_key(|(id, _)| explicit.iter().position(|e| e == out.sources.path(*id)));
        } else {
            files.sort_by_key(|(id, _)| out.sources.path(*id).contains(".override."));
        }
        let first_path = candidates
            .iter()
            .find(|c| c.display == out.sources.path(files[0].0))
            .and_then(|c| c.path.clone());
        // The project folder holds `.env` and the `env_file`s. Text that did
        // not come from a file (stdin, in memory) has none: nothing is read.
        let dir: Option<PathBuf> = first_path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        let mut vars: HashMap<String, String> = HashMap::new();
        if let Some(text) = dir
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.join(".env")).ok())
        {
            // .env values may refer to the ones before them
            for (k, v, _) in compose::parse_dotenv(&text) {
                let (v, _) = compose::interpolate(&v, &vars);
                vars.insert(k, v);
            }
        }
        let mut per_file = Vec::new();
        let mut ids = Vec::new();
        for (id, mut root) in files {
            compose::interpolate_tree(&mut root, &vars, id, &mut out.diagnostics);
            let sources = &mut out.sources;
            let mut env_file = |p: &str| {
                let path = dir.as_ref()?.join(p);
                let text = std::fs::read_to_string(&path).ok()?;
                let fid = sources.add(walk::display_path(&path), Some(Arc::from(text.as_str())));
                Some((fid, text))
            };
            per_file.push(compose::read_services(
                id,
                &root,
                &vars,
                &mut env_file,
                &mut out.diagnostics,
            ));
            ids.push(id);
        }
        while out.formats.len() < out.sources.len() {
            out.formats.push(Format::Unknown);
        }
        out.compose.push(ComposeProject {
            files: ids,
            services: compose::merge_services(per_file),
        });
    }
}
