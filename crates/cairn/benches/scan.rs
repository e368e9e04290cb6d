//! Scan benchmarks on synthetic systems from `cairn_synth`.
//!
//! - `yaml/saphyr-events` vs `yaml/cairn-tree`: the same bytes through the raw
//!   saphyr-parser event stream and through cairn's spanned tree builder, on
//!   one thread. Their ratio is how close the tree builder is to the parser's limit.
//! - `scan/N`: the whole `cairn scan` pipeline (walk, read, parse in parallel,
//!   build the model) on N services written to disk.
//!
//! `CAIRN_BENCH_SERVICES` sets N for `scan` (default 10,000, the target).

use std::hint::black_box;
use std::time::Duration;

use cairn_ingest::{InputPath, Options};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn yaml(c: &mut Criterion) {
    let sys = cairn_synth::generate(&cairn_synth::SynthConfig::new(1_000));
    let texts: Vec<&str> = sys.files.iter().map(|f| f.text.as_str()).collect();
    let bytes: u64 = texts.iter().map(|t| t.len() as u64).sum();
    let mut g = c.benchmark_group("yaml");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(20);
    g.bench_function("saphyr-events", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for t in &texts {
                for ev in saphyr_parser::Parser::new_from_str(t) {
                    n += usize::from(ev.is_ok());
                }
            }
            black_box(n)
        });
    });
    g.bench_function("cairn-tree", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for t in &texts {
                n += cairn_yaml::parse(t).documents.len();
            }
            black_box(n)
        });
    });
    g.finish();
}

fn scan(c: &mut Criterion) {
    let n: usize = std::env::var("CAIRN_BENCH_SERVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let sys = cairn_synth::generate(&cairn_synth::SynthConfig::new(n));
    let dir = tempfile::tempdir().expect("temp dir");
    for f in &sys.files {
        std::fs::write(dir.path().join(&f.path), &f.text).expect("write synthetic file");
    }
    let inputs = [InputPath::Path(dir.path().to_path_buf())];
    let opts = Options::default();
    let mut g = c.benchmark_group("scan");
    g.throughput(Throughput::Bytes(sys.total_bytes() as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function(format!("{n}-services"), |b| {
        b.iter(|| {
            let ingest = cairn_ingest::ingest(&inputs, &opts, &|_, _| {});
            let (system, _) = cairn_model::build(&ingest);
            assert_eq!(system.edges.len(), sys.edges.len());
            black_box(system.services.len())
        });
    });
    // the budget: scanned and checked in under 4 s wall
    g.bench_function(format!("{n}-services-scan-and-check"), |b| {
        b.iter(|| {
            let ingest = cairn_ingest::ingest(&inputs, &opts, &|_, _| {});
            let (system, _) = cairn_model::build(&ingest);
            let settings = cairn_check::Settings::for_profile(cairn_check::Profile::Production);
            let outcome = cairn_check::run(&ingest, &system, &settings);
            black_box(outcome.findings.len())
        });
    });
    g.finish();
}

criterion_group!(benches, yaml, scan);
criterion_main!(benches);
