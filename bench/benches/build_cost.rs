//! Build cost: `netabase_build::generate` on a 100-model schema (target: under 50 ms). The clean
//! and incremental build times of a small app are measured by `build-cost/measure.sh`.

use criterion::{Criterion, criterion_group, criterion_main};
use netabase_bench::schema100;
use std::hint::black_box;
use std::time::Duration;

fn generate(c: &mut Criterion) {
    let source = schema100::schema(schema100::MODELS);
    let options = netabase_build::Options {
        source_name: "big.toml".into(),
        ..Default::default()
    };
    c.benchmark_group("generate_100_models")
        .bench_function("generate", |b| {
            b.iter(|| {
                netabase_build::generate(black_box(&source), &options)
                    .expect("the schema compiles")
                    .len()
            })
        });
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
