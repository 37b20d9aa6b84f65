//! L: hand-written LMDB through heed 0.23, the read-speed reference of embedded B-trees.
//!
//! * one environment (`Env`) per database, LMDB's default flags: a commit writes its pages,
//!   `fdatasync`s them and then writes the meta page synchronously, so it is on disk when
//!   `commit` returns (the durability of redb's immediate commits and SQLite's
//!   `synchronous=FULL`);
//! * records: `users`, the big-endian id (byte order is numeric order, so a range of keys is a
//!   range of ids) -> the bincode 2 bytes R stores, encoded by R's helpers into one reused buffer;
//! * unique email index: `users_email`, email -> big-endian id;
//! * non-unique indexes (user age, city name/country/timezone, city (country, population)):
//!   `DUP_SORT | DUP_FIXED` databases, key -> the big-endian ids as sorted duplicates: LMDB's
//!   own structure for them. It stores the key once and packs fixed-size duplicates without
//!   per-entry headers (in the key's node while they are few, in a sub-tree of their own when
//!   they outgrow it), so one age's ids are a dense sorted run, found by one descent; a
//!   composite key (age ++ id -> empty value), R's layout, would repeat the age and a node
//!   header in every entry;
//! * keys and ids are encoded by hand (`to_be_bytes`) into `heed::types::Bytes`: heed's integer
//!   codecs allocate a `Vec` per key;
//! * writes keep every index exact, with netabase's semantics (`insert` fails on an existing id,
//!   a unique key is never given to two records), folding the existence and uniqueness checks
//!   into `NO_OVERWRITE` puts, which fail on an existing key and hand back its value.
//!
//! LMDB allows one write transaction at a time (others wait for it) and any number of readers
//! beside it, each on the snapshot it began with.

use crate::raw::{City, User, decode_city, decode_user, encode_into, make_user, view};
use crate::{MixPlan, Subject};
use heed::types::{Bytes, Str};
use heed::{
    CommitOrAbort, Database, DatabaseFlags, DatabaseOpener, Env, EnvOpenOptions, RwTxn, WithTls,
};
use std::borrow::Borrow;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

/// The size of the memory map: the most the data file may grow to. LMDB reserves it as address
/// space only and grows the file with the pages it writes, so 8 GiB (far above a file of 1M
/// users, some 200 MiB after the disk benchmark's updates) costs nothing, in the benchmark's
/// files or the test suite's small ones.
const MAP_SIZE: usize = 8 << 30;

/// The named databases of an environment.
const DATABASES: u32 = 8;

/// A database of byte keys (an id, or a non-unique index key) and byte values.
type Records = Database<'static, Bytes, Bytes>;
/// A database keyed by a string (email, city name, country, time zone).
type ByStr = Database<'static, Str, Bytes>;

/// The databases of one environment. The handles stay valid for the environment's life.
#[derive(Clone, Copy)]
struct Dbs {
    users: Records,
    email: ByStr,
    age: Records,
    cities: Records,
    city_name: ByStr,
    city_country: ByStr,
    city_timezone: ByStr,
    city_country_population: ByStr,
}

/// An LMDB environment and its databases.
pub struct Db {
    env: Env,
    dbs: Dbs,
    /// The temporary directory of [`Lmdb::open`]'s environment, removed when dropped; declared
    /// after `env` so the environment is closed first (fields drop in order).
    _dir: Option<tempfile::TempDir>,
}

/// Creates (or opens) a database: plain, or with sorted fixed-size duplicates.
fn create<'e, K: 'static>(
    opener: &DatabaseOpener<'e, WithTls>,
    txn: &mut RwTxn<'e>,
    name: &str,
    duplicates: bool,
) -> heed::Result<Database<'e, K, Bytes>> {
    let mut options = opener.database_options().types::<K, Bytes>();
    options.name(name);
    if duplicates {
        options.flags(DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED);
    }
    options.create(txn)
}

/// Opens (or creates) the environment in the directory `dir` and its databases.
fn open_env(dir: &Path) -> (Env, Dbs) {
    // SAFETY: LMDB's requirement on the memory map: the file is changed only through LMDB.
    // Nothing else in the benchmark touches it, and each process opens it once.
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(MAP_SIZE)
            .max_dbs(DATABASES)
            .open(dir)
    }
    .unwrap_or_else(|e| panic!("open the LMDB environment {}: {e}", dir.display()));
    let txn = env.write_txn().expect("begin");
    let (users, email, age, cities, city_name, city_country, city_timezone, population) = env
        .create_databases_and_commit(txn, |opener, txn| -> heed::Result<_> {
            Ok(CommitOrAbort::<_, ()>::Commit((
                create::<Bytes>(opener, txn, "users", false)?,
                create::<Str>(opener, txn, "users_email", false)?,
                create::<Bytes>(opener, txn, "users_age", true)?,
                create::<Bytes>(opener, txn, "cities", false)?,
                create::<Str>(opener, txn, "cities_name", true)?,
                create::<Str>(opener, txn, "cities_country", true)?,
                create::<Str>(opener, txn, "cities_timezone", true)?,
                create::<Str>(opener, txn, "cities_country_population", true)?,
            )))
        })
        .expect("create the databases")
        .unwrap_commit();
    let dbs = Dbs {
        users,
        email,
        age,
        cities,
        city_name,
        city_country,
        city_timezone,
        city_country_population: population,
    };
    (env, dbs)
}

/// Why a write was refused (the store is unchanged).
#[derive(Debug)]
enum Refused {
    Exists,
    Unique,
}

/// The user databases of one write transaction.
struct UserWriter<'t, 'e> {
    txn: &'t mut RwTxn<'e>,
    dbs: Dbs,
    buf: Vec<u8>,
    /// The email of the record being replaced or removed, copied out of its page.
    old_email: String,
}

impl<'t, 'e> UserWriter<'t, 'e> {
    fn new(db: &Db, txn: &'t mut RwTxn<'e>) -> Self {
        Self {
            txn,
            dbs: db.dbs,
            buf: Vec::with_capacity(128),
            old_email: String::with_capacity(64),
        }
    }

    /// Claims `email` for `id` (a `NO_OVERWRITE` put); if another record holds it, writes
    /// nothing and refuses.
    fn claim_email(&mut self, email: &str, id: u64) -> Result<(), Refused> {
        let key = id.to_be_bytes();
        match self
            .dbs
            .email
            .get_or_put(self.txn, email, &key)
            .expect("insert")
        {
            Some(owner) if owner != key => Err(Refused::Unique),
            _ => Ok(()),
        }
    }

    /// Inserts a new user: three B-tree writes, the existence and uniqueness checks folded into
    /// them.
    fn insert(&mut self, user: &User) -> Result<(), Refused> {
        encode_into(user, &mut self.buf);
        let key = user.id.to_be_bytes();
        let existing = self
            .dbs
            .users
            .get_or_put(self.txn, &key, &self.buf)
            .expect("insert");
        if existing.is_some() {
            return Err(Refused::Exists);
        }
        if let Err(e) = self.claim_email(&user.email, user.id) {
            self.dbs.users.delete(self.txn, &key).expect("remove");
            return Err(e);
        }
        self.dbs
            .age
            .put(self.txn, &user.age.to_be_bytes(), &key)
            .expect("insert");
        Ok(())
    }

    /// Inserts or replaces a user, moving only the index entries whose key changed.
    fn put(&mut self, user: &User) -> Result<(), Refused> {
        encode_into(user, &mut self.buf);
        let key = user.id.to_be_bytes();
        // A new user is written by this one descent; of an existing one LMDB hands back the
        // stored value instead, in a page the next write may change: its index keys are read
        // (the email copied) before anything else is written.
        let before = self
            .dbs
            .users
            .get_or_put(self.txn, &key, &self.buf)
            .expect("put")
            .map(|old| {
                let old = view(old);
                let moved = old.email != user.email;
                if moved {
                    self.old_email.clear();
                    self.old_email.push_str(old.email);
                }
                (old.age, moved)
            });
        let Some((old_age, moved)) = before else {
            if let Err(e) = self.claim_email(&user.email, user.id) {
                self.dbs.users.delete(self.txn, &key).expect("remove");
                return Err(e);
            }
            self.dbs
                .age
                .put(self.txn, &user.age.to_be_bytes(), &key)
                .expect("insert");
            return Ok(());
        };
        if moved {
            // Before the record is replaced: a refusal leaves nothing to undo.
            self.claim_email(&user.email, user.id)?;
            self.dbs
                .email
                .delete(self.txn, &self.old_email)
                .expect("remove");
        }
        self.dbs.users.put(self.txn, &key, &self.buf).expect("put");
        if old_age != user.age {
            self.dbs
                .age
                .delete_one_duplicate(self.txn, &old_age.to_be_bytes(), &key)
                .expect("remove");
            self.dbs
                .age
                .put(self.txn, &user.age.to_be_bytes(), &key)
                .expect("insert");
        }
        Ok(())
    }

    /// Removes a user and its index entries, reading the old record as a view.
    fn remove(&mut self, id: u64) -> bool {
        let key = id.to_be_bytes();
        let Some(old) = self.dbs.users.get(self.txn, &key).expect("get") else {
            return false;
        };
        let old = view(old);
        let age = old.age;
        self.old_email.clear();
        self.old_email.push_str(old.email);
        self.dbs.users.delete(self.txn, &key).expect("remove");
        self.dbs
            .email
            .delete(self.txn, &self.old_email)
            .expect("remove");
        self.dbs
            .age
            .delete_one_duplicate(self.txn, &age.to_be_bytes(), &key)
            .expect("remove");
        true
    }
}

/// Puts (or inserts) `users` in one write transaction and commits it.
fn write_users(db: &Db, users: impl IntoIterator<Item = impl Borrow<User>>, put: bool) {
    let mut txn = db.env.write_txn().expect("begin");
    {
        let mut writer = UserWriter::new(db, &mut txn);
        for user in users {
            if put {
                writer.put(user.borrow()).expect("put");
            } else {
                writer.insert(user.borrow()).expect("insert");
            }
        }
    }
    txn.commit().expect("commit");
}

/// The key range of the ids `0..n`.
fn ids_below(n: &[u8; 8]) -> (Bound<&[u8]>, Bound<&[u8]>) {
    (Bound::Included(&[0; 8]), Bound::Excluded(n))
}

/// A duplicate of the (country, population) index: the population, then the id, big-endian,
/// so the duplicates of a country sort by population, then id.
fn population_id(population: u64, id: u64) -> [u8; 16] {
    let mut out = [0; 16];
    out[..8].copy_from_slice(&population.to_be_bytes());
    out[8..].copy_from_slice(&id.to_be_bytes());
    out
}

fn get(db: &Db, ids: &[u64]) -> u64 {
    let txn = db.env.read_txn().expect("begin");
    let mut sum = 0;
    for &id in ids {
        let bytes = db
            .dbs
            .users
            .get(&txn, &id.to_be_bytes())
            .expect("get")
            .expect("present");
        let user = decode_user(bytes);
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

/// L: LMDB through heed, with R's records and the same indexes.
pub struct Lmdb;

impl Lmdb {
    /// Opens (or creates) the environment in the directory `dir` (LMDB's `data.mdb` and
    /// `lock.mdb`), with LMDB's default flags: every commit durable.
    pub fn open_file(dir: &Path) -> Db {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let (env, dbs) = open_env(dir);
        Db {
            env,
            dbs,
            _dir: None,
        }
    }

    /// Puts `users` in one transaction, as they come: the bulk load.
    pub fn load(db: &Db, users: impl IntoIterator<Item = User>) {
        write_users(db, users, true);
    }

    /// Puts each user in a transaction of its own (a durable commit each).
    pub fn put_each(db: &Db, users: impl IntoIterator<Item = User>) {
        for user in users {
            write_users(db, [&user], true);
        }
    }
}

impl Subject for Lmdb {
    const LABEL: &'static str = "L";
    const HAS_GET_REF: bool = true;
    const HAS_QUERIES: bool = true;
    type Db = Db;
    type User = User;
    type City = City;

    /// A fresh environment in a temporary directory: LMDB has no in-memory mode.
    fn open() -> Db {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (env, dbs) = open_env(dir.path());
        Db {
            env,
            dbs,
            _dir: Some(dir),
        }
    }

    fn user(id: u64, age: u32) -> User {
        make_user(id, age)
    }

    fn city(c: &crate::atlas::City) -> City {
        <crate::raw::Raw as Subject>::city(c)
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
        // As R: a loop of puts in one transaction (a failure aborts the transaction).
        write_users(db, &users, true);
    }

    fn get(db: &Db, ids: &[u64]) -> u64 {
        get(db, ids)
    }

    fn get_ref(db: &Db, ids: &[u64]) -> u64 {
        let txn = db.env.read_txn().expect("begin");
        let mut sum = 0;
        for &id in ids {
            // The bytes are in LMDB's memory map: the view borrows the strings from it.
            let bytes = db
                .dbs
                .users
                .get(&txn, &id.to_be_bytes())
                .expect("get")
                .expect("present");
            let user = view(bytes);
            sum += u64::from(user.age) + user.name.len() as u64;
        }
        sum
    }

    fn scan_ref(db: &Db, n: u64) -> u64 {
        let txn = db.env.read_txn().expect("begin");
        let end = n.to_be_bytes();
        let mut sum = 0;
        for entry in db.dbs.users.range(&txn, &ids_below(&end)).expect("range") {
            let (_, bytes) = entry.expect("entry");
            let user = view(bytes);
            sum += u64::from(user.age) + user.name.len() as u64;
        }
        sum
    }

    fn by_email(db: &Db, emails: &[String]) -> u64 {
        let txn = db.env.read_txn().expect("begin");
        let mut sum = 0;
        for email in emails {
            // The index holds the record's key as stored: no conversion between the lookups.
            let key = db
                .dbs
                .email
                .get(&txn, email)
                .expect("get")
                .expect("present");
            let bytes = db.dbs.users.get(&txn, key).expect("get").expect("present");
            sum += decode_user(bytes).id;
        }
        sum
    }

    fn by_age(db: &Db, ages: &[u32]) -> u64 {
        let txn = db.env.read_txn().expect("begin");
        let mut rows = 0;
        for &age in ages {
            let Some(ids) = db
                .dbs
                .age
                .get_duplicates(&txn, &age.to_be_bytes())
                .expect("get")
            else {
                continue;
            };
            for entry in ids {
                let (_, key) = entry.expect("entry");
                let bytes = db.dbs.users.get(&txn, key).expect("get").expect("present");
                std::hint::black_box(decode_user(bytes));
                rows += 1;
            }
        }
        rows
    }

    fn scan(db: &Db, n: u64) -> u64 {
        let txn = db.env.read_txn().expect("begin");
        let end = n.to_be_bytes();
        let mut sum = 0;
        for entry in db.dbs.users.range(&txn, &ids_below(&end)).expect("range") {
            let (_, bytes) = entry.expect("entry");
            sum += decode_user(bytes).id;
        }
        sum
    }

    fn update(db: &Db, users: Vec<User>) {
        write_users(db, &users, true);
    }

    fn remove(db: &Db, users: Vec<User>) {
        let mut txn = db.env.write_txn().expect("begin");
        {
            let mut writer = UserWriter::new(db, &mut txn);
            for user in &users {
                assert!(writer.remove(user.id));
            }
        }
        txn.commit().expect("commit");
    }

    fn import(db: &Db, cities: Vec<City>) {
        // String keys of LMDB are 1 to 511 bytes: the GeoNames rows have no empty name, country
        // or time zone, and none longer than 79 bytes (a bad row stops the import).
        let dbs = db.dbs;
        let mut txn = db.env.write_txn().expect("begin");
        let mut buf = Vec::with_capacity(256);
        for city in &cities {
            encode_into(city, &mut buf);
            let key = city.geonameid.to_be_bytes();
            let txn = &mut txn;
            match dbs
                .cities
                .get_or_put(txn, &key, &buf)
                .expect("insert")
                .map(decode_city)
            {
                None => {
                    dbs.city_name.put(txn, &city.name, &key).expect("insert");
                    dbs.city_country
                        .put(txn, &city.country_code, &key)
                        .expect("insert");
                    dbs.city_timezone
                        .put(txn, &city.timezone, &key)
                        .expect("insert");
                    let duplicate = population_id(city.population, city.geonameid);
                    dbs.city_country_population
                        .put(txn, &city.country_code, &duplicate)
                        .expect("insert");
                }
                Some(old) => {
                    // A replaced city: move the index entries whose key changed.
                    dbs.cities.put(txn, &key, &buf).expect("put");
                    for (index, before, after) in [
                        (dbs.city_name, &old.name, &city.name),
                        (dbs.city_country, &old.country_code, &city.country_code),
                        (dbs.city_timezone, &old.timezone, &city.timezone),
                    ] {
                        if before != after {
                            index
                                .delete_one_duplicate(txn, before, &key)
                                .expect("remove");
                            index.put(txn, after, &key).expect("insert");
                        }
                    }
                    let before = population_id(old.population, old.geonameid);
                    let after = population_id(city.population, city.geonameid);
                    if (&old.country_code, before) != (&city.country_code, after) {
                        dbs.city_country_population
                            .delete_one_duplicate(txn, &old.country_code, &before)
                            .expect("remove");
                        dbs.city_country_population
                            .put(txn, &city.country_code, &after)
                            .expect("insert");
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

#[cfg(test)]
mod tests {
    //! The refusals `the_subjects_agree` does not reach: each leaves the store as it was.

    use super::*;

    /// Writes `user` in a transaction of its own and commits it, refused or not, so what a
    /// refusal left in the transaction would be seen.
    fn write(db: &Db, user: &User, put: bool) -> Result<(), Refused> {
        let mut txn = db.env.write_txn().expect("begin");
        let result = {
            let mut writer = UserWriter::new(db, &mut txn);
            if put {
                writer.put(user)
            } else {
                writer.insert(user)
            }
        };
        txn.commit().expect("commit");
        result
    }

    /// The user `id` and the owner of `email`, as stored.
    fn stored(db: &Db, id: u64, email: &str) -> (Option<User>, Option<u64>) {
        let txn = db.env.read_txn().expect("begin");
        let user = db.dbs.users.get(&txn, &id.to_be_bytes()).expect("get");
        let owner = db.dbs.email.get(&txn, email).expect("get");
        (
            user.map(decode_user),
            owner.map(|id| u64::from_be_bytes(id.try_into().expect("an 8-byte id"))),
        )
    }

    #[test]
    fn refused_writes_change_nothing() {
        let db = Lmdb::open();
        Lmdb::insert_batch(&db, vec![make_user(1, 10), make_user(2, 20)]);
        let taken = User {
            email: crate::user_email(1),
            ..make_user(3, 30)
        };
        assert!(matches!(write(&db, &taken, false), Err(Refused::Unique)));
        assert!(matches!(write(&db, &taken, true), Err(Refused::Unique)));
        assert_eq!(stored(&db, 3, &taken.email), (None, Some(1)));
        assert!(matches!(
            write(&db, &make_user(1, 11), false),
            Err(Refused::Exists)
        ));
        // A replacement that takes another user's email: refused, the old record kept.
        let moved = User {
            email: crate::user_email(1),
            ..make_user(2, 21)
        };
        assert!(matches!(write(&db, &moved, true), Err(Refused::Unique)));
        assert_eq!(
            stored(&db, 2, &crate::user_email(2)).0,
            Some(make_user(2, 20))
        );
        // A free email: the index entry moves with the record.
        let moved = User {
            email: "new@example.com".into(),
            ..make_user(2, 21)
        };
        write(&db, &moved, true).expect("a free email");
        assert_eq!(stored(&db, 2, &crate::user_email(2)).1, None);
        assert_eq!(stored(&db, 2, &moved.email), (Some(moved), Some(2)));
        assert_eq!(Lmdb::by_age(&db, &[10, 20, 21, 30]), 2);
    }
}
