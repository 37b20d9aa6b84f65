//! S: SQLite (rusqlite with its bundled library), the answer to "why not SQLite?".
//!
//! * `users(id INTEGER PRIMARY KEY, name, email UNIQUE, age)` with an index on `age`: the same
//!   unique constraint and indexes as the schema; `cities` with the atlas' four indexes;
//! * WAL journal, `synchronous=FULL` (a commit is on disk when it returns, as with redb's
//!   immediate durability); prepared statements (`prepare_cached`), one per query shape;
//! * a put is an upsert (`INSERT .. ON CONFLICT(id) DO UPDATE`), an insert a plain `INSERT`
//!   (it fails on an existing id), so the write semantics match netabase's `put` and `insert`.
//!
//! The in-memory database of the criterion suite is one connection behind a mutex (an in-memory
//! SQLite database belongs to its connection), so its mix runs its threads one at a time. On
//! disk ([`Sqlite::open_file`]), every thread of the concurrent workloads opens its own
//! connection.

use crate::atlas::City;
use crate::users::User;
use crate::{MixPlan, Subject, user_email, user_name};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    age INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS users_age ON users(age);
CREATE TABLE IF NOT EXISTS cities (
    geonameid INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL,
    country_code TEXT NOT NULL,
    admin1_code TEXT,
    population INTEGER NOT NULL,
    timezone TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cities_name ON cities(name);
CREATE INDEX IF NOT EXISTS cities_country ON cities(country_code);
CREATE INDEX IF NOT EXISTS cities_timezone ON cities(timezone);
CREATE INDEX IF NOT EXISTS cities_country_population ON cities(country_code, population);
";

const PUT_USER: &str = "INSERT INTO users (id, name, email, age) VALUES (?1, ?2, ?3, ?4)
    ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email, age = excluded.age";
const INSERT_USER: &str = "INSERT INTO users (id, name, email, age) VALUES (?1, ?2, ?3, ?4)";
const GET_USER: &str = "SELECT id, name, email, age FROM users WHERE id = ?1";
const PUT_CITY: &str = "INSERT INTO cities
    (geonameid, name, latitude, longitude, country_code, admin1_code, population, timezone)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
    ON CONFLICT(geonameid) DO UPDATE SET name = excluded.name, latitude = excluded.latitude,
    longitude = excluded.longitude, country_code = excluded.country_code,
    admin1_code = excluded.admin1_code, population = excluded.population,
    timezone = excluded.timezone";

/// An SQLite database: in memory (one connection), or a file (a connection per thread when
/// threads are involved).
pub struct Db {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
}

fn configure(conn: &Connection) {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 60000;",
    )
    .expect("pragmas");
}

fn row_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get::<_, i64>(0)? as u64,
        name: row.get(1)?,
        email: row.get(2)?,
        age: row.get(3)?,
    })
}

fn make_user(id: u64, age: u32) -> User {
    User {
        id,
        name: user_name(id),
        email: user_email(id),
        age,
    }
}

impl Db {
    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().expect("a benchmark thread panicked")
    }

    /// A connection of its own for another thread: a new one on the file, or the shared one in
    /// memory.
    fn with_thread_conn<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> T {
        match &self.path {
            Some(path) => {
                let mut conn = Connection::open(path).expect("open");
                configure(&conn);
                f(&mut conn)
            }
            None => f(&mut self.conn()),
        }
    }
}

/// Writes `users` in one transaction: upserts (`put`) or plain inserts.
pub fn write_users(conn: &mut Connection, users: impl IntoIterator<Item = User>, put: bool) {
    let txn = conn.transaction().expect("begin");
    {
        let mut stmt = txn
            .prepare_cached(if put { PUT_USER } else { INSERT_USER })
            .expect("prepare");
        for user in users {
            stmt.execute(params![user.id as i64, user.name, user.email, user.age])
                .expect("write");
        }
    }
    txn.commit().expect("commit");
}

fn get(conn: &mut Connection, ids: &[u64]) -> u64 {
    let txn = conn.transaction().expect("begin");
    let mut sum = 0;
    {
        let mut stmt = txn.prepare_cached(GET_USER).expect("prepare");
        for &id in ids {
            let user = stmt
                .query_row([id as i64], row_user)
                .optional()
                .expect("get")
                .expect("present");
            sum += u64::from(user.age) + user.name.len() as u64;
        }
    }
    txn.commit().expect("end");
    sum
}

fn mix_read(db: &Db, ids: &[u64], per_txn: usize) -> u64 {
    db.with_thread_conn(|conn| ids.chunks(per_txn).map(|chunk| get(conn, chunk)).sum())
}

fn mix_write(db: &Db, ids: &[u64], per_txn: usize) {
    let round = crate::next_round();
    db.with_thread_conn(|conn| {
        for chunk in ids.chunks(per_txn) {
            let users = chunk
                .iter()
                .map(|&id| make_user(id, crate::mix_age(id, round)));
            write_users(conn, users, true);
        }
    });
}

/// S: SQLite.
pub struct Sqlite;

impl Sqlite {
    /// Opens (or creates) the database file at `path`: WAL, `synchronous=FULL`.
    pub fn open_file(path: &Path) -> Db {
        let conn = Connection::open(path).expect("open");
        configure(&conn);
        conn.execute_batch(SCHEMA).expect("schema");
        Db {
            conn: Mutex::new(conn),
            path: Some(path.to_owned()),
        }
    }

    /// Writes `users` in one transaction (upserts), as they come: the bulk load.
    pub fn load(db: &Db, users: impl IntoIterator<Item = User>) {
        write_users(&mut db.conn(), users, true);
    }

    /// Puts each user in a transaction of its own (a durable commit each), on this thread's
    /// own connection.
    pub fn put_each(db: &Db, users: impl IntoIterator<Item = User>) {
        db.with_thread_conn(|conn| {
            for user in users {
                write_users(conn, [user], true);
            }
        });
    }

    /// Reads the users `from..from + n` in primary-key order; returns the sum of their ids.
    pub fn scan_from(db: &Db, from: u64, n: u64) -> u64 {
        let conn = db.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, name, email, age FROM users WHERE id >= ?1 AND id < ?2 ORDER BY id",
            )
            .expect("prepare");
        let rows = stmt
            .query_map([from as i64, (from + n) as i64], row_user)
            .expect("scan");
        rows.map(|user| user.expect("row").id).sum()
    }
}

impl Subject for Sqlite {
    const LABEL: &'static str = "S";
    const HAS_GET_REF: bool = false;
    const HAS_QUERIES: bool = true;
    type Db = Db;
    type User = User;
    type City = City;

    fn open() -> Db {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(SCHEMA).expect("schema");
        Db {
            conn: Mutex::new(conn),
            path: None,
        }
    }

    fn user(id: u64, age: u32) -> User {
        make_user(id, age)
    }

    fn city(city: &City) -> City {
        city.clone()
    }

    fn fill(db: &Db, users: Vec<User>) {
        write_users(&mut db.conn(), users, true);
    }

    fn insert_each(db: &Db, users: Vec<User>) {
        let mut conn = db.conn();
        for user in users {
            write_users(&mut conn, [user], false);
        }
    }

    fn insert_batch(db: &Db, users: Vec<User>) {
        write_users(&mut db.conn(), users, false);
    }

    fn put_many(db: &Db, users: Vec<User>) {
        write_users(&mut db.conn(), users, true);
    }

    fn get(db: &Db, ids: &[u64]) -> u64 {
        get(&mut db.conn(), ids)
    }

    fn get_ref(db: &Db, ids: &[u64]) -> u64 {
        get(&mut db.conn(), ids)
    }

    fn scan_ref(_: &Db, _: u64) -> u64 {
        unreachable!("no zero-copy read through rusqlite")
    }

    fn by_email(db: &Db, emails: &[String]) -> u64 {
        let mut conn = db.conn();
        let txn = conn.transaction().expect("begin");
        let mut sum = 0;
        {
            let mut stmt = txn
                .prepare_cached("SELECT id, name, email, age FROM users WHERE email = ?1")
                .expect("prepare");
            for email in emails {
                let user = stmt
                    .query_row([email], row_user)
                    .optional()
                    .expect("get")
                    .expect("present");
                sum += user.id;
            }
        }
        txn.commit().expect("end");
        sum
    }

    fn by_age(db: &Db, ages: &[u32]) -> u64 {
        let mut conn = db.conn();
        let txn = conn.transaction().expect("begin");
        let mut rows = 0;
        {
            // Index order: (age, rowid), the order of G's and R's entries.
            let mut stmt = txn
                .prepare_cached(
                    "SELECT id, name, email, age FROM users WHERE age = ?1 ORDER BY age, id",
                )
                .expect("prepare");
            for &age in ages {
                for user in stmt.query_map([age], row_user).expect("by_age") {
                    std::hint::black_box(user.expect("row"));
                    rows += 1;
                }
            }
        }
        txn.commit().expect("end");
        rows
    }

    fn scan(db: &Db, n: u64) -> u64 {
        Self::scan_from(db, 0, n)
    }

    fn update(db: &Db, users: Vec<User>) {
        write_users(&mut db.conn(), users, true);
    }

    fn remove(db: &Db, users: Vec<User>) {
        let mut conn = db.conn();
        let txn = conn.transaction().expect("begin");
        {
            let mut stmt = txn
                .prepare_cached("DELETE FROM users WHERE id = ?1")
                .expect("prepare");
            for user in users {
                assert_eq!(stmt.execute([user.id as i64]).expect("delete"), 1);
            }
        }
        txn.commit().expect("commit");
    }

    fn import(db: &Db, cities: Vec<City>) {
        let mut conn = db.conn();
        let txn = conn.transaction().expect("begin");
        {
            let mut stmt = txn.prepare_cached(PUT_CITY).expect("prepare");
            for c in cities {
                stmt.execute(params![
                    c.geonameid as i64,
                    c.name,
                    c.latitude,
                    c.longitude,
                    c.country_code,
                    c.admin1_code,
                    c.population as i64,
                    c.timezone
                ])
                .expect("write");
            }
        }
        txn.commit().expect("commit");
    }

    fn mix(db: &Arc<Db>, plan: &MixPlan) {
        crate::run_mix(db, plan, mix_read, mix_write);
    }
}
