//! The metadata table: which definition, version and layout a database file was written for.
//! Checked on every open, so a program never misreads a database written by another schema.

use crate::error::{Error, Result, SchemaInfo};
use crate::layout::Layout;
use crate::migrate::{Chain, MigrationErrorKind, MigrationReport, Progress, Version};
use crate::model::{Definition, Model, ModelVisitor};
use crate::tree::{record_table, table_definition};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableHandle};

/// The name of the metadata table (shared by every definition: one definition per file).
pub const META_TABLE: &str = "netabase/meta";
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new(META_TABLE);
pub(crate) const DEFINITION: &str = "definition";
pub(crate) const VERSION: &str = "version";
pub(crate) const FINGERPRINT: &str = "fingerprint";
pub(crate) const LAYOUT: &str = "layout";
/// Present in a file written by the schema-less salvage ([`recover_file`](crate::recover_file)):
/// its index tables are left to the program of its version, which rebuilds them on its next
/// open (the salvage cannot compute index keys without the generated code).
pub(crate) const REBUILD_INDEXES: &str = "rebuild indexes";

/// Opens the database for `D`: creates the metadata and every table in a new file, checks an
/// existing file was written for `D`, and migrates a file written by an earlier version (when
/// `migrate` allows it). A file already at `D`'s layout is checked in a read transaction alone,
/// so opening it writes nothing. Any refusal leaves the file untouched. Returns the report of
/// the migration that ran, if one did; `progress` hears how it goes.
pub fn open<D: Definition>(
    db: &redb::Database,
    migrate: bool,
    progress: Option<Progress<'_>>,
) -> Result<Option<MigrationReport>> {
    let expected = SchemaInfo::of::<D>();
    let Some((found, layout, rebuild)) = read_stored(db)? else {
        return create::<D>(db).map(|()| None);
    };
    let plan = match decide(&found, layout.as_deref(), &expected, D::LAYOUT, D::HISTORY)? {
        Decision::UpToDate if rebuild => {
            rebuild_indexes::<D>(db)?;
            return Ok(None);
        }
        Decision::UpToDate => return Ok(None),
        _ if rebuild => return Err(indexes_not_built(found.version)),
        Decision::StoreLayout => {
            // Written before databases stored their layout: store it now, once.
            write_meta::<D>(db)?;
            return Ok(None);
        }
        Decision::Migrate(plan) => plan,
    };
    let refuse = |kind, detail: String| Error::Migration {
        kind,
        from: found.version,
        to: expected.version,
        detail,
    };
    if !migrate {
        let changes = plan.as_deref().map(Chain::changes).unwrap_or_default();
        let listed: Vec<String> = changes
            .iter()
            .map(|c| format!("{}: {}", c.subject, c.description))
            .collect();
        return Err(refuse(
            MigrationErrorKind::Disabled,
            format!(
                "migrating is turned off (StoreBuilder::migrate(false)); opening with migrations \
                 on would apply: {}",
                if listed.is_empty() {
                    "no change to the records (a new version number)".to_owned()
                } else {
                    listed.join("; ")
                }
            ),
        ));
    }
    let start = std::time::Instant::now();
    let mut report = MigrationReport {
        from_version: found.version,
        to_version: expected.version,
        models: Vec::new(),
        removed_models: Vec::new(),
        elapsed: std::time::Duration::ZERO,
    };
    let txn = db.begin_write()?;
    if let Some(plan) = &plan {
        crate::migrate::run::<D>(&txn, plan, &mut report, progress)?;
    }
    create_tables::<D>(&txn)?;
    write_info::<D>(&txn)?;
    txn.commit()?;
    report.elapsed = start.elapsed();
    Ok(Some(report))
}

/// What a database's metadata says: its identity, its layout text (`None` before databases
/// stored it) and whether the salvage left its indexes to build; `None` without metadata.
pub(crate) fn read_stored(
    db: &impl ReadableDatabase,
) -> Result<Option<(SchemaInfo, Option<String>, bool)>> {
    let txn = db.begin_read()?;
    let meta = match txn.open_table(META) {
        Ok(meta) => meta,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let Some(info) = read_info(&meta)? else {
        return Ok(None);
    };
    let layout = read_layout(&meta)?;
    Ok(Some((info, layout, meta.get(REBUILD_INDEXES)?.is_some())))
}

/// What opening a database does (see [`decide`]).
pub(crate) enum Decision {
    /// The file is at the program's layout and version: nothing to write.
    UpToDate,
    /// At the program's layout and version, but written before layouts were stored: the
    /// layout is stored, nothing else changes.
    StoreLayout,
    /// The file is migrated by this chain (`None`: only the version number changes).
    Migrate(Option<Box<Chain>>),
}

/// Decides what opening a file that stores `found` (and `stored_layout`) does for a program
/// built for `expected` with layout text `layout`, or why it refuses: another definition
/// (`SchemaMismatch`), a downgrade, a layout change without a new version, no stored layout,
/// or a change that is not automatic (nor made by a typed step of `history`). Reads and writes
/// nothing.
pub(crate) fn decide(
    found: &SchemaInfo,
    stored_layout: Option<&str>,
    expected: &SchemaInfo,
    layout: &str,
    history: &[Version],
) -> Result<Decision> {
    if found.definition != expected.definition {
        return Err(Error::SchemaMismatch {
            expected: expected.clone(),
            found: found.clone(),
        });
    }
    let refuse = |kind, detail: String| Error::Migration {
        kind,
        from: found.version,
        to: expected.version,
        detail,
    };
    if found.version > expected.version {
        return Err(refuse(
            MigrationErrorKind::Downgrade,
            format!(
                "it was written by a newer version of `{}` ({}); this program knows versions up \
                 to {}: open it with the newer program (nothing was written)",
                found.definition, found.version, expected.version
            ),
        ));
    }
    if found.fingerprint == expected.fingerprint && found.version == expected.version {
        return Ok(if stored_layout.is_none() {
            Decision::StoreLayout
        } else {
            Decision::UpToDate
        });
    }
    if found.version == expected.version {
        return Err(refuse(
            MigrationErrorKind::VersionNotRaised,
            format!(
                "the schema's layout changed (layout {} in the file, {} in this program) but its \
                 version is still {}: raise `version` in the schema's `[definition]`",
                found.fingerprint, expected.fingerprint, expected.version
            ),
        ));
    }
    let plan = if found.fingerprint == expected.fingerprint {
        None
    } else {
        let Some(stored_layout) = stored_layout else {
            return Err(refuse(
                MigrationErrorKind::NoStoredLayout,
                "the file was written by a netabase that did not store its layout, so what \
                 changed cannot be known: open it with the program that wrote it and export \
                 its records"
                    .to_owned(),
            ));
        };
        let old = Layout::parse(stored_layout).map_err(|e| corrupt_layout(&e.to_string()))?;
        let new = Layout::parse(layout).map_err(|e| Error::Inconsistent {
            table: META_TABLE,
            detail: format!("the generated layout does not parse ({e}): regenerate the code"),
        })?;
        Some(Box::new(crate::migrate::chain(
            &old,
            &found.fingerprint,
            found.version,
            &new,
            expected.version,
            history,
        )?))
    };
    Ok(Decision::Migrate(plan))
}

/// The refusal to migrate a file rescued at `version` whose indexes are not built yet.
pub(crate) fn indexes_not_built(version: u64) -> Error {
    Error::Inconsistent {
        table: META_TABLE,
        detail: format!(
            "this file was rescued by `netabase recover` at version {version} and its indexes \
             are not built yet: open it first with a program built for that version (which \
             rebuilds them), then migrate it"
        ),
    }
}

fn corrupt_layout(what: &str) -> Error {
    Error::Decode {
        table: META_TABLE,
        record: None,
        source: crate::codec::DecodeError::new(format!("the stored layout is malformed: {what}")),
    }
}

/// Creates a new database's metadata and tables; refuses a redb file with other tables.
fn create<D: Definition>(db: &redb::Database) -> Result<()> {
    let txn = db.begin_write()?;
    let foreign_tables: Vec<String> = txn
        .list_tables()?
        .map(|t| t.name().to_owned())
        .filter(|name| name != META_TABLE)
        .collect();
    if !foreign_tables.is_empty() {
        return Err(Error::SchemaMismatch {
            expected: SchemaInfo::of::<D>(),
            found: SchemaInfo {
                definition: format!(
                    "(none: a redb database without netabase metadata, tables {})",
                    foreign_tables.join(", ")
                ),
                version: 0,
                fingerprint: "-".to_owned(),
            },
        });
    }
    write_info::<D>(&txn)?;
    create_tables::<D>(&txn)?;
    txn.commit()?;
    Ok(())
}

/// Builds every index of a file rescued by the schema-less salvage from its records, creates
/// the tables it lacks, and clears the flag, in one write transaction.
fn rebuild_indexes<D: Definition>(db: &redb::Database) -> Result<()> {
    struct Rebuild<'a>(&'a redb::WriteTransaction);
    impl<D: Definition> ModelVisitor<D> for Rebuild<'_> {
        fn visit<M: Model<Definition = D>>(&mut self) -> Result<()> {
            let all: Vec<usize> = (0..M::INDEXES.len()).collect();
            crate::tree::rebuild::rebuild_indexes::<M>(self.0, &all, &mut |_, _| {})
        }
    }
    let txn = db.begin_write()?;
    D::visit_models(&mut Rebuild(&txn))?;
    create_tables::<D>(&txn)?;
    txn.open_table(META)?.remove(REBUILD_INDEXES)?;
    txn.commit()?;
    Ok(())
}

/// Stores `D`'s identity and layout in a transaction of its own.
fn write_meta<D: Definition>(db: &redb::Database) -> Result<()> {
    let txn = db.begin_write()?;
    write_info::<D>(&txn)?;
    txn.commit()?;
    Ok(())
}

/// Writes `D`'s name, version, fingerprint and layout into the metadata table.
fn write_info<D: Definition>(txn: &redb::WriteTransaction) -> Result<()> {
    write_identity(txn, &SchemaInfo::of::<D>(), D::LAYOUT)
}

/// Writes the identity `info` and the layout text `layout` into the metadata table (a typed
/// open writes its definition's; a schema-less migration those of a schema file).
pub(crate) fn write_identity(
    txn: &redb::WriteTransaction,
    info: &SchemaInfo,
    layout: &str,
) -> Result<()> {
    let mut meta = txn.open_table(META)?;
    meta.insert(DEFINITION, info.definition.as_bytes())?;
    meta.insert(VERSION, info.version.to_be_bytes().as_slice())?;
    meta.insert(FINGERPRINT, info.fingerprint.as_bytes())?;
    meta.insert(LAYOUT, layout.as_bytes())?;
    Ok(())
}

/// Creates every table of `D` that does not exist yet.
fn create_tables<D: Definition>(txn: &redb::WriteTransaction) -> Result<()> {
    let mut created = CreateTables {
        txn,
        names: Vec::new(),
    };
    D::visit_models(&mut created)?;
    for name in D::TABLES {
        if !created.names.contains(name) {
            txn.open_table(table_definition(name))?;
        }
    }
    Ok(())
}

/// The stored layout text; `None` for a database written before layouts were stored.
pub fn read_layout(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Option<String>> {
    match meta.get(LAYOUT)? {
        None => Ok(None),
        Some(guard) => String::from_utf8(guard.value().to_vec())
            .map(Some)
            .map_err(|_| corrupt_layout("not UTF-8")),
    }
}

/// Creates every model's tables, each record table with its model's key type.
struct CreateTables<'a> {
    txn: &'a redb::WriteTransaction,
    names: Vec<&'static str>,
}

impl<D: Definition> ModelVisitor<D> for CreateTables<'_> {
    fn visit<M: Model<Definition = D>>(&mut self) -> Result<()> {
        self.txn.open_table(record_table::<M>())?;
        self.names.push(M::TABLE);
        for index in M::INDEXES {
            index
                .layout
                .open_write(self.txn, index.table, index.unique)?;
            self.names.push(index.table);
        }
        Ok(())
    }
}

/// Reads the stored identity; `None` for a database without metadata.
pub fn read_info(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Option<SchemaInfo>> {
    let field = |key: &str| -> Result<Option<Vec<u8>>> {
        Ok(meta.get(key)?.map(|guard| guard.value().to_vec()))
    };
    let (Some(definition), Some(version), Some(fingerprint)) =
        (field(DEFINITION)?, field(VERSION)?, field(FINGERPRINT)?)
    else {
        return Ok(None);
    };
    let corrupt = |what: &str| Error::Decode {
        table: META_TABLE,
        record: None,
        source: crate::codec::DecodeError::new(format!("stored {what} is malformed")),
    };
    let version: [u8; 8] = version.try_into().map_err(|_| corrupt(VERSION))?;
    Ok(Some(SchemaInfo {
        definition: String::from_utf8(definition).map_err(|_| corrupt(DEFINITION))?,
        version: u64::from_be_bytes(version),
        fingerprint: String::from_utf8(fingerprint).map_err(|_| corrupt(FINGERPRINT))?,
    }))
}

/// Reads each stored value on its own, saying why one is unreadable instead of failing: for
/// describing a file (`inspect`), not for opening it.
pub(crate) fn read_lenient(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> crate::schemaless::StoredMetadata {
    let field = |key: &str| -> std::result::Result<Vec<u8>, String> {
        match meta.get(key) {
            Ok(Some(guard)) => Ok(guard.value().to_vec()),
            Ok(None) => Err("missing".to_owned()),
            Err(e) => Err(format!("unreadable: {e}")),
        }
    };
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned());
    crate::schemaless::StoredMetadata {
        definition: field(DEFINITION).and_then(text),
        version: field(VERSION).and_then(|bytes| {
            let len = bytes.len();
            <[u8; 8]>::try_from(bytes)
                .map(u64::from_be_bytes)
                .map_err(|_| format!("malformed: {len} bytes, expected 8"))
        }),
        fingerprint: field(FINGERPRINT).and_then(text),
    }
}
