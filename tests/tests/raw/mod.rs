//! Writing raw bytes into a netabase file through redb, around netabase, to corrupt it on
//! purpose. A record table is keyed by `netabase::Fixed<N>` when its model's primary key has a
//! fixed width and by `&[u8]` otherwise (index tables always), so the table is opened with
//! whichever key type it was created with.

use redb::{TableDefinition, TableError, WriteTransaction};

/// Inserts `value` under `key` in `table` (`None`: removes `key`).
pub fn raw_put(txn: &WriteTransaction, table: &str, key: &[u8], value: Option<&[u8]>) {
    macro_rules! with_key_type {
        ($($k:ty),*) => {$(
            match txn.open_table(TableDefinition::<$k, &[u8]>::new(table)) {
                Ok(mut table) => {
                    match value {
                        Some(value) => drop(table.insert(key, value).expect("insert")),
                        None => drop(table.remove(key).expect("remove")),
                    }
                    return;
                }
                Err(TableError::TableTypeMismatch { .. }) => {}
                Err(error) => panic!("open {table}: {error}"),
            }
        )*};
    }
    with_key_type!(
        &[u8],
        netabase::Fixed<1>,
        netabase::Fixed<2>,
        netabase::Fixed<4>,
        netabase::Fixed<8>,
        netabase::Fixed<12>,
        netabase::Fixed<16>
    );
    panic!("table {table} has a key type this helper does not know");
}
