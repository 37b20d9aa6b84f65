//! R: hand-written raw redb 4 with bincode 2, as fast as we know how to write it.
//!
//! * records: `u64 -> &[u8]` (bincode 2 `standard()`, the same bytes netabase writes), encoded
//!   into one reused buffer;
//! * unique email index: `&str -> u64`;
//! * non-unique indexes (user age, city name/country/timezone, city (country, population)):
//!   `(key, u64) -> ()`, one
//!   contiguous range per key (faster here than a multimap table for lookups and updates; see
//!   `docs/BENCHMARKS.md`);
//! * tables opened once per transaction; writes keep every index exact, with the semantics of
//!   netabase's (`insert` fails on an existing key, a unique key is never given to two records),
//!   using the previous value redb's `insert` returns instead of separate lookups.

use crate::{MixPlan, Subject, user_email, user_name};
use bincode::config::{Configuration, standard};
use bincode::{BorrowDecode, Decode, Encode};
use redb::backends::InMemoryBackend;
use redb::{Database, ReadableDatabase, Table, TableDefinition};
use std::sync::Arc;

const CONFIG: Configuration = standard();

const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
const USER_EMAIL: TableDefinition<&str, u64> = TableDefinition::new("users/email");
const USER_AGE: TableDefinition<(u32, u64), ()> = TableDefinition::new("users/age");
const CITIES: TableDefinition<u64, &[u8]> = TableDefinition::new("cities");
const CITY_NAME: TableDefinition<(&str, u64), ()> = TableDefinition::new("cities/name");
const CITY_COUNTRY: TableDefinition<(&str, u64), ()> = TableDefinition::new("cities/country");
const CITY_TIMEZONE: TableDefinition<(&str, u64), ()> = TableDefinition::new("cities/timezone");
const CITY_COUNTRY_POPULATION: TableDefinition<(&str, u64, u64), ()> =
    TableDefinition::new("cities/country_population");

/// A user, encoded with bincode's derive.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct User {
    /// Primary key.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Unique.
    pub email: String,
    /// Non-unique.
    pub age: u32,
}

/// The zero-copy view of a stored [`User`].
#[derive(Debug, BorrowDecode)]
pub struct UserRef<'a> {
    /// Primary key.
    pub id: u64,
    /// Name.
    pub name: &'a str,
    /// Unique.
    pub email: &'a str,
    /// Non-unique.
    pub age: u32,
}

/// A city, encoded with bincode's derive.
#[derive(Debug, Clone, PartialEq, Encode, Decode)]
pub struct City {
    /// Primary key.
    pub geonameid: u64,
    /// Non-unique.
    pub name: String,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// Non-unique.
    pub country_code: String,
    /// Region.
    pub admin1_code: Option<String>,
    /// Population.
    pub population: u64,
    /// Non-unique.
    pub timezone: String,
}

/// The raw database.
pub struct Db(Database);

/// Encodes a record (user or city) into `buf`, replacing what it held: the bytes R stores, and
/// L (`lmdb.rs`) too.
pub(crate) fn encode_into(value: &impl Encode, buf: &mut Vec<u8>) {
    buf.clear();
    bincode::encode_into_std_write(value, buf, CONFIG).expect("encode");
}

/// The owned user of stored bytes.
pub(crate) fn decode_user(bytes: &[u8]) -> User {
    bincode::decode_from_slice(bytes, CONFIG).expect("decode").0
}

/// The zero-copy view of stored user bytes.
pub(crate) fn view(bytes: &[u8]) -> UserRef<'_> {
    bincode::borrow_decode_from_slice(bytes, CONFIG)
        .expect("decode")
        .0
}

/// The owned city of stored bytes.
pub(crate) fn decode_city(bytes: &[u8]) -> City {
    bincode::decode_from_slice(bytes, CONFIG).expect("decode").0
}

/// The user tables of one write transaction, opened once.
struct UserTables<'t> {
    users: Table<'t, u64, &'static [u8]>,
    email: Table<'t, &'static str, u64>,
    age: Table<'t, (u32, u64), ()>,
    buf: Vec<u8>,
}

/// Why a raw write was refused (the store is unchanged).
#[derive(Debug)]
enum Refused {
    Exists,
    Unique,
}

impl<'t> UserTables<'t> {
    fn open(txn: &'t redb::WriteTransaction) -> Self {
        Self {
            users: txn.open_table(USERS).expect("open"),
            email: txn.open_table(USER_EMAIL).expect("open"),
            age: txn.open_table(USER_AGE).expect("open"),
            buf: Vec::with_capacity(128),
        }
    }

    fn encode(&mut self, user: &User) {
        encode_into(user, &mut self.buf);
    }

    /// Claims `email` for `id`; if another record holds it, gives it back and refuses.
    fn claim_email(&mut self, email: &str, id: u64) -> Result<(), Refused> {
        let previous = self
            .email
            .insert(email, id)
            .expect("insert")
            .map(|g| g.value());
        match previous {
            Some(owner) if owner != id => {
                self.email.insert(email, owner).expect("insert");
                Err(Refused::Unique)
            }
            _ => Ok(()),
        }
    }

    /// Inserts a new user: three B-tree writes, the existence and uniqueness checks folded into
    /// them.
    fn insert(&mut self, user: &User) -> Result<(), Refused> {
        self.encode(user);
        let existing = self
            .users
            .insert(user.id, self.buf.as_slice())
            .expect("insert")
            .map(|old| old.value().to_vec());
        if let Some(old) = existing {
            self.users.insert(user.id, old.as_slice()).expect("insert");
            return Err(Refused::Exists);
        }
        if let Err(e) = self.claim_email(&user.email, user.id) {
            self.users.remove(user.id).expect("remove");
            return Err(e);
        }
        self.age.insert((user.age, user.id), ()).expect("insert");
        Ok(())
    }

    /// Inserts or replaces a user, moving only the index entries whose key changed.
    fn put(&mut self, user: &User) -> Result<(), Refused> {
        self.encode(user);
        let Some(old) = self
            .users
            .insert(user.id, self.buf.as_slice())
            .expect("insert")
        else {
            if let Err(e) = self.claim_email(&user.email, user.id) {
                self.users.remove(user.id).expect("remove");
                return Err(e);
            }
            self.age.insert((user.age, user.id), ()).expect("insert");
            return Ok(());
        };
        let old_bytes = old.value();
        let before = view(old_bytes);
        if before.email != user.email {
            let previous = self
                .email
                .insert(user.email.as_str(), user.id)
                .expect("insert")
                .map(|g| g.value());
            if previous.is_some_and(|owner| owner != user.id) {
                let old_bytes = old_bytes.to_vec();
                drop(old);
                self.email
                    .insert(user.email.as_str(), previous.unwrap_or_default())
                    .expect("insert");
                self.users
                    .insert(user.id, old_bytes.as_slice())
                    .expect("insert");
                return Err(Refused::Unique);
            }
            self.email.remove(before.email).expect("remove");
        }
        if before.age != user.age {
            self.age.remove((before.age, user.id)).expect("remove");
            self.age.insert((user.age, user.id), ()).expect("insert");
        }
        Ok(())
    }

    /// Removes a user and its index entries, reading the old record as a view.
    fn remove(&mut self, id: u64) -> bool {
        let Some(old) = self.users.remove(id).expect("remove") else {
            return false;
        };
        let before = view(old.value());
        self.email.remove(before.email).expect("remove");
        self.age.remove((before.age, id)).expect("remove");
        true
    }
}

/// User `id` with age `age`.
pub(crate) fn make_user(id: u64, age: u32) -> User {
    User {
        id,
        name: user_name(id),
        email: user_email(id),
        age,
    }
}

fn write_users<'u>(db: &Db, users: impl IntoIterator<Item = &'u User>, put: bool) {
    let txn = db.0.begin_write().expect("begin");
    {
        let mut tables = UserTables::open(&txn);
        for user in users {
            if put {
                tables.put(user).expect("put");
            } else {
                tables.insert(user).expect("insert");
            }
        }
    }
    txn.commit().expect("commit");
}

fn get(db: &Db, ids: &[u64]) -> u64 {
    let txn = db.0.begin_read().expect("begin");
    let users = txn.open_table(USERS).expect("open");
    let mut sum = 0;
    for &id in ids {
        let user = decode_user(users.get(id).expect("get").expect("present").value());
        sum += u64::from(user.age) + user.name.len() as u64;
    }
    sum
}

fn mix_read(db: &Db, ids: &[u64], per_txn: usize) -> u64 {
    ids.chunks(per_txn).map(|chunk| get(db, chunk)).sum()
}

fn mix_write(db: &Db, ids: &[u64], per_txn: usize) {
    let round = crate::next_round();
    for chunk in ids.chunks(per_txn) {
        let users: Vec<User> = chunk
            .iter()
            .map(|&id| make_user(id, crate::mix_age(id, round)))
            .collect();
        write_users(db, &users, true);
    }
}

/// R: raw redb + bincode.
pub struct Raw;

/// Creates the tables a fresh database needs.
fn create_tables(db: &Database) {
    let txn = db.begin_write().expect("begin");
    txn.open_table(USERS).expect("open");
    txn.open_table(USER_EMAIL).expect("open");
    txn.open_table(USER_AGE).expect("open");
    txn.open_table(CITIES).expect("open");
    txn.open_table(CITY_NAME).expect("open");
    txn.open_table(CITY_COUNTRY).expect("open");
    txn.open_table(CITY_TIMEZONE).expect("open");
    txn.open_table(CITY_COUNTRY_POPULATION).expect("open");
    txn.commit().expect("commit");
}

impl Raw {
    /// Opens (or creates) the database file at `path`; redb's default durability (immediate).
    pub fn open_file(path: &std::path::Path) -> Db {
        let db = Database::create(path).expect("create");
        create_tables(&db);
        Db(db)
    }

    /// Opens an existing database file as an application does on its next start: no table is
    /// created, so no write transaction runs (the tables are there already).
    pub fn reopen_file(path: &std::path::Path) -> Db {
        Db(Database::create(path).expect("open"))
    }

    /// Puts `users` in one transaction, as they come: the bulk load.
    pub fn load(db: &Db, users: impl IntoIterator<Item = User>) {
        let txn = db.0.begin_write().expect("begin");
        {
            let mut tables = UserTables::open(&txn);
            for user in users {
                tables.put(&user).expect("put");
            }
        }
        txn.commit().expect("commit");
    }

    /// Puts each user in a transaction of its own (a durable commit each).
    pub fn put_each(db: &Db, users: impl IntoIterator<Item = User>) {
        for user in users {
            write_users(db, [&user], true);
        }
    }
}

impl Subject for Raw {
    const LABEL: &'static str = "R";
    const HAS_GET_REF: bool = true;
    const HAS_QUERIES: bool = true;
    type Db = Db;
    type User = User;
    type City = City;

    fn open() -> Db {
        let db = Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .expect("create");
        create_tables(&db);
        Db(db)
    }

    fn user(id: u64, age: u32) -> User {
        make_user(id, age)
    }

    fn city(c: &crate::atlas::City) -> City {
        City {
            geonameid: c.geonameid,
            name: c.name.clone(),
            latitude: c.latitude,
            longitude: c.longitude,
            country_code: c.country_code.clone(),
            admin1_code: c.admin1_code.clone(),
            population: c.population,
            timezone: c.timezone.clone(),
        }
    }

    fn fill(db: &Db, users: Vec<User>) {
        write_users(db, &users, true);
    }

    fn insert_each(db: &Db, users: Vec<User>) {
        for user in &users {
            write_users(db, [user], false);
        }
    }

    fn insert_batch(db: &Db, users: Vec<User>) {
        write_users(db, &users, false);
    }

    fn put_many(db: &Db, users: Vec<User>) {
        // Raw redb has no batch rollback inside a transaction; a loop of puts is the equivalent
        // (a failure aborts the transaction).
        write_users(db, &users, true);
    }

    fn get(db: &Db, ids: &[u64]) -> u64 {
        get(db, ids)
    }

    fn get_ref(db: &Db, ids: &[u64]) -> u64 {
        let txn = db.0.begin_read().expect("begin");
        let users = txn.open_table(USERS).expect("open");
        let mut sum = 0;
        for &id in ids {
            let guard = users.get(id).expect("get").expect("present");
            let user = view(guard.value());
            sum += u64::from(user.age) + user.name.len() as u64;
        }
        sum
    }

    fn scan_ref(db: &Db, n: u64) -> u64 {
        let txn = db.0.begin_read().expect("begin");
        let users = txn.open_table(USERS).expect("open");
        let mut sum = 0;
        for entry in users.range(0..n).expect("range") {
            let (_, value) = entry.expect("entry");
            let user = view(value.value());
            sum += u64::from(user.age) + user.name.len() as u64;
        }
        sum
    }

    fn by_email(db: &Db, emails: &[String]) -> u64 {
        let txn = db.0.begin_read().expect("begin");
        let users = txn.open_table(USERS).expect("open");
        let index = txn.open_table(USER_EMAIL).expect("open");
        let mut sum = 0;
        for email in emails {
            let id = index
                .get(email.as_str())
                .expect("get")
                .expect("present")
                .value();
            let user = decode_user(users.get(id).expect("get").expect("present").value());
            sum += user.id;
        }
        sum
    }

    fn by_age(db: &Db, ages: &[u32]) -> u64 {
        let txn = db.0.begin_read().expect("begin");
        let users = txn.open_table(USERS).expect("open");
        let index = txn.open_table(USER_AGE).expect("open");
        let mut rows = 0;
        for &age in ages {
            for entry in index.range((age, 0)..=(age, u64::MAX)).expect("range") {
                let (key, _) = entry.expect("entry");
                let id = key.value().1;
                let user = decode_user(users.get(id).expect("get").expect("present").value());
                std::hint::black_box(user);
                rows += 1;
            }
        }
        rows
    }

    fn scan(db: &Db, n: u64) -> u64 {
        let txn = db.0.begin_read().expect("begin");
        let users = txn.open_table(USERS).expect("open");
        let mut sum = 0;
        for entry in users.range(0..n).expect("range") {
            let (_, value) = entry.expect("entry");
            sum += decode_user(value.value()).id;
        }
        sum
    }

    fn update(db: &Db, users: Vec<User>) {
        write_users(db, &users, true);
    }

    fn remove(db: &Db, users: Vec<User>) {
        let txn = db.0.begin_write().expect("begin");
        {
            let mut tables = UserTables::open(&txn);
            for user in &users {
                assert!(tables.remove(user.id));
            }
        }
        txn.commit().expect("commit");
    }

    fn import(db: &Db, cities: Vec<City>) {
        let txn = db.0.begin_write().expect("begin");
        {
            let mut records = txn.open_table(CITIES).expect("open");
            let mut name = txn.open_table(CITY_NAME).expect("open");
            let mut country = txn.open_table(CITY_COUNTRY).expect("open");
            let mut timezone = txn.open_table(CITY_TIMEZONE).expect("open");
            let mut country_population = txn.open_table(CITY_COUNTRY_POPULATION).expect("open");
            let mut buf = Vec::with_capacity(256);
            for city in &cities {
                encode_into(city, &mut buf);
                let id = city.geonameid;
                match records.insert(id, buf.as_slice()).expect("insert") {
                    None => {
                        name.insert((city.name.as_str(), id), ()).expect("insert");
                        country
                            .insert((city.country_code.as_str(), id), ())
                            .expect("insert");
                        timezone
                            .insert((city.timezone.as_str(), id), ())
                            .expect("insert");
                        country_population
                            .insert((city.country_code.as_str(), city.population, id), ())
                            .expect("insert");
                    }
                    Some(old) => {
                        // A replaced city: move the index entries whose key changed.
                        let old = decode_city(old.value());
                        for (table, before, after) in [
                            (&mut name, &old.name, &city.name),
                            (&mut country, &old.country_code, &city.country_code),
                            (&mut timezone, &old.timezone, &city.timezone),
                        ] {
                            if before != after {
                                table.remove((before.as_str(), id)).expect("remove");
                                table.insert((after.as_str(), id), ()).expect("insert");
                            }
                        }
                        let before = (old.country_code.as_str(), old.population, id);
                        let after = (city.country_code.as_str(), city.population, id);
                        if before != after {
                            country_population.remove(before).expect("remove");
                            country_population.insert(after, ()).expect("insert");
                        }
                    }
                }
            }
        }
        txn.commit().expect("commit");
    }

    fn mix(db: &Arc<Db>, plan: &MixPlan) {
        crate::run_mix(db, plan, mix_read, mix_write);
    }
}
