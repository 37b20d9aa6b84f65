//! G and A: the generated netabase store, through explicit transactions (G) and through the
//! auto-commit methods on `Store` (A).

use crate::atlas::{Atlas, City};
use crate::users::{Bench, User};
use crate::{MixPlan, Subject, user_email, user_name};
use netabase_runtime::Store;
use std::sync::Arc;

/// The stores of one subject: users, and cities for the imports.
pub struct Stores {
    /// The users.
    pub users: Store<Bench>,
    /// The cities, for the in-memory suite's imports; none on disk, where only users are
    /// measured (so G's file-backed runs hold one database, as R's do).
    atlas: Option<Store<Atlas>>,
}

impl Stores {
    /// The cities' store.
    pub fn atlas(&self) -> &Store<Atlas> {
        self.atlas
            .as_ref()
            .expect("the in-memory stores have an atlas")
    }
}

fn open_stores() -> Stores {
    let atlas = Store::in_memory().expect("open");
    // The cities' `country_code` is a checked link: their countries must be there.
    atlas.put_many(crate::data::countries()).expect("countries");
    Stores {
        users: Store::in_memory().expect("open"),
        atlas: Some(atlas),
    }
}

fn make_user(id: u64, age: u32) -> User {
    User {
        id,
        name: user_name(id),
        email: user_email(id),
        age,
    }
}

fn fill(db: &Stores, users: Vec<User>) {
    let txn = db.users.begin_write().expect("begin");
    txn.users()
        .expect("tree")
        .put_many(&users)
        .expect("put_many");
    txn.commit().expect("commit");
}

fn get(db: &Stores, ids: &[u64]) -> u64 {
    let txn = db.users.begin_read().expect("begin");
    let tree = txn.users().expect("tree");
    let mut sum = 0;
    for &id in ids {
        let user = tree.get(id).expect("get").expect("present");
        sum += u64::from(user.age) + user.name.len() as u64;
    }
    sum
}

fn mix_read(db: &Stores, ids: &[u64], per_txn: usize) -> u64 {
    ids.chunks(per_txn).map(|chunk| get(db, chunk)).sum()
}

fn mix_write(db: &Stores, ids: &[u64], per_txn: usize) {
    let round = crate::next_round();
    for chunk in ids.chunks(per_txn) {
        let txn = db.users.begin_write().expect("begin");
        {
            let mut tree = txn.users().expect("tree");
            for &id in chunk {
                tree.put(&make_user(id, crate::mix_age(id, round)))
                    .expect("put");
            }
        }
        txn.commit().expect("commit");
    }
}

/// G: the generated store with explicit transactions, a tree opened once per transaction.
pub struct Generated;

impl Generated {
    /// Opens (or creates) the users' database file at `path` (immediate durability, the
    /// default), and no atlas: the disk runs have no cities, and R's disk runs open one
    /// database too.
    pub fn open_file(path: &std::path::Path) -> Stores {
        Stores {
            users: Store::open(path).expect("open"),
            atlas: None,
        }
    }

    /// Puts `users` with one `put_many` in one transaction, as they come: the bulk load.
    pub fn load(db: &Stores, users: impl IntoIterator<Item = User>) {
        let txn = db.users.begin_write().expect("begin");
        txn.users()
            .expect("tree")
            .put_many(users)
            .expect("put_many");
        txn.commit().expect("commit");
    }

    /// Puts each user in a transaction of its own (a durable commit each).
    pub fn put_each(db: &Stores, users: impl IntoIterator<Item = User>) {
        for user in users {
            let txn = db.users.begin_write().expect("begin");
            txn.users().expect("tree").put(&user).expect("put");
            txn.commit().expect("commit");
        }
    }

    /// [`Subject::by_age`] through the zero-copy `by_age_ref`: each row is a view read in
    /// place (its `id` and the length of its `name` are used), nothing decoded into a `User`.
    pub fn by_age_ref(db: &Stores, ages: &[u32]) -> u64 {
        let txn = db.users.begin_read().expect("begin");
        let tree = txn.users().expect("tree");
        let mut rows = 0;
        for &age in ages {
            for guard in tree.by_age_ref(age).expect("by_age_ref") {
                let guard = guard.expect("row");
                let view = guard.view().expect("view");
                std::hint::black_box((view.id, view.name.len()));
                rows += 1;
            }
        }
        rows
    }

    /// Puts each user through [`Store::write`], the group commit: a call each, and concurrent
    /// callers share transactions and syncs.
    pub fn put_each_grouped(db: &Stores, users: impl IntoIterator<Item = User>) {
        for user in users {
            db.users
                .write(move |txn| txn.users()?.put(&user))
                .expect("write");
        }
    }
}

impl Subject for Generated {
    const LABEL: &'static str = "G";
    const HAS_GET_REF: bool = true;
    const HAS_QUERIES: bool = true;
    type Db = Stores;
    type User = User;
    type City = City;

    fn open() -> Stores {
        open_stores()
    }

    fn user(id: u64, age: u32) -> User {
        make_user(id, age)
    }

    fn city(city: &City) -> City {
        city.clone()
    }

    fn fill(db: &Stores, users: Vec<User>) {
        fill(db, users);
    }

    fn insert_each(db: &Stores, users: Vec<User>) {
        for user in &users {
            let txn = db.users.begin_write().expect("begin");
            txn.users().expect("tree").insert(user).expect("insert");
            txn.commit().expect("commit");
        }
    }

    fn insert_batch(db: &Stores, users: Vec<User>) {
        let txn = db.users.begin_write().expect("begin");
        {
            let mut tree = txn.users().expect("tree");
            for user in &users {
                tree.insert(user).expect("insert");
            }
        }
        txn.commit().expect("commit");
    }

    fn put_many(db: &Stores, users: Vec<User>) {
        fill(db, users);
    }

    fn get(db: &Stores, ids: &[u64]) -> u64 {
        get(db, ids)
    }

    fn scan_ref(db: &Stores, n: u64) -> u64 {
        let txn = db.users.begin_read().expect("begin");
        let tree = txn.users().expect("tree");
        let mut sum = 0;
        for guard in tree.range_ref(0..n).expect("range") {
            let guard = guard.expect("row");
            let user = guard.view().expect("view");
            sum += u64::from(user.age) + user.name.len() as u64;
        }
        sum
    }

    fn get_ref(db: &Stores, ids: &[u64]) -> u64 {
        let txn = db.users.begin_read().expect("begin");
        let tree = txn.users().expect("tree");
        let mut sum = 0;
        for &id in ids {
            let guard = tree.get_ref(id).expect("get_ref").expect("present");
            let user = guard.view().expect("view");
            sum += u64::from(user.age) + user.name.len() as u64;
        }
        sum
    }

    fn by_email(db: &Stores, emails: &[String]) -> u64 {
        let txn = db.users.begin_read().expect("begin");
        let tree = txn.users().expect("tree");
        let mut sum = 0;
        for email in emails {
            let user = tree.get_by_email(email).expect("get").expect("present");
            sum += user.id;
        }
        sum
    }

    fn by_age(db: &Stores, ages: &[u32]) -> u64 {
        let txn = db.users.begin_read().expect("begin");
        let tree = txn.users().expect("tree");
        let mut rows = 0;
        for &age in ages {
            for user in tree.by_age(age).expect("by_age") {
                std::hint::black_box(user.expect("row"));
                rows += 1;
            }
        }
        rows
    }

    fn scan(db: &Stores, n: u64) -> u64 {
        let txn = db.users.begin_read().expect("begin");
        let tree = txn.users().expect("tree");
        let mut sum = 0;
        for user in tree.range(0..n).expect("range") {
            sum += user.expect("row").id;
        }
        sum
    }

    fn update(db: &Stores, users: Vec<User>) {
        let txn = db.users.begin_write().expect("begin");
        {
            let mut tree = txn.users().expect("tree");
            for user in &users {
                tree.put(user).expect("put");
            }
        }
        txn.commit().expect("commit");
    }

    fn remove(db: &Stores, users: Vec<User>) {
        let txn = db.users.begin_write().expect("begin");
        {
            let mut tree = txn.users().expect("tree");
            for user in &users {
                assert!(tree.delete(user.id).expect("delete"), "present");
            }
        }
        txn.commit().expect("commit");
    }

    fn import(db: &Stores, cities: Vec<City>) {
        let txn = db.atlas().begin_write().expect("begin");
        txn.cities()
            .expect("tree")
            .put_many(&cities)
            .expect("put_many");
        txn.commit().expect("commit");
    }

    fn mix(db: &Arc<Stores>, plan: &MixPlan) {
        crate::run_mix(db, plan, mix_read, mix_write);
    }
}

/// A: the auto-commit methods on `Store` (`store.insert`, `store.get`, ...), one transaction per
/// call. The query workloads have no auto-commit method and are not run.
pub struct AutoCommit;

fn auto_mix_read(db: &Stores, ids: &[u64], _per_txn: usize) -> u64 {
    let mut sum = 0;
    for &id in ids {
        let user = db.users.get::<User>(id).expect("get").expect("present");
        sum += u64::from(user.age) + user.name.len() as u64;
    }
    sum
}

fn auto_mix_write(db: &Stores, ids: &[u64], _per_txn: usize) {
    let round = crate::next_round();
    for &id in ids {
        db.users
            .put(&make_user(id, crate::mix_age(id, round)))
            .expect("put");
    }
}

impl Subject for AutoCommit {
    const LABEL: &'static str = "A";
    const HAS_GET_REF: bool = false;
    const HAS_QUERIES: bool = false;
    type Db = Stores;
    type User = User;
    type City = City;

    fn open() -> Stores {
        open_stores()
    }

    fn user(id: u64, age: u32) -> User {
        make_user(id, age)
    }

    fn city(city: &City) -> City {
        city.clone()
    }

    fn fill(db: &Stores, users: Vec<User>) {
        fill(db, users);
    }

    fn insert_each(db: &Stores, users: Vec<User>) {
        for user in &users {
            db.users.insert(user).expect("insert");
        }
    }

    fn insert_batch(_: &Stores, _: Vec<User>) {
        unreachable!("the auto-commit API has no multi-insert transaction")
    }

    fn put_many(db: &Stores, users: Vec<User>) {
        db.users.put_many::<User>(&users).expect("put_many");
    }

    fn get(db: &Stores, ids: &[u64]) -> u64 {
        auto_mix_read(db, ids, 0)
    }

    fn get_ref(_: &Stores, _: &[u64]) -> u64 {
        unreachable!("no auto-commit get_ref")
    }

    fn scan_ref(_: &Stores, _: u64) -> u64 {
        unreachable!("no auto-commit scan_ref")
    }

    fn by_email(_: &Stores, _: &[String]) -> u64 {
        unreachable!("no auto-commit query")
    }

    fn by_age(_: &Stores, _: &[u32]) -> u64 {
        unreachable!("no auto-commit query")
    }

    fn scan(_: &Stores, _: u64) -> u64 {
        unreachable!("no auto-commit query")
    }

    fn update(db: &Stores, users: Vec<User>) {
        for user in &users {
            db.users.put(user).expect("put");
        }
    }

    fn remove(db: &Stores, users: Vec<User>) {
        for user in &users {
            db.users
                .remove::<User>(user.id)
                .expect("remove")
                .expect("present");
        }
    }

    fn import(db: &Stores, cities: Vec<City>) {
        db.atlas().put_many::<City>(&cities).expect("put_many");
    }

    fn mix(db: &Arc<Stores>, plan: &MixPlan) {
        crate::run_mix(db, plan, auto_mix_read, auto_mix_write);
    }
}
