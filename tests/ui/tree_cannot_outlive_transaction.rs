// A tree borrows its transaction.
use netabase_runtime::Store;
use netabase_tests::library::Library;

fn main() -> netabase_runtime::Result<()> {
    let store = Store::<Library>::in_memory()?;
    let authors = {
        let txn = store.begin_read()?;
        txn.authors()?
    };
    let _ = authors.len();
    Ok(())
}
