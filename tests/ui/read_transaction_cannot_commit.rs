// A read transaction cannot commit: there is nothing to commit.
use netabase::Store;
use netabase_tests::library::Library;

fn main() -> netabase::Result<()> {
    let store = Store::<Library>::in_memory()?;
    let txn = store.begin_read()?;
    txn.commit()?;
    Ok(())
}
