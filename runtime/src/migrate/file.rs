//! Schema-less migration: [`migrate_file`] brings a database file to the layout of a schema
//! file without the program's generated code (what `netabase migrate` runs). It makes the plan
//! the typed open makes ([`meta::decide`](crate::meta), [`plan`](super::plan)), with the same
//! refusals, and carries it out the same way, in one write transaction: records rewritten by
//! the dynamic codec ([`Plan::rewrite_record`]), dropped tables deleted, the indexes the plan
//! rebuilds built from the records by the dynamic key encoder (`codec/dynamic_key.rs`), into
//! tables whose types come from their stored entry lines ([`StoredIndex`]), then the new
//! metadata. Either it commits whole, or the file is left as it was: byte for byte, since the
//! write transaction runs on a copy that replaces the file once committed (redb writes to any
//! file it opens for writing, even when the transaction is rolled back).
//!
//! What it cannot do is run a typed step ([`Migrate`](super::Migrate)): a change that needs
//! one is refused before anything is written, and the program that has the step migrates the
//! file when it opens it.
//!
//! Index tables whose widths are known only at run time are written through one stand-in type
//! per slot (see `tree/stored.rs`), whose width is a thread-local: two such tables cannot be
//! open at once, so each index is built in a pass of its own over the records.

use super::{MigrationErrorKind, MigrationPhase, MigrationProgress, MigrationReport};
use super::{ModelPlan, ModelReport, Plan};
use crate::codec::dynamic::{self, Record};
use crate::codec::dynamic_key;
use crate::contain::{ContainDrop, contain};
use crate::error::{Error, Result, SchemaInfo};
use crate::layout::{KeyLayout, Layout, ModelLayout};
use crate::meta::{self, Decision, META_TABLE};
use crate::ordered::Ordered;
use crate::tree::rebuild::{PROGRESS_EVERY, delete_table};
use crate::tree::{Bytes, StoredIndex, StoredKey, with_record_key};
use crate::tree::{Deferred, Made, Violation, insert_run};
use redb::{ReadableTable, ReadableTableMetadata, TableDefinition};
use std::path::Path;
use std::time::{Duration, Instant};

/// What [`migrate_file`] did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FileMigration {
    /// The file was already at the schema's version and layout: nothing was written.
    UpToDate,
    /// The file was at the schema's version and layout but written before netabase stored
    /// layouts: the layout was stored, nothing else changed.
    LayoutStored,
    /// The file was migrated; what changed, model by model.
    Migrated(MigrationReport),
}

/// Migrates the database at `path` to the schema whose generated code would have the identity
/// `expected` and the layout text `layout` (`netabase_build::stored_layout` of a schema file,
/// or a definition's `LAYOUT`), without that code: the same plan, refusals and result as
/// `Store::open` of a program built from that schema, in one write transaction. The
/// transaction runs on a copy of the file beside it (`<file>.migrating`), renamed over the
/// file once committed, so the migration needs room for a copy, and the file is byte for
/// byte as it was after any failure; no program can open the file for writing meanwhile.
/// `progress` hears each model's phases ([`MigrationPhase::Rewriting`], then
/// [`MigrationPhase::Indexing`]), every 4096 records and at the end of each; while indexing,
/// `total` counts the records once per index built (each index is built in a pass of its
/// own), so `done` reaches `total` when the model's last index is built.
///
/// Errors, each with nothing written: those of `Store::open` ([`Error::SchemaMismatch`],
/// [`Error::Migration`] of every kind it has: a downgrade, a layout change without a new
/// version, a change that is not automatic, a removal not confirmed, no stored layout);
/// [`Error::Migration`] of kind [`MigrationErrorKind::NotAutomatic`] also for a change only a
/// typed step can make (the message says to open the file from the program that has the
/// step); [`Error::UniqueViolation`] when a unique index built from the records finds two
/// records sharing a value; [`Error::Inconsistent`] for an index whose key this function
/// cannot encode (refused rather than built wrong) and for a file that has no netabase
/// metadata or was rescued without its indexes; the file errors of opening it
/// ([`Error::NotADatabase`], [`Error::AlreadyOpen`], [`Error::Corrupted`], [`Error::Io`]).
pub fn migrate_file(
    path: impl AsRef<Path>,
    expected: &SchemaInfo,
    layout: &str,
    progress: Option<&dyn Fn(&MigrationProgress<'_>)>,
) -> Result<FileMigration> {
    let path = path.as_ref();
    if !path.is_file() {
        return Err(Error::Io {
            context: format!(
                "no database file at {}: there is nothing to migrate (a program creates its \
                 database when it first opens it)",
                path.display()
            ),
            source: std::io::ErrorKind::NotFound.into(),
        });
    }
    contain(path, "", || {
        // Held to the end: while it is open no program can open the file for writing (redb
        // locks it), so the copy below is the file as decided.
        let original = ContainDrop::new(
            redb::ReadOnlyDatabase::open(path)
                .map_err(|e| crate::store::open_error(path, e, "open"))?,
        );
        let Some(planned) = decide(path, &original, expected, layout)? else {
            return Ok(FileMigration::UpToDate);
        };
        let migrated = migrate_copy(path, planned, expected, layout, progress)?;
        drop(original);
        Ok(migrated)
    })
}

/// Migrates a copy of the file at `path` and puts it in the file's place once committed: redb
/// writes to a file it opens for writing (its header, its allocator state), even when the
/// transaction is rolled back, so the original is never opened for writing and any failure
/// leaves it byte for byte as it was. The copy, `<file>.migrating` beside it, is removed on
/// failure; a crash leaves the original whole, and the next run replaces the copy.
fn migrate_copy(
    path: &Path,
    planned: Planned,
    expected: &SchemaInfo,
    layout: &str,
    progress: Option<&dyn Fn(&MigrationProgress<'_>)>,
) -> Result<FileMigration> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".migrating");
    let work = path.with_file_name(name);
    let io = |doing: String| {
        move |source| Error::Io {
            context: format!(
                "{doing}: netabase migrate works on a copy of the database beside it, so it \
                 needs write access to its directory and room for a copy"
            ),
            source,
        }
    };
    let result = std::fs::copy(path, &work)
        .map_err(io(format!(
            "cannot copy {} to {}",
            path.display(),
            work.display()
        )))
        .and_then(|_| {
            let db = ContainDrop::new(
                redb::Database::builder()
                    .open(&work)
                    .map_err(|e| crate::store::open_error(&work, e, "open"))?,
            );
            let migrated = run(&db, planned, expected, layout, progress)?;
            drop(db);
            std::fs::rename(&work, path).map_err(io(format!(
                "cannot put the migrated copy {} in the place of {}",
                work.display(),
                path.display()
            )))?;
            // The rename is durable once the directory is synced (where the platform can).
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            }
            Ok(migrated)
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&work);
    }
    result
}

/// What to do: `None` when the file is up to date, else the plan (see [`Planned`]).
fn decide(
    path: &Path,
    db: &redb::ReadOnlyDatabase,
    expected: &SchemaInfo,
    layout: &str,
) -> Result<Option<Planned>> {
    let Some((found, stored_layout, rebuild)) = meta::read_stored(db)? else {
        return Err(Error::Inconsistent {
            table: META_TABLE,
            detail: format!(
                "{} has no netabase metadata, so there is nothing to migrate: a program creates \
                 its tables when it first opens the file",
                path.display()
            ),
        });
    };
    let decision = meta::decide(&found, stored_layout.as_deref(), expected, layout, &[])
        .map_err(needs_the_program)?;
    if rebuild {
        // Its indexes are built by the first open of a program of its version.
        return Err(meta::indexes_not_built(found.version));
    }
    let new = Layout::parse(layout).map_err(|e| Error::Inconsistent {
        table: META_TABLE,
        detail: format!("the schema's layout does not parse ({e}): please report this"),
    })?;
    Ok(match decision {
        Decision::UpToDate => None,
        Decision::StoreLayout => Some(Planned::StoreLayout),
        Decision::Migrate(chain) => {
            let plan = match chain.map(|chain| chain.hops) {
                None => None,
                // Without history, the chain is one hop of automatic changes.
                Some(hops) => match <[_; 1]>::try_from(hops) {
                    Ok([hop]) => Some(Box::new(hop.plan)),
                    Err(_) => return Err(typed_steps_needed(found.version, expected.version)),
                },
            };
            if let Some(plan) = &plan {
                check_encodable(plan)?;
            }
            Some(Planned::Migrate {
                from: found.version,
                plan,
                new: Box::new(new),
            })
        }
    })
}

/// What [`run`] carries out.
enum Planned {
    /// Store the layout of a file written before layouts were stored.
    StoreLayout,
    /// Migrate from version `from` by `plan` (`None`: only the version number changes) to the
    /// layout `new`.
    Migrate {
        from: u64,
        plan: Option<Box<Plan>>,
        new: Box<Layout>,
    },
}

/// A refusal of `Store::open` as a schema-less migration words it: a change that is not
/// automatic needs a typed step, which only the user's program can run.
fn needs_the_program(error: Error) -> Error {
    match error {
        Error::Migration {
            kind: MigrationErrorKind::NotAutomatic,
            from,
            to,
            detail,
        } => Error::Migration {
            kind: MigrationErrorKind::NotAutomatic,
            from,
            to,
            detail: format!(
                "{detail}. `netabase migrate` makes automatic changes only: once the typed step \
                 is written, open the file from the program that has it (its `Store::open` \
                 migrates it)"
            ),
        },
        other => other,
    }
}

fn typed_steps_needed(from: u64, to: u64) -> Error {
    needs_the_program(Error::Migration {
        kind: MigrationErrorKind::NotAutomatic,
        from,
        to,
        detail: "this migration goes through typed steps".to_owned(),
    })
}

/// Refuses, before anything is written, a plan whose indexes or record tables this module
/// cannot write exactly: a key type the dynamic key encoder does not know, entry or record
/// key lines it does not know.
fn check_encodable(plan: &Plan) -> Result<()> {
    let refuse = |detail: String| Error::Inconsistent {
        table: META_TABLE,
        detail: format!(
            "{detail}: `netabase migrate` cannot build this index without the program's code; \
             open the file from the program built for the new schema (its `Store::open` \
             migrates it)"
        ),
    };
    for m in &plan.models {
        let model = plan
            .new
            .model(&m.name)
            .ok_or_else(|| refuse(format!("model `{}` is missing from the layout", m.name)))?;
        model.record_key_type().map_err(refuse)?;
        for key in model.keys.iter().filter(|k| m.rebuild.contains(&k.name)) {
            dynamic_key::check_index(&plan.new, model, key).map_err(&refuse)?;
            stored_index(model, key).map_err(&refuse)?;
        }
    }
    Ok(())
}

/// The types of `key`'s index table, from its stored entry lines.
fn stored_index(model: &ModelLayout, key: &KeyLayout) -> std::result::Result<StoredIndex, String> {
    StoredIndex::parse(&key.entry).ok_or_else(|| {
        format!(
            "the entry lines of key `{}` of `{}` are not ones this netabase knows",
            key.name, model.name
        )
    })
}

/// Evaluates `$body` with `$k` naming the key type of `$model`'s record table.
macro_rules! with_model_key {
    ($model:expr, $k:ident => $body:expr) => {{
        let key_type = $model.record_key_type().map_err(|detail| Error::Inconsistent {
            table: META_TABLE,
            detail,
        })?;
        with_record_key!(key_type, $k => $body)
    }};
}

/// Carries out `planned` in one write transaction.
fn run(
    db: &redb::Database,
    planned: Planned,
    expected: &SchemaInfo,
    layout: &str,
    progress: Option<&dyn Fn(&MigrationProgress<'_>)>,
) -> Result<FileMigration> {
    let start = Instant::now();
    let txn = db.begin_write()?;
    let (from, plan, new) = match planned {
        Planned::StoreLayout => {
            meta::write_identity(&txn, expected, layout)?;
            txn.commit()?;
            return Ok(FileMigration::LayoutStored);
        }
        Planned::Migrate { from, plan, new } => (from, plan, new),
    };
    let mut report = MigrationReport {
        from_version: from,
        to_version: expected.version,
        models: Vec::new(),
        removed_models: Vec::new(),
        elapsed: Duration::ZERO,
    };
    if let Some(plan) = &plan {
        for (model, tables) in &plan.removed {
            for table in tables {
                delete_table(&txn, table)?;
            }
            report.removed_models.push(model.clone());
        }
        for m in &plan.models {
            for table in &m.drop {
                delete_table(&txn, table)?;
            }
        }
        for m in &plan.models {
            report.models.push(migrate_model(&txn, plan, m, progress)?);
        }
    }
    for model in &new.models {
        with_model_key!(model, K => create_tables::<K>(&txn, &new, model)?);
    }
    meta::write_identity(&txn, expected, layout)?;
    txn.commit()?;
    report.elapsed = start.elapsed();
    Ok(FileMigration::Migrated(report))
}

/// Creates the record table and index tables of `model` that do not exist yet (what a typed
/// open creates for its definition).
fn create_tables<K: StoredKey>(
    txn: &redb::WriteTransaction,
    layout: &Layout,
    model: &ModelLayout,
) -> Result<()> {
    txn.open_table(TableDefinition::<K, Bytes>::new(&table_name(layout, model)))?;
    for key in &model.keys {
        let stored = stored_index(model, key).map_err(|detail| Error::Inconsistent {
            table: META_TABLE,
            detail,
        })?;
        stored.write(txn, &index_name(layout, model, key), key.unique, |_| Ok(()))?;
    }
    Ok(())
}

fn table_name(layout: &Layout, model: &ModelLayout) -> String {
    format!("{}/{}", layout.definition, model.name)
}

fn index_name(layout: &Layout, model: &ModelLayout, key: &KeyLayout) -> String {
    format!("{}/{}/{}", layout.definition, model.name, key.name)
}

/// Rewrites the records of the model `m` plans for and builds the indexes it rebuilds.
fn migrate_model(
    txn: &redb::WriteTransaction,
    plan: &Plan,
    m: &ModelPlan,
    progress: Option<&dyn Fn(&MigrationProgress<'_>)>,
) -> Result<ModelReport> {
    let start = Instant::now();
    let Some(model) = plan.new.model(&m.name) else {
        return Err(Error::Inconsistent {
            table: META_TABLE,
            detail: format!("model `{}` is missing from the new layout", m.name),
        });
    };
    let report = |phase, done, total| {
        if let Some(progress) = progress {
            progress(&MigrationProgress {
                model: &m.name,
                phase,
                done,
                total,
            });
        }
    };
    let keys: Vec<&KeyLayout> = model
        .keys
        .iter()
        .filter(|k| m.rebuild.contains(&k.name))
        .collect();
    let mut records_rewritten = 0;
    with_model_key!(model, K => {
        let table = table_name(&plan.new, model);
        // A model the file did not have has no records to rewrite.
        if m.rewrite.is_some() && plan.old.model(&m.name).is_some() {
            records_rewritten = rewrite_records::<K>(txn, &table, plan, m, &mut |done, total| {
                report(MigrationPhase::Rewriting, done, total)
            })?;
        }
        let total = txn.open_table(TableDefinition::<K, Bytes>::new(&table))?.len()?;
        let passes = keys.len() as u64;
        for (pass, key) in (0..).zip(&keys) {
            build_index::<K>(txn, &plan.new, model, key, &mut |done| {
                report(MigrationPhase::Indexing, pass * total + done, total * passes)
            })?;
        }
    });
    Ok(ModelReport {
        model: m.name.clone(),
        changes: m.changes.clone(),
        records_rewritten,
        indexes_rebuilt: keys.iter().map(|k| k.name.clone()).collect(),
        indexes_dropped: m.drop.clone(),
        elapsed: start.elapsed(),
    })
}

/// Rewrites every record of `table` (keyed by `K`) by `m`'s plan: the table is renamed aside,
/// each record converted into a new table under the old name and the same key, and the old
/// table deleted, as the typed migration does. Returns how many records were rewritten.
fn rewrite_records<K: StoredKey>(
    txn: &redb::WriteTransaction,
    table: &str,
    plan: &Plan,
    m: &ModelPlan,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64> {
    let aside = format!("{table}\u{0}migrating");
    // Only a migration that did not commit can leave this table, so it is never real data.
    delete_table(txn, &aside)?;
    txn.rename_table(
        TableDefinition::<K, Bytes>::new(table),
        TableDefinition::<K, Bytes>::new(&aside),
    )?;
    let count = {
        let old = txn.open_table(TableDefinition::<K, Bytes>::new(&aside))?;
        let mut new = txn.open_table(TableDefinition::<K, Bytes>::new(table))?;
        let total = old.len()?;
        progress(0, total);
        let mut count = 0;
        let mut records = Ordered::new(old.iter()?, table);
        // The old table's keys, in its order, into a new table: an append.
        let mut pairs = Made::new(|key: &mut Vec<u8>, bytes: &mut Vec<u8>| {
            let Some(entry) = records.next() else {
                return Ok(false);
            };
            let (old_key, value) = entry?;
            plan.rewrite_record(m, value.value(), bytes)
                .map_err(|detail| inconsistent(table, detail))?;
            key.extend_from_slice(old_key.value());
            count += 1;
            if count % PROGRESS_EVERY == 0 {
                progress(count, total);
            }
            Ok(true)
        });
        insert_run(&mut new, META_TABLE, &mut pairs)?;
        progress(count, total);
        count
    };
    delete_table(txn, &aside)?;
    Ok(count)
}

/// Builds the index of `key` afresh from the records of `model` (its table keyed by `K`): its
/// entries are held and written sorted, as the typed `build_indexes` writes them. `progress`
/// gets the records read now and then.
fn build_index<K: StoredKey>(
    txn: &redb::WriteTransaction,
    layout: &Layout,
    model: &ModelLayout,
    key: &KeyLayout,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let table = table_name(layout, model);
    let index_table = index_name(layout, model, key);
    let stored = stored_index(model, key).map_err(|detail| inconsistent(&table, detail))?;
    delete_table(txn, &index_table)?;
    let records = txn.open_table(TableDefinition::<K, Bytes>::new(&table))?;
    // The record under `primary`, decoded.
    let record = |primary: &[u8]| -> Result<Option<Record>> {
        match records.get(primary)? {
            Some(bytes) => decode(layout, model, &table, bytes.value()).map(Some),
            None => Ok(None),
        }
    };
    // Names the two records of a unique key that a flush of the held entries refused.
    let refused = |violation: Option<Violation>| -> Result<()> {
        let Some(violation) = violation else {
            return Ok(());
        };
        let name = |record: &Option<Record>| match record {
            Some(record) => describe_primary_key(model, record),
            None => "another record".to_owned(),
        };
        let (held_by, wanted_by) = (record(&violation.owner)?, record(&violation.primary)?);
        Err(Error::UniqueViolation {
            model: leak(&model.name),
            field: leak(&key.name),
            value: format!(
                "{} (held by both {} and {})",
                wanted_by
                    .as_ref()
                    .map_or_else(String::new, |r| describe(&key.fields, r)),
                name(&held_by),
                name(&wanted_by)
            ),
        })
    };
    stored.write(txn, &index_table, key.unique, |index| {
        let mut indexes = [index];
        let mut held = Deferred::default();
        let mut owner = Vec::new();
        let mut done = 0;
        progress(done);
        for item in Ordered::new(records.range::<&[u8]>(..)?, &table) {
            let (primary, value) = item?;
            let primary = primary.value();
            let record = decode(layout, model, &table, value.value())?;
            let keys = dynamic_key::index_keys(layout, model, key, &record)
                .map_err(|detail| inconsistent(&table, detail))?;
            for secondary in &keys {
                held.push(0, key.unique, secondary, primary);
            }
            if held.is_full() {
                refused(held.flush(&mut indexes, &mut owner)?)?;
            }
            done += 1;
            if done % PROGRESS_EVERY == 0 {
                progress(done);
            }
        }
        refused(held.flush(&mut indexes, &mut owner)?)?;
        progress(done);
        Ok(())
    })
}

/// A name for [`Error::UniqueViolation`], which holds the `&'static str` generated code gives
/// it: the few bytes leak once, when a migration fails on a duplicate.
fn leak(name: &str) -> &'static str {
    Box::leak(name.to_owned().into_boxed_str())
}

fn decode(layout: &Layout, model: &ModelLayout, table: &str, bytes: &[u8]) -> Result<Record> {
    dynamic::decode_record(layout, model, bytes).map_err(|e| {
        inconsistent(
            table,
            format!("a record of {} does not decode: {e}", model.name),
        )
    })
}

/// `Error::Inconsistent` about the table `table` (whose name is known only at run time, so the
/// message names it and the error names the metadata).
fn inconsistent(table: &str, detail: String) -> Error {
    Error::Inconsistent {
        table: META_TABLE,
        detail: format!("{table}: {detail}; nothing was written"),
    }
}

/// The values of `fields` in `record`, `name: value` each.
fn describe(fields: &[String], record: &Record) -> String {
    let values: Vec<String> = fields
        .iter()
        .filter_map(|name| record.iter().find(|(n, _)| n == name))
        .map(|(name, value)| format!("{name}: {value}"))
        .collect();
    values.join(", ")
}

fn describe_primary_key(model: &ModelLayout, record: &Record) -> String {
    format!("the record {{ {} }}", describe(&model.primary_key, record))
}
