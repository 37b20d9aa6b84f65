//! A child process for the crash test of migrations (`tests/tests/it/migrations_crash.rs`):
//! `migration_child <db>` prints `opening`, opens the database with the `shop_v2` definition
//! (migrating a `shop_v1` file), and prints `migrated`. The parent kills it with SIGKILL at
//! moments drawn along the migration's progress.

use netabase_runtime::Store;
use netabase_tests::migrations::shop_v2::Shop;
use std::io::Write;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: migration_child <db>");
    let mut out = std::io::stdout().lock();
    writeln!(out, "opening").expect("stdout");
    out.flush().expect("stdout");
    let store = Store::<Shop>::open(&path).expect("open and migrate");
    assert!(store.migration().is_some(), "the file was already migrated");
    writeln!(out, "migrated").expect("stdout");
    out.flush().expect("stdout");
}
