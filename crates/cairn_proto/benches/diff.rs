//! Load and compare two generated 1,000-file trees (the pair
//! `bench-vs-buf.sh` times against `buf breaking`).

use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    cairn_proto::synth_pair(dir.path(), 1000).expect("write trees");
    let (prev_dir, cur_dir) = (dir.path().join("old"), dir.path().join("new"));
    let (cfg, _) = cairn_proto::BreakingConfig::from_buf_yaml(&cur_dir);
    let cfg = cfg.unwrap_or_default();
    let mut group = c.benchmark_group("proto");
    group.sample_size(10);
    group.bench_function("load_and_diff_1000_files", |b| {
        b.iter(|| {
            let ((p, _), (q, _)) = cairn_proto::load_pair(&prev_dir, &cur_dir);
            cairn_proto::diff(&p, &q, &cfg)
        });
    });
    group.bench_function("load_1000_files", |b| {
        b.iter(|| cairn_proto::load(&cur_dir));
    });
    let ((p, _), (q, _)) = cairn_proto::load_pair(&prev_dir, &cur_dir);
    group.bench_function("diff_only_1000_files", |b| {
        b.iter(|| cairn_proto::diff(&p, &q, &cfg));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
