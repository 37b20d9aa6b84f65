//! Integrity checks: redb's own check of the file, then netabase's invariants, model by model.
//!
//! [`Store::check_integrity`](crate::Store::check_integrity) runs them and returns an
//! [`IntegrityReport`] that lists every problem found. The invariants:
//!
//! * every record decodes (as an owned model and as a zero-copy view) and is stored under its own
//!   primary key;
//! * every index entry is well formed and points to an existing record whose field has the
//!   entry's value;
//! * every record's secondary keys are present in every index;
//! * a unique index holds one record per value;
//! * the file holds this definition's metadata and exactly its tables.
//!
//! The algorithm lives here once, generic over [`Model`]; generated code only lists its models
//! (through [`Definition::visit_models`]).

use crate::codec::DecodeError;
use crate::error::Result;
use crate::index_keys::IndexKeys;
use crate::links::{LinkDef, RecordKeys};
use crate::meta::{self, META_TABLE};
use crate::model::{Definition, IndexDef, Model, ModelRef, ModelVisitor};
use crate::ordered::Ordered;
use crate::tree::{Bytes, IndexRead, Step, record_table};
use redb::{ReadOnlyTable, ReadableDatabase, TableHandle};
use std::collections::BTreeSet;
use std::fmt;
use std::marker::PhantomData;

/// What [`Store::check_integrity`](crate::Store::check_integrity) found: every problem, and how
/// much it checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrityReport {
    problems: Vec<Problem>,
    records: u64,
    index_entries: u64,
}

impl IntegrityReport {
    /// Whether no problem was found.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// Every problem found, table by table.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// How many records were checked.
    pub fn records_checked(&self) -> u64 {
        self.records
    }

    /// How many index entries were checked.
    pub fn index_entries_checked(&self) -> u64 {
        self.index_entries
    }

    pub(crate) fn push(&mut self, problem: Problem) {
        self.problems.push(problem);
    }
}

impl fmt::Display for IntegrityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let checked = format!(
            "{} record(s) and {} index entr{} checked",
            self.records,
            self.index_entries,
            if self.index_entries == 1 { "y" } else { "ies" }
        );
        if self.is_clean() {
            return write!(f, "clean: {checked}");
        }
        write!(f, "{} problem(s), {checked}:", self.problems.len())?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

/// One problem found by an integrity check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The table where it was found (empty for a problem of the whole file).
    pub table: String,
    /// The stored key of the bad entry, when the problem is one entry.
    pub key: Option<Vec<u8>>,
    /// The record concerned, as its primary key's `Debug` shows it, when known.
    pub record: Option<String>,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// What is wrong, in a [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// redb's own check of the file failed (checksums, allocator state). `repaired`: redb
    /// repaired the file (to its last good commit); otherwise it could not.
    Storage {
        /// What redb said.
        detail: String,
        /// Whether redb repaired the file.
        repaired: bool,
    },
    /// The metadata table is missing or names another definition.
    Metadata(String),
    /// A table of the definition is missing.
    MissingTable,
    /// A table that belongs to no model of the definition.
    UnknownTable,
    /// A table could not be read to the end: the file is damaged.
    Unreadable(String),
    /// A record does not decode.
    UndecodableRecord(DecodeError),
    /// A record decodes, but its primary key encodes to other bytes than the key it is stored
    /// under.
    WrongPrimaryKey {
        /// The encoding of the decoded record's primary key.
        encoded: Vec<u8>,
    },
    /// An index entry is not of the form the index uses (a non-unique entry's key must end with
    /// the primary key that is its value).
    MalformedEntry(String),
    /// An index entry points to a record that does not exist.
    DanglingEntry,
    /// An index entry points to a record whose field has another value (or is not indexed).
    StaleEntry {
        /// The indexed field.
        field: &'static str,
        /// The record's value of the field, as `Debug` shows it.
        value: String,
    },
    /// A record's secondary key is missing from an index.
    MissingEntry {
        /// The indexed field.
        field: &'static str,
        /// The record's value of the field, as `Debug` shows it.
        value: String,
    },
    /// A checked link points at a record that does not exist (a commit never leaves one: the
    /// file was changed by other means).
    BrokenLink {
        /// The link field.
        field: &'static str,
        /// The model linked to.
        target: &'static str,
        /// The missing primary key, as its `Debug` shows it.
        key: String,
    },
    /// Two records have the same value of a unique secondary key.
    DuplicateUnique {
        /// The indexed field.
        field: &'static str,
        /// The shared value, as `Debug` shows it.
        value: String,
        /// The other record, as its primary key's `Debug` shows it.
        other: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.table.is_empty() {
            write!(f, "`{}`", self.table)?;
        } else {
            f.write_str("file")?;
        }
        if let Some(key) = &self.key {
            write!(f, " key {}", Hex(key))?;
        }
        if let Some(record) = &self.record {
            write!(f, " ({record})")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            ProblemKind::Storage {
                detail,
                repaired: true,
            } => write!(
                f,
                "redb's check failed and repaired the file to its last good commit: {detail}"
            ),
            ProblemKind::Storage { detail, .. } => {
                write!(
                    f,
                    "redb's check failed, the file cannot be repaired: {detail}"
                )
            }
            ProblemKind::Metadata(detail) => write!(f, "metadata: {detail}"),
            ProblemKind::MissingTable => f.write_str("table is missing"),
            ProblemKind::UnknownTable => {
                f.write_str("table belongs to no model of this definition")
            }
            ProblemKind::Unreadable(detail) => write!(f, "cannot be read: {detail}"),
            ProblemKind::UndecodableRecord(error) => write!(f, "record does not decode: {error}"),
            ProblemKind::WrongPrimaryKey { encoded } => write!(
                f,
                "record is stored under another key than its primary key, which encodes to {}",
                Hex(encoded)
            ),
            ProblemKind::MalformedEntry(detail) => write!(f, "malformed index entry: {detail}"),
            ProblemKind::DanglingEntry => {
                f.write_str("index entry points to a record that does not exist")
            }
            ProblemKind::StaleEntry { field, value } => write!(
                f,
                "index entry does not match the record, whose `{field}` is {value}"
            ),
            ProblemKind::MissingEntry { field, value } => {
                write!(f, "index has no entry for the record's `{field}` = {value}")
            }
            ProblemKind::BrokenLink { field, target, key } => write!(
                f,
                "checked link `{field}` points at {target} {key}, which does not exist"
            ),
            ProblemKind::DuplicateUnique {
                field,
                value,
                other,
            } => write!(
                f,
                "unique `{field}` = {value} also belongs to {other}: a unique index holds one record per value"
            ),
        }
    }
}

/// Bytes as hex, for reports.
struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(empty)");
        }
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// Checks every invariant of definition `D` in one read snapshot, adding problems to `report`.
pub(crate) fn check_definition<D: Definition>(
    db: &redb::Database,
    report: &mut IntegrityReport,
) -> Result<()> {
    let txn = db.begin_read()?;
    check_tables::<D>(&txn, report)?;
    D::visit_models(&mut Checker {
        txn: &txn,
        report,
        _definition: PhantomData,
    })
}

/// The metadata, and that the file holds exactly the definition's tables.
fn check_tables<D: Definition>(
    txn: &redb::ReadTransaction,
    report: &mut IntegrityReport,
) -> Result<()> {
    let problem = |table: &str, kind| Problem {
        table: table.to_owned(),
        key: None,
        record: None,
        kind,
    };
    let stored: BTreeSet<String> = txn.list_tables()?.map(|t| t.name().to_owned()).collect();
    let meta_table = redb::TableDefinition::<&str, &[u8]>::new(META_TABLE);
    match txn.open_table(meta_table) {
        Ok(table) => match meta::read_info(&table) {
            Ok(Some(found)) if found == crate::SchemaInfo::of::<D>() => {}
            Ok(Some(found)) => report.push(problem(
                META_TABLE,
                ProblemKind::Metadata(format!(
                    "the file holds {found}, not {}",
                    crate::SchemaInfo::of::<D>()
                )),
            )),
            Ok(None) => report.push(problem(
                META_TABLE,
                ProblemKind::Metadata("netabase's metadata is missing".to_owned()),
            )),
            Err(error) => report.push(problem(
                META_TABLE,
                ProblemKind::Metadata(error.to_string()),
            )),
        },
        Err(redb::TableError::TableDoesNotExist(_)) => report.push(problem(
            META_TABLE,
            ProblemKind::Metadata("netabase's metadata table is missing".to_owned()),
        )),
        Err(error) => report.push(problem(
            META_TABLE,
            ProblemKind::Unreadable(error.to_string()),
        )),
    }
    for table in D::TABLES {
        if !stored.contains(*table) {
            report.push(problem(table, ProblemKind::MissingTable));
        }
    }
    for table in &stored {
        // The change feed's tables belong to no model (see `watch/feed.rs`).
        let feed = D::CHANGE_FEED && crate::watch::FEED_TABLES.contains(&table.as_str());
        if table != META_TABLE && !feed && !D::TABLES.contains(&table.as_str()) {
            report.push(problem(table, ProblemKind::UnknownTable));
        }
    }
    Ok(())
}

/// Runs [`check_model`] for every model of `D`.
struct Checker<'a, D> {
    txn: &'a redb::ReadTransaction,
    report: &'a mut IntegrityReport,
    _definition: PhantomData<fn() -> D>,
}

impl<D: Definition> ModelVisitor<D> for Checker<'_, D> {
    fn visit<M: Model<Definition = D>>(&mut self) -> Result<()> {
        check_model::<M>(self.txn, self.report);
        Ok(())
    }
}

/// Describes a stored primary key: the primary key's `Debug` when the bytes decode as one.
fn describe_key<M: Model>(bytes: &[u8]) -> String {
    format!(
        "{} {}",
        M::NAME,
        crate::model::describe_primary_key::<M>(bytes)
    )
}

/// Decodes a record as an owned model and as a view; the view must agree with the model.
fn decode_both<M: Model>(bytes: &[u8]) -> std::result::Result<M, DecodeError> {
    let model = M::decode(bytes)?;
    let view = M::Ref::decode(bytes)?;
    let (mut a, mut b) = (IndexKeys::default(), IndexKeys::default());
    a.fill(M::INDEXES.len(), |i, keys| model.index_keys(i, keys));
    b.fill(M::INDEXES.len(), |i, keys| view.index_keys(i, keys));
    if let Some(index) = (0..M::INDEXES.len()).find(|&i| !a.same(&b, i)) {
        return Err(DecodeError::new(format!(
            "the zero-copy view and the record disagree on `{}`",
            M::INDEXES[index].field
        )));
    }
    Ok(model)
}

/// Checks one model's record table and index tables, adding problems to `report`. A table
/// that cannot be opened or read to the end is a problem, not an error: the check goes on.
pub(crate) fn check_model<M: Model>(txn: &redb::ReadTransaction, report: &mut IntegrityReport) {
    let records = match txn.open_table(record_table::<M>()) {
        Ok(table) => table,
        // A missing table was reported by the table list.
        Err(redb::TableError::TableDoesNotExist(_)) => return,
        Err(error) => {
            report.push(Problem {
                table: M::TABLE.to_owned(),
                key: None,
                record: None,
                kind: ProblemKind::Unreadable(error.to_string()),
            });
            return;
        }
    };
    let mut indexes = Vec::with_capacity(M::INDEXES.len());
    for def in M::INDEXES {
        match def.layout.open_read(txn, def.table, def.unique) {
            Ok(table) => indexes.push(Some(table)),
            Err(redb::TableError::TableDoesNotExist(_)) => indexes.push(None),
            Err(error) => {
                indexes.push(None);
                report.push(Problem {
                    table: def.table.to_owned(),
                    key: None,
                    record: None,
                    kind: ProblemKind::Unreadable(error.to_string()),
                });
            }
        }
    }
    if let Err(error) = check_records::<M>(&records, &indexes, report) {
        report.push(Problem {
            table: M::TABLE.to_owned(),
            key: None,
            record: None,
            kind: ProblemKind::Unreadable(error.to_string()),
        });
    }
    for (i, (def, index)) in M::INDEXES.iter().zip(&indexes).enumerate() {
        if let Some(index) = index
            && let Err(error) = check_index::<M>(i, def, index, &records, report)
        {
            report.push(Problem {
                table: def.table.to_owned(),
                key: None,
                record: None,
                kind: ProblemKind::Unreadable(error.to_string()),
            });
        }
    }
    for link in M::LINKS.iter().filter(|link| link.checked) {
        let def = &M::INDEXES[link.index];
        if let Some(index) = &indexes[link.index]
            && let Ok(targets) = (link.target.open_read)(txn)
            && let Err(error) = check_link::<M>(link, def, &**index, &*targets, report)
        {
            report.push(Problem {
                table: def.table.to_owned(),
                key: None,
                record: None,
                kind: ProblemKind::Unreadable(error.to_string()),
            });
        }
    }
}

/// Every entry of a checked link's index points at an existing target (malformed entries are
/// reported by the index pass).
fn check_link<M: Model>(
    link: &LinkDef,
    def: &IndexDef,
    index: &dyn IndexRead,
    targets: &dyn RecordKeys,
    report: &mut IntegrityReport,
) -> std::result::Result<(), redb::StorageError> {
    let mut entries = index.range((std::ops::Bound::Unbounded, std::ops::Bound::Unbounded))?;
    let mut failed = Ok(());
    loop {
        let step = entries.step(Step::Front(0), &mut |key, split| {
            let Ok((target, primary)) = split else {
                return;
            };
            match targets.contains(target) {
                Ok(true) => {}
                Ok(false) => report.push(Problem {
                    table: def.table.to_owned(),
                    key: Some(key.to_vec()),
                    record: Some(describe_key::<M>(primary)),
                    kind: ProblemKind::BrokenLink {
                        field: link.field,
                        target: link.target.model,
                        key: (link.target.describe)(target),
                    },
                }),
                Err(error) => failed = Err(error),
            }
        });
        let Some(step) = step else { break };
        step?;
        std::mem::replace(&mut failed, Ok(()))?;
    }
    Ok(())
}

type Table = Box<dyn IndexRead + Send + Sync>;
type Records<M> = ReadOnlyTable<<M as Model>::StoredKey, Bytes>;

/// Every record decodes, sits under its own key, and has its entry in every index.
fn check_records<M: Model>(
    records: &Records<M>,
    indexes: &[Option<Table>],
    report: &mut IntegrityReport,
) -> std::result::Result<(), redb::StorageError> {
    let mut encoded = Vec::new();
    let mut keys = IndexKeys::default();
    let mut entry = Vec::new();
    for item in Ordered::new(records.range::<&[u8]>(..)?, M::TABLE) {
        let (key, value) = item?;
        let key = key.value();
        report.records += 1;
        let problem = |kind| Problem {
            table: M::TABLE.to_owned(),
            key: Some(key.to_vec()),
            record: Some(describe_key::<M>(key)),
            kind,
        };
        let model = match decode_both::<M>(value.value()) {
            Ok(model) => model,
            Err(error) => {
                report.push(problem(ProblemKind::UndecodableRecord(error)));
                continue;
            }
        };
        encoded.clear();
        model.encode_primary_key(&mut encoded);
        if encoded != key {
            report.push(problem(ProblemKind::WrongPrimaryKey {
                encoded: encoded.clone(),
            }));
        }
        keys.fill(M::INDEXES.len(), |i, keys| model.index_keys(i, keys));
        for (i, (def, index)) in M::INDEXES.iter().zip(indexes).enumerate() {
            let Some(index) = index else { continue };
            for secondary in keys.get(i) {
                let entry_key =
                    crate::tree::entry_key(def.unique, secondary, key, &mut entry).to_vec();
                let field = def.field;
                let value = || model.describe_index_value(i);
                let mut owner = None;
                index.get(entry_key.as_slice(), &mut |value| {
                    owner = Some(value.to_vec())
                })?;
                match owner.as_deref() {
                    None => report.push(Problem {
                        table: def.table.to_owned(),
                        key: Some(entry_key.clone()),
                        record: Some(describe_key::<M>(key)),
                        kind: ProblemKind::MissingEntry {
                            field,
                            value: value(),
                        },
                    }),
                    // A non-unique entry is found by its key, which ends with the primary key;
                    // one whose value is not that primary key is reported by the index pass.
                    Some(_) if !def.unique => {}
                    Some(owner) if owner == key => {}
                    Some(other) => {
                        // The entry belongs to another record: either that record has the same
                        // value (a duplicate), or the entry is stale and this record's is missing.
                        let duplicate = match records.get(other)? {
                            Some(bytes) => M::decode(bytes.value()).is_ok_and(|o| {
                                let mut theirs = IndexKeys::default();
                                theirs.fill(M::INDEXES.len(), |i, keys| o.index_keys(i, keys));
                                theirs.get(i).any(|k| k == secondary)
                            }),
                            None => false,
                        };
                        report.push(Problem {
                            table: def.table.to_owned(),
                            key: Some(entry_key.clone()),
                            record: Some(describe_key::<M>(key)),
                            kind: if duplicate {
                                ProblemKind::DuplicateUnique {
                                    field,
                                    value: value(),
                                    other: describe_key::<M>(other),
                                }
                            } else {
                                ProblemKind::MissingEntry {
                                    field,
                                    value: value(),
                                }
                            },
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

/// Every entry of index `i` is well formed and points to a record with the entry's value.
fn check_index<M: Model>(
    i: usize,
    def: &IndexDef,
    index: &Table,
    records: &Records<M>,
    report: &mut IntegrityReport,
) -> std::result::Result<(), redb::StorageError> {
    let mut theirs = IndexKeys::default();
    let mut entries = index.range((std::ops::Bound::Unbounded, std::ops::Bound::Unbounded))?;
    let mut failed = Ok(());
    loop {
        let step = entries.step(Step::Front(0), &mut |key, split| {
            report.index_entries += 1;
            let (secondary, primary) = match split {
                Ok(split) => split,
                Err(why) => {
                    report.push(Problem {
                        table: def.table.to_owned(),
                        key: Some(key.to_vec()),
                        record: None,
                        kind: ProblemKind::MalformedEntry(why.to_owned()),
                    });
                    return;
                }
            };
            let problem = |kind| Problem {
                table: def.table.to_owned(),
                key: Some(key.to_vec()),
                record: Some(describe_key::<M>(primary)),
                kind,
            };
            let record = match records.get(primary) {
                Ok(Some(record)) => record,
                Ok(None) => {
                    report.push(problem(ProblemKind::DanglingEntry));
                    return;
                }
                Err(error) => {
                    failed = Err(error);
                    return;
                }
            };
            // A record that does not decode is reported once, by the record pass.
            let Ok(model) = M::decode(record.value()) else {
                return;
            };
            theirs.fill(M::INDEXES.len(), |i, keys| model.index_keys(i, keys));
            if !theirs.get(i).any(|k| k == secondary) {
                report.push(problem(ProblemKind::StaleEntry {
                    field: def.field,
                    value: model.describe_index_value(i),
                }));
            }
        });
        let Some(step) = step else { break };
        step?;
        std::mem::replace(&mut failed, Ok(()))?;
    }
    Ok(())
}
