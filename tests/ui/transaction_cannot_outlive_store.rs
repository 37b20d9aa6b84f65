// A transaction borrows its store.
use netabase::Store;
use netabase_tests::library::Library;

fn main() -> netabase::Result<()> {
    let txn = {
        let store = Store::<Library>::in_memory()?;
        store.begin_write()?
    };
    txn.commit()?;
    Ok(())
}
