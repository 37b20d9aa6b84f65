//! The same small app as `app-native-db`: write 100 users, look them up three ways.

netabase_runtime::include_schema!("users");

fn main() -> netabase_runtime::Result<()> {
    let store = netabase_runtime::Store::<App>::in_memory()?;
    let txn = store.begin_write()?;
    {
        let mut users = txn.users()?;
        for id in 0..100u64 {
            users.put(&User {
                id,
                name: format!("User {id}"),
                email: format!("user{id}@example.com"),
                age: (id % 7) as u32,
            })?;
        }
    }
    txn.commit()?;

    let txn = store.begin_read()?;
    let users = txn.users()?;
    let first = users.get(1)?.expect("user 1");
    let by_email = users.get_by_email("user2@example.com")?.expect("user 2");
    let aged = users.by_age(3)?.count();
    println!("{} / {} / {aged} users aged 3", first.name, by_email.name);
    Ok(())
}
