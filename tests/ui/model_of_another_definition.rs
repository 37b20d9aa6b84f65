// A transaction only opens trees of its own definition's models.
use netabase_runtime::Store;
use netabase_tests::library::Library;
use netabase_tests::scalars::Reading;

fn main() -> netabase_runtime::Result<()> {
    let store = Store::<Library>::in_memory()?;
    let txn = store.begin_read()?;
    let _ = txn.open_tree::<Reading>()?;
    Ok(())
}
