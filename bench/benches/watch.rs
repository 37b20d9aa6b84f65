//! The cost of subscriptions and of the change feed on writes (issue 13), three subjects in one
//! criterion run, on the users of `benches/workloads.rs`:
//!
//! * `off`: definition `Bench`, nobody subscribed (the path every write takes by default);
//! * `subscriber`: the same with one whole-model subscription, drained after each iteration;
//! * `feed`: definition `BenchFeed` (`change_feed = true`), nobody subscribed.
//!
//! `cargo bench -p netabase-bench --bench watch`. Each iteration gets a fresh in-memory store,
//! made and dropped outside the timing.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use netabase_bench::{N_OPS, user_age, user_email, user_name};
use netabase_runtime::{Definition, Filter, Store, Subscription};
use std::time::Duration;

macro_rules! user {
    ($module:ident, $id:expr) => {{
        let id = $id;
        netabase_bench::$module::User {
            id,
            name: user_name(id),
            email: user_email(id),
            age: user_age(id),
        }
    }};
}

/// One timed workload over the three subjects: `$run(&store, users)` writes.
macro_rules! subjects {
    ($c:expr, $group:literal, $run:ident) => {{
        let mut g = $c.benchmark_group($group);
        g.bench_function("off", |b| {
            b.iter_batched(
                || {
                    (
                        store::<netabase_bench::users::Bench>(),
                        (0..N_OPS).map(|id| user!(users, id)).collect::<Vec<_>>(),
                    )
                },
                |(store, users)| {
                    $run!(store, users);
                    store
                },
                BatchSize::PerIteration,
            )
        });
        g.bench_function("subscriber", |b| {
            b.iter_batched(
                || {
                    let store = store::<netabase_bench::users::Bench>();
                    let sub: Subscription<netabase_bench::users::User> =
                        store.watch(Filter::all()).expect("watch");
                    (
                        store,
                        sub,
                        (0..N_OPS).map(|id| user!(users, id)).collect::<Vec<_>>(),
                    )
                },
                |(store, sub, users)| {
                    $run!(store, users);
                    (store, sub)
                },
                BatchSize::PerIteration,
            )
        });
        g.bench_function("feed", |b| {
            b.iter_batched(
                || {
                    (
                        store::<netabase_bench::users_feed::BenchFeed>(),
                        (0..N_OPS)
                            .map(|id| user!(users_feed, id))
                            .collect::<Vec<_>>(),
                    )
                },
                |(store, users)| {
                    $run!(store, users);
                    store
                },
                BatchSize::PerIteration,
            )
        });
        g.finish();
    }};
}

/// One commit per record.
macro_rules! put_each {
    ($store:expr, $users:expr) => {
        for user in &$users {
            let txn = $store.begin_write().expect("begin");
            txn.users().expect("tree").put(user).expect("put");
            txn.commit().expect("commit");
        }
    };
}

/// Every record in one `put_many` commit.
macro_rules! put_many {
    ($store:expr, $users:expr) => {
        let txn = $store.begin_write().expect("begin");
        txn.users()
            .expect("tree")
            .put_many(&$users)
            .expect("put_many");
        txn.commit().expect("commit");
    };
}

fn store<D: Definition>() -> Store<D> {
    Store::in_memory().expect("open")
}

fn benches(c: &mut Criterion) {
    subjects!(c, "watch_put_each", put_each);
    subjects!(c, "watch_put_many", put_many);
}

criterion_group! {
    name = watch;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .without_plots();
    targets = benches
}
criterion_main!(watch);
