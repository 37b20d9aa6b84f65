//! The same small app as `app-netabase`: write 100 users, look them up three ways.

use native_db::{Builder, Models, ToKey, native_db};
use native_model::{Model, native_model};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[native_model(id = 1, version = 1)]
#[native_db]
struct User {
    #[primary_key]
    id: u64,
    name: String,
    #[secondary_key(unique)]
    email: String,
    #[secondary_key]
    age: u32,
}

fn main() -> Result<(), native_db::db_type::Error> {
    let mut models = Models::new();
    models.define::<User>()?;
    let db = Builder::new().create_in_memory(&models)?;
    let rw = db.rw_transaction()?;
    for id in 0..100u64 {
        rw.upsert(User {
            id,
            name: format!("User {id}"),
            email: format!("user{id}@example.com"),
            age: (id % 7) as u32,
        })?;
    }
    rw.commit()?;

    let r = db.r_transaction()?;
    let first: User = r.get().primary(1u64)?.expect("user 1");
    let by_email: User = r
        .get()
        .secondary(UserKey::email, "user2@example.com")?
        .expect("user 2");
    let aged = r
        .scan()
        .secondary::<User>(UserKey::age)?
        .range(3u32..=3)?
        .count();
    println!("{} / {} / {aged} users aged 3", first.name, by_email.name);
    Ok(())
}
