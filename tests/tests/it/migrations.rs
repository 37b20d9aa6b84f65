//! Automatic migrations on open: a database written by `shop_v1` opened with each later
//! version of the `Shop` definition (tests/fixtures/migrations/), one class of change at a time
//! and all at once; the refusals, with their exact error kinds and the file left byte for byte
//! as it was; the stored layout, and reading records without the schema.

use netabase_runtime::{Error, MigrationErrorKind, MigrationReport, Store, schemaless};
use netabase_tests::migrations::*;
use std::path::{Path, PathBuf};

type Result<T = ()> = std::result::Result<T, Error>;

pub(crate) const USERS: u64 = 20;
const ORDERS: u32 = 40;

/// A `shop_v1` database with 20 users, 40 orders and 2 legacy records. With `duplicate`,
/// user 7 has user 3's name (allowed by v1's non-unique index).
pub(crate) fn seed(duplicate: bool) -> Result<(tempfile::TempDir, PathBuf)> {
    use shop_v1::*;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("shop.redb");
    let store = Store::<Shop>::open(&path)?;
    let txn = store.begin_write()?;
    {
        let mut users = txn.users()?;
        for i in 1..=USERS {
            let name = if duplicate && i == 7 { 3 } else { i };
            users.put(&User {
                id: i,
                name: format!("user{name}"),
                title: format!("Dr {i}"),
                age: 20 + i as u8,
                score: i as f32 / 2.0,
                nickname: format!("nick{i}"),
                tier: if i % 2 == 0 { Tier::Plus } else { Tier::Basic },
                fax: format!("fax{i}"),
            })?;
        }
        let mut orders = txn.orders()?;
        for i in 1..=ORDERS {
            orders.put(&Order {
                id: i,
                user: u64::from(i % 20) + 1,
                total: i * 100,
            })?;
        }
        let mut legacies = txn.legacies()?;
        for code in ["a", "b"] {
            legacies.put(&Legacy { code: code.into() })?;
        }
    }
    txn.commit()?;
    Ok((dir, path))
}

/// Opens `path` with definition `D`, checks the migration left a clean database, and returns
/// the report with the store.
fn migrate<D: netabase_runtime::Definition>(path: &Path) -> Result<(Store<D>, MigrationReport)> {
    let mut store = Store::<D>::open(path)?;
    let report = store
        .migration()
        .cloned()
        .expect("opening migrated the file");
    let integrity = store.check_integrity()?;
    assert!(integrity.is_clean(), "{integrity}");
    Ok((store, report))
}

fn model<'r>(report: &'r MigrationReport, name: &str) -> &'r netabase_runtime::ModelReport {
    report
        .models
        .iter()
        .find(|m| m.model == name)
        .unwrap_or_else(|| panic!("{name} not in {report}"))
}

/// Everything a database holds, read without its schema: its stored identity and layout, and
/// every record of every model. (redb rewrites its own header and allocator state when a
/// file is opened and closed, so the bytes are not the measure of "unchanged"; this is.)
pub(crate) fn contents(path: &Path) -> (schemaless::StoredSchema, Vec<String>) {
    let stored = schemaless::stored_schema(path)
        .expect("readable")
        .expect("netabase metadata");
    let mut records = Vec::new();
    // A file without a stored layout is compared by its metadata alone.
    let layout = stored.layout().expect("parses");
    for model in layout.iter().flat_map(|l| &l.models) {
        schemaless::for_each_record(path, &model.name, |record| {
            records.push(format!("{}: {record:?}", model.name));
            true
        })
        .expect("records");
    }
    (stored, records)
}

/// Opening `path` with `D` fails with a migration error of `kind`, and the file is unchanged.
fn refused<D: netabase_runtime::Definition>(path: &Path, kind: MigrationErrorKind) -> String {
    refused_with(path, kind, |path| Store::<D>::open(path))
}

fn refused_with<D: netabase_runtime::Definition>(
    path: &Path,
    kind: MigrationErrorKind,
    open: impl FnOnce(&Path) -> Result<Store<D>>,
) -> String {
    let before = contents(path);
    let error = open(path)
        .err()
        .expect("opened a database it should refuse");
    match &error {
        Error::Migration { kind: found, .. } => assert_eq!(*found, kind, "{error}"),
        other => panic!("expected a migration error of kind {kind:?}, got {other:?}"),
    }
    assert!(contents(path) == before, "a refused open changed the file");
    error.to_string()
}

/// The names of the tables in the database at `path`.
fn table_names(path: &Path) -> Vec<String> {
    let db = redb::Database::open(path).expect("redb");
    let txn = redb::ReadableDatabase::begin_read(&db).expect("read");
    txn.list_tables()
        .expect("tables")
        .map(|t| redb::TableHandle::name(&t).to_owned())
        .collect()
}

fn sorted<T>(iter: impl Iterator<Item = Result<T>>) -> Vec<T> {
    iter.collect::<Result<Vec<T>>>().expect("iterate")
}

#[test]
fn a_database_stores_its_layout_and_reads_without_its_schema() -> Result {
    let (_dir, path) = seed(false)?;
    let stored = schemaless::stored_schema(&path)?.expect("netabase metadata");
    assert_eq!(
        (stored.info.definition.as_str(), stored.info.version),
        ("Shop", 1)
    );
    assert_eq!(
        stored.layout_text.as_deref(),
        Some(<shop_v1::Shop as netabase_runtime::Definition>::LAYOUT)
    );
    let layout = stored.layout()?.expect("a layout");
    let user = layout.model("User").expect("User");
    let names: Vec<&str> = user.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id", "name", "title", "age", "score", "nickname", "tier", "fax"
        ]
    );
    let mut printed = Vec::new();
    let seen = schemaless::for_each_record(&path, "User", |record| {
        printed.push(
            record
                .iter()
                .map(|(name, value)| format!("{name}: {value}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        printed.len() < 2
    })?;
    assert_eq!(seen, 2);
    assert_eq!(
        printed[1],
        "id: 2, name: \"user2\", title: \"Dr 2\", age: 22, score: 1.0, nickname: \"nick2\", tier: Plus, fax: \"fax2\""
    );
    // A model keyed by a string (a `&[u8]` record table) reads too.
    let mut codes = Vec::new();
    schemaless::for_each_record(&path, "Legacy", |record| {
        codes.push(record[0].1.to_string());
        true
    })?;
    assert_eq!(codes, ["\"a\"", "\"b\""]);
    let error = schemaless::for_each_record(&path, "Nope", |_| true).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("its models are User, Order, Legacy"),
        "{error}"
    );
    Ok(())
}

#[test]
fn reopening_at_the_same_layout_migrates_nothing() -> Result {
    let (_dir, path) = seed(false)?;
    let before = contents(&path);
    let store = Store::<shop_v1::Shop>::open(&path)?;
    assert!(store.migration().is_none());
    assert_eq!(store.len::<shop_v1::User>()?, USERS);
    drop(store);
    assert!(contents(&path) == before);
    Ok(())
}

#[test]
fn a_new_model_gets_empty_tables() -> Result {
    use shop_new_model::*;
    let (_dir, path) = seed(false)?;
    let (store, report) = migrate::<Shop>(&path)?;
    assert_eq!((report.from_version, report.to_version), (1, 2));
    let coupon = model(&report, "Coupon");
    assert_eq!(coupon.changes, ["new model (empty tables)"]);
    assert_eq!(report.models.len(), 1, "{report}");
    assert_eq!(store.len::<Coupon>()?, 0);
    store.put(&Coupon {
        code: "TEN".into(),
        percent: 10,
    })?;
    assert_eq!(store.len::<User>()?, USERS);
    Ok(())
}

#[test]
fn an_added_index_is_built_without_rewriting_a_record() -> Result {
    use shop_index_added::*;
    let (_dir, path) = seed(false)?;
    let (store, report) = migrate::<Shop>(&path)?;
    let user = model(&report, "User");
    assert_eq!(user.records_rewritten, 0);
    assert_eq!(user.indexes_rebuilt, ["age"]);
    assert_eq!(user.changes, ["index age added"]);
    let txn = store.begin_read()?;
    let found: Vec<u64> = sorted(txn.users()?.by_age(25)?)
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(found, [5]);
    assert_eq!(txn.users()?.count_by_age(40)?, 1);
    Ok(())
}

#[test]
fn a_removed_index_is_dropped() -> Result {
    use shop_index_removed::*;
    let (_dir, path) = seed(false)?;
    let (store, report) = migrate::<Shop>(&path)?;
    let user = model(&report, "User");
    assert_eq!(user.records_rewritten, 0);
    assert!(user.indexes_rebuilt.is_empty());
    assert_eq!(user.indexes_dropped, ["Shop/User/name"]);
    drop(store);
    let tables = table_names(&path);
    assert!(!tables.contains(&"Shop/User/name".to_owned()), "{tables:?}");
    Ok(())
}

#[test]
fn a_changed_index_is_rebuilt_and_enforced() -> Result {
    use shop_index_changed::*;
    let (_dir, path) = seed(false)?;
    let (store, report) = migrate::<Shop>(&path)?;
    let user = model(&report, "User");
    assert_eq!(
        (user.records_rewritten, user.indexes_rebuilt.as_slice()),
        (0, ["name".to_owned()].as_slice())
    );
    assert_eq!(user.changes, ["index name changed"]);
    let found = store.begin_read()?.users()?.get_by_name("user9")?;
    assert_eq!(found.map(|u| u.id), Some(9));
    let mut clash = store.get::<User>(1)?.expect("user 1");
    clash.id = 99;
    let error = store.put(&clash).unwrap_err();
    assert!(matches!(error, Error::UniqueViolation { .. }), "{error:?}");
    Ok(())
}

#[test]
fn a_unique_index_over_duplicates_fails_and_names_both_records() -> Result {
    let (_dir, path) = seed(true)?;
    let before = contents(&path);
    let error = Store::<shop_index_changed::Shop>::open(&path)
        .err()
        .expect("a unique key over duplicates");
    match &error {
        Error::UniqueViolation {
            model,
            field,
            value,
        } => {
            assert_eq!((*model, *field), ("User", "name"));
            assert!(
                value.contains("\"user3\"")
                    && value.contains("UserPrimaryKey(3)")
                    && value.contains("UserPrimaryKey(7)"),
                "{value}"
            );
        }
        other => panic!("expected UniqueViolation, got {other:?}"),
    }
    assert!(contents(&path) == before);
    // Still a version 1 database, whole.
    assert_eq!(
        Store::<shop_v1::Shop>::open(&path)?.len::<shop_v1::User>()?,
        USERS
    );
    Ok(())
}

#[test]
fn a_new_option_field_starts_as_none() -> Result {
    use shop_option_field::*;
    let (_dir, path) = seed(false)?;
    let (store, report) = migrate::<Shop>(&path)?;
    let user = model(&report, "User");
    assert_eq!(user.records_rewritten, USERS);
    assert_eq!(user.changes, ["new field email: Option<String> (None)"]);
    let u = store.get::<User>(4)?.expect("user 4");
    assert_eq!(u.email, None);
    assert_eq!((u.name.as_str(), u.fax.as_str()), ("user4", "fax4"));
    assert_eq!(report.models.len(), 1, "{report}");
    Ok(())
}

#[test]
fn new_fields_take_their_defaults() -> Result {
    use shop_default_field::*;
    let (_dir, path) = seed(false)?;
    let (store, report) = migrate::<Shop>(&path)?;
    assert_eq!(model(&report, "User").records_rewritten, USERS);
    for id in 1..=USERS {
        let u = store.get::<User>(id)?.expect("user");
        assert_eq!(u.country, "New Zealand");
        assert_eq!(u.visits, -1);
        assert_eq!(u.status, Tier::Plus);
        assert_eq!(u.ratio, 0.5);
        assert!(u.active);
        assert_eq!(u.nickname, format!("nick{id}"));
    }
    Ok(())
}

#[test]
fn a_renamed_field_keeps_its_values_without_rewriting() -> Result {
    use shop_renamed::*;
    let (_dir, path) = seed(false)?;
    let (store, report) = migrate::<Shop>(&path)?;
    let user = model(&report, "User");
    // Same types in the same order: the records' bytes do not change.
    assert_eq!(user.records_rewritten, 0);
    assert_eq!(user.changes, ["field title renamed to display_name"]);
    assert_eq!(store.get::<User>(12)?.expect("user").display_name, "Dr 12");
    Ok(())
}

#[test]
fn widened_types_keep_every_value() -> Result {
    use shop_widened::*;
    let (_dir, path) = seed(false)?;
    let (store, report) = migrate::<Shop>(&path)?;
    assert_eq!(model(&report, "User").records_rewritten, USERS);
    assert_eq!(
        model(&report, "Order").changes,
        ["field total: u32 widened to i64"]
    );
    for id in 1..=USERS {
        let u = store.get::<User>(id)?.expect("user");
        assert_eq!(u.age, 20 + id as u32);
        assert_eq!(u.score, id as f64 / 2.0);
        assert_eq!(u.nickname, Some(format!("nick{id}")));
        assert_eq!(u.tier, if id % 2 == 0 { Tier::Plus } else { Tier::Basic });
    }
    assert_eq!(store.get::<Order>(40)?.expect("order").total, 4000);
    // The new variant is usable.
    let mut gold = store.get::<User>(1)?.expect("user");
    gold.tier = Tier::Gold;
    store.put(&gold)?;
    Ok(())
}

#[test]
fn a_confirmed_field_removal_drops_it() -> Result {
    use shop_removed_field::*;
    let (_dir, path) = seed(false)?;
    let (store, report) = migrate::<Shop>(&path)?;
    assert_eq!(
        model(&report, "User").changes,
        ["field fax removed (removed_fields)"]
    );
    assert_eq!(store.get::<User>(3)?.expect("user").nickname, "nick3");
    Ok(())
}

#[test]
fn a_confirmed_model_removal_deletes_its_tables() -> Result {
    use shop_removed_model::*;
    let (_dir, path) = seed(false)?;
    let (store, report) = migrate::<Shop>(&path)?;
    assert_eq!(report.removed_models, ["Legacy"]);
    assert!(report.models.is_empty(), "{report}");
    drop(store);
    let tables = table_names(&path);
    assert!(
        !tables.iter().any(|t| t.starts_with("Shop/Legacy")),
        "{tables:?}"
    );
    Ok(())
}

#[test]
fn every_change_at_once_then_a_second_version_after_reopen() -> Result {
    let (_dir, path) = seed(false)?;
    {
        use shop_v2::*;
        let (store, report) = migrate::<Shop>(&path)?;
        assert_eq!(report.removed_models, ["Legacy"]);
        let user = model(&report, "User");
        assert_eq!(user.records_rewritten, USERS);
        assert_eq!(user.indexes_rebuilt, ["name", "age"]);
        assert_eq!(
            user.changes,
            [
                "field title renamed to display_name",
                "field age: u8 widened to u32",
                "field score: f32 widened to f64",
                "field nickname: String widened to Option<String>",
                "new field email: Option<String> (None)",
                "new field country: String (default \"New Zealand\")",
                "field fax removed (removed_fields)",
                "index name changed",
                "index age added",
            ]
        );
        assert_eq!(model(&report, "Coupon").records_rewritten, 0);
        let u = store.get::<User>(20)?.expect("user");
        assert_eq!(
            u,
            User {
                id: 20,
                name: "user20".into(),
                display_name: "Dr 20".into(),
                age: 40,
                score: 10.0,
                nickname: Some("nick20".into()),
                tier: Tier::Plus,
                email: None,
                country: "New Zealand".into(),
            }
        );
        let txn = store.begin_read()?;
        let orders: Vec<u32> = sorted(txn.orders()?.by_user(1)?)
            .into_iter()
            .map(|o| o.id)
            .collect();
        assert_eq!(orders, [20, 40]);
        assert_eq!(txn.users()?.get_by_name("user5")?.map(|u| u.age), Some(25));
    }
    // Reopened at version 2: nothing to do.
    assert!(Store::<shop_v2::Shop>::open(&path)?.migration().is_none());
    // And on to version 3: only the new index is built.
    use shop_v3::*;
    let (store, report) = migrate::<Shop>(&path)?;
    assert_eq!((report.from_version, report.to_version), (2, 3));
    let user = model(&report, "User");
    assert_eq!(
        (user.records_rewritten, user.indexes_rebuilt.as_slice()),
        (0, ["country".to_owned()].as_slice())
    );
    assert_eq!(
        store
            .begin_read()?
            .users()?
            .count_by_country("New Zealand")?,
        USERS
    );
    Ok(())
}

#[test]
fn a_database_written_by_a_newer_version_is_refused() -> Result {
    let (_dir, path) = seed(false)?;
    migrate::<shop_v2::Shop>(&path)?;
    let message = refused::<shop_v1::Shop>(&path, MigrationErrorKind::Downgrade);
    assert!(
        message.contains("written by a newer version of `Shop` (2)"),
        "{message}"
    );
    Ok(())
}

#[test]
fn a_removal_without_confirmation_is_refused() -> Result {
    let (_dir, path) = seed(false)?;
    let message = refused::<shop_unconfirmed::Shop>(&path, MigrationErrorKind::RemovalNotConfirmed);
    assert!(
        message.contains("add `removed_fields = [\"fax\"]` to `[models.User]`"),
        "{message}"
    );
    Ok(())
}

#[test]
fn a_changed_layout_with_the_same_version_is_refused() -> Result {
    let (_dir, path) = seed(false)?;
    let message = refused::<shop_same_version::Shop>(&path, MigrationErrorKind::VersionNotRaised);
    assert!(message.contains("raise `version`"), "{message}");
    Ok(())
}

#[test]
fn a_narrowing_change_is_refused() -> Result {
    let (_dir, path) = seed(false)?;
    let message = refused::<shop_narrowed::Shop>(&path, MigrationErrorKind::NotAutomatic);
    assert!(
        message.contains("`Order.total` changed from `u32` to `u16`")
            && message.contains("write a typed step (`impl Migrate<v1::Model> for Model`)"),
        "{message}"
    );
    Ok(())
}

#[test]
fn migrate_false_refuses_and_lists_what_it_would_do() -> Result {
    let (_dir, path) = seed(false)?;
    let message = refused_with(&path, MigrationErrorKind::Disabled, |path| {
        Store::<shop_index_added::Shop>::builder()
            .migrate(false)
            .open(path)
    });
    assert!(message.contains("User: index age added"), "{message}");
    // With migrations on, the same file migrates.
    migrate::<shop_index_added::Shop>(&path)?;
    Ok(())
}

fn layout_of(fixture: &str) -> netabase_runtime::Layout {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/migrations/{fixture}.toml"));
    let source = std::fs::read_to_string(&path).expect("fixture");
    let text = netabase_build::stored_layout(&source, fixture).expect("valid schema");
    netabase_runtime::Layout::parse(&text).expect("layout parses")
}

#[test]
fn the_compiler_and_the_generated_code_agree_on_the_layout() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/migrations/shop_v2.toml");
    let source = std::fs::read_to_string(path).expect("fixture");
    assert_eq!(
        netabase_build::stored_layout(&source, "shop_v2.toml").expect("valid"),
        <shop_v2::Shop as netabase_runtime::Definition>::LAYOUT
    );
}

#[test]
fn diff_lists_each_change_with_its_class() {
    use netabase_runtime::migrate::{ChangeClass, diff};
    let listed = |old: &str, new: &str| -> Vec<(String, ChangeClass, String)> {
        diff(&layout_of(old), &layout_of(new))
            .into_iter()
            .map(|c| (c.subject, c.class, c.description))
            .collect()
    };
    assert_eq!(listed("shop_v1", "shop_v1"), []);
    assert_eq!(
        listed("shop_v1", "shop_new_model"),
        [(
            "Coupon".to_owned(),
            ChangeClass::Automatic,
            "new model (empty tables)".to_owned()
        )]
    );
    let unconfirmed = listed("shop_v1", "shop_unconfirmed");
    assert_eq!(unconfirmed.len(), 1, "{unconfirmed:?}");
    assert_eq!(
        (unconfirmed[0].0.as_str(), unconfirmed[0].1),
        ("User", ChangeClass::NeedsConfirmation)
    );
    let narrowed = listed("shop_v1", "shop_narrowed");
    assert_eq!(
        narrowed,
        [(
            "Order".to_owned(),
            ChangeClass::NotAutomatic,
            "field `Order.total` changed from `u32` to `u16`: only widening is automatic (a larger integer, f32 to f64, T to Option<T>)".to_owned()
        )]
    );
    let all = listed("shop_v1", "shop_v2");
    assert!(
        all.iter()
            .all(|(_, class, _)| *class == ChangeClass::Automatic),
        "{all:?}"
    );
    assert_eq!(all.len(), 13, "{all:?}");
}

/// Removes the stored layout, as in a database written before netabase stored layouts.
fn forget_layout(path: &Path) {
    let db = redb::Database::open(path).expect("redb");
    let txn = db.begin_write().expect("write");
    {
        let mut meta = txn
            .open_table(redb::TableDefinition::<&str, &[u8]>::new(
                netabase_runtime::META_TABLE,
            ))
            .expect("meta");
        assert!(meta.remove("layout").expect("remove").is_some());
    }
    txn.commit().expect("commit");
}

#[test]
fn a_database_without_a_stored_layout_gets_one_or_is_refused() -> Result {
    let (_dir, path) = seed(false)?;
    forget_layout(&path);
    // Another layout: what changed cannot be known.
    let message = refused::<shop_index_added::Shop>(&path, MigrationErrorKind::NoStoredLayout);
    assert!(message.contains("did not store its layout"), "{message}");
    // Its own layout: opening stores it, once.
    drop(Store::<shop_v1::Shop>::open(&path)?);
    let stored = schemaless::stored_schema(&path)?.expect("metadata");
    assert_eq!(
        stored.layout_text.as_deref(),
        Some(<shop_v1::Shop as netabase_runtime::Definition>::LAYOUT)
    );
    // And from there it migrates.
    migrate::<shop_index_added::Shop>(&path)?;
    Ok(())
}
