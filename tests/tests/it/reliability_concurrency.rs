//! Concurrency (issue 6, point 3): one writer and several readers share a `Store` through an
//! `Arc`. The writer moves amounts between books (their `year` is the balance, so every move
//! also moves secondary index entries) and swaps the unique names of authors, keeping two
//! invariants; every reader snapshot must see both hold, and see each index agree with its
//! table. Bounded by a number of commits, not by time; a deadlock fails the test by timeout.

use netabase_runtime::{Durability, Store};
use netabase_tests::library::{Author, Book, Library};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

const BOOKS: u64 = 48;
const AUTHORS: u64 = 16;
const BALANCE: i32 = 1_000;
const TOTAL: i64 = BOOKS as i64 * BALANCE as i64;
const COMMITS: u64 = 600;
const READERS: usize = 3;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn store_is_send_and_sync() {
    assert_send_sync::<Store<Library>>();
    assert_send_sync::<Arc<Store<Library>>>();
}

fn book(n: u64, year: i32) -> Book {
    Book {
        isbn: format!("isbn-{n:03}"),
        title: format!("Book {n}"),
        author: n % AUTHORS,
        year,
        available: true,
        tags: Vec::new(),
        cover: None,
    }
}

type Result<T = ()> = netabase_runtime::Result<T>;

/// Checks one snapshot: the total, the record count, and that both indexes agree with the
/// tables. Returns the number of books seen.
fn check_snapshot(store: &Store<Library>) -> Result<usize> {
    let txn = store.begin_read()?;
    let books = txn.books()?;
    let all: Vec<Book> = books.iter()?.collect::<Result<_>>()?;
    let total: i64 = all.iter().map(|b| i64::from(b.year)).sum();
    assert_eq!(total, TOTAL, "the total does not hold in a snapshot");
    assert_eq!(all.len() as u64, books.len()?);
    // The year index lists the same books, in (year, isbn) order, with the years the
    // records hold.
    let by_year: Vec<Book> = books.range_by_year(..)?.collect::<Result<_>>()?;
    let mut expected = all.clone();
    expected.sort_by(|a, b| (a.year, &a.isbn).cmp(&(b.year, &b.isbn)));
    assert!(
        by_year == expected,
        "the year index disagrees with the table"
    );
    assert_eq!(books.count_range_by_year(..)?, all.len() as u64);
    let available = all.iter().filter(|b| b.available).count();
    assert_eq!(books.by_available(true)?.count(), available);
    // Every author's unique name leads back to that author.
    let authors = txn.authors()?;
    let mut names = 0;
    for author in authors.iter()? {
        let author = author?;
        let found = authors.get_by_name(&author.name)?.map(|a| a.id);
        assert_eq!(found, Some(author.id), "the name index disagrees");
        names += 1;
    }
    assert_eq!(names, AUTHORS);
    Ok(all.len())
}

/// One commit of the writer: moves between books, sometimes a book removed (its balance to
/// another) or split (a new book takes part of one), and two authors swapping names.
fn write_one(store: &Store<Library>, rng: &mut fastrand::Rng, next_isbn: &mut u64) -> Result {
    let txn = store.begin_write()?;
    {
        let mut books = txn.books()?;
        let isbns: Vec<String> = books
            .iter()?
            .map(|b| b.map(|b| b.isbn))
            .collect::<Result<_>>()?;
        let pick = |rng: &mut fastrand::Rng| isbns[rng.usize(..isbns.len())].clone();
        for _ in 0..rng.usize(1..4) {
            let (from, to) = (pick(rng), pick(rng));
            if from == to {
                continue;
            }
            let mut a = books.get(from.as_str())?.expect("listed");
            let mut b = books.get(to.as_str())?.expect("listed");
            let amount = rng.i32(0..=a.year.max(0));
            a.year -= amount;
            b.year += amount;
            a.available = !a.available;
            books.put_many([a, b])?;
        }
        match rng.u8(0..10) {
            0 if isbns.len() > 8 => {
                let (gone, heir) = (pick(rng), pick(rng));
                if gone != heir {
                    let gone = books.remove(gone.as_str())?.expect("listed");
                    let mut heir = books.get(heir.as_str())?.expect("listed");
                    heir.year += gone.year;
                    books.put(&heir)?;
                }
            }
            1 => {
                let mut from = books.get(pick(rng).as_str())?.expect("listed");
                let part = from.year / 2;
                from.year -= part;
                books.put(&from)?;
                *next_isbn += 1;
                books.insert(&book(*next_isbn, part))?;
            }
            _ => {}
        }
        let mut authors = txn.authors()?;
        let (x, y) = (rng.u64(..AUTHORS), rng.u64(..AUTHORS));
        if x != y {
            let mut a = authors.get(x)?.expect("author");
            let mut b = authors.get(y)?.expect("author");
            std::mem::swap(&mut a.name, &mut b.name);
            let free = Author {
                name: format!("moving {x}"),
                ..a.clone()
            };
            authors.put(&free)?;
            authors.put(&b)?;
            authors.put(&a)?;
        }
    }
    txn.commit()
}

#[test]
fn readers_see_every_invariant_while_one_writer_commits() -> Result {
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(
        Store::<Library>::builder()
            .durability(Durability::None)
            .open(dir.path().join("shared.redb"))?,
    );
    store.put_many((0..BOOKS).map(|n| book(n, BALANCE)))?;
    store.put_many((0..AUTHORS).map(|id| Author {
        id,
        name: format!("author {id}"),
        country: None,
    }))?;
    let done = Arc::new(AtomicBool::new(false));
    let snapshots = Arc::new(AtomicU64::new(0));
    let (finished, finishing) = mpsc::channel::<&'static str>();
    let mut threads = Vec::new();

    for _ in 0..READERS {
        let (store, done, snapshots, finished) = (
            store.clone(),
            done.clone(),
            snapshots.clone(),
            finished.clone(),
        );
        threads.push(std::thread::spawn(move || -> Result {
            // A snapshot taken at the start must not change while the writer commits.
            let first = store.begin_read()?;
            let before: Vec<Book> = first.books()?.iter()?.collect::<Result<_>>()?;
            loop {
                // Read `done` first: the last snapshot is taken after the last commit.
                let last = done.load(Ordering::Acquire);
                check_snapshot(&store)?;
                snapshots.fetch_add(1, Ordering::Relaxed);
                if last {
                    break;
                }
            }
            let after: Vec<Book> = first.books()?.iter()?.collect::<Result<_>>()?;
            assert!(before == after, "a snapshot changed under a reader");
            finished.send("reader").expect("send");
            Ok(())
        }));
    }
    {
        let (store, done, finished) = (store.clone(), done.clone(), finished.clone());
        threads.push(std::thread::spawn(move || -> Result {
            let mut rng = fastrand::Rng::with_seed(3);
            let mut next_isbn = BOOKS;
            for _ in 0..COMMITS {
                write_one(&store, &mut rng, &mut next_isbn)?;
            }
            done.store(true, Ordering::Release);
            finished.send("writer").expect("send");
            Ok(())
        }));
    }
    drop(finished);
    for _ in 0..=READERS {
        // Generous for a slow CI machine; a deadlock never finishes.
        match finishing.recv_timeout(Duration::from_secs(120)) {
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("deadlock: a thread did not finish"),
            // A thread panicked: join below reports it.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    for thread in threads {
        thread.join().expect("a thread panicked")?;
    }
    let books = check_snapshot(&store)?;
    let mut store = Arc::into_inner(store).expect("every thread is done");
    let report = store.check_integrity()?;
    assert!(report.is_clean(), "{report}");
    println!(
        "reliability figures: {READERS} readers checked {} snapshots while 1 writer made \
         {COMMITS} commits ({books} books at the end), {:.1?}",
        snapshots.load(Ordering::Relaxed),
        started.elapsed()
    );
    Ok(())
}
