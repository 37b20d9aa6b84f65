//! The schema-less migration (`netabase_runtime::migrate_file`, what `netabase migrate` runs)
//! against the typed one (`Store::open` with the new generated code): for every automatic
//! fixture migration, one copy of a file is migrated each way and the two files must hold the
//! same tables, entry for entry, byte for byte (metadata included); the schema-less result
//! then opens in the new program without writing anything and checks clean. And its refusals,
//! with their exact error kinds and the file left byte for byte as it was, and its progress.

use netabase_runtime::{
    Definition, Error, FileMigration, MigrationErrorKind, MigrationPhase, MigrationReport,
    SchemaInfo, Store, migrate_file,
};
use netabase_tests::migrations::*;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableHandle, TypeName};
use std::path::{Path, PathBuf};

use super::migrations::{USERS, seed};

type Result<T = ()> = std::result::Result<T, Error>;

/// `migrate_file` to `D`'s schema, as the CLI calls it (`D`'s layout, no progress).
fn migrate_to<D: Definition>(path: &Path) -> Result<FileMigration> {
    migrate_file(path, &SchemaInfo::of::<D>(), D::LAYOUT, None)
}

/// Migrates `path` to `D`'s schema without `D`'s code; the report.
fn schemaless<D: Definition>(path: &Path) -> Result<MigrationReport> {
    match migrate_to::<D>(path)? {
        FileMigration::Migrated(report) => Ok(report),
        other => panic!("expected a migration, got {other:?}"),
    }
}

/// A report without its timings, to compare two.
fn untimed(mut report: MigrationReport) -> MigrationReport {
    report.elapsed = Default::default();
    for model in &mut report.models {
        model.elapsed = Default::default();
    }
    report
}

/// Two copies of one database: one for the typed migration, one for the schema-less one.
struct Pair {
    typed: PathBuf,
    schemaless: PathBuf,
}

fn pair(path: &Path) -> Pair {
    let copy = |name: &str| {
        let to = path.with_file_name(name);
        std::fs::copy(path, &to).expect("copy the database");
        to
    };
    Pair {
        typed: copy("typed.redb"),
        schemaless: copy("schemaless.redb"),
    }
}

/// Migrates both copies to `D` (the typed one by opening it with `D`'s program), checks they
/// hold the same tables entry for entry and the same report, then that the schema-less result
/// opens in `D`'s program without a migration or a write, and checks clean. Its report.
fn migrate_both<D: Definition>(pair: &Pair) -> Result<MigrationReport> {
    let store = Store::<D>::open(&pair.typed)?;
    let typed = store.migration().cloned().expect("the typed open migrated");
    drop(store);
    let report = schemaless::<D>(&pair.schemaless)?;
    let (expected, found) = (tables(&pair.typed), tables(&pair.schemaless));
    assert_eq!(
        names(&found),
        names(&expected),
        "{}: the tables differ",
        D::NAME
    );
    for (typed, schemaless) in expected.iter().zip(&found) {
        assert!(
            typed == schemaless,
            "{} version {}: table {} differs from the typed migration's",
            D::NAME,
            D::VERSION,
            typed.name
        );
    }
    assert_eq!(untimed(report.clone()), untimed(typed));
    let before = tables(&pair.schemaless);
    let mut store = Store::<D>::open(&pair.schemaless)?;
    assert!(store.migration().is_none(), "the typed open migrated again");
    let integrity = store.check_integrity()?;
    assert!(integrity.is_clean(), "{integrity}");
    drop(store);
    assert!(
        tables(&pair.schemaless) == before,
        "the typed open wrote to the migrated file"
    );
    Ok(report)
}

/// One table of a file, read raw: its name, key and value types (as redb stores them) and
/// every entry's bytes, in order.
#[derive(Debug, PartialEq)]
struct Table {
    name: String,
    types: (String, String),
    entries: Vec<(Vec<u8>, Vec<u8>)>,
}

fn names(tables: &[Table]) -> Vec<&str> {
    tables.iter().map(|t| t.name.as_str()).collect()
}

/// Every table of the database at `path`, by name, read whatever its key and value types.
fn tables(path: &Path) -> Vec<Table> {
    let db = redb::Database::open(path).expect("open with redb");
    let txn = db.begin_read().expect("read");
    let mut out: Vec<Table> = txn
        .list_tables()
        .expect("tables")
        .map(|handle| raw_table(&txn, handle.name()))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn raw_table(txn: &redb::ReadTransaction, name: &str) -> Table {
    if name == netabase_runtime::META_TABLE {
        let meta = txn
            .open_table(TableDefinition::<&str, &[u8]>::new(name))
            .expect("metadata");
        let entries = meta
            .iter()
            .expect("iterate")
            .map(|e| {
                let (k, v) = e.expect("entry");
                (k.value().as_bytes().to_vec(), v.value().to_vec())
            })
            .collect();
        return Table {
            name: name.to_owned(),
            types: ("&str".to_owned(), "&[u8]".to_owned()),
            entries,
        };
    }
    // Opened as bytes -> bytes; on a type mismatch, redb says the stored types, and the table
    // is read through stand-ins with those names and widths.
    let bytes = <&[u8] as redb::Value>::type_name();
    let (key, value) = match txn.open_table(TableDefinition::<&[u8], &[u8]>::new(name)) {
        Ok(_) => (bytes.clone(), bytes.clone()),
        Err(redb::TableError::TableTypeMismatch { key, value, .. }) => (key, value),
        Err(other) => panic!("{name}: {other}"),
    };
    RAW.with(|raw| *raw.borrow_mut() = [key.clone(), value.clone()]);
    let entries = match (key == bytes, value == bytes) {
        (true, true) => read::<&[u8], &[u8]>(txn, name),
        (true, false) => read::<&[u8], Raw<1>>(txn, name),
        (false, true) => read::<Raw<0>, &[u8]>(txn, name),
        (false, false) => read::<Raw<0>, Raw<1>>(txn, name),
    };
    Table {
        name: name.to_owned(),
        types: (key.name().to_owned(), value.name().to_owned()),
        entries,
    }
}

fn read<K, V>(txn: &redb::ReadTransaction, name: &str) -> Vec<(Vec<u8>, Vec<u8>)>
where
    K: redb::Key + for<'a> redb::Value<SelfType<'a> = &'a [u8]> + 'static,
    V: for<'a> redb::Value<SelfType<'a> = &'a [u8]> + 'static,
{
    let table = txn
        .open_table(TableDefinition::<K, V>::new(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    table
        .iter()
        .expect("iterate")
        .map(|e| {
            let (k, v) = e.expect("entry");
            (k.value().to_vec(), v.value().to_vec())
        })
        .collect()
}

thread_local! {
    /// The stored key and value types [`Raw`] stands in for.
    static RAW: std::cell::RefCell<[TypeName; 2]> =
        std::cell::RefCell::new([TypeName::new("unset"), TypeName::new("unset")]);
}

/// A key (slot 0) or value (slot 1) type named as `RAW` says, seen as bytes: netabase's
/// `Fixed<N>` (N bytes) and `Tail<N>` (0 bytes) by their names.
#[derive(Debug)]
enum Raw<const SLOT: usize> {}

impl<const SLOT: usize> redb::Value for Raw<SLOT> {
    type SelfType<'a> = &'a [u8];
    type AsBytes<'a> = &'a [u8];

    fn fixed_width() -> Option<usize> {
        let name = Self::type_name().name().to_owned();
        let width = name
            .split_once('<')
            .and_then(|(_, rest)| rest.strip_suffix('>'))
            .and_then(|n| n.parse().ok());
        if name.contains("Tail<") {
            Some(0)
        } else {
            width
        }
    }

    fn from_bytes<'a>(data: &'a [u8]) -> &'a [u8]
    where
        Self: 'a,
    {
        data
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a &'b [u8]) -> &'a [u8]
    where
        Self: 'b,
    {
        value
    }

    fn type_name() -> TypeName {
        RAW.with(|raw| raw.borrow()[SLOT].clone())
    }
}

impl<const SLOT: usize> redb::Key for Raw<SLOT> {
    fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        a.cmp(b)
    }
}

#[test]
fn every_automatic_fixture_migrates_as_the_typed_open_does() -> Result {
    macro_rules! each {
        ($($fixture:ident),*) => {$(
            let (_dir, path) = seed(false)?;
            let report = migrate_both::<$fixture::Shop>(&pair(&path))?;
            assert_eq!(report.to_version, 2, "{}", stringify!($fixture));
        )*};
    }
    each!(
        shop_index_added,
        shop_index_changed,
        shop_index_removed,
        shop_new_model,
        shop_option_field,
        shop_default_field,
        shop_renamed,
        shop_widened,
        shop_removed_field,
        shop_removed_model
    );
    // Every change at once, then a second version on the migrated files.
    let (_dir, path) = seed(false)?;
    let both = pair(&path);
    let report = migrate_both::<shop_v2::Shop>(&both)?;
    assert_eq!(report.removed_models, ["Legacy"]);
    let user = report
        .models
        .iter()
        .find(|m| m.model == "User")
        .expect("User");
    assert_eq!(user.records_rewritten, USERS);
    assert_eq!(user.indexes_rebuilt, ["name", "age"]);
    let report = migrate_both::<shop_v3::Shop>(&both)?;
    assert_eq!((report.from_version, report.to_version), (2, 3));
    Ok(())
}

/// A `keyed_v1` database whose values cover every key type's corners: negatives, NaN and
/// -0.0, strings with NUL bytes, empty and repeated list elements, `None`s, every variant.
fn seed_keyed(dir: &Path) -> Result<PathBuf> {
    use keyed_v1::*;
    let path = dir.join("keyed.redb");
    let store = Store::<Keyed>::open(&path)?;
    let txn = store.begin_write()?;
    {
        let mut editions = txn.editions()?;
        for (isbn, printing) in [("978-0", 1u16), ("978-0", 2), ("979\0x", 1)] {
            editions.put(&Edition {
                isbn: isbn.into(),
                printing,
                title: format!("{} of {isbn}", printing % 2),
            })?;
        }
        let mut items = txn.items()?;
        let floats = [f64::NAN, -0.0, 0.0, -1.5, f64::INFINITY, 1e300];
        for i in 0..30i64 {
            let n = i as usize;
            items.put(&Item {
                id: i - 10,
                edition: [
                    ("978-0".to_owned(), 1u16),
                    ("978-0".into(), 2),
                    ("979\0x".into(), 1),
                ][n % 3]
                    .clone(),
                priority: match n % 3 {
                    0 => Priority::Low,
                    1 => Priority::Custom {
                        level: (i as i32 - 15) * 1000,
                        note: format!("n\0{}", n % 4),
                    },
                    _ => Priority::High,
                },
                code: (!n.is_multiple_of(4)).then(|| n as u16 * 7),
                tags: match n % 3 {
                    0 => Vec::new(),
                    _ => vec![format!("t{}", n % 5), "x".into(), format!("t{}", n % 5)],
                },
                letter: ['a', 'é', '東', '\0', 'z'][n % 5],
                huge: u128::MAX - n as u128,
                neg: if i % 2 == 0 {
                    i128::MIN + i as i128
                } else {
                    i as i128 * 1_000
                },
                ratio: floats[n % 6] as f32,
                weight: floats[(n + 1) % 6],
                flag: i % 2 == 0,
                name: format!("item\0{i}"),
            })?;
        }
    }
    txn.commit()?;
    Ok(path)
}

#[test]
fn every_kind_of_key_is_built_as_the_generated_code_builds_it() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = seed_keyed(dir.path())?;
    let report = migrate_both::<keyed_v2::Keyed>(&pair(&path))?;
    let item = report
        .models
        .iter()
        .find(|m| m.model == "Item")
        .expect("Item");
    assert_eq!(item.records_rewritten, 0);
    assert_eq!(
        item.indexes_rebuilt,
        [
            "priority",
            "code",
            "tags",
            "letter",
            "huge",
            "neg",
            "ratio",
            "weight",
            "flag",
            "name",
            "edition_priority",
            "flag_tags",
            "code_name"
        ]
    );
    Ok(())
}

/// `migrate_file` to `D` fails with `check(error)` and the file is byte for byte as it was.
fn refused<D: Definition>(path: &Path, check: impl FnOnce(&Error)) -> String {
    let before = std::fs::read(path).expect("read the file");
    let error = migrate_to::<D>(path).expect_err("migrated a file it should refuse");
    check(&error);
    assert!(
        std::fs::read(path).expect("read the file") == before,
        "a refused migration changed the file"
    );
    assert!(!working_copy(path).exists(), "the working copy was left");
    error.to_string()
}

/// Where `migrate_file` works: a copy beside the file.
fn working_copy(path: &Path) -> PathBuf {
    let mut name = path.file_name().expect("a file name").to_os_string();
    name.push(".migrating");
    path.with_file_name(name)
}

fn kind(expected: MigrationErrorKind) -> impl FnOnce(&Error) {
    move |error| match error {
        Error::Migration { kind, .. } => assert_eq!(*kind, expected, "{error}"),
        other => panic!("expected a migration error of kind {expected:?}, got {other:?}"),
    }
}

#[test]
fn a_unique_key_over_duplicate_values_is_refused_and_nothing_is_written() -> Result {
    let (_dir, path) = seed(true)?;
    let message = refused::<shop_index_changed::Shop>(&path, |error| match error {
        Error::UniqueViolation { model, field, .. } => {
            assert_eq!((*model, *field), ("User", "name"))
        }
        other => panic!("expected UniqueViolation, got {other:?}"),
    });
    assert!(
        message.contains("\"user3\"") && message.contains("id: 3") && message.contains("id: 7"),
        "{message}"
    );
    // The typed open refuses it alike, and the file is still a whole version 1 database.
    assert!(matches!(
        Store::<shop_index_changed::Shop>::open(&path).err(),
        Some(Error::UniqueViolation { .. })
    ));
    assert_eq!(
        Store::<shop_v1::Shop>::open(&path)?.len::<shop_v1::User>()?,
        USERS
    );
    Ok(())
}

#[test]
fn what_the_schema_less_migration_cannot_do_is_refused_with_its_kind() -> Result {
    let (_dir, path) = seed(false)?;
    let message = refused::<shop_narrowed::Shop>(&path, kind(MigrationErrorKind::NotAutomatic));
    assert!(
        message.contains("open the file from the program that has it"),
        "{message}"
    );
    refused::<shop_unconfirmed::Shop>(&path, kind(MigrationErrorKind::RemovalNotConfirmed));
    refused::<shop_same_version::Shop>(&path, kind(MigrationErrorKind::VersionNotRaised));
    // Another definition.
    refused::<keyed_v2::Keyed>(&path, |error| {
        assert!(matches!(error, Error::SchemaMismatch { .. }), "{error:?}")
    });
    // A file rescued by the schema-less salvage, whose indexes its own program builds.
    let rescued = path.with_file_name("rescued.redb");
    netabase_runtime::recover_file(&path, &rescued)?;
    let message = refused::<shop_v2::Shop>(&rescued, |error| {
        assert!(matches!(error, Error::Inconsistent { .. }), "{error:?}")
    });
    assert!(message.contains("indexes are not built yet"), "{message}");
    // A newer file, then an older schema.
    assert!(matches!(
        migrate_to::<shop_v2::Shop>(&path)?,
        FileMigration::Migrated(_)
    ));
    refused::<shop_v1::Shop>(&path, kind(MigrationErrorKind::Downgrade));
    // Nothing to migrate: no file, or no netabase file.
    let missing = path.with_file_name("missing.redb");
    assert!(matches!(
        migrate_to::<shop_v2::Shop>(&missing),
        Err(Error::Io { .. })
    ));
    assert!(!missing.exists());
    Ok(())
}

/// A file a program has open is refused (redb's lock), and nothing is written; once the
/// program closes it, it migrates, and no working copy is left beside it.
#[test]
fn a_file_open_in_a_program_is_refused() -> Result {
    let (_dir, path) = seed(false)?;
    let store = Store::<shop_v1::Shop>::open(&path)?;
    refused::<shop_v2::Shop>(&path, |error| {
        assert!(matches!(error, Error::AlreadyOpen { .. }), "{error:?}")
    });
    drop(store);
    schemaless::<shop_v2::Shop>(&path)?;
    assert!(!working_copy(&path).exists());
    Ok(())
}

#[test]
fn a_second_run_finds_nothing_to_do() -> Result {
    let (_dir, path) = seed(false)?;
    schemaless::<shop_v2::Shop>(&path)?;
    let before = std::fs::read(&path).expect("read the file");
    assert_eq!(migrate_to::<shop_v2::Shop>(&path)?, FileMigration::UpToDate);
    assert!(std::fs::read(&path).expect("read the file") == before);
    Ok(())
}

#[test]
fn progress_reaches_every_phase_and_ends_done() -> Result {
    let (_dir, path) = seed(false)?;
    let heard = std::cell::RefCell::new(Vec::new());
    let progress = |p: &netabase_runtime::MigrationProgress<'_>| {
        heard
            .borrow_mut()
            .push((p.model.to_owned(), p.phase, p.done, p.total));
    };
    migrate_file(
        &path,
        &SchemaInfo::of::<shop_v2::Shop>(),
        shop_v2::Shop::LAYOUT,
        Some(&progress),
    )?;
    let heard = heard.into_inner();
    let of = |model: &str, phase| -> Vec<(u64, u64)> {
        heard
            .iter()
            .filter(|(m, p, _, _)| m == model && *p == phase)
            .map(|(_, _, done, total)| (*done, *total))
            .collect()
    };
    // User: records rewritten, then two indexes (name, age) built, a pass each.
    let rewriting = of("User", MigrationPhase::Rewriting);
    assert_eq!(rewriting.first(), Some(&(0, USERS)));
    assert_eq!(rewriting.last(), Some(&(USERS, USERS)));
    let indexing = of("User", MigrationPhase::Indexing);
    assert_eq!(indexing.first(), Some(&(0, 2 * USERS)));
    assert_eq!(indexing.last(), Some(&(2 * USERS, 2 * USERS)));
    assert!(
        indexing.windows(2).all(|w| w[0].0 <= w[1].0),
        "{indexing:?}"
    );
    // Order: records rewritten (i64 totals), no index of its own rebuilt.
    assert_eq!(
        of("Order", MigrationPhase::Rewriting).last(),
        Some(&(40, 40))
    );
    assert!(of("Order", MigrationPhase::Indexing).is_empty());
    Ok(())
}
