//! The benchmarks of GitHub issue 5: one workload, six subjects.
//!
//! * **G** — the generated netabase store, explicit transactions ([`generated::Generated`]);
//! * **A** — the same store through its auto-commit API ([`generated::AutoCommit`]);
//! * **R** — hand-written raw redb 4 with bincode 2 ([`raw::Raw`]);
//! * **N** — native_db with native_model ([`native::Native`]);
//! * **S** — SQLite through rusqlite, WAL, prepared statements ([`sqlite::Sqlite`]);
//! * **L** — LMDB through heed, R's records with `DUP_SORT` indexes ([`lmdb::Lmdb`]).
//!
//! Every subject implements [`Subject`]: one method per workload, each written with the subject's
//! best API for it. `benches/workloads.rs` times them with criterion and the `report` binary turns
//! criterion's medians into `docs/BENCHMARKS.md`. All databases of that suite are in memory
//! (each library's in-memory redb backend; SQLite's `:memory:`), so the figures compare the code
//! above the storage engine, not a disk. The `disk` binary runs G, R, S and L on files instead
//! (see `src/bin/disk.rs`); L, which has no in-memory mode, is a subject of that benchmark only
//! (its [`Subject`] implementation, on a temporary directory, is for the tests).

pub mod data;
pub mod generated;
pub mod lmdb;
pub mod native;
pub mod raw;
pub mod reporting;
pub mod schema100;
pub mod sqlite;

/// The netabase code generated from `bench/schemas/users.toml` (definition `Bench`, model `User`).
#[allow(missing_docs)]
pub mod users {
    netabase_runtime::include_schema!("users");
}

/// The netabase code generated from `bench/schemas/users_feed.toml`: `users` with the change
/// feed on (definition `BenchFeed`), for `benches/watch.rs`.
#[allow(missing_docs)]
pub mod users_feed {
    netabase_runtime::include_schema!("users_feed");
}

/// The netabase code generated from the atlas schema at version 2
/// (`example-app/schemas/atlas_v2.toml`, model `City` for the imports; see `build.rs`).
#[allow(missing_docs)]
pub mod atlas {
    netabase_runtime::include_schema!("atlas_v2");
}

/// The atlas at version 3 (`schemas/atlas.toml`: a new field and a new index), what a version 2
/// file migrates to in the migration benchmark (`src/bin/migration.rs`).
#[allow(missing_docs)]
pub mod atlas_v3 {
    netabase_runtime::include_schema!("atlas");
}

/// The atlas at version 2 with only a new index (`schemas/atlas_index_only.toml`), for the
/// migration benchmark.
#[allow(missing_docs)]
pub mod atlas_index_only {
    netabase_runtime::include_schema!("atlas_index_only");
}

/// Users in the small workloads (inserts, gets, updates, removes, scan length).
pub const N_OPS: u64 = 1_000;
/// Users in the database of the read workloads, so that one age holds ~161 of them.
pub const N_USERS: u64 = 10_000;
/// Distinct ages: `age = id % AGES`, so 10,000 users give 161 or 162 per age.
pub const AGES: u64 = 62;
/// Lookups in the secondary-key workloads.
pub const N_LOOKUPS: usize = 10;

/// The name of user `id`.
pub fn user_name(id: u64) -> String {
    format!("User Number {id}")
}

/// The (unique) email of user `id`.
pub fn user_email(id: u64) -> String {
    format!("user.{id}@example.com")
}

/// The age of user `id`.
pub fn user_age(id: u64) -> u32 {
    (id % AGES) as u32
}

/// A deterministic permutation of `0..n` (a multiplicative LCG walk), so gets do not visit
/// keys in order.
pub fn shuffled(n: u64) -> Vec<u64> {
    // 7919 is prime and coprime with every n used here that is not a multiple of it.
    let step = 7919 % n.max(1);
    let mut out = Vec::with_capacity(n as usize);
    let mut x = 0u64;
    for _ in 0..n {
        out.push(x);
        x = (x + step) % n;
    }
    out
}

/// `count` distinct ids spread over `0..within`, in a scattered order.
pub fn sample_ids(count: u64, within: u64) -> Vec<u64> {
    shuffled(within).into_iter().take(count as usize).collect()
}

/// The work of the read-heavy mix, per iteration.
#[derive(Debug, Clone, Copy)]
pub struct MixPlan {
    /// Users in the store (ids `0..users`).
    pub users: u64,
    /// Reader threads.
    pub readers: usize,
    /// Read transactions per reader.
    pub read_txns: usize,
    /// Gets per read transaction.
    pub gets_per_txn: usize,
    /// Write transactions of the one writer.
    pub write_txns: usize,
    /// Puts per write transaction.
    pub puts_per_txn: usize,
}

/// 4 readers x 20 read transactions x 100 gets, and 1 writer x 50 transactions x 10 updates,
/// against a store of [`N_USERS`] users.
pub const MIX: MixPlan = MixPlan {
    users: N_USERS,
    readers: 4,
    read_txns: 20,
    gets_per_txn: 100,
    write_txns: 50,
    puts_per_txn: 10,
};

impl MixPlan {
    /// The ids reader `reader` gets, in order.
    pub fn reader_ids(&self, reader: usize) -> Vec<u64> {
        let n = (self.read_txns * self.gets_per_txn) as u64;
        let all = shuffled(self.users);
        (0..n)
            .map(|i| all[((reader as u64 * n + i) % self.users) as usize])
            .collect()
    }

    /// The ids the writer updates, in order.
    pub fn writer_ids(&self) -> Vec<u64> {
        let n = (self.write_txns * self.puts_per_txn) as u64;
        (0..n).map(|i| (i * 13) % self.users).collect()
    }
}

/// One system under test. Every method panics on an error: a benchmark that fails must stop.
///
/// The `Vec` arguments are owned so that a library whose API takes records by value (native_db)
/// pays no clone inside the timed part; the others borrow from them.
pub trait Subject {
    /// The column label: G, A, R, N, S or L.
    const LABEL: &'static str;
    /// Whether the subject has a zero-copy read.
    const HAS_GET_REF: bool;
    /// Whether the subject has an API for the query workloads (unique, non-unique, scan) and
    /// for inserts in one transaction; the auto-commit API has none.
    const HAS_QUERIES: bool;
    /// The database handle.
    type Db: Send + Sync + 'static;
    /// The subject's user record.
    type User: Send + Sync + 'static;
    /// The subject's city record.
    type City: Send + 'static;

    /// A fresh, empty in-memory database (L: in a temporary directory).
    fn open() -> Self::Db;
    /// User `id` with age `age`.
    fn user(id: u64, age: u32) -> Self::User;
    /// The subject's copy of a parsed city.
    fn city(city: &atlas::City) -> Self::City;
    /// Setup, not timed: writes `users` in one transaction.
    fn fill(db: &Self::Db, users: Vec<Self::User>);

    /// Inserts each user in a transaction of its own.
    fn insert_each(db: &Self::Db, users: Vec<Self::User>);
    /// Inserts every user in one transaction.
    fn insert_batch(db: &Self::Db, users: Vec<Self::User>);
    /// The batch-write API (`put_many`, or the subject's equivalent) in one transaction.
    fn put_many(db: &Self::Db, users: Vec<Self::User>);
    /// Gets every id (owned records) in one read transaction; returns a checksum.
    fn get(db: &Self::Db, ids: &[u64]) -> u64;
    /// As [`get`](Self::get), through a zero-copy view.
    fn get_ref(db: &Self::Db, ids: &[u64]) -> u64;
    /// Looks each email up by the unique index.
    fn by_email(db: &Self::Db, emails: &[String]) -> u64;
    /// Reads every user of each age through the non-unique index; returns the row count.
    fn by_age(db: &Self::Db, ages: &[u32]) -> u64;
    /// Reads the first `n` users in primary key order.
    fn scan(db: &Self::Db, n: u64) -> u64;
    /// As [`scan`](Self::scan), through zero-copy views (only where
    /// [`HAS_GET_REF`](Self::HAS_GET_REF)); returns what [`get`](Self::get) returns for those
    /// ids.
    fn scan_ref(db: &Self::Db, n: u64) -> u64;
    /// Replaces every user (their age changed) in one transaction.
    fn update(db: &Self::Db, users: Vec<Self::User>);
    /// Removes every user in one transaction.
    fn remove(db: &Self::Db, users: Vec<Self::User>);
    /// Writes every city in one transaction.
    fn import(db: &Self::Db, cities: Vec<Self::City>);
    /// The read-heavy mix on a shared database.
    fn mix(db: &std::sync::Arc<Self::Db>, plan: &MixPlan);
}

static MIX_ROUND: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

/// A new number for each run of the mix's writer, so every run changes the ages it writes (an
/// update that changes nothing would skip the index work).
pub fn next_round() -> u32 {
    MIX_ROUND.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The age the mix's writer gives user `id` in round `round`.
pub fn mix_age(id: u64, round: u32) -> u32 {
    ((id + u64::from(round)) % AGES) as u32
}

/// Runs the mix: `plan.readers` threads calling `read(ids)` and one calling `write(ids)`, all
/// started together, joined before returning.
pub fn run_mix<D: Send + Sync + 'static>(
    db: &std::sync::Arc<D>,
    plan: &MixPlan,
    read: fn(&D, &[u64], usize) -> u64,
    write: fn(&D, &[u64], usize),
) {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(plan.readers + 1));
    let mut handles = Vec::with_capacity(plan.readers + 1);
    for reader in 0..plan.readers {
        let db = std::sync::Arc::clone(db);
        let barrier = std::sync::Arc::clone(&barrier);
        let ids = plan.reader_ids(reader);
        let per_txn = plan.gets_per_txn;
        handles.push(std::thread::spawn(move || {
            barrier.wait();
            std::hint::black_box(read(&db, &ids, per_txn));
        }));
    }
    let writer = {
        let db = std::sync::Arc::clone(db);
        let ids = plan.writer_ids();
        let per_txn = plan.puts_per_txn;
        std::thread::spawn(move || {
            barrier.wait();
            write(&db, &ids, per_txn);
        })
    };
    for handle in handles {
        handle.join().expect("a reader panicked");
    }
    writer.join().expect("the writer panicked");
}

#[cfg(test)]
mod tests {
    //! The subjects agree: same rows, same checksums, indexes kept exact by every write. Small
    //! sizes: this runs in `cargo test`, the benchmarks do not.

    use super::*;

    fn users<S: Subject>(ids: impl IntoIterator<Item = u64>, age: fn(u64) -> u32) -> Vec<S::User> {
        ids.into_iter().map(|id| S::user(id, age(id))).collect()
    }

    /// Every workload on a small database; returns the checksums.
    fn run<S: Subject>() -> Vec<u64> {
        let n = 620;
        let db = S::open();
        S::insert_each(&db, users::<S>(0..10, user_age));
        if S::HAS_QUERIES {
            S::insert_batch(&db, users::<S>(10..20, user_age));
        } else {
            S::put_many(&db, users::<S>(10..20, user_age));
        }
        S::put_many(&db, users::<S>(20..n, user_age));
        let ids = sample_ids(100, n);
        let mut out = vec![S::get(&db, &ids)];
        if S::HAS_GET_REF {
            assert_eq!(S::get_ref(&db, &ids), out[0]);
        }
        let next = |id| ((u64::from(user_age(id)) + 1) % AGES) as u32;
        S::update(&db, users::<S>(0..n, next));
        out.push(S::get(&db, &ids));
        if S::HAS_QUERIES {
            let emails: Vec<String> = ids.iter().map(|&id| user_email(id)).collect();
            out.push(S::by_email(&db, &emails));
            // After the update, age 1 holds the users whose id % 62 == 0.
            out.push(S::by_age(&db, &[1, 5]));
            out.push(S::scan(&db, 100));
            if S::HAS_GET_REF {
                let first: Vec<u64> = (0..100).collect();
                assert_eq!(S::scan_ref(&db, 100), S::get(&db, &first));
            }
        }
        S::remove(&db, users::<S>(0..n / 2, next));
        if S::HAS_QUERIES {
            out.push(S::by_age(&db, &[1, 5]));
            out.push(S::scan(&db, n));
        }
        let db = std::sync::Arc::new(db);
        let plan = MixPlan {
            users: 2000,
            readers: 2,
            read_txns: 2,
            gets_per_txn: 5,
            write_txns: 2,
            puts_per_txn: 3,
        };
        S::fill(&db, users::<S>(0..plan.users, user_age));
        S::mix(&db, &plan);
        out
    }

    #[test]
    fn the_subjects_agree() {
        let g = run::<generated::Generated>();
        assert_eq!(g[3], 20, "10 users per age in 620, two ages");
        assert_eq!(run::<raw::Raw>(), g);
        assert_eq!(run::<native::Native>(), g);
        assert_eq!(run::<sqlite::Sqlite>(), g);
        assert_eq!(run::<lmdb::Lmdb>(), g);
        let a = run::<generated::AutoCommit>();
        assert_eq!(a, g[..2]);
    }

    #[test]
    fn raw_and_native_cities_mirror_the_schema_indexes() {
        // R, N and L build these same indexes by hand: update them if the bench's atlas schema
        // changes.
        let fields: Vec<&str> = <atlas::City as netabase_runtime::Model>::INDEXES
            .iter()
            .map(|index| index.field)
            .collect();
        assert_eq!(
            fields,
            ["name", "country_code", "timezone", "country_population"]
        );
    }

    #[test]
    fn city_copies_import() {
        let rows: Vec<atlas::City> = data::cities(data::CITIES15000)
            .into_iter()
            .take(500)
            .collect();
        assert_eq!(rows[0].geonameid, 362);
        let db = generated::Generated::open();
        generated::Generated::import(&db, rows.iter().map(generated::Generated::city).collect());
        let db = raw::Raw::open();
        raw::Raw::import(&db, rows.iter().map(raw::Raw::city).collect());
        let db = native::Native::open();
        native::Native::import(&db, rows.iter().map(native::Native::city).collect());
        let db = lmdb::Lmdb::open();
        lmdb::Lmdb::import(&db, rows.iter().map(lmdb::Lmdb::city).collect());
    }
}
