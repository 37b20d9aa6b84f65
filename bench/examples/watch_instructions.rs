//! The write workloads of `benches/watch.rs`, once, in memory, to count their instructions
//! (issue 13: with nobody subscribed and no feed, writes must cost what they cost before
//! subscriptions existed). Instruction counts, unlike times on a shared machine, are the same
//! from run to run, so two builds can be compared exactly.
//!
//! ```text
//! cargo build -p netabase-bench --release --example watch_instructions
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/watch_instructions <off|subscriber|feed> <put-each|put-many|none>
//! ```
//!
//! `put-each` is 1,000 commits of one `put`, `put-many` one `put_many` of 1,000 users; `none`
//! does the same setup (open, build the users, subscribe) and writes nothing: subtract it.

use netabase_bench::{N_OPS, user_age, user_email, user_name};
use netabase_runtime::{Definition, Filter, Store};
use std::hint::black_box;

macro_rules! users {
    ($module:ident) => {
        (0..N_OPS)
            .map(|id| netabase_bench::$module::User {
                id,
                name: user_name(id),
                email: user_email(id),
                age: user_age(id),
            })
            .collect::<Vec<_>>()
    };
}

/// Runs `$workload` over `$users` in `$store`.
macro_rules! write {
    ($store:expr, $users:expr, $workload:expr) => {
        match $workload {
            "put-each" => {
                for user in &$users {
                    let txn = $store.begin_write().expect("begin");
                    txn.users().expect("tree").put(user).expect("put");
                    txn.commit().expect("commit");
                }
            }
            "put-many" => {
                let txn = $store.begin_write().expect("begin");
                txn.users()
                    .expect("tree")
                    .put_many(&$users)
                    .expect("put_many");
                txn.commit().expect("commit");
            }
            "none" => {}
            other => panic!("unknown workload {other}"),
        }
    };
}

fn store<D: Definition>() -> Store<D> {
    Store::in_memory().expect("open")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [subject, workload] = args.as_slice() else {
        eprintln!("usage: watch_instructions <off|subscriber|feed> <put-each|put-many|none>");
        std::process::exit(2);
    };
    let workload = workload.as_str();
    match subject.as_str() {
        "off" => {
            let store = store::<netabase_bench::users::Bench>();
            let users = users!(users);
            write!(store, users, workload);
            black_box(store);
        }
        "subscriber" => {
            let store = store::<netabase_bench::users::Bench>();
            let sub = store
                .watch::<netabase_bench::users::User>(Filter::all())
                .expect("watch");
            let users = users!(users);
            write!(store, users, workload);
            black_box((store, sub));
        }
        "feed" => {
            let store = store::<netabase_bench::users_feed::BenchFeed>();
            let users = users!(users_feed);
            write!(store, users, workload);
            black_box(store);
        }
        other => panic!("unknown subject {other}"),
    }
}
