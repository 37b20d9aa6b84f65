//! One workload of one subject, once, in memory: to count its instructions, which (unlike
//! time on a shared machine) are the same from run to run. L (LMDB), which has no in-memory
//! mode, runs on a file in a temporary directory: its counts are the CPU work of its reads
//! through the memory map (page faults and syncs are the kernel's, not counted).
//!
//! ```text
//! cargo build -p netabase-bench --release --example instructions
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/instructions <G|R|S|L> <workload>
//! ```
//!
//! Workloads: `import` (the 34,006 cities of `cities15000`), `load` (100,000 users with the
//! batch API), `mixed` (50,000 users stored, then one batch of 100,000 alternating a
//! replacement of a stored user with a new one above every id), `insert` (the same users
//! inserted one `insert` at a time in one transaction), `insert-each` (1,000 users, a
//! transaction and a commit each), `get` (10,000 gets), `unique` (1,000 unique-key lookups), `nonunique` (10
//! non-unique lookups), `nonunique-ref` (G only: the same through the zero-copy `by_age_ref`),
//! `scan` (a range scan of 10,000), `scan-ref` (G and R only: the same through zero-copy views),
//! `update` (10,000 of the users moved to the next age in one transaction), `remove` (10,000
//! of them removed in one transaction), `reopen` (G, R and L: open an
//! existing file of 100,000 users and get one of them, as a program does when it starts). The
//! setup (parsing, filling) is counted too, so subtract the baseline that does the same setup
//! and nothing else: `import-none`, `insert-none`, `insert-each-none`, `load-none`, `mixed-none`, `reopen-none`, and `none` for the reads (it
//! fills the same database).

use netabase_bench::generated::Generated;
use netabase_bench::lmdb::Lmdb;
use netabase_bench::raw::Raw;
use netabase_bench::sqlite::Sqlite;
use netabase_bench::users::Bench;
use netabase_bench::{AGES, Subject, data, sample_ids, user_age, user_email};
use std::hint::black_box;

const USERS: u64 = 100_000;

fn run<S: Subject>(workload: &str) {
    let users = |n: u64| {
        (0..n)
            .map(|id| S::user(id, user_age(id)))
            .collect::<Vec<_>>()
    };
    match workload {
        "import" | "import-none" => {
            let cities: Vec<S::City> = data::cities(data::CITIES15000)
                .iter()
                .map(S::city)
                .collect();
            let db = S::open();
            if workload == "import" {
                S::import(&db, cities);
            }
        }
        "insert" | "insert-none" => {
            let db = S::open();
            let users = users(USERS);
            if workload == "insert" {
                S::insert_batch(&db, users);
            }
        }
        "insert-each" | "insert-each-none" => {
            let db = S::open();
            let users = users(1_000);
            if workload == "insert-each" {
                S::insert_each(&db, users);
            }
        }
        "mixed" | "mixed-none" => {
            // Half the users stored; then a batch alternating a replacement of a stored user
            // with a new user above every id, as a sync job's upserts do.
            let db = S::open();
            S::fill(&db, users(USERS / 2));
            let batch = (0..USERS / 2)
                .flat_map(|id| {
                    [
                        S::user(id, user_age(id) + 1),
                        S::user(USERS / 2 + id, user_age(id)),
                    ]
                })
                .collect();
            if workload == "mixed" {
                S::put_many(&db, batch);
            }
        }
        "load" | "load-none" => {
            let db = S::open();
            let users = users(USERS);
            if workload == "load" {
                S::put_many(&db, users);
            }
        }
        _ => {
            let db = S::open();
            S::fill(&db, users(USERS));
            let ids = sample_ids(10_000, USERS);
            let (moved, removed) = write_sets::<S>(&ids);
            match workload {
                "get" => drop(black_box(S::get(&db, &ids))),
                "unique" => {
                    let emails: Vec<String> =
                        ids[..1000].iter().map(|&id| user_email(id)).collect();
                    black_box(S::by_email(&db, &emails));
                }
                "nonunique" => {
                    let ages: Vec<u32> = (0..10).map(|i| (i * 6 % AGES) as u32).collect();
                    black_box(S::by_age(&db, &ages));
                }
                "scan" => drop(black_box(S::scan(&db, 10_000))),
                "scan-ref" => drop(black_box(S::scan_ref(&db, 10_000))),
                "update" => S::update(&db, moved),
                "remove" => S::remove(&db, removed),
                "none" => drop((moved, removed)),
                other => panic!("unknown workload {other}"),
            }
        }
    }
}

/// The users of `update` (each moved to the next age) and `remove`. Built for every workload
/// that `none` is the baseline of, so that `none` counts them too.
fn write_sets<S: Subject>(ids: &[u64]) -> (Vec<S::User>, Vec<S::User>) {
    let moved = ids
        .iter()
        .map(|&id| S::user(id, user_age(id) + 1))
        .collect();
    let removed = ids.iter().map(|&id| S::user(id, user_age(id))).collect();
    (moved, removed)
}

/// `nonunique-ref`: `nonunique`'s lookups through the zero-copy `by_age_ref`, after the same
/// setup as `run`'s reads (so `none` is its baseline too).
fn nonunique_ref() {
    let db = Generated::open();
    Generated::fill(
        &db,
        (0..USERS)
            .map(|id| Generated::user(id, user_age(id)))
            .collect::<Vec<_>>(),
    );
    let ids = sample_ids(10_000, USERS);
    let sets = write_sets::<Generated>(&ids);
    let ages: Vec<u32> = (0..10).map(|i| (i * 6 % AGES) as u32).collect();
    black_box(Generated::by_age_ref(&db, &ages));
    drop(sets);
}

/// `reopen`: a file of [`USERS`] users is written (setup), then reopened and one user read.
fn reopen(subject: &str, workload: &str) {
    let dir = std::env::temp_dir().join(format!("netabase-instructions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("users.redb");
    let users = (0..USERS).map(|id| (id, user_age(id)));
    let id = USERS / 2;
    let found = match subject {
        "G" => {
            let db = Generated::open_file(&path);
            Generated::load(&db, users.map(|(id, age)| Generated::user(id, age)));
            drop(db);
            (workload == "reopen").then(|| {
                let store = netabase_runtime::Store::<Bench>::open(&path).expect("reopen");
                let txn = store.begin_read().expect("begin");
                let user = txn.users().expect("tree").get(id).expect("get");
                user.expect("present").id
            })
        }
        "R" => {
            let db = Raw::open_file(&path);
            Raw::load(&db, users.map(|(id, age)| Raw::user(id, age)));
            drop(db);
            (workload == "reopen").then(|| {
                let db = Raw::reopen_file(&path);
                Raw::get(&db, &[id])
            })
        }
        "L" => {
            // L's database is a directory (LMDB's environment).
            let db = Lmdb::open_file(&path);
            Lmdb::load(&db, users.map(|(id, age)| Lmdb::user(id, age)));
            drop(db);
            (workload == "reopen").then(|| {
                let db = Lmdb::open_file(&path);
                Lmdb::get(&db, &[id])
            })
        }
        other => panic!("reopen: unknown subject {other}"),
    };
    black_box(found);
    std::fs::remove_dir_all(&dir).expect("remove the temp dir");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [subject, workload] = args.as_slice() else {
        eprintln!(
            "usage: instructions <G|R|S|L> \
             <import|import-none|insert|insert-none|load|load-none|mixed|mixed-none|get|unique|nonunique|nonunique-ref|scan|scan-ref|none|reopen|reopen-none>"
        );
        std::process::exit(2);
    };
    if workload.starts_with("reopen") {
        return reopen(subject, workload);
    }
    if workload == "nonunique-ref" {
        assert_eq!(
            subject, "G",
            "nonunique-ref: G only (the generated zero-copy scan)"
        );
        return nonunique_ref();
    }
    match subject.as_str() {
        "G" => run::<Generated>(workload),
        "R" => run::<Raw>(workload),
        "S" => run::<Sqlite>(workload),
        "L" => run::<Lmdb>(workload),
        other => panic!("unknown subject {other}"),
    }
}
