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
    /// Print the JSON Schema of cairn.yaml.
    Schema,
    /// Explain a diagnostic code, or list them all.
    Explain {
        /// The code, e.g. `yaml-duplicate-key`; all codes when omitted.
        code: Option<String>,
    },
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
        Command::Explain { code } => {
            use cairn_source::codes::{SCAN_CODES, lookup};
            match code {
                None => {
                    for c in SCAN_CODES {
                        println!("{:28} {:8} {}", c.code, c.severity.as_str(), c.summary);
                    }
                }
                Some(code) => match lookup(&code) {
                    Some(c) => println!("{} ({}): {}", c.code, c.severity.as_str(), c.summary),
                    None => {
                        bail!("no diagnostic has the code `{code}`; `cairn explain` lists them all")
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
