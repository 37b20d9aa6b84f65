//! Writing raw bytes into a netabase file through redb, around netabase, to corrupt it on
//! purpose. A table is keyed by `netabase_runtime::__codegen::Fixed<N>` when its keys have a fixed width and by
//! `&[u8]` otherwise, and an index table's values are `Fixed<N>`, `Tail<N>` or `&[u8]`, so the
//! table is opened with whichever types it was created with.

use redb::{TableDefinition, TableError, WriteTransaction};

/// Inserts `value` under `key` in `table` (`None`: removes `key`).
pub fn raw_put(txn: &WriteTransaction, table: &str, key: &[u8], value: Option<&[u8]>) {
    macro_rules! with_types {
        ($(($k:ty, $v:ty)),*) => {$(
            match txn.open_table(TableDefinition::<$k, $v>::new(table)) {
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
    // Every key type with every value type: record tables (bytes values) and index tables
    // (values: a primary key, or nothing for a non-unique entry over a fixed-width one).
    macro_rules! with_keys {
        ($($k:ty),*) => {$(
            with_types!(
                ($k, &[u8]),
                ($k, netabase_runtime::__codegen::Fixed<4>),
                ($k, netabase_runtime::__codegen::Fixed<8>),
                ($k, netabase_runtime::__codegen::Fixed<12>),
                ($k, netabase_runtime::__codegen::Tail<4>),
                ($k, netabase_runtime::__codegen::Tail<8>),
                ($k, netabase_runtime::__codegen::Tail<12>)
            );
        )*};
    }
    with_keys!(
        &[u8],
        netabase_runtime::__codegen::Fixed<1>,
        netabase_runtime::__codegen::Fixed<2>,
        netabase_runtime::__codegen::Fixed<4>,
        netabase_runtime::__codegen::Fixed<8>,
        netabase_runtime::__codegen::Fixed<9>,
        netabase_runtime::__codegen::Fixed<12>,
        netabase_runtime::__codegen::Fixed<16>,
        netabase_runtime::__codegen::Fixed<20>,
        netabase_runtime::__codegen::Fixed<24>
    );
    panic!("table {table} has a key type this helper does not know");
}
