//! Atomicity (issue 6, point 5): a failed call leaves nothing of itself, an aborted or dropped
//! write transaction leaves nothing, and a transaction that returned an error can still be
//! aborted (or committed) cleanly. "Nothing" is checked on everything readable: records, every
//! index (scanned), and `check_integrity`.

use crate::raw;

use netabase_runtime::{Error, Store};
use netabase_tests::library::{Author, Book, Library, LibraryWriteTransaction};

type Result<T = ()> = std::result::Result<T, Error>;

const COUNTRIES: [Option<&str>; 3] = [None, Some("JP"), Some("FR")];

fn author(id: u64, name: &str, country: Option<&str>) -> Author {
    Author {
        id,
        name: name.to_owned(),
        country: country.map(str::to_owned),
    }
}

fn book(n: u64, year: i32) -> Book {
    Book {
        isbn: format!("isbn-{n:03}"),
        title: format!("Book {n}"),
        author: n % 10,
        year,
        available: n.is_multiple_of(2),
        tags: vec![format!("t{n}")],
        cover: None,
    }
}

/// Everything readable through a transaction's trees: records in key order and every index
/// scanned in its own order.
#[derive(Debug, PartialEq)]
struct Dump {
    authors: Vec<Author>,
    by_name: Vec<u64>,
    by_country: Vec<Vec<u64>>,
    books: Vec<Book>,
    by_year: Vec<String>,
    by_author: Vec<String>,
    by_available: Vec<String>,
}

fn dump_write(txn: &LibraryWriteTransaction<'_>) -> Result<Dump> {
    let authors = txn.authors()?;
    let books = txn.books()?;
    let ids = |iter: netabase_runtime::Result<Vec<Author>>| -> Result<Vec<u64>> {
        Ok(iter?.into_iter().map(|a| a.id).collect())
    };
    let isbns = |iter: netabase_runtime::Result<Vec<Book>>| -> Result<Vec<String>> {
        Ok(iter?.into_iter().map(|b| b.isbn).collect())
    };
    Ok(Dump {
        authors: authors.iter()?.collect::<Result<_>>()?,
        by_name: ids(authors.range_by_name(..)?.collect())?,
        by_country: ["JP", "FR"]
            .into_iter()
            .map(|c| ids(authors.by_country(c)?.collect()))
            .collect::<Result<_>>()?,
        books: books.iter()?.collect::<Result<_>>()?,
        by_year: isbns(books.range_by_year(..)?.collect())?,
        by_author: isbns(books.range_by_author(..)?.collect())?,
        by_available: isbns(books.range_by_available(..)?.collect())?,
    })
}

fn dump(store: &Store<Library>) -> Result<Dump> {
    // A write transaction that is dropped: the same trees, read-only use.
    dump_write(&store.begin_write()?)
}

fn assert_clean(store: &mut Store<Library>) -> Result {
    let report = store.check_integrity()?;
    assert!(report.is_clean(), "{report}");
    Ok(())
}

fn seeded() -> Result<Store<Library>> {
    let store = Store::<Library>::in_memory()?;
    store.put_many(
        (0..20).map(|id| author(id, &format!("name {id}"), COUNTRIES[id as usize % 3])),
    )?;
    store.put_many((0..30).map(|n| book(n, 1950 + n as i32)))?;
    Ok(store)
}

/// Random batches mixing inserts (most of them above the greatest stored id, which a failed
/// batch takes back by removing everything above it, the rest in the log), updates that move
/// unique and non-unique keys, records that replace an earlier record of the same batch, and
/// one conflicting record at a random position (against a stored record, or against an
/// earlier record of the same batch): the call fails and leaves nothing; the transaction goes
/// on.
#[test]
fn put_many_that_fails_halfway_leaves_nothing_of_that_call() -> Result {
    let mut store = seeded()?;
    let mut rng = fastrand::Rng::with_seed(5);
    let (mut batches, mut records, mut replaced) = (0, 0, 0);
    for round in 0..150 {
        let txn = store.begin_write()?;
        // A successful write before the failing call: it must stay.
        txn.books()?.put(&book(100 + round, 1900))?;
        let before = dump_write(&txn)?;
        {
            let mut authors = txn.authors()?;
            let len = rng.usize(2..12);
            let conflict_at = rng.usize(0..len);
            let mut batch: Vec<Author> = (0..len)
                .map(|i| {
                    let id = rng.u64(0..40);
                    let name = format!("batch {round}.{i}");
                    author(id, &name, COUNTRIES[rng.usize(..3)])
                })
                .collect();
            // Distinct ids keep earlier records from being replaced by later ones.
            for (i, a) in batch.iter_mut().enumerate() {
                a.id = a.id * 16 + i as u64 % 16;
            }
            // A record replacing an earlier one of the batch (not the first, whose name a
            // conflict may want): its earlier version's entries move.
            if conflict_at >= 3 && rng.bool() {
                let later = rng.usize(2..conflict_at);
                batch[later].id = batch[rng.usize(1..later)].id;
                replaced += 1;
            }
            let conflict = &mut batch[conflict_at];
            if conflict_at > 0 && rng.bool() {
                conflict.name = format!("batch {round}.0");
            } else {
                let owner = rng.u64(0..20);
                conflict.name = format!("name {owner}");
                if conflict.id == owner {
                    conflict.id += 1000;
                }
            }
            let error = authors.put_many(&batch).unwrap_err();
            assert!(
                matches!(error, Error::UniqueViolation { field: "name", .. }),
                "{error:?}"
            );
            batches += 1;
            records += conflict_at;
        }
        assert_eq!(dump_write(&txn)?, before, "round {round}");
        txn.commit()?;
        assert_eq!(dump(&store)?, before, "round {round}, committed");
    }
    assert_clean(&mut store)?;
    println!(
        "reliability figures: {batches} failing batches undone ({records} records written before \
         the conflict and rolled back, {replaced} batches replacing one of their own records)"
    );
    Ok(())
}

/// A failing `put_many` into an empty table (every record is above the floor) leaves the table
/// and its indexes empty, in a write transaction that goes on and commits.
#[test]
fn put_many_into_an_empty_table_that_fails_leaves_it_empty() -> Result {
    let mut store = Store::<Library>::in_memory()?;
    let txn = store.begin_write()?;
    {
        let mut authors = txn.authors()?;
        let batch = [
            author(5, "Ann", Some("JP")),
            author(3, "Bo", Some("FR")),
            author(5, "Ann again", Some("FR")),
            author(9, "Bo", None),
        ];
        let error = authors.put_many(&batch).unwrap_err();
        assert!(
            matches!(error, Error::UniqueViolation { field: "name", .. }),
            "{error:?}"
        );
        assert_eq!(authors.len()?, 0);
        assert!(authors.range_by_name(..)?.next().is_none());
        assert!(authors.by_country("FR")?.next().is_none());
        assert!(authors.by_country("JP")?.next().is_none());
        authors.put(&author(1, "Bo", Some("FR")))?;
    }
    txn.commit()?;
    let authors = store
        .begin_read()?
        .authors()?
        .iter()?
        .collect::<Result<Vec<_>>>()?;
    assert_eq!(authors, [author(1, "Bo", Some("FR"))]);
    assert_clean(&mut store)?;
    Ok(())
}

fn big_change(txn: &LibraryWriteTransaction<'_>) -> Result {
    let mut authors = txn.authors()?;
    authors.put(&author(1, "renamed", Some("FR")))?;
    authors.put(&author(50, "new", Some("JP")))?;
    authors.remove(2)?;
    let mut books = txn.books()?;
    books.put_many((0..10).map(|n| book(n, 2020)))?;
    books.remove_many(["isbn-020", "isbn-021"])?;
    books.retain(|b| b.year != 1975)?;
    Ok(())
}

#[test]
fn aborted_and_dropped_write_transactions_leave_nothing() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("abort.redb");
    let mut store = Store::<Library>::open(&path)?;
    store.put_many((0..20).map(|id| author(id, &format!("name {id}"), None)))?;
    store.put_many((0..30).map(|n| book(n, 1950 + n as i32)))?;
    let before = dump(&store)?;

    let txn = store.begin_write()?;
    big_change(&txn)?;
    assert_ne!(dump_write(&txn)?, before, "the change is visible inside");
    txn.abort()?;
    assert_eq!(dump(&store)?, before);

    {
        let txn = store.begin_write()?;
        big_change(&txn)?;
    }
    assert_eq!(dump(&store)?, before);
    assert_clean(&mut store)?;
    drop(store);
    let mut store = Store::<Library>::open(&path)?;
    assert_eq!(dump(&store)?, before, "after reopening");
    assert_clean(&mut store)?;
    Ok(())
}

#[test]
fn a_transaction_that_returned_an_error_can_be_aborted_or_committed() -> Result {
    let mut store = seeded()?;
    let before = dump(&store)?;

    // Errors of every kind netabase returns from a write transaction, then abort.
    let txn = store.begin_write()?;
    {
        let mut authors = txn.authors()?;
        authors.put(&author(90, "kept only if committed", None))?;
        let errors = [
            authors.put(&author(91, "name 3", None)).unwrap_err(),
            authors.insert(&author(4, "other", None)).unwrap_err(),
            authors
                .put_many([author(92, "x", None), author(93, "x", None)])
                .unwrap_err(),
            // The same tree twice at once.
            txn.authors().err().expect("already open"),
        ];
        assert!(matches!(errors[0], Error::UniqueViolation { .. }));
        assert!(matches!(errors[1], Error::AlreadyExists { .. }));
        assert!(matches!(errors[2], Error::UniqueViolation { .. }));
        assert!(
            matches!(errors[3], Error::TreeInUse { .. }),
            "{:?}",
            errors[3]
        );
    }
    txn.abort()?;
    assert_eq!(dump(&store)?, before);

    // The same errors, then commit: only the successful writes are stored.
    let txn = store.begin_write()?;
    {
        let mut authors = txn.authors()?;
        authors.put(&author(90, "kept", None))?;
        authors.put(&author(91, "name 3", None)).unwrap_err();
        authors.insert(&author(4, "other", None)).unwrap_err();
        authors
            .put_many([author(92, "x", None), author(93, "x", None)])
            .unwrap_err();
        assert!(txn.authors().is_err());
    }
    txn.commit()?;
    let after = dump(&store)?;
    assert_eq!(after.authors.len(), before.authors.len() + 1);
    assert!(after.authors.contains(&author(90, "kept", None)));
    assert_clean(&mut store)?;
    Ok(())
}

/// Removing many records fails on a record that does not decode, and the removals before it in
/// the same call are undone; the same for `retain`, which decodes everything first.
#[test]
fn failed_removals_leave_nothing_of_that_call() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("remove.redb");
    {
        let store = Store::<Library>::open(&path)?;
        store.put_many(
            (0..10).map(|id| author(id, &format!("name {id}"), COUNTRIES[id as usize % 3])),
        )?;
    }
    {
        let db = redb::Database::open(&path).expect("open raw");
        let txn = db.begin_write().expect("begin");
        raw::raw_put(
            &txn,
            "Library/Author",
            7u64.to_be_bytes().as_slice(),
            Some(&[0xFF]),
        );
        txn.commit().expect("commit");
    }
    let store = Store::<Library>::open(&path)?;
    let readable = |txn: &LibraryWriteTransaction<'_>| -> Result<(Vec<Option<Author>>, Vec<u64>)> {
        let authors = txn.authors()?;
        let records = [1, 2, 3, 8]
            .into_iter()
            .map(|id| authors.get(id))
            .collect::<Result<_>>()?;
        let jp = authors
            .by_country("JP")?
            .filter_map(|a| a.ok())
            .map(|a| a.id)
            .collect();
        Ok((records, jp))
    };
    let txn = store.begin_write()?;
    let before = readable(&txn)?;
    {
        let mut authors = txn.authors()?;
        let error = authors.remove_many([1, 2, 3, 7, 8]).unwrap_err();
        assert!(matches!(error, Error::Decode { .. }), "{error:?}");
        assert!(matches!(
            authors.retain(|_| false).unwrap_err(),
            Error::Decode { .. }
        ));
        assert!(matches!(
            authors.remove(7).unwrap_err(),
            Error::Decode { .. }
        ));
    }
    assert_eq!(readable(&txn)?, before);
    txn.commit()?;
    let txn = store.begin_write()?;
    assert_eq!(readable(&txn)?, before);
    txn.abort()?;
    // Only the damaged record is reported.
    let mut store = store;
    let report = store.check_integrity()?;
    assert_eq!(report.problems().len(), 1, "{report}");
    assert!(
        report.to_string().contains("AuthorPrimaryKey(7)"),
        "{report}"
    );
    Ok(())
}
