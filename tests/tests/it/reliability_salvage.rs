//! Salvage (issue 14, point 2): `netabase_runtime::recover` copies what can still be read out
//! of a damaged file into a new, consistent database and reports what was lost.

use netabase_runtime::{Error, RecoveryReport, Store, recover};
use netabase_tests::library::{Author, Book, Library};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Result<T = ()> = std::result::Result<T, Error>;

const PAGE: usize = 4096;
const AUTHORS: u64 = 300;
const BOOKS: u64 = 3000;

fn author(id: u64) -> Author {
    Author {
        id,
        name: format!("Author number {id}"),
        country: ["JP", "FR", "NZ"]
            .get(id as usize % 4)
            .map(|c| (*c).to_owned()),
    }
}

fn book(n: u64) -> Book {
    Book {
        isbn: format!("isbn-{n:05}"),
        // The title is in no index: where it occurs in the file, the record is.
        title: format!("Title of book {n}, "),
        author: n % AUTHORS,
        year: 1900 + (n % 120) as i32,
        available: n.is_multiple_of(3),
        tags: vec![format!("tag-{}", n % 11)],
        cover: None,
    }
}

fn write_large(path: &Path) -> Result {
    let store = Store::<Library>::open(path)?;
    let txn = store.begin_write()?;
    txn.authors()?.put_many((0..AUTHORS).map(author))?;
    txn.books()?.put_many((0..BOOKS).map(book))?;
    txn.commit()
}

const TITLE: &[u8] = b"Title of book ";

/// For each book number, the pages (by number) holding a copy of its title, found in one pass
/// over the file.
fn title_pages(bytes: &[u8]) -> BTreeMap<u64, BTreeSet<usize>> {
    let mut pages: BTreeMap<u64, BTreeSet<usize>> = BTreeMap::new();
    for (at, _) in bytes
        .windows(TITLE.len())
        .enumerate()
        .filter(|(_, w)| *w == TITLE)
    {
        let digits = &bytes[at + TITLE.len()..];
        let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits.get(len) == Some(&b',')
            && let Some(n) = std::str::from_utf8(&digits[..len])
                .ok()
                .and_then(|d| d.parse().ok())
        {
            pages.entry(n).or_default().insert(at / PAGE);
        }
    }
    pages
}

fn all_records(store: &Store<Library>) -> Result<(Vec<Author>, Vec<Book>)> {
    let txn = store.begin_read()?;
    let authors = txn.authors()?.iter()?.collect::<Result<Vec<_>>>()?;
    let books = txn.books()?.iter()?.collect::<Result<Vec<_>>>()?;
    Ok((authors, books))
}

/// Damages `k` pages that hold book records (zeroed or random bytes), recovers, and requires:
/// the rescued file is clean; it holds every record none of whose copies were on a damaged
/// page, each exactly as written, and nothing else; the report counts what was lost.
#[test]
fn recover_rescues_every_record_not_on_a_damaged_page() -> Result {
    damage_and_salvage("recover", |damaged, rescued| {
        recover::<Library>(damaged, rescued)
    })
}

/// The same damage, salvaged without the schema (`recover_file`, what `netabase recover`
/// runs): the same guarantees once the library's program has opened the rescued file (which
/// builds its indexes), with 6 damaged pages too (it reads the index tables by their stored
/// layout and looks up the records they point to, as `recover` does).
#[test]
fn recover_file_rescues_every_record_not_on_a_damaged_page_without_the_schema() -> Result {
    damage_and_salvage("recover_file", |damaged, rescued| {
        let report = netabase_runtime::recover_file(damaged, rescued)?;
        assert_eq!(report.models[1].undecodable, 0);
        Ok(report)
    })
}

/// Damages `k` pages holding book records for k in 1, 3, 6, runs `salvage(damaged, rescued)`
/// and checks the rescued file and the report, and that it holds every book with no copy on a
/// damaged page.
fn damage_and_salvage(
    name: &str,
    salvage: impl Fn(&Path, &Path) -> Result<RecoveryReport>,
) -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let original = dir.path().join("original.redb");
    write_large(&original)?;
    let bytes = std::fs::read(&original).expect("read");
    let mut rng = fastrand::Rng::with_seed(2);
    let mut figures = Vec::new();
    let titles = title_pages(&bytes);
    assert_eq!(titles.len() as u64, BOOKS);
    for (round, k) in [1usize, 3, 6].into_iter().enumerate() {
        let book_pages: Vec<usize> = titles
            .values()
            .flatten()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut damaged_pages = BTreeSet::new();
        while damaged_pages.len() < k {
            damaged_pages.insert(book_pages[rng.usize(..book_pages.len())]);
        }
        let mut damaged_bytes = bytes.clone();
        for &page in &damaged_pages {
            let range = page * PAGE..(page + 1) * PAGE;
            if rng.bool() {
                damaged_bytes[range].fill(0);
            } else {
                damaged_bytes[range]
                    .iter_mut()
                    .for_each(|b| *b = rng.u8(..));
            }
        }
        let damaged = dir.path().join(format!("damaged-{round}.redb"));
        let rescued = dir.path().join(format!("rescued-{round}.redb"));
        std::fs::write(&damaged, &damaged_bytes).expect("write");

        let report = salvage(&damaged, &rescued)?;

        assert_eq!(
            std::fs::read(&damaged).expect("read"),
            damaged_bytes,
            "recover left the damaged file as it was"
        );
        let mut store = Store::<Library>::open(&rescued)?;
        let check = store.check_integrity()?;
        assert!(check.is_clean(), "rescued file: {check:?}");
        let (authors, books) = all_records(&store)?;
        // Nothing invented: every rescued record is one that was written.
        assert!(authors.iter().all(|a| *a == author(a.id)));
        assert!(books.iter().all(|b| {
            let n: u64 = b.isbn[5..].parse().expect("isbn");
            *b == book(n)
        }));
        // Every record with no copy on a damaged page is rescued.
        let rescued_books: BTreeSet<&str> = books.iter().map(|b| b.isbn.as_str()).collect();
        let mut expected = 0;
        for n in 0..BOOKS {
            let pages = &titles[&n];
            if pages.is_disjoint(&damaged_pages) {
                expected += 1;
                assert!(
                    rescued_books.contains(book(n).isbn.as_str()),
                    "{name}, round {round}: book {n} (on pages {pages:?}, damaged {damaged_pages:?}) was not rescued"
                );
            }
        }
        assert_eq!(authors.len() as u64, AUTHORS, "no author page was damaged");
        assert_eq!((report.definition.as_str(), report.version), ("Library", 1));
        assert!(report.metadata_readable);
        let (authors_report, books_report) = (&report.models[0], &report.models[1]);
        assert_eq!(
            (authors_report.model.as_str(), books_report.model.as_str()),
            ("Author", "Book")
        );
        assert_eq!(books_report.rescued, books.len() as u64);
        assert_eq!(books_report.expected, Some(BOOKS));
        assert_eq!(books_report.lost(), Some(BOOKS - books.len() as u64));
        assert_eq!(authors_report.lost(), Some(0));
        // Every index answers as the records say (check_integrity compared them too).
        let txn = store.begin_read()?;
        let by_year = txn
            .books()?
            .range_by_year(1950..=1950)?
            .collect::<Result<Vec<_>>>()?;
        let of_1950: Vec<Book> = books.iter().filter(|b| b.year == 1950).cloned().collect();
        assert_eq!(by_year, of_1950);
        figures.push(format!(
            "{k} damaged pages: {} of {BOOKS} books rescued ({expected} not on a damaged page, \
             all rescued), {} damaged reads",
            books.len(),
            books_report.damaged_reads
        ));
    }
    println!(
        "reliability figures: {name} on a {} byte file: {figures:?}",
        bytes.len()
    );
    Ok(())
}

/// A healthy file is rescued whole, and `recover` never overwrites a file.
#[test]
fn recover_of_a_healthy_file_is_complete_and_refuses_to_overwrite() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let original = dir.path().join("original.redb");
    {
        let store = Store::<Library>::open(&original)?;
        let txn = store.begin_write()?;
        txn.authors()?.put_many((0..20).map(author))?;
        txn.books()?.put_many((0..50).map(book))?;
        txn.commit()?;
    }
    let rescued = dir.path().join("rescued.redb");
    let report = recover::<Library>(&original, &rescued)?;
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.rescued(), 70);
    let expected = all_records(&Store::open(&original)?)?;
    assert_eq!(all_records(&Store::open(&rescued)?)?, expected);
    let again = recover::<Library>(&original, &rescued);
    assert!(
        matches!(&again, Err(Error::Io { context, .. }) if context.contains("exists")),
        "{again:?}"
    );
    Ok(())
}
