//! Corruption and hostile files (issue 6, point 4): bytes flipped in a database file, values
//! and index entries damaged through redb, files that are not databases. Nothing panics; reads
//! return errors; `check_integrity()` names what is wrong.

use crate::raw;

use netabase_runtime::{Error, ProblemKind, Store};
use netabase_tests::library::{Author, Book, Library};
use netabase_tests::scalars::Scalars;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

type Result<T = ()> = std::result::Result<T, Error>;

const COUNTRIES: [Option<&str>; 3] = [None, Some("JP"), Some("FR")];

fn author(id: u64) -> Author {
    Author {
        id,
        name: format!("Author number {id}"),
        country: COUNTRIES[id as usize % 3].map(str::to_owned),
    }
}

pub(crate) fn book(n: u64) -> Book {
    Book {
        isbn: format!("isbn-{n:04}"),
        title: format!("Title of book {n}, "),
        author: n % 90,
        year: 1900 + (n % 120) as i32,
        available: n.is_multiple_of(2),
        tags: vec![format!("tag-{}", n % 7)],
        cover: n.is_multiple_of(5).then(|| vec![n as u8; 40]),
    }
}

pub(crate) const COMMITS: u64 = 3;
const AUTHORS_PER_COMMIT: u64 = 30;
const BOOKS_PER_COMMIT: u64 = 60;

/// The records after `commits` commits of [`write_database`].
pub(crate) fn state_after(commits: u64) -> (Vec<Author>, Vec<Book>) {
    (
        (0..commits * AUTHORS_PER_COMMIT).map(author).collect(),
        (0..commits * BOOKS_PER_COMMIT).map(book).collect(),
    )
}

/// A database of 90 authors and 180 books, written in three commits.
pub(crate) fn write_database(path: &Path) -> Result {
    let store = Store::<Library>::open(path)?;
    for commit in 0..COMMITS {
        let txn = store.begin_write()?;
        let authors = commit * AUTHORS_PER_COMMIT..(commit + 1) * AUTHORS_PER_COMMIT;
        txn.authors()?.put_many(authors.map(author))?;
        let books = commit * BOOKS_PER_COMMIT..(commit + 1) * BOOKS_PER_COMMIT;
        txn.books()?.put_many(books.map(book))?;
        txn.commit()?;
    }
    Ok(())
}

/// What one read path returned: records, and how many errors.
#[derive(Default)]
struct Reads {
    authors: Vec<Author>,
    books: Vec<Book>,
    errors: usize,
}

impl Reads {
    fn take<T>(&mut self, result: Result<T>) -> Option<T> {
        result.map_err(|_| self.errors += 1).ok()
    }
}

/// Reads everything through every read path: gets, scans, index lookups and index scans.
fn read_everything(store: &Store<Library>) -> Reads {
    let mut reads = Reads::default();
    let Some(txn) = reads.take(store.begin_read()) else {
        return reads;
    };
    if let Some(authors) = reads.take(txn.authors()) {
        if let Some(iter) = reads.take(authors.iter()) {
            for item in iter {
                if let Some(a) = reads.take(item) {
                    reads.authors.push(a);
                }
            }
        }
        for id in 0..COMMITS * AUTHORS_PER_COMMIT {
            reads.take(authors.get(id));
            reads.take(authors.get_by_name(&format!("Author number {id}")));
        }
        for country in ["JP", "FR"] {
            if let Some(iter) = reads.take(authors.by_country(country)) {
                iter.for_each(|item| drop(reads.take(item)));
            }
        }
        if let Some(iter) = reads.take(authors.range_by_name(..)) {
            iter.for_each(|item| drop(reads.take(item)));
        }
        reads.take(authors.len());
    }
    if let Some(books) = reads.take(txn.books()) {
        if let Some(iter) = reads.take(books.iter()) {
            for item in iter.rev() {
                if let Some(b) = reads.take(item) {
                    reads.books.push(b);
                }
            }
        }
        reads.books.reverse();
        for n in (0..COMMITS * BOOKS_PER_COMMIT).step_by(7) {
            reads.take(books.get(format!("isbn-{n:04}").as_str()));
        }
        if let Some(iter) = reads.take(books.range_by_year(..)) {
            iter.for_each(|item| drop(reads.take(item)));
        }
        for available in [false, true] {
            if let Some(iter) = reads.take(books.by_available(available)) {
                iter.for_each(|item| drop(reads.take(item)));
            }
        }
        if let Some(iter) = reads.take(books.by_author(7)) {
            iter.for_each(|item| drop(reads.take(item)));
        }
    }
    reads
}

/// What became of the flipped bytes, over many tries.
#[derive(Debug, Default)]
struct Outcomes {
    tried: usize,
    /// Opening failed with an error, by error.
    open_refused: std::collections::BTreeMap<String, usize>,
    /// At least one read returned an error (`Error::Decode`, a redb error...).
    read_errors: usize,
    /// The reads succeeded (with original or altered data) and `check_integrity` reported the
    /// damage.
    found_by_check: usize,
    /// The file opened as it was one or two commits earlier: redb's recovery rolled back a
    /// damaged last commit, and everything read is that earlier commit, exactly.
    rolled_back: usize,
    /// Reads returned the original data and the check found nothing: the byte was not in use.
    no_effect: usize,
    /// Reads returned altered data and the check found nothing (the test fails if any).
    undetected: Vec<String>,
    /// Panics (the test fails if any).
    panics: Vec<String>,
}

impl Outcomes {
    fn assert_safe(&self) {
        assert!(self.panics.is_empty(), "panics: {:#?}", self.panics);
        assert!(
            self.undetected.is_empty(),
            "undetected: {:#?}",
            self.undetected
        );
    }
}

/// Flips `mask` into byte `offset` of a fresh copy of `original`, opens it, reads everything
/// and checks it, recording what happened.
fn try_flip(
    original: &[u8],
    (offset, mask): (usize, u8),
    verify: bool,
    path: &Path,
    outcomes: &mut Outcomes,
) {
    let mut bytes = original.to_vec();
    bytes[offset] ^= mask;
    std::fs::write(path, &bytes).expect("write the copy");
    outcomes.tried += 1;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut store = match Store::<Library>::builder()
            .verify_on_open(verify)
            .open(path)
        {
            Ok(store) => store,
            Err(error) => return variant(&error),
        };
        let reads = read_everything(&store);
        let clean = store.check_integrity().is_ok_and(|r| r.is_clean());
        let read = (reads.authors, reads.books);
        let commit = (0..=COMMITS).rev().find(|&c| read == state_after(c));
        match (reads.errors > 0, clean, commit) {
            (true, ..) => "read errors",
            (false, false, _) => "found by check",
            (false, true, Some(COMMITS)) => "no effect",
            (false, true, Some(_)) => "rolled back",
            (false, true, None) => "undetected",
        }
    }));
    let at = format!("offset {offset} mask {mask:#04x}");
    match result {
        Ok(name) if name.starts_with("Error::") => {
            *outcomes.open_refused.entry(name.to_owned()).or_default() += 1;
        }
        Ok("read errors") => outcomes.read_errors += 1,
        Ok("found by check") => outcomes.found_by_check += 1,
        Ok("rolled back") => outcomes.rolled_back += 1,
        Ok("no effect") => outcomes.no_effect += 1,
        Ok(_) => outcomes.undetected.push(at),
        Err(panic) => outcomes.panics.push(format!(
            "{at}: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(not a string)")
        )),
    }
}

/// The name of an error's variant, for the figures.
fn variant(error: &Error) -> &'static str {
    match error {
        Error::Corrupted { .. } => "Error::Corrupted",
        Error::NotADatabase { .. } => "Error::NotADatabase",
        Error::Database(_) => "Error::Database",
        Error::Storage(_) => "Error::Storage",
        Error::Io { .. } => "Error::Io",
        Error::Decode { .. } => "Error::Decode",
        Error::SchemaMismatch { .. } => "Error::SchemaMismatch",
        _ => "Error::(other)",
    }
}

/// The offsets of every occurrence of `needle` in `haystack`.
fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// A database file, its bytes, and where a copy goes.
fn original() -> Result<(tempfile::TempDir, Vec<u8>, std::path::PathBuf)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("original.redb");
    write_database(&path)?;
    let bytes = std::fs::read(&path).expect("read the file");
    Ok((dir, bytes, path.with_file_name("flipped.redb")))
}

/// Flips in the stored bytes of records and keys, found in the file by their encodings, with a
/// plain open: redb's pages are intact around them, so every read either decodes, or is an
/// error, and `check_integrity` (redb's checksums, then netabase's invariants) reports it.
#[test]
fn flipped_bytes_in_values_and_keys_are_errors_not_panics() -> Result {
    let started = std::time::Instant::now();
    let (_dir, original, path) = original()?;
    let (authors, books) = state_after(COMMITS);
    let mut places = Vec::new();
    for a in &authors {
        let (mut key, mut value) = (Vec::new(), Vec::new());
        netabase_runtime::Model::encode_primary_key(a, &mut key);
        netabase_runtime::Model::encode(a, &mut value);
        for at in find_all(&original, &value) {
            places.push((at, value.len()));
        }
        let _ = key;
    }
    for b in &books {
        let (mut key, mut value) = (Vec::new(), Vec::new());
        netabase_runtime::Model::encode_primary_key(b, &mut key);
        netabase_runtime::Model::encode(b, &mut value);
        for (at, len) in find_all(&original, &value)
            .into_iter()
            .map(|at| (at, value.len()))
            .chain(
                find_all(&original, &key)
                    .into_iter()
                    .map(|at| (at, key.len())),
            )
        {
            places.push((at, len));
        }
    }
    assert!(places.len() >= authors.len() + books.len());
    let mut rng = fastrand::Rng::with_seed(4);
    let mut outcomes = Outcomes::default();
    for _ in 0..FLIPS_PER_TEST {
        let (at, len) = places[rng.usize(..places.len())];
        let flip = (at + rng.usize(..len), 1 << rng.u8(0..8));
        try_flip(&original, flip, false, &path, &mut outcomes);
    }
    println!(
        "reliability figures: {} flips in values and keys ({:.1?}): {outcomes:?}",
        outcomes.tried,
        started.elapsed()
    );
    outcomes.assert_safe();
    Ok(())
}

const FLIPS_PER_TEST: usize = 300;

/// Flip number `i` of a run that damages bytes anywhere: in turn within a page of a live record
/// (`live` holds their offsets), in the header and first pages where redb keeps its roots, and
/// anywhere in a file of `len` bytes. Returns the offset and a non-zero XOR mask.
fn flip_anywhere(rng: &mut fastrand::Rng, i: usize, live: &[usize], len: usize) -> (usize, u8) {
    let offset = match i % 3 {
        0 => (live[rng.usize(..live.len())] + rng.usize(..4096)).saturating_sub(2048),
        1 => rng.usize(..8192),
        _ => rng.usize(..len),
    };
    (offset.min(len - 1), rng.u8(1..))
}

/// Flips anywhere in the file, near live records, in the header, at random, with
/// [`verify_on_open`](netabase_runtime::StoreBuilder::verify_on_open): a damaged file is refused,
/// rolled back to a commit that verifies, or the flip did not touch anything in use. Nothing
/// panics and nothing altered goes unnoticed.
#[test]
fn flipped_bytes_anywhere_are_refused_when_verified_on_open() -> Result {
    let started = std::time::Instant::now();
    let (_dir, original, path) = original()?;
    let live = find_all(&original, b"Title of book ");
    let mut rng = fastrand::Rng::with_seed(6);
    let mut outcomes = Outcomes::default();
    for i in 0..FLIPS_PER_TEST {
        let flip = flip_anywhere(&mut rng, i, &live, original.len());
        try_flip(&original, flip, true, &path, &mut outcomes);
    }
    println!(
        "reliability figures: {} flips anywhere, verified on open, in a {} byte file ({:.1?}): {outcomes:?}",
        outcomes.tried,
        original.len(),
        started.elapsed()
    );
    outcomes.assert_safe();
    Ok(())
}

/// Not a test of netabase: measures how often redb panics when a damaged file is opened
/// *without* verification and read (the reason `verify_on_open` exists). Run with
/// `cargo test -p netabase-tests --test it reliability_corruption -- --ignored --nocapture`.
#[test]
#[ignore = "measures redb's behaviour on unverified damaged files; see docs/RELIABILITY.md"]
fn measure_unverified_opens_of_damaged_files() -> Result {
    let (_dir, original, path) = original()?;
    let live = find_all(&original, b"Title of book ");
    let mut rng = fastrand::Rng::with_seed(6);
    let mut outcomes = Outcomes::default();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for i in 0..FLIPS_PER_TEST {
        let flip = flip_anywhere(&mut rng, i, &live, original.len());
        try_flip(&original, flip, false, &path, &mut outcomes);
    }
    std::panic::set_hook(hook);
    println!(
        "unverified: {} flips anywhere: {} panics in redb; {outcomes:?}",
        outcomes.tried,
        outcomes.panics.len()
    );
    Ok(())
}

/// Files that are not this definition's database: clear errors, and nothing is written.
#[test]
fn hostile_files_are_clear_errors() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = fastrand::Rng::with_seed(7);
    let garbage: Vec<u8> = (0..20_000).map(|_| rng.u8(..)).collect();
    // (An existing empty file is not hostile: like redb's `create`, `open` makes it a new
    // database; see store.rs's `an_existing_empty_file_becomes_a_database...`.)
    let cases: [(&str, Vec<u8>); 4] = [
        ("text", b"name,country\nUrsula,US\n".repeat(300)),
        ("random", garbage),
        ("zeros", vec![0; 64 * 1024]),
        ("short", b"redb".to_vec()),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).expect("write");
        let error = Store::<Library>::open(&path).err().expect(name);
        assert!(
            matches!(error, Error::NotADatabase { .. }),
            "{name}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("is not a netabase database") && message.contains(name),
            "{message}"
        );
        assert!(
            std::fs::read(&path).expect("read") == bytes,
            "{name} was changed"
        );
    }

    // A netabase database of another definition.
    let (_original_dir, original, _) = original()?;
    let other = dir.path().join("library.redb");
    std::fs::write(&other, &original).expect("write");
    let error = Store::<Scalars>::open(&other)
        .err()
        .expect("another definition");
    assert!(matches!(error, Error::SchemaMismatch { .. }), "{error:?}");
    assert!(error.to_string().contains("`Library` version 1"), "{error}");
    // The file is still the other definition's, with all its records.
    let store = Store::<Library>::open(&other)?;
    assert_eq!(store.len::<Book>()?, COMMITS * BOOKS_PER_COMMIT);
    drop(store);

    // Truncated copies of a database: refused with an error, never a panic.
    let truncated = dir.path().join("truncated.redb");
    let mut refused = 0;
    for len in [
        0,
        1,
        100,
        511,
        512,
        4096,
        8191,
        original.len() / 2,
        original.len() - 1,
    ] {
        std::fs::write(&truncated, &original[..len]).expect("write");
        let opened = catch_unwind(AssertUnwindSafe(|| {
            Store::<Library>::builder()
                .create_if_missing(false)
                .open(&truncated)
                .map(|_| ())
        }))
        .unwrap_or_else(|_| panic!("opening a database truncated to {len} bytes panicked"));
        if let Err(error) = opened {
            refused += 1;
            assert!(
                matches!(
                    error,
                    Error::NotADatabase { .. } | Error::Corrupted { .. } | Error::Io { .. }
                ),
                "{len}: {error:?}"
            );
        }
    }
    println!(
        "reliability figures: 5 foreign files, 1 other definition, {refused} of 9 truncations refused"
    );
    Ok(())
}

/// Writes raw bytes into a netabase file through redb (`None` removes the key).
fn raw_write(path: &Path, table: &str, key: &[u8], value: Option<&[u8]>) {
    let db = redb::Database::open(path).expect("open raw");
    let txn = db.begin_write().expect("begin");
    raw::raw_put(&txn, table, key, value);
    txn.commit().expect("commit");
}

fn key_of<K: netabase_runtime::codec::KeyPart + ?Sized>(key: &K) -> Vec<u8> {
    let mut out = Vec::new();
    key.encode_key(&mut out);
    out
}

/// What a problem must look like: a name for the message, its table, a text in its record
/// description (empty: any), and its kind.
type Expected<'a> = (&'a str, &'a str, &'a str, &'a dyn Fn(&ProblemKind) -> bool);

/// Damage that passes redb's checksums (written through redb) but breaks netabase's rules:
/// `check_integrity` names each bad record and entry, and reads fail cleanly.
#[test]
fn check_integrity_names_the_bad_records() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("damaged.redb");
    write_database(&path)?;
    {
        let mut store = Store::<Library>::open(&path)?;
        let report = store.check_integrity()?;
        assert!(report.is_clean(), "{report}");
        assert_eq!(
            (report.records_checked(), report.index_entries_checked()),
            // Authors: name, country; books: author, year, available and one tag each.
            (270, 90 + 60 + 4 * 180)
        );
    }
    let encode = |model: &dyn Fn(&mut Vec<u8>)| {
        let mut out = Vec::new();
        model(&mut out);
        out
    };
    // 1. Author 2 does not decode: its name claims 2^62 bytes.
    raw_write(
        &path,
        "Library/Author",
        &key_of(&2u64),
        Some(&[2, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0x40]),
    );
    // 2. Book isbn-0003's record is also stored under isbn-9999.
    let book3 = encode(&|out| netabase_runtime::Model::encode(&book(3), out));
    raw_write(&path, "Library/Book", &key_of("isbn-9999"), Some(&book3));
    // 3. A name entry pointing to an author that does not exist.
    raw_write(
        &path,
        "Library/Author/name",
        &key_of("Ghost"),
        Some(&key_of(&999u64)),
    );
    // 4. A year entry for isbn-0005 under the wrong year.
    let isbn5 = key_of("isbn-0005");
    let mut stale = key_of(&1800i32);
    stale.extend_from_slice(&isbn5);
    raw_write(&path, "Library/Book/year", &stale, Some(&isbn5));
    // 5. Author 5's name entry is gone.
    raw_write(
        &path,
        "Library/Author/name",
        &key_of("Author number 5"),
        None,
    );
    // 6. Author 200 has author 7's unique name (written without its index entries).
    let mut twin = author(200);
    twin.name = author(7).name;
    let twin_bytes = encode(&|out| netabase_runtime::Model::encode(&twin, out));
    raw_write(&path, "Library/Author", &key_of(&200u64), Some(&twin_bytes));
    // 7. A non-unique entry whose key does not end with its value.
    raw_write(
        &path,
        "Library/Book/available",
        &key_of(&true),
        Some(&isbn5),
    );
    // 7b. A non-unique entry over a fixed-width primary key (stored as the key's tail, with an
    // empty value) whose key is too short to hold one.
    raw_write(&path, "Library/Author/country", &key_of("x"), Some(&[]));
    // 8. A table of no model.
    {
        let db = redb::Database::open(&path).expect("open raw");
        let txn = db.begin_write().expect("begin");
        txn.open_table(redb::TableDefinition::<u64, u64>::new("stray"))
            .expect("table")
            .insert(1, 1)
            .expect("insert");
        txn.commit().expect("commit");
    }

    let mut store = Store::<Library>::open(&path)?;
    assert!(matches!(store.get::<Author>(2), Err(Error::Decode { .. })));
    let report = store.check_integrity()?;
    println!("{report}");
    assert!(!report.is_clean());
    let found = |table: &str, record: &str, kind: &dyn Fn(&ProblemKind) -> bool| {
        report.problems().iter().any(|p| {
            p.table == table
                && p.record.as_deref().is_some_and(|r| r.contains(record))
                && kind(&p.kind)
        })
    };
    assert!(
        store
            .begin_read()?
            .authors()?
            .by_country("x")?
            .any(|item| item.is_err()),
        "a short entry is an error when read"
    );
    let checks: [Expected; 9] = [
        (
            "undecodable",
            "Library/Author",
            "(2)",
            &|k| matches!(k, ProblemKind::UndecodableRecord(e) if e.to_string().contains("exceeds")),
        ),
        ("wrong key", "Library/Book", "isbn-9999", &|k| {
            matches!(k, ProblemKind::WrongPrimaryKey { .. })
        }),
        ("dangling", "Library/Author/name", "(999)", &|k| {
            matches!(k, ProblemKind::DanglingEntry)
        }),
        (
            "stale",
            "Library/Book/year",
            "isbn-0005",
            &|k| matches!(k, ProblemKind::StaleEntry { field: "year", value } if value == "1905"),
        ),
        ("missing", "Library/Author/name", "(5)", &|k| {
            matches!(k, ProblemKind::MissingEntry { field: "name", .. })
        }),
        (
            "duplicate",
            "Library/Author/name",
            "(200)",
            &|k| matches!(k, ProblemKind::DuplicateUnique { field: "name", other, .. } if other.contains("(7)")),
        ),
        ("malformed", "Library/Book/available", "", &|k| {
            matches!(k, ProblemKind::MalformedEntry(_))
        }),
        ("malformed tail", "Library/Author/country", "", &|k| {
            matches!(k, ProblemKind::MalformedEntry(_))
        }),
        ("unknown table", "stray", "", &|k| {
            matches!(k, ProblemKind::UnknownTable)
        }),
    ];
    for (what, table, record, kind) in checks {
        let matched = if record.is_empty() {
            report
                .problems()
                .iter()
                .any(|p| p.table == table && kind(&p.kind))
        } else {
            found(table, record, kind)
        };
        assert!(matched, "{what} not reported:\n{report}");
    }
    // The report names the bad record in its text too.
    assert!(
        report.to_string().contains("Author AuthorPrimaryKey(2)"),
        "{report}"
    );
    Ok(())
}

/// A read tree opens an index table on its first use, not when the tree opens: with the
/// `Book/year` index table gone, every other read of books works, and only a lookup by year
/// fails, with an error that names the missing table.
#[test]
fn a_read_tree_opens_an_index_table_only_when_a_lookup_uses_it() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("library.redb");
    write_database(&path)?;
    {
        let db = redb::Database::open(&path).expect("open raw");
        let txn = db.begin_write().expect("begin");
        let deleted = txn
            .delete_table(redb::TableDefinition::<&[u8], &[u8]>::new(
                "Library/Book/year",
            ))
            .expect("delete");
        assert!(deleted, "the year index existed");
        txn.commit().expect("commit");
    }
    let store = Store::<Library>::open(&path)?;
    let txn = store.begin_read()?;
    let books = txn.books()?;
    assert_eq!(books.get("isbn-0001")?, Some(book(1)));
    let by_author: Vec<String> = books
        .by_author(1)?
        .map(|b| b.map(|b| b.isbn))
        .collect::<Result<_>>()?;
    assert_eq!(by_author, ["isbn-0001", "isbn-0091"]);
    let error = books.by_year(1901).err().expect("the year index is gone");
    assert!(
        matches!(
            &error,
            Error::Storage(_) | Error::Table(_) | Error::Inconsistent { .. }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("Library/Book/year"), "{error}");
    Ok(())
}
