//! The crash test's workload, shared by the writer child (`reliability_child write`) and the
//! test that replays it on an in-memory replica: commit number `n` always does the same writes,
//! given the same state before it.
//!
//! Every commit also stores its own number in the counter record, so a reopened file says how
//! many commits it holds.

use netabase_runtime::{Error, Result};
use netabase_tests::library::{Author, Book, LibraryWriteTransaction};

/// The ISBN of the book whose `year` holds the number of commits (it is not otherwise written).
pub const COUNTER: &str = "~counter";

const COUNTRIES: [Option<&str>; 4] = [None, Some("JP"), Some("US"), Some("FR")];

/// A small, seeded generator (SplitMix64): the same seed gives the same writes everywhere.
pub struct Rng(u64);

impl Rng {
    /// A generator for commit `commit` of the run seeded with `seed`.
    pub fn new(seed: u64, commit: u64) -> Self {
        let mut rng = Self(seed ^ commit.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next();
        rng
    }

    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn author(rng: &mut Rng) -> Author {
    Author {
        id: rng.below(48),
        // Few names for many ids: unique violations happen, in single puts and in batches.
        name: format!("author-{}", rng.below(64)),
        country: COUNTRIES[rng.below(4) as usize].map(str::to_owned),
    }
}

fn book(rng: &mut Rng, commit: u64) -> Book {
    let isbn = format!("isbn-{:03}", rng.below(160));
    Book {
        title: format!("{isbn} written in commit {commit} ").repeat(1 + rng.below(12) as usize),
        isbn,
        author: rng.below(48),
        year: 1900 + rng.below(120) as i32,
        available: rng.below(2) == 0,
        tags: (0..rng.below(4)).map(|t| format!("tag-{t}")).collect(),
        cover: (rng.below(3) == 0).then(|| vec![commit as u8; rng.below(600) as usize]),
    }
}

/// Passes a unique violation (the call changed nothing) and fails on anything else.
fn tolerate<T>(result: Result<T>) -> Result<()> {
    match result {
        Ok(_) | Err(Error::UniqueViolation { .. }) => Ok(()),
        Err(error) => Err(error),
    }
}

/// The writes of commit `commit` (numbered from 1): puts, updates that move secondary keys,
/// removes and batches (some of which hit a unique violation halfway and are undone), then
/// the counter.
pub fn apply(txn: &LibraryWriteTransaction<'_>, seed: u64, commit: u64) -> Result<()> {
    let mut rng = Rng::new(seed, commit);
    {
        let mut authors = txn.authors()?;
        let mut books = txn.books()?;
        for _ in 0..1 + rng.below(3) {
            match rng.below(5) {
                // Single puts: inserts and replacements.
                0 => {
                    tolerate(authors.put(&author(&mut rng)))?;
                    books.put(&book(&mut rng, commit))?;
                }
                // Batches: all or nothing, so a violation in the middle undoes the batch.
                1 => {
                    let batch: Vec<Author> =
                        (0..2 + rng.below(6)).map(|_| author(&mut rng)).collect();
                    tolerate(authors.put_many(&batch))?;
                    let batch: Vec<Book> = (0..1 + rng.below(8))
                        .map(|_| book(&mut rng, commit))
                        .collect();
                    books.put_many(&batch)?;
                }
                // Updates that move secondary keys (unique and non-unique).
                2 => {
                    if let Some(mut a) = authors.get(rng.below(48))? {
                        a.name = format!("author-{}", rng.below(64));
                        a.country = COUNTRIES[rng.below(4) as usize].map(str::to_owned);
                        tolerate(authors.put(&a))?;
                    }
                    let isbn = format!("isbn-{:03}", rng.below(160));
                    if let Some(mut b) = books.get(isbn.as_str())? {
                        b.year = 1900 + rng.below(120) as i32;
                        b.author = rng.below(48);
                        b.available = !b.available;
                        books.put(&b)?;
                    }
                }
                // Removes, one and many.
                3 => {
                    authors.remove(rng.below(48))?;
                    let isbns: Vec<String> = (0..1 + rng.below(4))
                        .map(|_| format!("isbn-{:03}", rng.below(160)))
                        .collect();
                    books.remove_many(isbns.iter().map(String::as_str))?;
                }
                // A batch with a duplicate name inside it: always undone.
                _ => {
                    let a = author(&mut rng);
                    let mut b = author(&mut rng);
                    b.id = (a.id + 1) % 48;
                    b.name = a.name.clone();
                    let error = authors.put_many([a, b]).unwrap_err();
                    assert!(matches!(error, Error::UniqueViolation { .. }), "{error}");
                }
            }
        }
        books.put(&Book {
            isbn: COUNTER.to_owned(),
            title: String::new(),
            author: u64::MAX,
            year: commit as i32,
            available: false,
            tags: Vec::new(),
            cover: None,
        })?;
    }
    Ok(())
}

/// The number of commits a store holds (0 for a new one).
pub fn commits(txn: &netabase_tests::library::LibraryReadTransaction<'_>) -> Result<u64> {
    Ok(txn
        .books()?
        .get(COUNTER)?
        .map_or(0, |counter| counter.year as u64))
}
