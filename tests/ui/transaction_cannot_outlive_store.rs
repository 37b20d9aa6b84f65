// A transaction borrows its store.
use netabase_runtime::Store;
use netabase_tests::library::Library;

fn main() -> netabase_runtime::Result<()> {
    let txn = {
        let store = Store::<Library>::in_memory()?;
        store.begin_write()?
    };
    txn.commit()?;
    Ok(())
}
