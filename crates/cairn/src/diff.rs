//! `cairn diff`: breaking changes between two versions of an API contract.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use cairn_contract::filter::Filter;
use cairn_contract::openapi::{self, Docs};
use cairn_contract::output::{self, Report};
use cairn_contract::{Change, Level};
use cairn_source::Severity;
use clap::ValueEnum;
use globset::{Glob, GlobSet, GlobSetBuilder};

/// Output formats of `cairn diff`.
#[derive(Clone, Copy, ValueEnum)]
pub enum DiffFormat {
    /// Changes with source excerpts, for people.
    Text,
    /// JSON (fields in docs/diff.md).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// A Markdown summary for a pull-request comment.
    Markdown,
    /// GitHub Actions workflow annotations.
    Github,
    /// JUnit XML, for CI test reports.
    Junit,
}

/// The arguments of `cairn diff`.
#[derive(clap::Args)]
pub struct DiffArgs {
    /// OLD NEW: two files (OpenAPI 2.0/3.x, YAML or JSON), or NEW alone with `--base`.
    /// A version can be `git:REV:PATH` (e.g. `git:main:api/openapi.yaml`).
    #[arg(value_name = "VERSION", num_args = 0..=2)]
    versions: Vec<String>,
    /// The base (old) version, when only the new one is given as an argument.
    #[arg(long, value_name = "VERSION")]
    base: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// The least level that makes the diff fail (exit 1): ERR, WARN or INFO.
    #[arg(long, value_name = "LEVEL", default_value = "ERR")]
    fail_on: String,
    /// Show changes at or above this level only: ERR, WARN or INFO.
    #[arg(long, value_name = "LEVEL", default_value = "INFO")]
    level: String,
    /// A file of `<id> <LEVEL>` lines overriding levels (NONE drops an id).
    #[arg(long, value_name = "FILE")]
    severity_levels: Option<PathBuf>,
    /// Override one id's level, as `ID=LEVEL` (repeatable).
    #[arg(long = "set-level", value_name = "ID=LEVEL")]
    set_level: Vec<String>,
    /// A file of changes to ignore: `<id>`, `<METHOD> <path>` or `<id> <METHOD> <path>` per line.
    #[arg(long, value_name = "FILE")]
    ignore_file: Option<PathBuf>,
    /// Days required between deprecating a beta operation and its sunset date.
    #[arg(long, default_value_t = 0, value_name = "DAYS")]
    deprecation_days_beta: u32,
    /// Days required between deprecating a stable operation and its sunset date.
    #[arg(long, default_value_t = 0, value_name = "DAYS")]
    deprecation_days_stable: u32,
    /// Compare operations of this stability level and above: draft, alpha, beta or stable.
    #[arg(long, default_value = "beta", value_name = "LEVEL")]
    stability_level: String,
    /// Remove this prefix from the base's paths before matching.
    #[arg(long, value_name = "PREFIX")]
    strip_prefix_base: Option<String>,
    /// Remove this prefix from the new version's paths before matching.
    #[arg(long, value_name = "PREFIX")]
    strip_prefix_revision: Option<String>,
    /// Add this prefix to the base's paths before matching.
    #[arg(long, value_name = "PREFIX")]
    prefix_base: Option<String>,
    /// Add this prefix to the new version's paths before matching.
    #[arg(long, value_name = "PREFIX")]
    prefix_revision: Option<String>,
    /// Compare only paths matching this glob (repeatable), e.g. `/api/v1/**`.
    #[arg(long, value_name = "GLOB")]
    match_path: Vec<String>,
    /// Leave out paths matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    exclude_path: Vec<String>,
    /// Compare `allOf` members as part of the schema that holds them, so
    /// moving properties into or out of an `allOf` is no change.
    #[arg(long)]
    flatten_allof: bool,
    /// Print every change id with its default level, and exit.
    #[arg(long)]
    list_ids: bool,
}

fn globs(list: &[String], flag: &str) -> Result<Option<GlobSet>> {
    if list.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for g in list {
        b.add(Glob::new(g).with_context(|| format!("`{g}` given to {flag} is not a valid glob"))?);
    }
    Ok(Some(b.build()?))
}

fn parse_level(s: &str, flag: &str) -> Result<Level> {
    Level::parse(s)
        .with_context(|| format!("`{s}` given to {flag} is not a level; use ERR, WARN or INFO"))
}

/// Where a version comes from.
enum Version {
    Path(PathBuf),
    Git { rev: String, path: PathBuf },
}

impl Version {
    fn parse(s: &str) -> Result<Version> {
        if let Some(rest) = s.strip_prefix("git:") {
            let Some((rev, path)) = rest.split_once(':') else {
                bail!("`{s}` is not `git:REV:PATH`");
            };
            if rev.is_empty() || path.is_empty() {
                bail!("`{s}` is not `git:REV:PATH`");
            }
            return Ok(Version::Git {
                rev: rev.to_owned(),
                path: PathBuf::from(path),
            });
        }
        Ok(Version::Path(PathBuf::from(s)))
    }

    /// Whether this version is a folder (on disk, or a tree in git).
    fn is_tree(&self) -> bool {
        match self {
            Version::Path(p) => p.is_dir(),
            Version::Git { rev, path } => std::process::Command::new("git")
                .args(["cat-file", "-t"])
                .arg(format!("{rev}:./{}", path.display()))
                .output()
                .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"tree")),
        }
    }

    /// The files of a folder version, relative to it, sorted.
    fn list(&self) -> Vec<PathBuf> {
        match self {
            Version::Path(p) => contract_files(p),
            Version::Git { rev, path } => {
                let spec = format!("{rev}:./{}", path.display());
                let out = std::process::Command::new("git")
                    .args(["ls-tree", "-r", "--name-only", &spec])
                    .output();
                let mut files: Vec<PathBuf> = out
                    .map(|o| {
                        String::from_utf8_lossy(&o.stdout)
                            .lines()
                            .map(PathBuf::from)
                            .collect()
                    })
                    .unwrap_or_default();
                files.retain(|f| {
                    f.extension()
                        .is_some_and(|x| ["yaml", "yml", "json", "proto"].iter().any(|e| x == *e))
                });
                files.sort();
                files
            }
        }
    }

    /// The bytes of `rel` in a folder version.
    fn read(&self, rel: &Path) -> std::io::Result<Vec<u8>> {
        match self {
            Version::Path(p) => std::fs::read(p.join(rel)),
            Version::Git { rev, path } => git_show(rev, &path.join(rel)),
        }
    }

    /// How to show `rel` of a folder version.
    fn show(&self, rel: &Path) -> String {
        match self {
            Version::Path(p) => p.join(rel).display().to_string(),
            Version::Git { rev, path } => format!("git:{rev}:{}", path.join(rel).display()),
        }
    }

    fn load(&self, docs: &mut Docs, space: u32) -> Option<cairn_source::FileId> {
        match self {
            Version::Path(p) => docs.load(p),
            Version::Git { rev, path } => {
                let read = |p: &Path| git_show(rev, p);
                docs.load_with(path, format!("git:{rev}:{}", path.display()), space, &read)
            }
        }
    }
}

/// The bytes of `path` (relative to the working folder) at git revision `rev`.
fn git_show(rev: &str, path: &Path) -> std::io::Result<Vec<u8>> {
    let spec = format!("{rev}:./{}", path.display());
    let out = std::process::Command::new("git")
        .arg("show")
        .arg(&spec)
        .output()?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(std::io::Error::other(
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ))
    }
}

/// Runs `cairn diff`.
pub fn run(args: &DiffArgs) -> Result<ExitCode> {
    if args.list_ids {
        let mut out = String::new();
        for (id, level) in openapi::ids::IDS {
            let _ = writeln!(out, "{:<5} {id}", level.as_str());
        }
        print!("{out}");
        return Ok(ExitCode::SUCCESS);
    }
    let fail_on = parse_level(&args.fail_on, "--fail-on")?;
    let show_from = parse_level(&args.level, "--level")?;
    let (base, revision) = match (&args.base, args.versions.as_slice()) {
        (Some(b), [r]) | (None, [b, r]) => (b.clone(), r.clone()),
        (Some(_), _) => {
            bail!("with --base, give the new version alone: `cairn diff --base OLD NEW`")
        }
        (None, _) => {
            bail!("give two versions: `cairn diff OLD NEW` (or `cairn diff --base OLD NEW`)")
        }
    };
    let stability = ["draft", "alpha", "beta", "stable"]
        .iter()
        .position(|s| s.eq_ignore_ascii_case(&args.stability_level))
        .with_context(|| {
            format!(
                "`{}` is not a stability level; use draft, alpha, beta or stable",
                args.stability_level
            )
        })?;
    let mut filter = Filter::new();
    for s in &args.set_level {
        let Some((id, level)) = s.split_once('=') else {
            bail!("`{s}` given to --set-level is not `ID=LEVEL`");
        };
        let level = if level.eq_ignore_ascii_case("none") {
            None
        } else {
            Some(parse_level(level, "--set-level")?)
        };
        filter.set_level(id, level);
    }
    let base_v = Version::parse(&base)?;
    let rev_v = Version::parse(&revision)?;
    let opts = openapi::Options {
        deprecation_days_beta: args.deprecation_days_beta,
        deprecation_days_stable: args.deprecation_days_stable,
        flatten_allof: args.flatten_allof,
        strip_prefix_base: args.strip_prefix_base.clone(),
        strip_prefix_revision: args.strip_prefix_revision.clone(),
        prefix_base: args.prefix_base.clone(),
        prefix_revision: args.prefix_revision.clone(),
        include_paths: globs(&args.match_path, "--match-path")?,
        exclude_paths: globs(&args.exclude_path, "--exclude-path")?,
        stability_level: Some(stability),
        today: None,
    };
    // Team decisions first: their diagnostics point into their own files.
    let mut cfg_sources = cairn_source::SourceMap::new();
    let mut cfg_diags = Vec::new();
    for (file, is_levels) in [(&args.severity_levels, true), (&args.ignore_file, false)] {
        let Some(file) = file else { continue };
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let id = cfg_sources.add(file.display().to_string(), Some(text.clone().into()));
        cfg_diags.extend(if is_levels {
            filter.add_levels(id, &text)
        } else {
            filter.add_ignores(id, &text)
        });
    }
    if base_v.is_tree() || rev_v.is_tree() {
        return folders(
            args,
            &base_v,
            &rev_v,
            (&opts, fail_on, show_from),
            &filter,
            (cfg_sources, cfg_diags),
        );
    }
    for v in [&base_v, &rev_v] {
        if let Version::Path(p) = v
            && p.extension().is_some_and(|e| e == "proto")
        {
            bail!(
                "{} is a single .proto file: give the folders that hold the two versions of the .proto tree (`cairn diff protos-old/ protos/`), so imports resolve and files are matched by path",
                p.display()
            );
        }
    }
    let mut docs = Docs::with_sources(cfg_sources);
    let b = base_v.load(&mut docs, 1);
    let r = rev_v.load(&mut docs, 0);
    let mut diagnostics = cfg_diags;
    diagnostics.append(&mut docs.diagnostics);
    let (Some(b), Some(r)) = (b, r) else {
        for d in &diagnostics {
            eprint!("{}", cairn_render::diagnostic::render(d, &docs.sources));
        }
        eprintln!("error: the two versions could not both be read");
        return Ok(ExitCode::from(2));
    };
    let (changes, diags) = cairn_contract::compare(&docs, b, r, &opts);
    diagnostics.extend(diags);
    let changes: Vec<Change> = filter
        .apply(changes)
        .into_iter()
        .filter(|c| c.level >= show_from)
        .collect();
    write(args.format, &changes, &diagnostics, &docs.sources, fail_on)
}

/// Writes the report and returns the exit code.
fn write(
    format: DiffFormat,
    changes: &[Change],
    diagnostics: &[cairn_source::Diagnostic],
    sources: &cairn_source::SourceMap,
    fail_on: Level,
) -> Result<ExitCode> {
    let report = Report {
        changes,
        diagnostics,
        sources,
    };
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let text = match format {
        DiffFormat::Text => {
            for d in diagnostics {
                eprint!("{}", cairn_render::diagnostic::render(d, sources));
            }
            output::text(
                &report,
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            )
        }
        DiffFormat::Json => format!("{:#}\n", output::json(&report)),
        DiffFormat::Sarif => format!("{:#}\n", output::sarif(&report)),
        DiffFormat::Markdown => output::markdown(&report),
        DiffFormat::Github => output::github(&report),
        DiffFormat::Junit => output::junit(&report),
    };
    w.write_all(text.as_bytes())
        .and_then(|()| w.flush())
        .or_else(crate::ignore_broken_pipe)?;
    let input_errors = diagnostics.iter().any(|d| d.severity == Severity::Error);
    let failed = changes.iter().any(|c| c.level >= fail_on) || input_errors;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Contract files (YAML or JSON) under `root`, by path relative to it.
fn contract_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            // `file_type` does not follow symbolic links, so a link loop cannot trap the walk.
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() && depth < 32 {
                stack.push((path, depth + 1));
            } else if ft.is_file()
                && path
                    .extension()
                    .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
                && let Ok(rel) = path.strip_prefix(root)
            {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// `cairn diff OLD/ NEW/`: every OpenAPI and AsyncAPI file matched by its
/// path in the two folders, and the `.proto` trees with buf's rules. A
/// folder may be a tree of a git revision (`git:main:api/`).
fn folders(
    args: &DiffArgs,
    base: &Version,
    revision: &Version,
    (opts, fail_on, show_from): (&openapi::Options, Level, Level),
    filter: &Filter,
    (sources, mut diagnostics): (cairn_source::SourceMap, Vec<cairn_source::Diagnostic>),
) -> Result<ExitCode> {
    for v in [base, revision] {
        if !v.is_tree() {
            bail!(
                "{} is not a folder: compare two folders, or two files",
                v.show(Path::new(""))
            );
        }
    }
    let mut docs = Docs::with_sources(sources);
    let mut changes = Vec::new();
    let (old_all, new_all) = (base.list(), revision.list());
    let is_yaml = |p: &&PathBuf| {
        p.extension()
            .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
    };
    let old_files: Vec<&PathBuf> = old_all.iter().filter(is_yaml).collect();
    let new_files: Vec<&PathBuf> = new_all.iter().filter(is_yaml).collect();
    let load = |docs: &mut Docs, v: &Version, rel: &Path, space: u32| match v {
        Version::Path(p) => docs.load(&p.join(rel)),
        Version::Git { rev, path } => {
            let read = |p: &Path| git_show(rev, p);
            docs.load_with(&path.join(rel), v.show(rel), space, &read)
        }
    };
    let is_contract = |docs: &Docs, f| {
        docs.root(f).is_some_and(|r| {
            ["openapi", "swagger", "asyncapi"]
                .iter()
                .any(|k| r.node.get(k).is_some())
        })
    };
    for rel in &old_files {
        if !new_files.contains(rel) {
            if let Some(f) = load(&mut docs, base, rel, 1)
                && is_contract(&docs, f)
            {
                diagnostics.push(
                    cairn_source::Diagnostic::warning("contract-file-removed", format!("{} is not in the new version", rel.display()))
                        .in_file(f)
                        .with_help("if the contract moved, compare the two files directly: `cairn diff OLD NEW`"),
                );
            }
            continue;
        }
        let (Some(b), Some(r)) = (
            load(&mut docs, base, rel, 1),
            load(&mut docs, revision, rel, 0),
        ) else {
            continue;
        };
        if !is_contract(&docs, b) && !is_contract(&docs, r) {
            continue;
        }
        let (found, diags) = cairn_contract::compare(&docs, b, r, opts);
        changes.extend(found);
        diagnostics.extend(diags);
    }
    for rel in new_files.iter().filter(|r| !old_files.contains(r)) {
        if let Some(f) = load(&mut docs, revision, rel, 0)
            && is_contract(&docs, f)
        {
            diagnostics.push(
                cairn_source::Diagnostic::info(
                    "contract-file-added",
                    format!("{} is new", rel.display()),
                )
                .in_file(f),
            );
        }
    }
    diagnostics.append(&mut docs.diagnostics);
    let mut sources = docs.sources;
    let is_proto = |p: &&PathBuf| p.extension().is_some_and(|x| x == "proto");
    let has_proto = |v: &Version, all: &[PathBuf]| match v {
        Version::Path(root) => {
            let mut stack = vec![root.clone()];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                    let Ok(ft) = e.file_type() else { continue };
                    if ft.is_dir() {
                        stack.push(e.path());
                    } else if e.path().extension().is_some_and(|x| x == "proto") {
                        return true;
                    }
                }
            }
            false
        }
        Version::Git { .. } => all.iter().any(|p| is_proto(&p)),
    };
    if !(has_proto(base, &old_all) || has_proto(revision, &new_all)) {
        let changes: Vec<Change> = filter
            .apply(cairn_contract::openapi_sorted(changes))
            .into_iter()
            .filter(|c| c.level >= show_from)
            .collect();
        return write(args.format, &changes, &diagnostics, &sources, fail_on);
    }
    let load_tree = |v: &Version, all: &[PathBuf]| match v {
        Version::Path(p) => cairn_proto::load(p),
        Version::Git { .. } => {
            let files = all
                .iter()
                .filter(is_proto)
                .map(|r| (r.to_string_lossy().replace('\\', "/"), v.read(r)))
                .collect();
            cairn_proto::load_files(Path::new(&v.show(Path::new(""))), files)
        }
    };
    let ((prev, prev_diags), (cur, cur_diags)) = match (base, revision) {
        (Version::Path(b), Version::Path(r)) => cairn_proto::load_pair(b, r),
        _ => (load_tree(base, &old_all), load_tree(revision, &new_all)),
    };
    // buf reads `buf.yaml` from the new version's module.
    let (cfg, cfg_diags) = match revision {
        Version::Path(r) => cairn_proto::BreakingConfig::from_buf_yaml(r),
        Version::Git { .. } => (None, Vec::new()),
    };
    let cfg = cfg.unwrap_or_default();
    let found = cairn_proto::diff(&prev, &cur, &cfg);
    // One source map for the report: both trees' files, shown under their folders.
    let mut ids = std::collections::HashMap::new();
    for (which, tree, v) in [(0, &prev, base), (1, &cur, revision)] {
        for (id, f) in tree.sources().iter() {
            let new = sources.add(v.show(Path::new(&*f.path)), f.text.clone());
            ids.insert((which, id), new);
        }
    }
    for (which, list) in [(0, prev_diags), (1, cur_diags)] {
        for mut d in list {
            d.file = d.file.and_then(|f| ids.get(&(which, f)).copied());
            diagnostics.push(d);
        }
    }
    diagnostics.extend(cfg_diags);
    let find = |which: u32, path: &str| -> Option<cairn_source::FileId> {
        let tree = if which == 0 { &prev } else { &cur };
        tree.sources()
            .iter()
            .find(|(_, f)| &*f.path == path)
            .and_then(|(id, _)| ids.get(&(which, id)).copied())
    };
    changes.extend(found.into_iter().map(|c| {
        let which = u32::from(!c.previous);
        let loc = c.file.as_deref().and_then(|p| find(which, p)).map(|file| {
            cairn_source::Loc::new(
                file,
                cairn_source::Pos {
                    line: c.start_line,
                    column: c.start_column,
                    start: 0,
                    end: 0,
                },
            )
        });
        Change {
            id: c.rule,
            level: Level::Err,
            text: c.message,
            operation: None,
            path: c.file,
            loc,
        }
    }));
    let changes: Vec<Change> = filter
        .apply(cairn_contract::openapi_sorted(changes))
        .into_iter()
        .filter(|c| c.level >= show_from)
        .collect();
    write(args.format, &changes, &diagnostics, &sources, fail_on)
}
