// A read transaction's tree has no writing methods.
use netabase_runtime::Store;
use netabase_tests::library::{Author, Library};

fn main() -> netabase_runtime::Result<()> {
    let store = Store::<Library>::in_memory()?;
    let txn = store.begin_read()?;
    let mut authors = txn.authors()?;
    authors.put(&Author { id: 1, name: "A".into(), country: None })?;
    Ok(())
}
