//! Salvage: [`recover`] copies every record of a damaged database that can still be read and
//! decoded into a new, consistent database, rebuilding its indexes, and reports what was lost.
//!
//! How records are found, model by model, in the damaged file (every read contained, see
//! `contain.rs`, so a damaged page is a failed read and never a panic):
//!
//! 1. A scan of the record table in key order. When a step fails (a damaged leaf page), the
//!    scan resumes after the damage: [`Probe`]s (`range(k..).next()`) find a readable key past
//!    the failed one by bisection over the key space (the keys routed to one damaged leaf form
//!    one interval), and the keys skipped that way are searched again the same way, so readable
//!    records between two damaged pages are found too.
//! 2. Every index of the model, scanned as far as it reads: a primary key the scan did not
//!    reach is looked up directly.
//!
//! Each record found is decoded and written to the new database with `put`, which rebuilds its
//! index entries. A record whose bytes do not decode is lost (counted); so are records that no
//! readable page leads to (under a damaged branch page, or on a damaged leaf).

use crate::contain::{ContainDrop, contain};
use crate::error::{Error, Result};
use crate::model::{Definition, Model, ModelVisitor};
use crate::ordered::Ordered;
use crate::tree::{Bytes, IndexRead, Step, record_table};
use crate::{Store, StoredKey};
use redb::{ReadOnlyTable, ReadableDatabase, ReadableTableMetadata};
use std::collections::BTreeSet;
use std::ops::Bound;
use std::path::{Path, PathBuf};

/// What a salvage ([`recover`], or [`recover_file`](crate::recover_file) without the schema)
/// rescued and lost, per model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The definition the records were read as.
    pub definition: String,
    /// Its schema version.
    pub version: u64,
    /// One entry per model, in schema order.
    pub models: Vec<ModelRecovery>,
    /// Whether the damaged file's metadata could be read and named this definition (when it
    /// could not, [`recover`] still read the records as this definition's; `recover_file`
    /// needs it, so it is always `true` there).
    pub metadata_readable: bool,
}

/// What a salvage rescued and lost of one model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelRecovery {
    /// The model's schema name.
    pub model: String,
    /// How many records the damaged file says it held (redb keeps the count in the table's
    /// root), when that could be read.
    pub expected: Option<u64>,
    /// Records copied into the rescued database.
    pub rescued: u64,
    /// Records that were read but did not decode (or sat under another record's key).
    pub undecodable: u64,
    /// Records rescued but left out because another rescued record already held one of their
    /// unique key values (always 0 for `recover_file`, which builds no index).
    pub conflicting: u64,
    /// Reads that failed on a damaged page (each may hide any number of records).
    pub damaged_reads: u64,
}

impl ModelRecovery {
    /// How many records were lost, when the damaged file's count could be read.
    pub fn lost(&self) -> Option<u64> {
        self.expected.map(|n| n.saturating_sub(self.rescued))
    }
}

impl RecoveryReport {
    /// Records rescued, over every model.
    pub fn rescued(&self) -> u64 {
        self.models.iter().map(|m| m.rescued).sum()
    }

    /// Whether every record the damaged file counted was rescued.
    pub fn is_complete(&self) -> bool {
        self.models
            .iter()
            .all(|m| m.lost() == Some(0) && m.undecodable == 0 && m.conflicting == 0)
    }
}

/// Copies every readable, decodable record of the database at `damaged` (a database of
/// definition `D`) into a new database at `rescued`, rebuilding every index, and reports what
/// was rescued and lost per model.
///
/// The damaged file is never written: it is read through a copy (made next to `rescued` and
/// removed at the end). `rescued` must not exist. The rescued database passes
/// [`Store::check_integrity`], with one exception: a checked link to a record that was lost is
/// not repaired (the link is rescued as it was). It fails when the damaged file cannot be
/// opened at all (its header and both commit slots damaged, or not a database), or when its
/// metadata names another definition.
///
/// Reading a damaged file makes redb panic many times; each panic is contained, and while
/// `recover` runs the panic messages of its own thread are not printed (other threads' are).
/// Like every containment, this needs unwinding (not `panic = "abort"`).
pub fn recover<D: Definition>(
    damaged: impl AsRef<Path>,
    rescued: impl AsRef<Path>,
) -> Result<RecoveryReport> {
    let (damaged, rescued) = (damaged.as_ref(), rescued.as_ref());
    crate::backup::refuse_existing(rescued, "rescued database")?;
    let work = working_copy(damaged, rescued)?;
    let result = crate::contain::quietly(|| recover_from_copy::<D>(&work, damaged, rescued));
    let _ = std::fs::remove_file(&work);
    if result.is_err() {
        let _ = std::fs::remove_file(rescued);
    }
    result
}

/// A copy of the damaged file to read from: redb may write to a file it opens (its header, a
/// repair), and the damaged original must stay as it was.
pub(crate) fn working_copy(damaged: &Path, rescued: &Path) -> Result<PathBuf> {
    let mut name = rescued.file_name().unwrap_or_default().to_os_string();
    name.push(".damaged-copy");
    let work = rescued.with_file_name(name);
    std::fs::copy(damaged, &work).map_err(|source| Error::Io {
        context: format!(
            "cannot copy {} to {} to read it: check that both places are accessible",
            damaged.display(),
            work.display()
        ),
        source,
    })?;
    Ok(work)
}

fn recover_from_copy<D: Definition>(
    work: &Path,
    damaged: &Path,
    rescued: &Path,
) -> Result<RecoveryReport> {
    let db = contain(damaged, "", || {
        redb::Database::builder()
            .open(work)
            .map_err(|error| match error {
                redb::DatabaseError::Storage(redb::StorageError::Corrupted(detail)) => {
                    Error::Corrupted {
                        path: damaged.to_path_buf(),
                        table: None,
                        detail,
                    }
                }
                other => Error::Database(other),
            })
    })
    .map(ContainDrop::new)?;
    let txn = contain(damaged, "", || Ok(db.begin_read()?))?;
    let metadata_readable = match contain(damaged, crate::META_TABLE, || {
        let meta = txn.open_table(redb::TableDefinition::<&str, &[u8]>::new(crate::META_TABLE))?;
        crate::meta::read_info(&meta)
    }) {
        Ok(Some(found)) if found == crate::SchemaInfo::of::<D>() => true,
        Ok(Some(found)) => {
            return Err(Error::SchemaMismatch {
                expected: crate::SchemaInfo::of::<D>(),
                found,
            });
        }
        _ => false,
    };
    let target = Store::<D>::open(rescued)?;
    let mut salvage = Salvage {
        source: &txn,
        path: damaged,
        target: &target,
        models: Vec::new(),
    };
    D::visit_models(&mut salvage)?;
    Ok(RecoveryReport {
        definition: D::NAME.to_owned(),
        version: D::VERSION,
        models: salvage.models,
        metadata_readable,
    })
}

struct Salvage<'a, D: Definition> {
    source: &'a redb::ReadTransaction,
    path: &'a Path,
    target: &'a Store<D>,
    models: Vec<ModelRecovery>,
}

impl<D: Definition> ModelVisitor<D> for Salvage<'_, D> {
    fn visit<M: Model<Definition = D>>(&mut self) -> Result<()> {
        let mut report = ModelRecovery {
            model: M::NAME.to_owned(),
            ..ModelRecovery::default()
        };
        let mut found = Records::default();
        let (source, path) = (self.source, self.path);
        match contain(path, M::TABLE, || {
            Ok(source.open_table(record_table::<M>())?)
        }) {
            Ok(table) => {
                report.expected = contain(path, M::TABLE, || Ok(table.len()?)).ok();
                let mut indexed = Indexed::default();
                for def in M::INDEXES {
                    let _ = contain(path, def.table, || {
                        let index = def.layout.open_read(source, def.table, def.unique)?;
                        indexed.read(&*index, path, def.table);
                        Ok(())
                    });
                }
                (found, report.damaged_reads) = find_records(&table, path, indexed);
            }
            Err(_) => report.damaged_reads += 1,
        }
        let txn = self.target.write_transaction()?;
        {
            let mut tree = txn.raw_tree::<M>()?;
            for (key, bytes) in &found {
                match crate::tree::decode_record::<M>(bytes) {
                    Ok(model) if primary_key_bytes(&model) == *key => match tree.put(&model) {
                        Ok(()) => report.rescued += 1,
                        Err(Error::UniqueViolation { .. }) => report.conflicting += 1,
                        Err(error) => return Err(error),
                    },
                    _ => report.undecodable += 1,
                }
            }
        }
        txn.commit_unchecked()?;
        self.models.push(report);
        Ok(())
    }
}

fn primary_key_bytes<M: Model>(model: &M) -> Vec<u8> {
    let mut key = Vec::new();
    model.encode_primary_key(&mut key);
    key
}

/// Encoded primary key -> stored bytes.
pub(crate) type Records = std::collections::BTreeMap<Vec<u8>, Vec<u8>>;

/// Reads every record of `table` (of the damaged file at `path`) that can still be read, past
/// damaged pages (step 1 of the module docs), then looks up every primary key in `indexed`
/// that the scan did not reach (step 2): the records found, and how many reads failed (the
/// indexes' included).
pub(crate) fn find_records<K: StoredKey>(
    table: &ReadOnlyTable<K, Bytes>,
    path: &Path,
    indexed: Indexed,
) -> (Records, u64) {
    let mut found = Records::default();
    let mut scan = Scan {
        table,
        path,
        found: &mut found,
        damaged_reads: indexed.damaged_reads,
    };
    scan.interval(Bound::Unbounded, None);
    scan.look_up(indexed.keys);
    let damaged_reads = scan.damaged_reads;
    (found, damaged_reads)
}

/// The primary keys a model's indexes point to (step 2 of the module docs), read by
/// [`Indexed::read`] from each index table, whether opened by the generated code's types or by
/// the stored layout's ([`StoredIndex`](crate::tree::StoredIndex)).
#[derive(Default)]
pub(crate) struct Indexed {
    keys: BTreeSet<Vec<u8>>,
    damaged_reads: u64,
}

impl Indexed {
    /// Adds the primary key of every entry of `index` (the index table `table` of the damaged
    /// file at `path`) as far as it reads: a malformed entry is skipped, a damaged page ends
    /// the table (a damaged read). Call it inside the containment that opened `index`.
    pub(crate) fn read(&mut self, index: &dyn IndexRead, path: &Path, table: &str) {
        let keys = &mut self.keys;
        let Ok(mut entries) = contain(path, table, || {
            Ok(index.range((Bound::Unbounded, Bound::Unbounded))?)
        }) else {
            self.damaged_reads += 1;
            return;
        };
        loop {
            let stepped = contain(path, table, || {
                Ok(entries.next_primary(Step::Front(0), &mut |_, primary| {
                    keys.insert(primary.to_vec());
                }))
            });
            match stepped {
                Ok(Some(Ok(()))) => {}
                Ok(None) => return,
                // A malformed entry: skip it; a damaged page: stop this index.
                Ok(Some(Err(Error::Inconsistent { .. }))) => {}
                _ => {
                    self.damaged_reads += 1;
                    return;
                }
            }
        }
    }
}

/// What `range(from..).next()` found.
enum Probe {
    /// The first key at or after `from`.
    Key(Vec<u8>),
    /// No key at or after `from`.
    End,
    /// The read failed on a damaged page.
    Damaged,
}

struct Scan<'a, K: StoredKey> {
    table: &'a ReadOnlyTable<K, Bytes>,
    path: &'a Path,
    found: &'a mut Records,
    damaged_reads: u64,
}

impl<K: StoredKey> Scan<'_, K> {
    /// Reads the records from `from` up to `until` (exclusive; `None`: the end), resuming past
    /// every damaged stretch it meets.
    fn interval(&mut self, from: Bound<Vec<u8>>, until: Option<&[u8]>) {
        let Some(last) = self.read_run(&from, until) else {
            return;
        };
        // The run stopped on damage after `last` (or at `from`): find readable keys beyond it.
        self.damaged_reads += 1;
        let start = match (&last, &from) {
            (Some(key), _) => key.clone(),
            (None, Bound::Included(key) | Bound::Excluded(key)) => key.clone(),
            (None, Bound::Unbounded) => Vec::new(),
        };
        self.after_damage(start, until.map(<[u8]>::to_vec));
    }

    /// Reads records in order from `from` while they read; `None` at the end (or at `until`),
    /// `Some(last key read)` when a read failed.
    fn read_run(&mut self, from: &Bound<Vec<u8>>, until: Option<&[u8]>) -> Option<Option<Vec<u8>>> {
        let (table, path) = (self.table, self.path);
        let bounds = (
            from.as_ref().map(Vec::as_slice),
            until.map_or(Bound::Unbounded, Bound::Excluded),
        );
        // Keys checked to come in order: a cycle in a damaged table ends the run.
        let Ok(mut range) = contain(path, "", || {
            Ok(Ordered::new(table.range::<&[u8]>(bounds)?, "records"))
        }) else {
            return Some(None);
        };
        let mut last = None;
        loop {
            let step = contain(path, "", || {
                Ok(match range.next() {
                    None => None,
                    Some(entry) => {
                        let (key, value) = entry?;
                        let key = K::as_bytes(&key.value()).as_ref().to_vec();
                        Some((key, value.value().to_vec()))
                    }
                })
            });
            match step {
                Ok(None) => return None,
                Ok(Some((key, value))) => {
                    self.found.insert(key.clone(), value);
                    last = Some(key);
                }
                Err(_) => return Some(last),
            }
        }
    }

    fn probe(&self, from: &[u8]) -> Probe {
        let table = self.table;
        let first = contain(self.path, "", || {
            let mut range = table.range::<&[u8]>(from..)?;
            Ok(match range.next() {
                None => None,
                Some(entry) => Some(K::as_bytes(&entry?.0.value()).as_ref().to_vec()),
            })
        });
        match first {
            Ok(Some(key)) => Probe::Key(key),
            Ok(None) => Probe::End,
            Err(_) => Probe::Damaged,
        }
    }

    /// Reads the readable records after `start` (whose successor could not be read) and before
    /// `until`: bisects for the first readable key past the damage, reads on from there, and
    /// searches the skipped stretch the same way.
    fn after_damage(&mut self, start: Vec<u8>, until: Option<Vec<u8>>) {
        let width = start.len().max(until.as_ref().map_or(0, Vec::len)).max(1);
        let mut low = pad(&start, width);
        let mut high = until
            .as_ref()
            .map_or_else(|| vec![0xFF; width], |u| pad(u, width));
        // Keys past `high` are someone else's; see whether anything past the damage reads.
        let found_at_high = match self.probe(&high) {
            Probe::Damaged => return,
            probe => probe,
        };
        let mut found = found_at_high;
        loop {
            while let Some(mid) = midpoint(&low, &high) {
                match self.probe(&mid) {
                    Probe::Damaged => low = mid,
                    probe => {
                        high = mid;
                        found = probe;
                    }
                }
            }
            // `low` and `high` are adjacent at this width, and keys between them are longer
            // (keys that share a prefix, like `isbn-00017` and `isbn-00018`): bisect on with
            // one more byte, up to a bound.
            if low.len() >= BISECTION_WIDTH {
                break;
            }
            low.push(0);
            high.push(0);
        }
        let Probe::Key(key) = found else {
            return;
        };
        if until.as_deref().is_some_and(|u| key.as_slice() >= u) || self.found.contains_key(&key) {
            return;
        }
        // Read on from the readable key, then search the stretch skipped before it.
        self.interval(Bound::Included(key), until.as_deref());
        if high > pad(&start, width) {
            self.after_damage(start, Some(high));
        }
    }

    /// Looks up, by primary key, the records of `keys` (named by the indexes) that the scan did
    /// not reach.
    fn look_up(&mut self, keys: BTreeSet<Vec<u8>>) {
        let table = self.table;
        for key in keys {
            if self.found.contains_key(&key) {
                continue;
            }
            let value = contain(self.path, "", || {
                Ok(table.get(key.as_slice())?.map(|v| v.value().to_vec()))
            });
            match value {
                Ok(Some(value)) => {
                    self.found.insert(key, value);
                }
                Ok(None) => {}
                Err(_) => self.damaged_reads += 1,
            }
        }
    }
}

/// How many bytes of the keys the bisection past a damaged page resolves: keys that differ only
/// after that many bytes are found by the scan that follows, not by the bisection.
const BISECTION_WIDTH: usize = 32;

/// `key` cut or padded with zeros to `width` bytes: a point of the bisection's key space at or
/// before `key`.
fn pad(key: &[u8], width: usize) -> Vec<u8> {
    let mut out = key[..key.len().min(width)].to_vec();
    out.resize(width, 0);
    out
}

/// The point halfway between `low` and `high` (equal widths, big-endian numbers), or `None`
/// when they are adjacent.
fn midpoint(low: &[u8], high: &[u8]) -> Option<Vec<u8>> {
    // sum = low + high, one byte wider; then halve it.
    let mut sum = vec![0u8; low.len() + 1];
    let mut carry = 0u16;
    for i in (0..low.len()).rev() {
        let s = u16::from(low[i]) + u16::from(high[i]) + carry;
        sum[i + 1] = s as u8;
        carry = s >> 8;
    }
    sum[0] = carry as u8;
    let mut half = vec![0u8; low.len()];
    let mut rest = u16::from(sum[0]);
    for i in 0..low.len() {
        let v = (rest << 8) | u16::from(sum[i + 1]);
        half[i] = (v / 2) as u8;
        rest = v % 2;
    }
    (half.as_slice() > low && half.as_slice() < high).then_some(half)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midpoints_are_strictly_between_or_none() {
        assert_eq!(midpoint(&[0, 0], &[0, 4]), Some(vec![0, 2]));
        assert_eq!(midpoint(&[0, 255], &[1, 1]), Some(vec![1, 0]));
        assert_eq!(midpoint(&[255, 254], &[255, 255]), None);
        assert_eq!(midpoint(&[3], &[3]), None);
        assert_eq!(pad(b"ab", 4), b"ab\0\0");
        assert_eq!(pad(b"abcdef", 4), b"abcd");
    }
}
