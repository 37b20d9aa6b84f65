//! Build cost: `netabase_build::generate` on `schemas/atlas.toml` and on a synthetic 100-model
//! schema, reported, not targeted (what users feel is their build: the clean and incremental
//! build times of a small app are measured by `build-cost/measure.sh`).

use criterion::{Criterion, criterion_group, criterion_main};
use netabase_bench::schema100;
use std::hint::black_box;
use std::time::Duration;

fn bench_generate(c: &mut Criterion, group: &str, source: &str, source_name: &str) {
    let options = netabase_build::Options {
        source_name: source_name.into(),
        ..Default::default()
    };
    c.benchmark_group(group).bench_function("generate", |b| {
        b.iter(|| {
            netabase_build::generate(black_box(source), &options)
                .expect("the schema compiles")
                .len()
        })
    });
}

fn generate(c: &mut Criterion) {
    let atlas = include_str!("../../schemas/atlas.toml");
    bench_generate(c, "generate_atlas", atlas, "schemas/atlas.toml");
    let big = schema100::schema(schema100::MODELS);
    bench_generate(c, "generate_100_models", &big, "big.toml");
}

criterion_group! {
    name = build_cost;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .without_plots();
    targets = generate
}
criterion_main!(build_cost);
