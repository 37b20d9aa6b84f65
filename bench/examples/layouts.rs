//! The evidence behind `docs/BENCHMARKS.md`'s "where the time goes": raw redb, no netabase
//! code, on the table layouts netabase uses and the ones it could use.
//!
//! `cargo run -p netabase-bench --release --example layouts`
//!
//! 1. 1000 gets from 10,000 records keyed by `u64` (R's layout), by `&[u8]` (netabase's: every
//!    table is bytes to bytes) and by `Fixed<8>`, a fixed-width byte key type with an inline
//!    comparison (the same big-endian bytes netabase stores).
//! 2. 1000 user inserts, then 1000 updates of the non-unique key, with three indexes' layouts:
//!    R's typed tables; netabase's (all `&[u8]`, the non-unique entry `age ++ id -> id`, and the
//!    existence and unique-key lookups made before writing); the same with those lookups folded
//!    into `insert`'s return value; that with `Fixed<8>` records and the entry `&[u8] -> ()`
//!    (an empty value but a variable-width key); and with fixed-width keys (`Fixed<8>` records,
//!    the non-unique entry `Fixed<12> -> ()`: what netabase stores now).

use redb::backends::InMemoryBackend;
use redb::{Database, Key, ReadableDatabase, ReadableTable, TableDefinition, TypeName, Value};
use std::cmp::Ordering;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// `N` bytes compared as bytes, declared fixed-width so redb stores no per-entry length.
#[derive(Debug)]
struct Fixed<const N: usize>;

impl<const N: usize> Value for Fixed<N> {
    type SelfType<'a> = [u8; N];
    type AsBytes<'a> = [u8; N];
    fn fixed_width() -> Option<usize> {
        Some(N)
    }
    fn from_bytes<'a>(data: &'a [u8]) -> [u8; N]
    where
        Self: 'a,
    {
        let mut out = [0; N];
        out.copy_from_slice(&data[..N]);
        out
    }
    fn as_bytes<'a, 'b: 'a>(value: &'a [u8; N]) -> [u8; N]
    where
        Self: 'b,
    {
        *value
    }
    fn type_name() -> TypeName {
        TypeName::new(&format!("layouts::Fixed<{N}>"))
    }
}

impl<const N: usize> Key for Fixed<N> {
    #[inline]
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        if N == 8 {
            let word = |s: &[u8]| u64::from_be_bytes(s[..8].try_into().unwrap_or_default());
            word(a).cmp(&word(b))
        } else {
            a[..N].cmp(&b[..N])
        }
    }
}

type Bytes = &'static [u8];

const BY_U64: TableDefinition<u64, Bytes> = TableDefinition::new("u64");
const BY_BYTES: TableDefinition<Bytes, Bytes> = TableDefinition::new("bytes");
const BY_FIXED: TableDefinition<Fixed<8>, Bytes> = TableDefinition::new("fixed");

const R_USERS: TableDefinition<u64, Bytes> = TableDefinition::new("r/users");
const R_EMAIL: TableDefinition<&str, u64> = TableDefinition::new("r/email");
const R_AGE: TableDefinition<(u32, u64), ()> = TableDefinition::new("r/age");
const B_USERS: TableDefinition<Bytes, Bytes> = TableDefinition::new("b/users");
const B_EMAIL: TableDefinition<Bytes, Bytes> = TableDefinition::new("b/email");
const B_AGE: TableDefinition<Bytes, Bytes> = TableDefinition::new("b/age");
const F_USERS: TableDefinition<Fixed<8>, Bytes> = TableDefinition::new("f/users");
const F_AGE: TableDefinition<Fixed<12>, ()> = TableDefinition::new("f/age");
const U_AGE: TableDefinition<Bytes, ()> = TableDefinition::new("u/age");

fn db() -> Database {
    Database::builder()
        .create_with_backend(InMemoryBackend::new())
        .expect("create")
}

fn record(id: u64, age: u32) -> Vec<u8> {
    format!("--User Number {id}user.{id}@example.com{age}").into_bytes()
}

/// netabase's string key encoding (no `0x00` in these strings): the bytes and a terminator.
fn string_key(s: &str) -> Vec<u8> {
    let mut key = s.as_bytes().to_vec();
    key.extend_from_slice(&[0, 0]);
    key
}

fn age_entry(age: u32, id: u64) -> [u8; 12] {
    let mut key = [0; 12];
    key[..4].copy_from_slice(&age.to_be_bytes());
    key[4..].copy_from_slice(&id.to_be_bytes());
    key
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn gets() {
    let db = db();
    let txn = db.begin_write().expect("begin");
    {
        let mut a = txn.open_table(BY_U64).expect("open");
        let mut b = txn.open_table(BY_BYTES).expect("open");
        let mut c = txn.open_table(BY_FIXED).expect("open");
        for id in 0..10_000u64 {
            let value = record(id, 0);
            a.insert(id, value.as_slice()).expect("insert");
            b.insert(id.to_be_bytes().as_slice(), value.as_slice())
                .expect("insert");
            c.insert(id.to_be_bytes(), value.as_slice())
                .expect("insert");
        }
    }
    txn.commit().expect("commit");
    let ids = netabase_bench::sample_ids(1000, 10_000);
    let txn = db.begin_read().expect("begin");
    let a = txn.open_table(BY_U64).expect("open");
    let b = txn.open_table(BY_BYTES).expect("open");
    let c = txn.open_table(BY_FIXED).expect("open");
    let once = |f: &dyn Fn(u64) -> usize| {
        let start = Instant::now();
        for &id in &ids {
            black_box(f(id));
        }
        start.elapsed()
    };
    // Interleaved, so that a noisy moment hurts the three alike.
    let (mut u64_key, mut bytes_key, mut fixed_key) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..300 {
        u64_key.push(once(&|id| {
            a.get(id).expect("get").expect("present").value().len()
        }));
        bytes_key.push(once(&|id| {
            b.get(id.to_be_bytes().as_slice())
                .expect("get")
                .expect("present")
                .value()
                .len()
        }));
        fixed_key.push(once(&|id| {
            c.get(id.to_be_bytes())
                .expect("get")
                .expect("present")
                .value()
                .len()
        }));
    }
    let (u64_key, bytes_key, fixed_key) = (median(u64_key), median(bytes_key), median(fixed_key));
    println!(
        "1000 gets:     u64 key {u64_key:>10.1?}   &[u8] key {bytes_key:>10.1?}   Fixed<8> key {fixed_key:>10.1?}"
    );
}

/// Writes users `0..1000` (`update`: with their age moved by one) in one transaction.
fn write(db: &Database, layout: u8, update: bool) {
    let txn = db.begin_write().expect("begin");
    {
        let mut r_users = txn.open_table(R_USERS).expect("open");
        let mut r_email = txn.open_table(R_EMAIL).expect("open");
        let mut r_age = txn.open_table(R_AGE).expect("open");
        let mut b_users = txn.open_table(B_USERS).expect("open");
        let mut b_email = txn.open_table(B_EMAIL).expect("open");
        let mut b_age = txn.open_table(B_AGE).expect("open");
        let mut f_users = txn.open_table(F_USERS).expect("open");
        let mut f_age = txn.open_table(F_AGE).expect("open");
        let mut u_age = txn.open_table(U_AGE).expect("open");
        for id in 0..1000u64 {
            let old_age = (id % 62) as u32;
            let age = if update { (old_age + 1) % 62 } else { old_age };
            let value = record(id, age);
            let email = format!("user.{id}@example.com");
            let pk = id.to_be_bytes();
            match layout {
                0 => {
                    let existed = r_users
                        .insert(id, value.as_slice())
                        .expect("insert")
                        .is_some();
                    if existed {
                        r_age.remove((old_age, id)).expect("remove");
                    } else {
                        r_email.insert(email.as_str(), id).expect("insert");
                    }
                    r_age.insert((age, id), ()).expect("insert");
                }
                1 | 2 => {
                    let email = string_key(&email);
                    if layout == 1 {
                        if !update {
                            assert!(b_users.get(pk.as_slice()).expect("get").is_none());
                        }
                        black_box(b_email.get(email.as_slice()).expect("get").is_some());
                    }
                    let existed = b_users
                        .insert(pk.as_slice(), value.as_slice())
                        .expect("insert")
                        .is_some();
                    if existed {
                        b_age
                            .remove(age_entry(old_age, id).as_slice())
                            .expect("remove");
                    } else {
                        b_email
                            .insert(email.as_slice(), pk.as_slice())
                            .expect("insert");
                    }
                    b_age
                        .insert(age_entry(age, id).as_slice(), pk.as_slice())
                        .expect("insert");
                }
                3 => {
                    // Fixed records, but the entry keeps a variable-width key: `&[u8] -> ()`.
                    let email = string_key(&email);
                    let existed = f_users
                        .insert(pk, value.as_slice())
                        .expect("insert")
                        .is_some();
                    if existed {
                        u_age
                            .remove(age_entry(old_age, id).as_slice())
                            .expect("remove");
                    } else {
                        b_email
                            .insert(email.as_slice(), pk.as_slice())
                            .expect("insert");
                    }
                    u_age
                        .insert(age_entry(age, id).as_slice(), ())
                        .expect("insert");
                }
                _ => {
                    let email = string_key(&email);
                    let existed = f_users
                        .insert(pk, value.as_slice())
                        .expect("insert")
                        .is_some();
                    if existed {
                        f_age.remove(age_entry(old_age, id)).expect("remove");
                    } else {
                        b_email
                            .insert(email.as_slice(), pk.as_slice())
                            .expect("insert");
                    }
                    f_age.insert(age_entry(age, id), ()).expect("insert");
                }
            }
        }
    }
    txn.commit().expect("commit");
}

fn writes() {
    let names = [
        "R's typed layout",
        "netabase's layout and pre-write lookups",
        "netabase's layout, lookups folded",
        "folded, Fixed records, entry &[u8] -> ()",
        "netabase, lookups folded, Fixed keys",
    ];
    for (layout, name) in names.iter().enumerate() {
        let layout = layout as u8;
        let mut inserts = Vec::new();
        let mut updates = Vec::new();
        for _ in 0..60 {
            let db = db();
            let start = Instant::now();
            write(&db, layout, false);
            inserts.push(start.elapsed());
            let start = Instant::now();
            write(&db, layout, true);
            updates.push(start.elapsed());
        }
        println!(
            "{name:<42} 1000 inserts {:>10.1?}   1000 updates {:>10.1?}",
            median(inserts),
            median(updates)
        );
    }
}

fn main() {
    gets();
    writes();
}
