//! The metadata table: which definition, version and layout a database file was written for.
//! Checked on every open, so a program never misreads a database written by another schema.

use crate::error::{Error, Result, SchemaInfo};
use crate::model::{Definition, Model, ModelVisitor};
use crate::tree::{record_table, table_definition};
use redb::{ReadableTable, TableDefinition, TableHandle};

/// The name of the metadata table (shared by every definition: one definition per file).
pub const META_TABLE: &str = "netabase/meta";
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new(META_TABLE);
pub(crate) const DEFINITION: &str = "definition";
pub(crate) const VERSION: &str = "version";
pub(crate) const FINGERPRINT: &str = "fingerprint";

/// The identity the generated code of `D` describes.
pub fn expected<D: Definition>() -> SchemaInfo {
    SchemaInfo {
        definition: D::NAME.to_owned(),
        version: D::VERSION,
        fingerprint: D::FINGERPRINT.to_owned(),
    }
}

/// Creates the metadata and every table of `D` in a new database, or checks that an existing
/// database was written for `D`. A mismatch writes nothing: the check's write transaction is
/// dropped uncommitted.
pub fn initialize<D: Definition>(db: &redb::Database) -> Result<()> {
    let txn = db.begin_write()?;
    let foreign_tables: Vec<String> = txn
        .list_tables()?
        .map(|t| t.name().to_owned())
        .filter(|name| name != META_TABLE)
        .collect();
    let found = {
        let meta = txn.open_table(META)?;
        read_info(&meta)?
    };
    let expected = expected::<D>();
    match found {
        Some(found) if found == expected => return Ok(()),
        Some(found) => return Err(Error::SchemaMismatch { expected, found }),
        None if !foreign_tables.is_empty() => {
            return Err(Error::SchemaMismatch {
                expected,
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
        None => {}
    }
    {
        let mut meta = txn.open_table(META)?;
        meta.insert(DEFINITION, D::NAME.as_bytes())?;
        meta.insert(VERSION, D::VERSION.to_be_bytes().as_slice())?;
        meta.insert(FINGERPRINT, D::FINGERPRINT.as_bytes())?;
    }
    let mut created = CreateTables {
        txn: &txn,
        names: Vec::new(),
    };
    D::visit_models(&mut created)?;
    for name in D::TABLES {
        if !created.names.contains(name) {
            txn.open_table(table_definition(name))?;
        }
    }
    txn.commit()?;
    Ok(())
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
) -> crate::inspect::StoredMetadata {
    let field = |key: &str| -> std::result::Result<Vec<u8>, String> {
        match meta.get(key) {
            Ok(Some(guard)) => Ok(guard.value().to_vec()),
            Ok(None) => Err("missing".to_owned()),
            Err(e) => Err(format!("unreadable: {e}")),
        }
    };
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned());
    crate::inspect::StoredMetadata {
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
