//! Load and compare two generated 1,000-file trees.

use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let prev = tempfile::tempdir().expect("tempdir");
    let cur = tempfile::tempdir().expect("tempdir");
    cairn_proto::synth_tree(prev.path(), 1000, 1).expect("write tree");
    cairn_proto::synth_tree(cur.path(), 1000, 2).expect("write tree");
    let cfg = cairn_proto::BreakingConfig::default();
    let mut group = c.benchmark_group("proto");
    group.sample_size(10);
    group.bench_function("load_and_diff_1000_files", |b| {
        b.iter(|| {
            let (p, _) = cairn_proto::load(prev.path());
            let (q, _) = cairn_proto::load(cur.path());
            cairn_proto::diff(&p, &q, &cfg)
        });
    });
    let (p, _) = cairn_proto::load(prev.path());
    let (q, _) = cairn_proto::load(cur.path());
    group.bench_function("diff_only_1000_files", |b| {
        b.iter(|| cairn_proto::diff(&p, &q, &cfg));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
