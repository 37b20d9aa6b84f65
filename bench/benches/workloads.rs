//! The workloads of GitHub issue 5, each run by G, A, R, N and S (see `src/lib.rs`).
//!
//! `cargo bench -p netabase-bench --bench workloads`; then `cargo run -p netabase-bench --release
//! --bin report` prints the table and writes `docs/BENCHMARKS.md`. Every criterion group is a
//! workload and every function in it a subject, so the results are
//! `target/criterion/<workload>/<G|A|R|N>/new/estimates.json`.
//!
//! Write workloads get a fresh database per iteration (made, and dropped, outside the timing);
//! read workloads get a fresh database per workload and subject.

use criterion::measurement::WallTime;
use criterion::{
    BatchSize, BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main,
};
use netabase_bench::generated::{AutoCommit, Generated};
use netabase_bench::native::Native;
use netabase_bench::raw::Raw;
use netabase_bench::sqlite::Sqlite;
use netabase_bench::{
    AGES, MIX, N_LOOKUPS, N_OPS, N_USERS, Subject, atlas, data, sample_ids, user_age, user_email,
};
use std::hint::black_box;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

type Group<'a> = BenchmarkGroup<'a, WallTime>;

fn users<S: Subject>(ids: impl IntoIterator<Item = u64>, age: impl Fn(u64) -> u32) -> Vec<S::User> {
    ids.into_iter().map(|id| S::user(id, age(id))).collect()
}

/// A fresh database holding users `0..n`.
fn filled<S: Subject>(n: u64) -> S::Db {
    let db = S::open();
    S::fill(&db, users::<S>(0..n, user_age));
    db
}

/// A write workload: `setup` makes the database and the records outside the timing, `run`
/// consumes them; the database is dropped outside the timing too.
fn write<S: Subject>(
    g: &mut Group<'_>,
    setup: impl Fn() -> (S::Db, Vec<S::User>),
    run: fn(&S::Db, Vec<S::User>),
) {
    g.bench_function(S::LABEL, |b| {
        b.iter_batched(
            &setup,
            |(db, records)| {
                run(&db, records);
                db
            },
            BatchSize::PerIteration,
        )
    });
}

fn insert_each<S: Subject>(g: &mut Group<'_>) {
    write::<S>(
        g,
        || (S::open(), users::<S>(0..N_OPS, user_age)),
        S::insert_each,
    );
}

fn insert_batch<S: Subject>(g: &mut Group<'_>) {
    if S::HAS_QUERIES {
        write::<S>(
            g,
            || (S::open(), users::<S>(0..N_OPS, user_age)),
            S::insert_batch,
        );
    }
}

fn put_many<S: Subject>(g: &mut Group<'_>) {
    write::<S>(
        g,
        || (S::open(), users::<S>(0..N_OPS, user_age)),
        S::put_many,
    );
}

fn update<S: Subject>(g: &mut Group<'_>) {
    // Every user's age moves to the next value: one non-unique index entry moves per update.
    let next_age = |id| ((u64::from(user_age(id)) + 1) % AGES) as u32;
    write::<S>(
        g,
        || (filled::<S>(N_OPS), users::<S>(0..N_OPS, next_age)),
        S::update,
    );
}

fn remove<S: Subject>(g: &mut Group<'_>) {
    write::<S>(
        g,
        || (filled::<S>(N_OPS), users::<S>(0..N_OPS, user_age)),
        S::remove,
    );
}

fn get<S: Subject>(g: &mut Group<'_>) {
    let db = filled::<S>(N_USERS);
    let ids = sample_ids(N_OPS, N_USERS);
    g.bench_function(S::LABEL, |b| {
        b.iter(|| black_box(S::get(&db, black_box(&ids))))
    });
}

fn get_ref<S: Subject>(g: &mut Group<'_>) {
    if S::HAS_GET_REF {
        let db = filled::<S>(N_USERS);
        let ids = sample_ids(N_OPS, N_USERS);
        g.bench_function(S::LABEL, |b| {
            b.iter(|| black_box(S::get_ref(&db, black_box(&ids))))
        });
    }
}

fn by_unique<S: Subject>(g: &mut Group<'_>) {
    if S::HAS_QUERIES {
        let db = filled::<S>(N_USERS);
        let emails: Vec<String> = sample_ids(N_LOOKUPS as u64, N_USERS)
            .into_iter()
            .map(user_email)
            .collect();
        g.bench_function(S::LABEL, |b| {
            b.iter(|| black_box(S::by_email(&db, black_box(&emails))))
        });
    }
}

fn by_nonunique<S: Subject>(g: &mut Group<'_>) {
    if S::HAS_QUERIES {
        let db = filled::<S>(N_USERS);
        let ages: Vec<u32> = (0..N_LOOKUPS as u32).map(|i| i * 6 % AGES as u32).collect();
        let rows = S::by_age(&db, &ages);
        assert!(
            (1600..=1630).contains(&rows),
            "{} found {rows} rows",
            S::LABEL
        );
        g.bench_function(S::LABEL, |b| {
            b.iter(|| black_box(S::by_age(&db, black_box(&ages))))
        });
    }
}

fn scan<S: Subject>(g: &mut Group<'_>) {
    if S::HAS_QUERIES {
        let db = filled::<S>(N_USERS);
        assert_eq!(S::scan(&db, N_OPS), (0..N_OPS).sum::<u64>());
        g.bench_function(S::LABEL, |b| {
            b.iter(|| black_box(S::scan(&db, black_box(N_OPS))))
        });
    }
}

fn cities(file: &'static str) -> &'static [atlas::City] {
    static SMALL: OnceLock<Vec<atlas::City>> = OnceLock::new();
    static LARGE: OnceLock<Vec<atlas::City>> = OnceLock::new();
    let cell = if file == data::CITIES15000 {
        &SMALL
    } else {
        &LARGE
    };
    cell.get_or_init(|| data::cities(file))
}

fn import<S: Subject>(g: &mut Group<'_>, file: &'static str) {
    let rows = cities(file);
    g.bench_function(S::LABEL, |b| {
        b.iter_batched(
            || (S::open(), rows.iter().map(S::city).collect::<Vec<_>>()),
            |(db, rows)| {
                S::import(&db, rows);
                db
            },
            BatchSize::PerIteration,
        )
    });
}

fn import_15000<S: Subject>(g: &mut Group<'_>) {
    import::<S>(g, data::CITIES15000);
}

fn import_500<S: Subject>(g: &mut Group<'_>) {
    import::<S>(g, data::CITIES500);
}

fn mix<S: Subject>(g: &mut Group<'_>) {
    let db = Arc::new(filled::<S>(N_USERS));
    g.bench_function(S::LABEL, |b| b.iter(|| S::mix(&db, &MIX)));
}

/// One criterion group per workload, with G, A, R, N and S in it.
macro_rules! workloads {
    ($c:ident; $($name:ident $(: $configure:expr)?),* $(,)?) => {$(
        {
            let mut group = $c.benchmark_group(stringify!($name));
            $( ($configure)(&mut group); )?
            $name::<Generated>(&mut group);
            $name::<AutoCommit>(&mut group);
            $name::<Raw>(&mut group);
            $name::<Native>(&mut group);
            $name::<Sqlite>(&mut group);
            group.finish();
        }
    )*};
}

fn slow(group: &mut Group<'_>) {
    // Iterations of a second or more: ten of them, one per sample.
    group
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(10));
}

fn benches(c: &mut Criterion) {
    workloads!(c;
        insert_each,
        insert_batch,
        put_many,
        get,
        get_ref,
        by_unique,
        by_nonunique,
        scan,
        update,
        remove,
        import_15000,
        import_500: slow,
        mix,
    );
}

criterion_group! {
    name = workloads;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .without_plots();
    targets = benches
}
criterion_main!(workloads);
