//! N: native_db (with its native_model, bincode 1.3 through serde), using its best API for each
//! workload: one `rw_transaction` for batches, `insert` for new records, `upsert` for
//! replacements, `get().primary/secondary`, and a `scan()` opened once per transaction for the
//! range and non-unique lookups.

use crate::{MixPlan, Subject, user_email, user_name};
// `ToKey` and `Model` must be in scope: native_db's macros call their methods unqualified.
use native_db::{Builder, Database, Models, ToKey, native_db};
use native_model::{Model, native_model};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[native_model(id = 1, version = 1)]
#[native_db]
pub struct User {
    /// Primary key.
    #[primary_key]
    pub id: u64,
    /// Name.
    pub name: String,
    /// Unique.
    #[secondary_key(unique)]
    pub email: String,
    /// Non-unique.
    #[secondary_key]
    pub age: u32,
}

/// A city.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[native_model(id = 2, version = 1)]
#[native_db(secondary_key(country_population -> (String, u64)))]
pub struct City {
    /// Primary key.
    #[primary_key]
    pub geonameid: u64,
    /// Non-unique.
    #[secondary_key]
    pub name: String,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// Non-unique.
    #[secondary_key]
    pub country_code: String,
    /// Region.
    pub admin1_code: Option<String>,
    /// Population.
    pub population: u64,
    /// Non-unique.
    #[secondary_key]
    pub timezone: String,
}

impl City {
    /// The composite key of netabase's `City.country_population` index.
    pub fn country_population(&self) -> (String, u64) {
        (self.country_code.clone(), self.population)
    }
}

fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        let mut models = Models::new();
        models.define::<User>().expect("define");
        models.define::<City>().expect("define");
        models
    })
}

/// The native_db database.
pub struct Db(Database<'static>);

fn make_user(id: u64, age: u32) -> User {
    User {
        id,
        name: user_name(id),
        email: user_email(id),
        age,
    }
}

fn insert_all<T: native_db::ToInput>(db: &Db, items: Vec<T>) {
    let rw = db.0.rw_transaction().expect("begin");
    for item in items {
        rw.insert(item).expect("insert");
    }
    rw.commit().expect("commit");
}

fn upsert_all(db: &Db, users: Vec<User>) {
    let rw = db.0.rw_transaction().expect("begin");
    for user in users {
        rw.upsert(user).expect("upsert");
    }
    rw.commit().expect("commit");
}

fn get(db: &Db, ids: &[u64]) -> u64 {
    let r = db.0.r_transaction().expect("begin");
    let mut sum = 0;
    for &id in ids {
        let user: User = r.get().primary(id).expect("get").expect("present");
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
        upsert_all(
            db,
            chunk
                .iter()
                .map(|&id| make_user(id, crate::mix_age(id, round)))
                .collect(),
        );
    }
}

/// N: native_db.
pub struct Native;

impl Subject for Native {
    const LABEL: &'static str = "N";
    const HAS_GET_REF: bool = false;
    const HAS_QUERIES: bool = true;
    type Db = Db;
    type User = User;
    type City = City;

    fn open() -> Db {
        Db(Builder::new().create_in_memory(models()).expect("create"))
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
        upsert_all(db, users);
    }

    fn insert_each(db: &Db, users: Vec<User>) {
        for user in users {
            let rw = db.0.rw_transaction().expect("begin");
            rw.insert(user).expect("insert");
            rw.commit().expect("commit");
        }
    }

    fn insert_batch(db: &Db, users: Vec<User>) {
        insert_all(db, users);
    }

    fn put_many(db: &Db, users: Vec<User>) {
        // native_db has no batch call; on a fresh database its cheapest write is `insert`.
        insert_all(db, users);
    }

    fn get(db: &Db, ids: &[u64]) -> u64 {
        get(db, ids)
    }

    fn get_ref(_: &Db, _: &[u64]) -> u64 {
        unreachable!("native_db has no zero-copy read")
    }

    fn scan_ref(_: &Db, _: u64) -> u64 {
        unreachable!("native_db has no zero-copy read")
    }

    fn by_email(db: &Db, emails: &[String]) -> u64 {
        let r = db.0.r_transaction().expect("begin");
        let mut sum = 0;
        for email in emails {
            let user: User = r
                .get()
                .secondary(UserKey::email, email.as_str())
                .expect("get")
                .expect("present");
            sum += user.id;
        }
        sum
    }

    fn by_age(db: &Db, ages: &[u32]) -> u64 {
        let r = db.0.r_transaction().expect("begin");
        let scan = r.scan().secondary::<User>(UserKey::age).expect("scan");
        let mut rows = 0;
        for &age in ages {
            for user in scan.range(age..=age).expect("range") {
                std::hint::black_box(user.expect("row"));
                rows += 1;
            }
        }
        rows
    }

    fn scan(db: &Db, n: u64) -> u64 {
        let r = db.0.r_transaction().expect("begin");
        let scan = r.scan().primary::<User>().expect("scan");
        let mut sum = 0;
        for user in scan.range(0..n).expect("range") {
            sum += user.expect("row").id;
        }
        sum
    }

    fn update(db: &Db, users: Vec<User>) {
        upsert_all(db, users);
    }

    fn remove(db: &Db, users: Vec<User>) {
        let rw = db.0.rw_transaction().expect("begin");
        for user in users {
            rw.remove(user).expect("remove");
        }
        rw.commit().expect("commit");
    }

    fn import(db: &Db, cities: Vec<City>) {
        insert_all(db, cities);
    }

    fn mix(db: &Arc<Db>, plan: &MixPlan) {
        crate::run_mix(db, plan, mix_read, mix_write);
    }
}
