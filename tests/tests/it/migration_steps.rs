//! Typed migration steps: `fixtures/history/catalog.toml` (version 3) keeps versions 1 and 2 as
//! history, so its generated code holds `catalog::v1` and `catalog::v2`, and the steps in
//! `tests/src/lib.rs` migrate what is not automatic (a narrowed price, a new primary key, a field
//! split in two) while other models change automatically in the same migration. A database
//! written with the `v1` module is opened with version 3 and checked record by record; a step
//! that fails leaves the file as version 1 wrote it.

use netabase_runtime::{
    Error, MigrationErrorKind, MigrationPhase, Store, migrate::ChangeClass, schemaless,
};
use netabase_tests::catalog::{self, v1};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

type Result<T = ()> = std::result::Result<T, Error>;

const PRODUCTS: u64 = 30;
const CUSTOMERS: u32 = 12;
const NOTES: u32 = 5;

fn v1_products(too_expensive: Option<u64>) -> Vec<v1::Product> {
    (1..=PRODUCTS)
        .map(|id| v1::Product {
            id,
            name: format!("Brand{} Model {id}", id % 4),
            price: if Some(id) == too_expensive {
                u64::from(u32::MAX) + 1
            } else {
                id * 100
            },
        })
        .collect()
}

fn v1_customers() -> Vec<v1::Customer> {
    (1..=CUSTOMERS)
        .map(|number| v1::Customer {
            number,
            // Not in number order, so the new primary key reorders the records.
            email: format!("{}@example.org", char::from(b'z' - number as u8)),
            age: 20 + number,
        })
        .collect()
}

fn v1_notes() -> Vec<v1::Note> {
    (1..=NOTES)
        .map(|id| v1::Note {
            id,
            text: format!("note {}", id % 2),
        })
        .collect()
}

/// A version 1 database written with the generated `v1` module; with `too_expensive`, that
/// product's price does not fit version 2's `u32`.
fn seed(too_expensive: Option<u64>) -> Result<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("catalog.redb");
    let store = Store::<v1::Catalog>::open(&path)?;
    let txn = store.begin_write()?;
    {
        let mut products = txn.products()?;
        for p in v1_products(too_expensive) {
            products.put(&p)?;
        }
        let mut customers = txn.customers()?;
        for c in v1_customers() {
            customers.put(&c)?;
        }
        let mut notes = txn.notes()?;
        for n in v1_notes() {
            notes.put(&n)?;
        }
    }
    txn.commit()?;
    Ok((dir, path))
}

/// Every record of the version 1 file, read with the `v1` module.
fn read_v1(path: &Path) -> Result<(Vec<v1::Product>, Vec<v1::Customer>, Vec<v1::Note>)> {
    let store = Store::<v1::Catalog>::builder().migrate(false).open(path)?;
    let txn = store.begin_read()?;
    let products = txn.products()?.iter()?.collect::<Result<Vec<_>>>()?;
    let customers = txn.customers()?.iter()?.collect::<Result<Vec<_>>>()?;
    let notes = txn.notes()?.iter()?.collect::<Result<Vec<_>>>()?;
    Ok((products, customers, notes))
}

#[test]
fn a_version_1_database_migrates_through_typed_steps_and_automatic_changes() -> Result {
    let (_dir, path) = seed(None)?;
    let progress = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&progress);
    let mut store = Store::<catalog::Catalog>::builder()
        .on_migration_progress(move |p| {
            heard
                .lock()
                .expect("progress")
                .push((p.model.to_owned(), p.phase, p.done, p.total));
        })
        .open(&path)?;
    let report = store.migration().cloned().expect("a migration ran");
    assert_eq!((report.from_version, report.to_version), (1, 3));
    let by_model = |name: &str| {
        report
            .models
            .iter()
            .find(|m| m.model == name)
            .unwrap_or_else(|| panic!("{name} not in the report:\n{report}"))
    };
    let product = by_model("Product");
    assert_eq!(product.records_rewritten, PRODUCTS);
    assert_eq!(product.indexes_rebuilt, ["brand"]);
    assert_eq!(
        product.changes,
        [
            "version 1 -> 2: records rewritten by its typed step (Migrate)",
            "version 2 -> 3: records rewritten by its typed step (Migrate)",
        ]
    );
    let customer = by_model("Customer");
    assert_eq!(customer.records_rewritten, u64::from(CUSTOMERS));
    assert_eq!(customer.indexes_rebuilt, ["number"]);
    assert_eq!(
        customer.changes,
        [
            "version 1 -> 2: records rewritten by its typed step (Migrate)",
            "version 2 -> 3: field age: u32 widened to u64",
            "version 2 -> 3: new field phone: Option<String> (None)",
        ]
    );
    let note = by_model("Note");
    assert_eq!(note.records_rewritten, u64::from(NOTES));
    assert_eq!(note.indexes_rebuilt, ["body"]);
    assert_eq!(
        note.changes,
        [
            "version 1 -> 2: new field pinned: Option<bool> (None)",
            "version 1 -> 2: index text added",
            "version 2 -> 3: field text renamed to body",
            "version 2 -> 3: index body added",
            "version 2 -> 3: index text removed",
        ]
    );

    // Every record, exactly.
    let txn = store.begin_read()?;
    let products = txn.products()?.iter()?.collect::<Result<Vec<_>>>()?;
    let expected: Vec<catalog::Product> = (1..=PRODUCTS)
        .map(|id| catalog::Product {
            id,
            brand: format!("Brand{}", id % 4),
            title: format!("Model {id}"),
            price: (id * 100) as u32,
        })
        .collect();
    assert_eq!(products, expected);
    let customers = txn.customers()?.iter()?.collect::<Result<Vec<_>>>()?;
    let mut expected: Vec<catalog::Customer> = v1_customers()
        .into_iter()
        .map(|c| catalog::Customer {
            email: c.email,
            number: c.number,
            age: u64::from(c.age),
            phone: None,
        })
        .collect();
    expected.sort_by(|a, b| a.email.cmp(&b.email));
    assert_eq!(customers, expected, "keyed and ordered by email now");
    let notes = txn.notes()?.iter()?.collect::<Result<Vec<_>>>()?;
    let expected: Vec<catalog::Note> = v1_notes()
        .into_iter()
        .map(|n| catalog::Note {
            id: n.id,
            body: n.text,
            pinned: None,
        })
        .collect();
    assert_eq!(notes, expected);

    // The rebuilt indexes find what a scan finds.
    let brand1: Vec<u64> = txn
        .products()?
        .by_brand("Brand1")?
        .map(|p| p.map(|p| p.id))
        .collect::<Result<_>>()?;
    assert_eq!(
        brand1,
        (1..=PRODUCTS).filter(|id| id % 4 == 1).collect::<Vec<_>>()
    );
    let seventh = txn.customers()?.get_by_number(7)?.expect("customer 7");
    assert_eq!(seventh.email, "s@example.org");
    assert_eq!(txn.customers()?.get("s@example.org")?, Some(seventh));
    let zeros: Vec<u32> = txn
        .notes()?
        .by_body("note 0")?
        .map(|n| n.map(|n| n.id))
        .collect::<Result<_>>()?;
    assert_eq!(zeros, [2, 4]);
    drop(txn);
    assert!(store.check_integrity()?.is_clean());

    // The bar heard every model, each phase ending at its total.
    let heard = progress.lock().expect("progress").clone();
    for (model, total) in [("Product", PRODUCTS), ("Customer", u64::from(CUSTOMERS))] {
        for phase in [MigrationPhase::Rewriting, MigrationPhase::Indexing] {
            let last = heard
                .iter()
                .rev()
                .find(|(m, p, _, _)| m == model && *p == phase)
                .unwrap_or_else(|| panic!("no {phase:?} progress for {model}: {heard:?}"));
            assert_eq!((last.2, last.3), (total, total), "{model} {phase:?}");
        }
    }
    drop(store);

    // Reopened: at version 3, nothing more to do.
    let store = Store::<catalog::Catalog>::open(&path)?;
    assert!(store.migration().is_none());
    assert_eq!(store.len::<catalog::Product>()?, PRODUCTS);
    Ok(())
}

#[test]
fn a_version_2_database_takes_only_the_last_step() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("catalog.redb");
    let store = Store::<catalog::v2::Catalog>::open(&path)?;
    store.put(&catalog::v2::Product {
        id: 9,
        name: "Solo".to_owned(),
        price: 5,
    })?;
    drop(store);
    let store = Store::<catalog::Catalog>::open(&path)?;
    let report = store.migration().expect("migrated");
    assert_eq!((report.from_version, report.to_version), (2, 3));
    let product = report
        .models
        .iter()
        .find(|m| m.model == "Product")
        .expect("Product");
    assert_eq!(
        product.changes,
        ["records rewritten by its typed step (Migrate)"]
    );
    assert_eq!(
        store.get::<catalog::Product>(9)?,
        Some(catalog::Product {
            id: 9,
            brand: "Solo".to_owned(),
            title: String::new(),
            price: 5,
        })
    );
    Ok(())
}

#[test]
fn a_failing_step_leaves_the_file_as_version_1_wrote_it() -> Result {
    let (_dir, path) = seed(Some(17))?;
    let before = read_v1(&path)?;
    let error = Store::<catalog::Catalog>::open(&path)
        .err()
        .expect("a step failed: the open must fail");
    let Error::Migration {
        kind,
        from,
        to,
        detail,
    } = &error
    else {
        panic!("expected a migration error, got {error:?}");
    };
    assert_eq!(*kind, MigrationErrorKind::StepFailed);
    assert_eq!((*from, *to), (1, 2), "the step that failed");
    assert!(
        detail.contains("the typed step of Product from version 1 to 2 failed")
            && detail.contains("price 4294967296 of product 17 does not fit a u32")
            && detail.contains("Nothing was written"),
        "{detail}"
    );
    // Untouched: version 1 reads every record as it wrote them.
    let after = read_v1(&path)?;
    assert_eq!(after, before);
    assert_eq!(
        schemaless::stored_schema(&path)?
            .expect("metadata")
            .info
            .version,
        1
    );
    let mut store = Store::<v1::Catalog>::open(&path)?;
    assert!(store.migration().is_none());
    assert!(store.check_integrity()?.is_clean());
    Ok(())
}

#[test]
fn opening_for_predicts_the_chain() -> Result {
    let (_dir, path) = seed(None)?;
    let schemaless::Opening::Migrate { from, to, changes } =
        schemaless::opening_for::<catalog::Catalog>(&path)?
    else {
        panic!("expected a migration");
    };
    assert_eq!((from, to), (1, 3));
    let typed: Vec<String> = changes
        .iter()
        .filter(|c| c.class == ChangeClass::TypedStep)
        .map(|c| format!("{}: {}", c.subject, c.description))
        .collect();
    assert_eq!(
        typed,
        [
            "Product: version 1 -> 2: records rewritten by its typed step (Migrate), indexes rebuilt",
            "Customer: version 1 -> 2: records rewritten by its typed step (Migrate), indexes rebuilt",
            "Product: version 2 -> 3: records rewritten by its typed step (Migrate), indexes rebuilt",
        ]
    );
    assert!(
        changes
            .iter()
            .all(|c| matches!(c.class, ChangeClass::TypedStep | ChangeClass::Automatic)),
        "{changes:?}"
    );
    Ok(())
}

/// `tests/ui/missing_migration_step.rs` compiles the generated code of `tests/ui/history/`
/// (a trybuild case has no build script): it must be exactly what the generator writes. Run
/// with `NETABASE_BLESS=1` to rewrite it after a change of the generator.
#[test]
fn the_missing_step_case_holds_the_generated_code() {
    let code = netabase_build::Builder::new()
        .schema("ui/history/item.toml")
        .history(["ui/history/item_v1.toml"])
        .generate()
        .expect("generates");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/history/item.rs");
    if std::env::var_os("NETABASE_BLESS").is_some() {
        std::fs::write(&path, &code).expect("write");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == code,
        "tests/ui/history/item.rs is not the generated code: run with NETABASE_BLESS=1"
    );
}

#[test]
fn a_new_primary_key_two_records_share_is_refused_and_the_file_is_untouched() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("catalog.redb");
    let store = Store::<v1::Catalog>::open(&path)?;
    for number in [1, 2] {
        store.put(&v1::Customer {
            number,
            email: "same@example.org".to_owned(),
            age: 30,
        })?;
    }
    drop(store);
    let before = read_v1(&path)?;
    match Store::<catalog::Catalog>::open(&path) {
        Err(Error::Migration {
            kind: MigrationErrorKind::StepFailed,
            from: 1,
            to: 3,
            detail,
        }) => assert!(
            detail.starts_with(
                "the typed steps of Customer give two records the primary key CustomerPrimaryKey(\"same@example.org\")"
            ),
            "{detail}"
        ),
        Err(other) => panic!("expected a failed step, got {other:?}"),
        Ok(_) => panic!("two customers ended under one primary key"),
    }
    assert_eq!(read_v1(&path)?, before);
    Ok(())
}
