//! The encoded secondary keys of one record: per index zero keys (an `Option` part is `None`, a
//! `Vec` is empty), one, or several (a multi-valued key over a `Vec` field indexes each element).

/// The encoded secondary keys of one record, filled by
/// [`Model::index_keys`](crate::Model::index_keys) one index at a time. The keys of each index
/// are kept sorted and without duplicates, so two records' keys compare as sets and a write
/// moves only the entries that changed. Its buffers are reused from record to record.
#[derive(Debug, Default)]
pub struct IndexKeys {
    bytes: Vec<u8>,
    /// Byte ranges of the keys in `bytes`.
    keys: Vec<(usize, usize)>,
    /// Ranges of each index's keys in `keys`.
    indexes: Vec<(usize, usize)>,
}

impl IndexKeys {
    /// Adds a key to the index being filled; `encode` appends its order-preserving encoding.
    pub fn push(&mut self, encode: impl FnOnce(&mut Vec<u8>)) {
        let start = self.bytes.len();
        encode(&mut self.bytes);
        self.keys.push((start, self.bytes.len()));
    }

    /// Refills the keys of indexes `0..count`: `keys(i, self)` pushes index `i`'s keys.
    pub(crate) fn fill(&mut self, count: usize, mut keys: impl FnMut(usize, &mut Self)) {
        self.bytes.clear();
        self.keys.clear();
        self.indexes.clear();
        for index in 0..count {
            let first = self.keys.len();
            keys(index, self);
            let Self {
                bytes, keys: all, ..
            } = self;
            let added = &mut all[first..];
            if added.len() > 1 {
                added.sort_unstable_by(|a, b| bytes[a.0..a.1].cmp(&bytes[b.0..b.1]));
                let mut unique = 1;
                for k in 1..added.len() {
                    let (last, next) = (added[unique - 1], added[k]);
                    if bytes[last.0..last.1] != bytes[next.0..next.1] {
                        added[unique] = next;
                        unique += 1;
                    }
                }
                all.truncate(first + unique);
            }
            self.indexes.push((first, self.keys.len()));
        }
    }

    /// The keys of index `index`, in ascending byte order.
    pub(crate) fn get(&self, index: usize) -> impl ExactSizeIterator<Item = &[u8]> + Clone + '_ {
        let (first, end) = self.indexes[index];
        self.keys[first..end]
            .iter()
            .map(|&(start, end)| &self.bytes[start..end])
    }

    /// Whether index `index` has the same keys here as in `other`.
    ///
    /// Written over the slices rather than as `get(index).eq(other.get(index))`: every
    /// update asks this of each index, and the iterators' `eq` was not inlined: 161
    /// instructions an index of the `update` workload of `examples/instructions`, 122 now.
    pub(crate) fn same(&self, other: &Self, index: usize) -> bool {
        let ((first, end), (other_first, other_end)) = (self.indexes[index], other.indexes[index]);
        let (keys, other_keys) = (&self.keys[first..end], &other.keys[other_first..other_end]);
        keys.len() == other_keys.len()
            && keys
                .iter()
                .zip(other_keys)
                .all(|(&(s, e), &(os, oe))| self.bytes[s..e] == other.bytes[os..oe])
    }
}

/// Whether a key left or joined a record's keys of one index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Removed,
    Added,
}

/// Calls `change` for each key of `old` that is not in `new` and each key of `new` that is not
/// in `old`: one merge walk over two sorted lists.
pub(crate) fn difference<'a>(
    mut old: impl Iterator<Item = &'a [u8]>,
    mut new: impl Iterator<Item = &'a [u8]>,
    mut change: impl FnMut(Change, &'a [u8]) -> crate::Result<()>,
) -> crate::Result<()> {
    let (mut o, mut n) = (old.next(), new.next());
    loop {
        match (o, n) {
            (None, None) => return Ok(()),
            (Some(a), Some(b)) if a == b => (o, n) = (old.next(), new.next()),
            (Some(a), Some(b)) if a > b => {
                change(Change::Added, b)?;
                n = new.next();
            }
            (Some(a), _) => {
                change(Change::Removed, a)?;
                o = old.next();
            }
            (None, Some(b)) => {
                change(Change::Added, b)?;
                n = new.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(lists: &[&[&[u8]]]) -> IndexKeys {
        let mut keys = IndexKeys::default();
        keys.fill(lists.len(), |i, k| {
            for key in lists[i] {
                k.push(|out| out.extend_from_slice(key));
            }
        });
        keys
    }

    #[test]
    fn each_index_is_sorted_and_deduplicated() {
        let keys = filled(&[&[b"b", b"a", b"b", b"c", b"a"], &[], &[b"z"]]);
        assert_eq!(keys.get(0).collect::<Vec<_>>(), [b"a", b"b", b"c"]);
        assert_eq!(keys.get(1).count(), 0);
        assert_eq!(keys.get(2).collect::<Vec<_>>(), [b"z"]);
    }

    #[test]
    fn difference_moves_only_what_changed() {
        let old = filled(&[&[b"a", b"b", b"d"]]);
        let new = filled(&[&[b"b", b"c", b"d", b"e"]]);
        let mut changes = Vec::new();
        difference(old.get(0), new.get(0), |change, k| {
            changes.push((change, k.to_vec()));
            Ok(())
        })
        .unwrap();
        let expected = [
            (Change::Removed, b"a".to_vec()),
            (Change::Added, b"c".to_vec()),
            (Change::Added, b"e".to_vec()),
        ];
        assert_eq!(changes, expected);
        assert!(!old.same(&new, 0));
        assert!(new.same(&filled(&[&[b"e", b"d", b"c", b"b", b"c"]]), 0));
        // As many keys, one of them different; and keys that differ only in length.
        assert!(!filled(&[&[b"a", b"b"]]).same(&filled(&[&[b"a", b"c"]]), 0));
        assert!(!filled(&[&[b"ab"]]).same(&filled(&[&[b"a"]]), 0));
        // Only the index asked about counts.
        assert!(filled(&[&[b"x"], &[b"a"]]).same(&filled(&[&[b"y"], &[b"a"]]), 1));
    }
}
