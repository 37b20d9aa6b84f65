// A read transaction cannot commit: there is nothing to commit.
use netabase_runtime::Store;
use netabase_tests::library::Library;

fn main() -> netabase_runtime::Result<()> {
    let store = Store::<Library>::in_memory()?;
    let txn = store.begin_read()?;
    txn.commit()?;
    Ok(())
}
