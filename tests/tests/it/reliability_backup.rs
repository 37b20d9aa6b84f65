//! Online backup and compaction (issue 14, points 3 and 4).

use netabase_runtime::{Error, Store};
use netabase_tests::library::{Author, Book, Library};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

type Result<T = ()> = std::result::Result<T, Error>;

const BASE_BOOKS: u64 = 300;

fn book(n: u64, year: i32) -> Book {
    Book {
        isbn: format!("isbn-{n:05}"),
        title: format!("Title of book {n}"),
        author: n % 40,
        year,
        available: n.is_multiple_of(2),
        tags: vec![format!("tag-{}", n % 5)],
        cover: Some(vec![n as u8; 200]),
    }
}

/// The author that records which commit a snapshot holds.
fn counter(commit: u64) -> Author {
    Author {
        id: 0,
        name: format!("after commit {commit}"),
        country: None,
    }
}

/// Commit number `n` (from 1) of the writer: a new book, a book's year (a moved index entry),
/// a removed book, and the counter.
fn apply_commit(store: &Store<Library>, n: u64) -> Result {
    let txn = store.begin_write()?;
    {
        let mut books = txn.books()?;
        books.put(&book(BASE_BOOKS + n, 2000))?;
        books.put(&book(n % BASE_BOOKS, 1000 + n as i32))?;
        books.remove(format!("isbn-{:05}", (n * 7) % BASE_BOOKS).as_str())?;
    }
    txn.authors()?.put(&counter(n))?;
    txn.commit()
}

fn initial(store: &Store<Library>) -> Result {
    let txn = store.begin_write()?;
    txn.books()?
        .put_many((0..BASE_BOOKS).map(|n| book(n, 1900 + (n % 50) as i32)))?;
    txn.authors()?.put(&counter(0))?;
    txn.commit()
}

/// Everything a store shows: records in key order and the year and tag index scans.
#[derive(Debug, PartialEq)]
struct Contents {
    authors: Vec<Author>,
    books: Vec<Book>,
    by_year: Vec<String>,
    by_tags: Vec<String>,
}

fn contents(store: &Store<Library>) -> Result<Contents> {
    let txn = store.begin_read()?;
    let books = txn.books()?;
    let isbn = |b: Result<Book>| b.map(|b| b.isbn);
    Ok(Contents {
        authors: txn.authors()?.iter()?.collect::<Result<_>>()?,
        books: books.iter()?.collect::<Result<_>>()?,
        by_year: books.range_by_year(..)?.map(isbn).collect::<Result<_>>()?,
        by_tags: books.range_by_tags(..)?.map(isbn).collect::<Result<_>>()?,
    })
}

fn commit_number(contents: &Contents) -> u64 {
    contents.authors[0].name["after commit ".len()..]
        .parse()
        .expect("counter")
}

/// A writer thread commits without pause while the main thread backs the store up. The backup
/// opens, is clean, and equals, record for record and index entry for index entry, the state
/// after the commit it records; the writer went on past it.
#[test]
fn backup_during_writes_is_a_clean_copy_of_one_snapshot() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(
        Store::<Library>::builder()
            .durability(netabase_runtime::Durability::None)
            .open(dir.path().join("live.redb"))?,
    );
    initial(&store)?;
    let committed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicU64::new(u64::MAX));
    let writer = {
        let (store, committed, stop) = (store.clone(), committed.clone(), stop.clone());
        std::thread::spawn(move || -> Result {
            let mut n = 0;
            // Bounded: it stops two commits past the point the main thread names, or at 5,000.
            while n < stop.load(Ordering::SeqCst).min(5_000) {
                n += 1;
                apply_commit(&store, n)?;
                committed.store(n, Ordering::SeqCst);
            }
            Ok(())
        })
    };
    // Back up three times while the writer runs.
    let mut backups = Vec::new();
    for i in 0..3 {
        while committed.load(Ordering::SeqCst) < 5 * (i + 1) && !writer.is_finished() {
            std::thread::yield_now();
        }
        let path = dir.path().join(format!("backup-{i}.redb"));
        let copied = store.backup_to(&path)?;
        backups.push((path, copied));
    }
    stop.store(committed.load(Ordering::SeqCst) + 2, Ordering::SeqCst);
    writer.join().expect("writer thread")?;
    let final_commit = committed.load(Ordering::SeqCst);

    let mut figures = Vec::new();
    for (path, copied) in &backups {
        let mut backup = Store::<Library>::open(path)?;
        let report = backup.check_integrity()?;
        assert!(report.is_clean(), "{report:?}");
        let got = contents(&backup)?;
        let n = commit_number(&got);
        assert!(n < final_commit, "the writer went on after the backup");
        // The snapshot the backup holds, rebuilt by replaying its commits in memory.
        let replica = Store::<Library>::in_memory()?;
        initial(&replica)?;
        for c in 1..=n {
            apply_commit(&replica, c)?;
        }
        assert_eq!(got, contents(&replica)?);
        assert_eq!(*copied, (got.authors.len() + got.books.len()) as u64);
        figures.push(n);
    }
    println!(
        "reliability figures: 3 backups during writes, at commits {figures:?} of {final_commit}"
    );
    // A backup never overwrites a file.
    let taken = store.backup_to(&backups[0].0);
    assert!(
        matches!(&taken, Err(Error::Io { context, .. }) if context.contains("exists")),
        "{taken:?}"
    );
    Ok(())
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).expect("metadata").len()
}

/// After removing most records, `compact` gives the free space back: the file shrinks, and it
/// holds the same records, clean.
#[test]
fn compact_shrinks_the_file_after_most_records_are_removed() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("compact.redb");
    let mut store = Store::<Library>::open(&path)?;
    let txn = store.begin_write()?;
    txn.books()?.put_many((0..5_000).map(|n| book(n, 1900)))?;
    txn.commit()?;
    let full = file_size(&path);
    let txn = store.begin_write()?;
    txn.books()?.retain(|b| b.isbn.ends_with('0'))?;
    txn.commit()?;
    let before = file_size(&path);
    let expected = contents(&store)?;
    let mut passes = 0;
    while store.compact()? {
        passes += 1;
        assert!(passes < 100, "compaction did not converge");
    }
    let after = file_size(&path);
    println!(
        "reliability figures: compact: 5,000 books {full} bytes; 500 left {before} bytes; \
         compacted ({passes} passes) {after} bytes"
    );
    assert!(after * 3 < before, "{before} -> {after}");
    assert_eq!(contents(&store)?, expected);
    assert!(store.check_integrity()?.is_clean());
    drop(store);
    let mut reopened = Store::<Library>::open(&path)?;
    assert_eq!(contents(&reopened)?, expected);
    assert!(reopened.check_integrity()?.is_clean());
    Ok(())
}
