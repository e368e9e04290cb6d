//! `cairn-synth`: writes a synthetic microservice system as Kubernetes YAML.
//!
//! ```text
//! cairn-synth --services N [--seed S] [--datastores D] [--brokers B] [--bundle] [--force] --out DIR
//! ```

// A CLI tool: its usage text, errors and one-line summary go to stderr by
// design (stdout stays free for piping), so printing to stderr is the point.
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use cairn_synth::{SynthConfig, generate};

const USAGE: &str = "\
usage: cairn-synth --services N [--seed S] [--datastores D] [--brokers B] [--bundle] [--force] --out DIR

Writes a deterministic synthetic microservice system as Kubernetes YAML under DIR.

  --services N     number of app services (svc-00000 ...)
  --seed S         PRNG seed (decimal or 0x-hex); same seed, same bytes
  --datastores D   shared datastores (default services/20, at least 1)
  --brokers B      kafka brokers (default services/100, at least 1)
  --bundle         bundle files of ~100 services instead of one file per service
  --force          write into DIR even if it is not empty (existing files are overwritten)
  --out DIR        output directory, created if missing";

/// Parsed command line.
struct Args {
    cfg: SynthConfig,
    out: PathBuf,
    force: bool,
}

fn parse_number(flag: &str, value: Option<String>) -> Result<u64, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    let parsed = match value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
        None => value.replace('_', "").parse(),
    };
    parsed.map_err(|e| format!("{flag}: invalid number {value:?}: {e}"))
}

fn parse_count(flag: &str, value: Option<String>) -> Result<usize, String> {
    let n = parse_number(flag, value)?;
    usize::try_from(n).map_err(|_| format!("{flag}: {n} is too large"))
}

/// Parses the arguments; `Ok(None)` means help was asked for.
fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut services = None;
    let mut seed = None;
    let mut datastores = None;
    let mut brokers = None;
    let mut bundle = false;
    let mut force = false;
    let mut out = None;
    while let Some(arg) = it.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next());
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--services" => services = Some(parse_count(&flag, value())?),
            "--seed" => seed = Some(parse_number(&flag, value())?),
            "--datastores" => datastores = Some(parse_count(&flag, value())?),
            "--brokers" => brokers = Some(parse_count(&flag, value())?),
            "--out" => {
                out = Some(PathBuf::from(
                    value().ok_or_else(|| "--out needs a value".to_owned())?,
                ));
            }
            "--bundle" | "--force" if inline.is_some() => {
                return Err(format!("{flag} takes no value"));
            }
            "--bundle" => bundle = true,
            "--force" => force = true,
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    let services = services.ok_or("--services is required")?;
    let out = out.ok_or("--out is required")?;
    let mut cfg = SynthConfig::new(services);
    if let Some(seed) = seed {
        cfg.seed = seed;
    }
    if let Some(d) = datastores {
        cfg.datastores = d;
    }
    if let Some(b) = brokers {
        cfg.brokers = b;
    }
    cfg.files_per_service = !bundle;
    Ok(Some(Args { cfg, out, force }))
}

/// Creates `dir`, refusing a non-empty existing one unless `force`.
fn prepare_dir(dir: &Path, force: bool) -> Result<(), String> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if !force && entries.next().is_some() {
                return Err(format!(
                    "{} exists and is not empty (use --force to write into it)",
                    dir.display()
                ));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display())),
        Err(e) => Err(format!("cannot read {}: {e}", dir.display())),
    }
}

fn run(args: &Args) -> Result<(), String> {
    prepare_dir(&args.out, args.force)?;
    let started = Instant::now();
    let system = generate(&args.cfg);
    let generated = started.elapsed();
    let mut bytes = 0usize;
    for file in &system.files {
        let path = args.out.join(&file.path);
        std::fs::write(&path, &file.text)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        bytes += file.text.len();
    }
    let total = started.elapsed();
    eprintln!(
        "cairn-synth: {} services, {} files, {} objects, {} edges, {bytes} bytes ({:.1} MiB) in {} \
         (generated in {:.1} ms, written in {:.1} ms)",
        args.cfg.services,
        system.files.len(),
        system.objects,
        system.edges.len(),
        mib(bytes),
        args.out.display(),
        generated.as_secs_f64() * 1e3,
        total.saturating_sub(generated).as_secs_f64() * 1e3,
    );
    Ok(())
}

#[allow(clippy::cast_precision_loss)] // display only; exact below 2^53 bytes anyway
fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() -> ExitCode {
    match parse_args(std::env::args().skip(1)) {
        Ok(None) => {
            eprintln!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Some(args)) => match run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("cairn-synth: error: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("cairn-synth: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
