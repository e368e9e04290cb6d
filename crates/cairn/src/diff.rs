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

    fn load(&self, docs: &mut Docs, space: u32) -> Option<cairn_source::FileId> {
        match self {
            Version::Path(p) => docs.load(p),
            Version::Git { rev, path } => {
                let read = |p: &Path| -> std::io::Result<Vec<u8>> {
                    let spec = format!("{rev}:./{}", p.display());
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
                };
                docs.load_with(path, format!("git:{rev}:{}", path.display()), space, &read)
            }
        }
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
    let opts = openapi::Options {
        deprecation_days_beta: args.deprecation_days_beta,
        deprecation_days_stable: args.deprecation_days_stable,
        flatten_allof: false,
        strip_prefix_base: args.strip_prefix_base.clone(),
        strip_prefix_revision: args.strip_prefix_revision.clone(),
        prefix_base: args.prefix_base.clone(),
        prefix_revision: args.prefix_revision.clone(),
        include_paths: globs(&args.match_path, "--match-path")?,
        exclude_paths: globs(&args.exclude_path, "--exclude-path")?,
        stability_level: Some(stability),
        today: None,
    };
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
    let mut docs = Docs::new();
    let b = base_v.load(&mut docs, 1);
    let r = rev_v.load(&mut docs, 0);
    let mut diagnostics = std::mem::take(&mut docs.diagnostics);
    for (file, is_levels) in [(&args.severity_levels, true), (&args.ignore_file, false)] {
        let Some(file) = file else { continue };
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let id = docs
            .sources
            .add(file.display().to_string(), Some(text.clone().into()));
        diagnostics.extend(if is_levels {
            filter.add_levels(id, &text)
        } else {
            filter.add_ignores(id, &text)
        });
    }
    let (Some(b), Some(r)) = (b, r) else {
        for d in &diagnostics {
            eprint!("{}", cairn_render::diagnostic::render(d, &docs.sources));
        }
        eprintln!("error: the two versions could not both be read");
        return Ok(ExitCode::from(2));
    };
    let (changes, diags) = openapi::compare(&docs, b, r, &opts);
    diagnostics.extend(diags);
    let changes: Vec<Change> = filter
        .apply(changes)
        .into_iter()
        .filter(|c| c.level >= show_from)
        .collect();
    let report = Report {
        changes: &changes,
        diagnostics: &diagnostics,
        sources: &docs.sources,
    };
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let text = match args.format {
        DiffFormat::Text => {
            for d in &diagnostics {
                eprint!("{}", cairn_render::diagnostic::render(d, &docs.sources));
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
