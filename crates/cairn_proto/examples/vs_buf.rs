//! End-to-end timing of what `cairn` does for `buf breaking`: load the
//! previous tree, load the current one, compare them.
//!
//! ```text
//! vs_buf synth DIR FILES            # writes DIR/old and DIR/new
//! vs_buf diff OLD NEW [--json] [--times] [--repeat N]
//! ```
//!
//! `diff` prints each finding as buf's `--error-format json` does (one JSON
//! object a line) with `--json`, or `rule file:line` otherwise; `--times`
//! adds the load and diff times on stderr; `--repeat N` runs the diff `N`
//! more times and prints the best time.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("synth") if args.len() == 3 => {
            let dir = Path::new(&args[1]);
            let files: usize = args[2].parse().expect("FILES is a number");
            if let Err(e) = cairn_proto::synth_pair(dir, files) {
                eprintln!("cannot write the trees: {e}");
                std::process::exit(2);
            }
        }
        Some("diff") if args.len() >= 3 => diff(&args[1], &args[2], &args[3..]),
        _ => {
            eprintln!("usage: vs_buf synth DIR FILES | vs_buf diff OLD NEW [--json] [--times]");
            std::process::exit(2);
        }
    }
}

fn diff(old: &str, new: &str, flags: &[String]) {
    let json = flags.iter().any(|f| f == "--json");
    let times = flags.iter().any(|f| f == "--times");
    let t0 = Instant::now();
    let (cfg, _) = cairn_proto::BreakingConfig::from_buf_yaml(Path::new(new));
    let cfg = cfg.unwrap_or_default();
    let ((prev, pd), (cur, cd)) = cairn_proto::load_pair(Path::new(old), Path::new(new));
    let t1 = Instant::now();
    let changes = cairn_proto::diff(&prev, &cur, &cfg);
    let t2 = Instant::now();
    if let Some(n) = flags
        .iter()
        .position(|f| f == "--repeat")
        .and_then(|i| flags.get(i + 1))
        .and_then(|n| n.parse::<usize>().ok())
    {
        let mut best = f64::INFINITY;
        for _ in 0..n {
            let t = Instant::now();
            let again = cairn_proto::diff(&prev, &cur, &cfg);
            best = best.min(t.elapsed().as_secs_f64() * 1e3);
            assert_eq!(again.len(), changes.len());
        }
        eprintln!("diff best of {n}: {best:.1} ms");
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for c in &changes {
        // buf names no file (and prints 1:1) for what is gone with its file.
        let file = if c.previous {
            ""
        } else {
            c.file.as_deref().unwrap_or("")
        };
        if json {
            let path = if file.is_empty() {
                String::new()
            } else {
                format!("\"path\":{},", json_string(file))
            };
            let pos = |v: u32| v.max(1);
            let _ = writeln!(
                out,
                "{{{path}\"start_line\":{},\"start_column\":{},\"end_line\":{},\"end_column\":{},\"type\":\"{}\",\"message\":{}}}",
                pos(c.start_line),
                pos(c.start_column),
                pos(c.end_line),
                pos(c.end_column),
                c.rule,
                json_string(&c.message)
            );
        } else {
            let _ = writeln!(out, "{} {file}:{}", c.rule, c.start_line);
        }
    }
    let _ = out.flush();
    if times {
        eprintln!(
            "files {} + {}, diagnostics {} + {}, findings {}; load {:.1} ms, diff {:.1} ms, total {:.1} ms",
            prev.len(),
            cur.len(),
            pd.len(),
            cd.len(),
            changes.len(),
            (t1 - t0).as_secs_f64() * 1e3,
            (t2 - t1).as_secs_f64() * 1e3,
            (t2 - t0).as_secs_f64() * 1e3,
        );
    }
    for d in pd.iter().chain(&cd) {
        eprintln!("{}: {}", d.code, d.message);
    }
    // As buf: 100 when there are breaking changes. Exiting here also skips
    // freeing both trees, as a CLI would.
    std::process::exit(if changes.is_empty() { 0 } else { 100 });
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if u32::from(c) < 0x20 => {
                let _ =
                    std::fmt::Write::write_fmt(&mut out, format_args!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
