// Committing consumes the transaction, so no tree may still borrow it.
use netabase_runtime::Store;
use netabase_tests::library::{Author, Library};

fn main() -> netabase_runtime::Result<()> {
    let store = Store::<Library>::in_memory()?;
    let txn = store.begin_write()?;
    let mut authors = txn.authors()?;
    txn.commit()?;
    authors.put(&Author { id: 1, name: "A".into(), country: None })?;
    Ok(())
}
