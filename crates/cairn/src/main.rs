//! The `cairn` command line.
//!
//! This binary parses arguments, calls the engines (ingest, model, render),
//! writes to stdout/stderr and maps outcomes to exit codes: 0 when the run
//! completed, 2 on a usage error or when nothing could be read.

// The binary is where output is written.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cairn_ingest::{InputPath, Options};
use cairn_render::Report;
use clap::{Parser, Subcommand, ValueEnum};

mod diff;

/// A microservices architect in one binary.
#[derive(Parser)]
#[command(name = "cairn", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build one model of the system from its files and print it.
    Scan {
        #[command(flatten)]
        inputs: Inputs,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Answer a `get_microservices_context` request (JSON) about the scanned system.
    Context {
        /// The request JSON file (`-` for stdin).
        #[arg(long)]
        request: PathBuf,
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Check the system against the rules; exit 1 when a finding is at or above `--fail-on`.
    Check {
        #[command(flatten)]
        inputs: Inputs,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
        /// Environment profile: homelab, sandbox, dev, staging or production
        /// (default: cairn.yaml's `environment`, else dev).
        #[arg(long, value_name = "PROFILE")]
        env: Option<String>,
        /// The least severe finding that makes the check fail.
        #[arg(long, value_enum, default_value_t = FailOn::Error)]
        fail_on: FailOn,
        /// Run only these rules (names, codes or categories; repeatable).
        #[arg(long, value_name = "RULE")]
        select: Vec<String>,
        /// Do not run these rules (names, codes or categories; repeatable).
        #[arg(long, value_name = "RULE")]
        ignore: Vec<String>,
        /// The old version of the tree, for rules that compare (`api-breaking-change`):
        /// `git:REV` (a git revision) or a folder holding the old tree.
        #[arg(long, value_name = "git:REV|DIR")]
        baseline: Option<String>,
    },
    /// Draw the system: services by role, dependencies by kind, grouped by
    /// bounded context or namespace.
    Map {
        #[command(flatten)]
        inputs: Inputs,
        /// Diagram format.
        #[arg(long, short, value_enum, default_value_t = MapFormat::Mermaid)]
        format: MapFormat,
        /// Only this service and its neighbours.
        #[arg(long, value_name = "SERVICE")]
        focus: Option<String>,
        /// Hops from `--focus`, in either direction.
        #[arg(long, default_value_t = 2)]
        depth: usize,
        /// Clusters: bounded context (cairn.yaml), namespace, or none.
        #[arg(long, value_enum, default_value_t = GroupByArg::Context)]
        group_by: GroupByArg,
    },
    /// Compare two versions of an API contract and report breaking changes;
    /// exit 1 when a change is at or above `--fail-on`.
    Diff(diff::DiffArgs),
    /// List every rule: code, name, category, default severity and what it finds.
    Rules {
        /// Show severities for this profile (default dev).
        #[arg(long, value_name = "PROFILE")]
        env: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of cairn.yaml.
    Schema,
    /// Explain a rule or a diagnostic code, or list the diagnostic codes.
    Explain {
        /// A rule name or code (`cpu-out-of-range`, `CA103`) or a diagnostic code (`yaml-duplicate-key`).
        code: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    /// Findings with source excerpts, for people.
    Human,
    /// JSON (fields in docs/check-json.md).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
    /// GitHub Actions workflow annotations.
    Github,
    /// A Markdown summary for a pull-request comment.
    Markdown,
}

#[derive(Clone, Copy, ValueEnum)]
enum MapFormat {
    /// Mermaid flowchart.
    Mermaid,
    /// Graphviz DOT.
    Dot,
    /// Structurizr DSL (C4 container view).
    C4,
    /// C4-PlantUML container diagram.
    Plantuml,
}

#[derive(Clone, Copy, ValueEnum)]
enum GroupByArg {
    /// Bounded contexts stated in cairn.yaml.
    Context,
    /// Kubernetes namespaces.
    Namespace,
    /// No clusters.
    None,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    /// Fail on errors.
    Error,
    /// Fail on warnings and errors.
    Warning,
    /// Fail on any finding.
    Info,
}

#[derive(clap::Args)]
struct Inputs {
    /// Files or folders to read (`-` for stdin). Folders are read recursively, honouring .gitignore.
    #[arg(default_value = ".")]
    paths: Vec<String>,
    /// Leave out paths matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Compose files merged in order into one project, like `docker compose -f` (repeatable).
    #[arg(long = "compose-file", value_name = "FILE")]
    compose_files: Vec<PathBuf>,
    /// Files larger than this many MiB are reported and not read.
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    max_file_size: u64,
    /// Read Kustomize folders as they are instead of rendering them with kubectl.
    #[arg(long)]
    no_kustomize: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// A summary for people.
    Text,
    /// The full model (schema in docs/scan-json.md).
    Json,
    /// The response to a `get_microservices_context` request.
    Context,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

struct Scanned {
    ingest: cairn_ingest::Ingest,
    system: cairn_model::System,
    diagnostics: Vec<cairn_source::Diagnostic>,
}

fn scan(inputs: &Inputs) -> Scanned {
    let paths: Vec<InputPath> = inputs
        .paths
        .iter()
        .map(|p| {
            if p == "-" {
                InputPath::Stdin
            } else {
                InputPath::Path(PathBuf::from(p))
            }
        })
        .collect();
    let opts = Options {
        exclude: inputs.exclude.clone(),
        compose_files: inputs.compose_files.clone(),
        max_file_size: inputs.max_file_size.saturating_mul(1024 * 1024),
        render_kustomize: !inputs.no_kustomize,
    };
    let start = Instant::now();
    let bar = std::io::stderr().is_terminal().then(|| {
        let pb = indicatif::ProgressBar::hidden();
        pb.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} files read {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb
    });
    let progress = |done: usize, total: usize| {
        if let Some(pb) = &bar {
            // only scans that take more than a moment show progress
            if pb.is_hidden() && start.elapsed() > Duration::from_millis(300) {
                pb.set_length(total as u64);
                pb.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            pb.set_position(done as u64);
        }
    };
    let ingest = cairn_ingest::ingest(&paths, &opts, &progress);
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }
    let read = start.elapsed();
    if std::env::var_os("CAIRN_TIMINGS").is_some() {
        eprintln!("timings: after read, rss {}", rss());
    }
    let (system, model_diags) = cairn_model::build(&ingest);
    if std::env::var_os("CAIRN_TIMINGS").is_some() {
        eprintln!(
            "timings: read+parse {read:.2?}, model {:.2?}, rss {}",
            start.elapsed().saturating_sub(read),
            rss()
        );
    }
    let mut diagnostics = ingest.diagnostics.clone();
    diagnostics.extend(model_diags);
    Scanned {
        ingest,
        system,
        diagnostics,
    }
}

/// Resident and peak memory, for `CAIRN_TIMINGS` (Linux only; empty elsewhere).
fn rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(" / ")
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan { inputs, format } => {
            let s = scan(&inputs);
            let report = Report {
                system: &s.system,
                diagnostics: &s.diagnostics,
                sources: &s.ingest.sources,
            };
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            let written = match format {
                Format::Text => w.write_all(cairn_render::text::summary(&report).as_bytes()),
                Format::Json => cairn_render::json::write_model(&report, &mut w),
                Format::Context => w.write_all(
                    cairn_render::json::to_string(&cairn_render::context::response(&report, None))
                        .as_bytes(),
                ),
            };
            written
                .and_then(|()| w.flush())
                .or_else(ignore_broken_pipe)?;
            drop(w);
            let code = exit_for(&s);
            // Freeing a large model takes a tenth of a second on 10,000
            // services; the process is about to exit, so leave it to the OS.
            std::mem::forget(s);
            Ok(code)
        }
        Command::Context { request, inputs } => {
            let text = if request.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
                    .context("reading the request from stdin")?
            } else {
                std::fs::read_to_string(&request)
                    .with_context(|| format!("reading {}", request.display()))?
            };
            let req: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", request.display()))?;
            let rt = req
                .get("request_type")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            if rt != cairn_render::context::REQUEST_TYPE {
                bail!(
                    "request_type `{rt}` is not supported; cairn answers `{}`",
                    cairn_render::context::REQUEST_TYPE
                );
            }
            let query = req.pointer("/payload/query").and_then(|v| v.as_str());
            let s = scan(&inputs);
            let report = Report {
                system: &s.system,
                diagnostics: &s.diagnostics,
                sources: &s.ingest.sources,
            };
            let mut resp = cairn_render::context::response(&report, query);
            if let Some(agent) = req.get("requesting_agent") {
                resp["requested_by"] = agent.clone();
            }
            print!("{}", cairn_render::json::to_string(&resp));
            Ok(exit_for(&s))
        }
        Command::Diff(args) => diff::run(&args),
        Command::Map {
            inputs,
            format,
            focus,
            depth,
            group_by,
        } => {
            use cairn_render::map;
            let s = scan(&inputs);
            if s.ingest.files_read == 0 {
                return Ok(exit_for(&s));
            }
            let opts = map::MapOptions {
                group_by: match group_by {
                    GroupByArg::Context => map::GroupBy::Context,
                    GroupByArg::Namespace => map::GroupBy::Namespace,
                    GroupByArg::None => map::GroupBy::None,
                },
                focus,
                depth,
            };
            let g = map::graph(&s.system, &opts).map_err(anyhow::Error::msg)?;
            let text = match format {
                MapFormat::Mermaid => map::mermaid(&g),
                MapFormat::Dot => map::dot(&g),
                MapFormat::C4 => map::structurizr(&g),
                MapFormat::Plantuml => map::plantuml(&g),
            };
            let stdout = std::io::stdout();
            let mut w = stdout.lock();
            w.write_all(text.as_bytes())
                .and_then(|()| w.flush())
                .or_else(ignore_broken_pipe)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            inputs,
            format,
            env,
            fail_on,
            select,
            ignore,
            baseline,
        } => check(
            &inputs,
            format,
            env.as_deref(),
            fail_on,
            &select,
            &ignore,
            baseline.as_deref(),
        ),
        Command::Rules { env, json } => {
            let profile = parse_profile(env.as_deref())?.unwrap_or(cairn_check::Profile::Dev);
            let rules = cairn_check::rules();
            if json {
                let list: Vec<serde_json::Value> = rules
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "code": r.code,
                            "name": r.name,
                            "category": r.category.as_str(),
                            "severity": r.level(profile).as_str(),
                            "levels": cairn_check::Profile::ALL
                                .iter()
                                .map(|p| (p.as_str().to_owned(), serde_json::Value::from(r.level(*p).as_str())))
                                .collect::<serde_json::Map<String, serde_json::Value>>(),
                            "summary": r.summary,
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    cairn_render::json::to_string(&serde_json::Value::Array(list))
                );
            } else {
                println!(
                    "{:6} {:40} {:13} {:8} summary (severity for profile {})",
                    "code",
                    "rule",
                    "category",
                    "severity",
                    profile.as_str()
                );
                for r in rules {
                    println!(
                        "{:6} {:40} {:13} {:8} {}",
                        r.code,
                        r.name,
                        r.category.as_str(),
                        r.level(profile).as_str(),
                        r.summary
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { code } => {
            use cairn_source::codes::{SCAN_CODES, lookup};
            if let Some(rule) = code.as_deref().and_then(cairn_check::rule) {
                print!("{}", cairn_check::docs::page(rule));
                return Ok(ExitCode::SUCCESS);
            }
            match code {
                None => {
                    for c in SCAN_CODES {
                        println!("{:28} {:8} {}", c.code, c.severity.as_str(), c.summary);
                    }
                }
                Some(code) => match lookup(&code) {
                    Some(c) => println!("{} ({}): {}", c.code, c.severity.as_str(), c.summary),
                    None => {
                        bail!(
                            "no rule or diagnostic is called `{code}`; `cairn rules` lists the rules, `cairn explain` the diagnostics"
                        )
                    }
                },
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            print!(
                "{}",
                cairn_render::json::to_string(&cairn_ingest::config::json_schema())
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_profile(name: Option<&str>) -> Result<Option<cairn_check::Profile>> {
    name.map(|n| {
        cairn_check::Profile::parse(n).with_context(|| {
            format!("`{n}` is not a profile; use homelab, sandbox, dev, staging or production")
        })
    })
    .transpose()
}

fn check(
    inputs: &Inputs,
    format: CheckFormat,
    env: Option<&str>,
    fail_on: FailOn,
    select: &[String],
    ignore: &[String],
    baseline: Option<&str>,
) -> Result<ExitCode> {
    use cairn_check::output;
    use cairn_source::Severity;
    let profile = parse_profile(env)?;
    // settings first: a bad rule name is a usage error before any reading
    let mut cli_settings = cairn_check::Settings::for_profile(cairn_check::Profile::Dev);
    cli_settings
        .add_cli(select, ignore)
        .map_err(anyhow::Error::msg)?;
    let baseline = baseline
        .map(|b| check_baseline(b, &inputs.paths))
        .transpose()?;
    let s = scan(inputs);
    if s.ingest.files_read == 0 {
        return Ok(exit_for(&s));
    }
    let mut settings = cairn_check::Settings::from_config(s.ingest.configs.first(), profile);
    settings.select.extend(cli_settings.select);
    settings.ignore.extend(cli_settings.ignore);
    settings.baseline = baseline;
    let start = Instant::now();
    let outcome = cairn_check::run(&s.ingest, &s.system, &settings);
    if std::env::var_os("CAIRN_TIMINGS").is_some() {
        eprintln!(
            "timings: check {:.2?}, {} findings",
            start.elapsed(),
            outcome.findings.len()
        );
    }
    let report = output::Report {
        outcome: &outcome,
        scan: &s.diagnostics,
        sources: &s.ingest.sources,
        profile: settings.profile,
    };
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = match format {
        CheckFormat::Human => w.write_all(
            output::human(
                &report,
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            )
            .as_bytes(),
        ),
        CheckFormat::Json => output::write_json(&report, &mut w),
        CheckFormat::Sarif => output::write_sarif(&report, &mut w),
        CheckFormat::Junit => w.write_all(output::junit(&report).as_bytes()),
        CheckFormat::Github => w.write_all(output::github(&report).as_bytes()),
        CheckFormat::Markdown => w.write_all(output::markdown(&report).as_bytes()),
    };
    written
        .and_then(|()| w.flush())
        .or_else(ignore_broken_pipe)?;
    let threshold = match fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
    };
    let input_errors = s
        .diagnostics
        .iter()
        .chain(&outcome.diagnostics)
        .any(|d| d.severity == Severity::Error);
    let failed = outcome.count_at_least(threshold) > 0 || input_errors;
    // as in scan: the process is about to exit, freeing is the OS's job
    std::mem::forget(outcome);
    std::mem::forget(s);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The old tree `cairn check --baseline` compares with: `git:REV` reads a
/// file with `git show REV:./NAME` in the file's folder, so any path in the
/// work tree works; a folder holds the old tree, a file's path in it being
/// its path relative to the scanned input it was found under.
fn check_baseline(spec: &str, inputs: &[String]) -> Result<cairn_check::config::Baseline> {
    use std::path::{Component, Path};
    if let Some(rev) = spec.strip_prefix("git:") {
        if rev.is_empty() {
            bail!("`--baseline git:` needs a revision, e.g. `git:main` or `git:HEAD~1`");
        }
        let first = inputs.first().map_or(".", String::as_str);
        let first = Path::new(first);
        let dir = if first.is_dir() {
            first
        } else {
            first
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
        };
        let verified = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "--verify", "--quiet"])
            .arg(format!("{rev}^{{commit}}"))
            .output()
            .context("running git for --baseline")?;
        if !verified.status.success() {
            bail!(
                "`{rev}` given to --baseline is not a commit of a git repository at {}",
                dir.display()
            );
        }
        let (r1, r2) = (rev.to_owned(), rev.to_owned());
        return Ok(cairn_check::config::Baseline::new(
            spec,
            move |p: &Path| {
                let folder = p
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let name = p
                    .file_name()
                    .ok_or_else(|| std::io::Error::other("not a file"))?;
                let out = std::process::Command::new("git")
                    .arg("-C")
                    .arg(folder)
                    .arg("show")
                    .arg(format!("{r1}:./{}", name.to_string_lossy()))
                    .output()?;
                if out.status.success() {
                    Ok(out.stdout)
                } else {
                    Err(std::io::Error::other(
                        String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                    ))
                }
            },
            move |p: &Path| format!("git:{r2}:{}", p.display()),
        ));
    }
    let dir = PathBuf::from(spec);
    if !dir.is_dir() {
        bail!("--baseline `{spec}` is neither `git:REV` nor a folder");
    }
    // the scanned roots, without `.` components, as the scan's paths are written
    let roots: Vec<PathBuf> = inputs
        .iter()
        .filter(|p| *p != "-")
        .map(|p| {
            let p = Path::new(p);
            let root = if p.is_file() {
                p.parent().unwrap_or(Path::new(""))
            } else {
                p
            };
            root.components()
                .filter(|c| !matches!(c, Component::CurDir))
                .collect()
        })
        .collect();
    let relative = move |p: &Path| -> Option<PathBuf> {
        roots
            .iter()
            .filter_map(|r| p.strip_prefix(r).ok())
            .min_by_key(|rest| rest.components().count())
            .map(Path::to_path_buf)
    };
    let relative_too = relative.clone();
    let (d1, d2) = (dir.clone(), dir);
    let name = spec.to_owned();
    Ok(cairn_check::config::Baseline::new(
        spec,
        move |p: &Path| match relative(p) {
            Some(rel) => std::fs::read(d1.join(rel)),
            None => Err(std::io::Error::other("it is outside the scanned paths")),
        },
        move |p: &Path| match relative_too(p) {
            Some(rel) => d2.join(rel).display().to_string(),
            None => format!("{name}:{}", p.display()),
        },
    ))
}

/// A closed pipe (`cairn scan | head`) is not an error.
fn ignore_broken_pipe(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}

/// 2 when nothing could be read, else 0: scan reports, it does not judge.
fn exit_for(s: &Scanned) -> ExitCode {
    if s.ingest.files_read == 0 {
        eprintln!("error: nothing could be read from the given paths");
        for d in &s.diagnostics {
            eprint!("{}", cairn_render::diagnostic::render(d, &s.ingest.sources));
        }
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
