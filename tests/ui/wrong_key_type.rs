// Query methods take the key's own type.
use netabase_runtime::Store;
use netabase_tests::library::Library;

fn main() -> netabase_runtime::Result<()> {
    let store = Store::<Library>::in_memory()?;
    let txn = store.begin_read()?;
    let _ = txn.authors()?.get("one")?;
    let _ = txn.books()?.get(1)?;
    Ok(())
}
