//! Damaged files with the default open (issue 14, point 1): whole pages zeroed, filled with
//! random bytes or copied from elsewhere in the file, truncated files, damaged headers. Each
//! file is opened with `Store::open`, read through every table and every index, and checked.
//! No panic may escape a netabase call: redb's panics on damaged pages are contained and
//! become `Error::Corrupted`.

use crate::reliability_corruption::{COMMITS, state_after, write_database};
use netabase_runtime::{Error, Store};
use netabase_tests::library::{Author, Book, Library};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Once;

type Result<T = ()> = std::result::Result<T, Error>;

/// redb's page size.
const PAGE: usize = 4096;
/// Damaged files per kind of damage.
const FILES_PER_KIND: usize = 200;

thread_local! {
    /// Whether panics on this thread are counted silently (the damage test's thread) instead of
    /// printed: thousands of contained redb panics would bury the test output.
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// Panics seen on this thread while quiet: contained ones and escaped ones alike.
    static PANICS: Cell<usize> = const { Cell::new(0) };
    /// The last panic's message and place, to name an escaped one.
    static LAST: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Installs, once, a panic hook that counts the panics of quiet threads and hands every other
/// panic to the previous hook (other tests' failures print as before).
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                PANICS.with(|count| count.set(count.get() + 1));
                LAST.with(|last| *last.borrow_mut() = info.to_string());
            } else {
                previous(info);
            }
        }));
    });
}

/// The kinds of damage, each applied to a fresh copy of the original file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Damage {
    ZeroedPage,
    RandomPage,
    DuplicatedPage,
    Truncated,
    Header,
    ThreePagesMixed,
}

const KINDS: [Damage; 6] = [
    Damage::ZeroedPage,
    Damage::RandomPage,
    Damage::DuplicatedPage,
    Damage::Truncated,
    Damage::Header,
    Damage::ThreePagesMixed,
];

fn fill_page(bytes: &mut [u8], page: usize, rng: &mut fastrand::Rng, how: u8) {
    let range = page * PAGE..((page + 1) * PAGE).min(bytes.len());
    match how {
        0 => bytes[range].fill(0),
        1 => bytes[range].iter_mut().for_each(|b| *b = rng.u8(..)),
        _ => {
            let from = rng.usize(..bytes.len() / PAGE) * PAGE;
            let copy = bytes[from..from + range.len()].to_vec();
            bytes[range].copy_from_slice(&copy);
        }
    }
}

/// Applies one damage of kind `kind` to `bytes`.
fn damage(bytes: &mut Vec<u8>, kind: Damage, rng: &mut fastrand::Rng) {
    let pages = bytes.len() / PAGE;
    match kind {
        Damage::ZeroedPage => fill_page(bytes, rng.usize(..pages), rng, 0),
        Damage::RandomPage => fill_page(bytes, rng.usize(..pages), rng, 1),
        Damage::DuplicatedPage => fill_page(bytes, rng.usize(..pages), rng, 2),
        Damage::Truncated => {
            // Half at page boundaries, half anywhere.
            let len = if rng.bool() {
                rng.usize(..pages) * PAGE
            } else {
                rng.usize(..bytes.len())
            };
            bytes.truncate(len);
        }
        Damage::Header => {
            // redb's header and its two commit slots live in the first page.
            let start = rng.usize(..PAGE);
            let len = rng.usize(1..=64).min(PAGE - start);
            for b in &mut bytes[start..start + len] {
                *b = if rng.bool() { 0 } else { rng.u8(..) };
            }
        }
        Damage::ThreePagesMixed => {
            for _ in 0..3 {
                let how = rng.u8(..3);
                fill_page(bytes, rng.usize(..pages), rng, how);
            }
        }
    }
}

/// Reads every record through every table and every index; returns what the record scans
/// returned and how many calls failed (and how many of those were `Error::Corrupted`).
#[derive(Default)]
struct Read {
    authors: Vec<Author>,
    books: Vec<Book>,
    errors: usize,
    corrupted: usize,
    /// Errors saying a table's entries came out of key order (a cycle in its pages).
    out_of_order: usize,
    /// Items an iterator yielded after an error (must stay 0).
    unfused: usize,
}

impl Read {
    fn take<T>(&mut self, result: Result<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.errors += 1;
                if matches!(error, Error::Corrupted { .. }) {
                    self.corrupted += 1;
                }
                if error.to_string().contains("come out of key order") {
                    self.out_of_order += 1;
                }
                None
            }
        }
    }

    /// Reads `iter` to its end, keeping the records that read. An iterator is fused after an
    /// error (that is what makes every iteration over a damaged file end): an item after an
    /// `Err` is counted in `unfused`, which fails the test.
    fn drain<T>(&mut self, iter: Result<impl Iterator<Item = Result<T>>>) -> Vec<T> {
        let mut out = Vec::new();
        if let Some(mut iter) = self.take(iter) {
            while let Some(item) = iter.next() {
                match self.take(item) {
                    Some(item) => out.push(item),
                    None if iter.next().is_some() => self.unfused += 1,
                    None => break,
                }
            }
        }
        out
    }
}

fn read_fully(store: &Store<Library>) -> Read {
    let mut read = Read::default();
    let Some(txn) = read.take(store.begin_read()) else {
        return read;
    };
    if let Some(authors) = read.take(txn.authors()) {
        read.authors = read.drain(authors.iter());
        read.drain(authors.range_by_name(..));
        read.drain(authors.range_by_country(..));
        read.drain(authors.iter().map(Iterator::rev));
        read.drain(authors.range_by_name(..).map(Iterator::rev));
        // Zero-copy: views decoded from the guards the iterators yield (a damaged value is an
        // `Err` from `view`, never a panic).
        for guard in read.drain(authors.iter_ref().map(Iterator::rev)) {
            read.take(guard.view());
        }
        for guard in read.drain(authors.range_by_country_ref(..)) {
            read.take(guard.view());
        }
        for id in (0..90).step_by(3) {
            read.take(authors.get(id));
        }
        read.take(authors.get_by_name("Author number 5"));
        read.take(authors.len());
    }
    if let Some(books) = read.take(txn.books()) {
        read.books = read.drain(books.iter());
        read.drain(books.range_by_author(..));
        read.drain(books.range_by_year(..));
        read.drain(books.range_by_available(..));
        read.drain(books.range_by_tags(..));
        read.drain(books.iter().map(Iterator::rev));
        read.drain(books.range_by_year(..).map(Iterator::rev));
        for guard in read.drain(books.iter_ref()) {
            read.take(guard.view());
        }
        read.take(books.get("isbn-0007"));
        read.take(books.len());
    }
    read
}

/// Counts over all the damaged files.
#[derive(Debug, Default)]
struct Totals {
    /// `Error::Corrupted` returned by reads.
    corrupted: usize,
    /// Errors for entries out of key order.
    out_of_order: usize,
    /// Items yielded after an error (must stay 0).
    unfused: usize,
}

/// What one damaged file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// `open` returned an error.
    Refused,
    /// At least one read returned an error.
    ReadErrors,
    /// Reads succeeded and `check_integrity` reported the damage.
    FoundByCheck,
    /// Reads returned exactly the data of the last commit or an earlier one, check clean: the
    /// damaged bytes were not in use, or redb rolled back to an intact commit.
    Intact,
    /// Reads returned altered data and the check found nothing (fails the test).
    Undetected,
}

fn try_file(bytes: &[u8], path: &Path, totals: &mut Totals) -> Outcome {
    std::fs::write(path, bytes).expect("write the damaged copy");
    let mut store = match Store::<Library>::open(path) {
        Ok(store) => store,
        Err(_) => return Outcome::Refused,
    };
    let read = read_fully(&store);
    totals.corrupted += read.corrupted;
    totals.out_of_order += read.out_of_order;
    totals.unfused += read.unfused;
    let clean = store.check_integrity().is_ok_and(|r| r.is_clean());
    // A second look after the check: a poisoned store must refuse, not panic.
    if let Ok(txn) = store.begin_read()
        && let Ok(books) = txn.books()
    {
        books.iter().map(|iter| iter.count()).ok();
    }
    // And a write: a put that moves index entries, a removal, a commit (errors are fine).
    let _ = (|| {
        let txn = store.begin_write()?;
        {
            let mut books = txn.books()?;
            books.put(&crate::reliability_corruption::book(7_000))?;
            books.remove("isbn-0008")?;
        }
        txn.commit()
    })();
    let data = (read.authors, read.books);
    let intact = (0..=COMMITS).any(|c| data == state_after(c));
    match (read.errors > 0, clean, intact) {
        (true, ..) => Outcome::ReadErrors,
        (false, false, _) => Outcome::FoundByCheck,
        (false, true, true) => Outcome::Intact,
        (false, true, false) => Outcome::Undetected,
    }
}

/// A directory in memory where there is one (`/dev/shm`): every open of a damaged copy writes
/// and syncs it, which a disk makes slow.
fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("temp dir")
}

/// How long one damaged file may take (open, full read, check, write) before the test fails
/// naming it: a few milliseconds each in a debug build, so only an iteration that never ends
/// reaches it. A watchdog, not a measurement: it turns a hang into a failure.
const PER_FILE_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// What the thread trying the damaged files reports to the test's thread.
enum Report {
    Trying(Damage, usize),
    Tried(Damage, std::result::Result<Outcome, String>),
    Finished {
        panics_in_redb: usize,
        totals: Totals,
    },
}

/// Damages `FILES_PER_KIND` copies of `original` per kind, tries each, and reports to `tx`.
fn try_damaged_files(original: &[u8], dir: &Path, tx: &std::sync::mpsc::Sender<Report>) {
    install_quiet_hook();
    let path = dir.join("damaged.redb");
    let mut rng = fastrand::Rng::with_seed(14);
    let mut totals = Totals::default();
    QUIET.with(|q| q.set(true));
    PANICS.with(|p| p.set(0));
    for kind in KINDS {
        for i in 0..FILES_PER_KIND {
            let mut bytes = original.to_vec();
            damage(&mut bytes, kind, &mut rng);
            let _ = tx.send(Report::Trying(kind, i));
            let result = catch_unwind(AssertUnwindSafe(|| try_file(&bytes, &path, &mut totals)))
                .map_err(|_| format!("{kind:?} #{i}: {}", LAST.with(|last| last.borrow().clone())));
            let _ = tx.send(Report::Tried(kind, result));
        }
    }
    QUIET.with(|q| q.set(false));
    let _ = tx.send(Report::Finished {
        panics_in_redb: PANICS.with(Cell::get),
        totals,
    });
}

#[test]
fn damaged_files_opened_with_defaults_never_panic() -> Result {
    let started = std::time::Instant::now();
    let dir = scratch_dir();
    let original_path = dir.path().join("original.redb");
    write_database(&original_path)?;
    let original = std::fs::read(&original_path).expect("read the file");
    let mut outcomes: BTreeMap<(Damage, Outcome), usize> = BTreeMap::new();
    let mut escaped = Vec::new();
    // The files are tried on a thread of their own, so that a file whose reading never ends
    // fails this test (naming the damage) instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = {
        let (original, dir) = (original.clone(), dir.path().to_path_buf());
        std::thread::spawn(move || try_damaged_files(&original, &dir, &tx))
    };
    let mut trying = None;
    let (panics_in_redb, totals) = loop {
        match rx.recv_timeout(PER_FILE_LIMIT) {
            Ok(Report::Trying(kind, i)) => trying = Some((kind, i)),
            Ok(Report::Tried(kind, Ok(outcome))) => {
                *outcomes.entry((kind, outcome)).or_default() += 1
            }
            Ok(Report::Tried(_, Err(panic))) => escaped.push(panic),
            Ok(Report::Finished {
                panics_in_redb,
                totals,
            }) => break (panics_in_redb, totals),
            Err(_) => panic!(
                "damaged file {trying:?} (kind, number; seed 14) was not done within \
                 {PER_FILE_LIMIT:?}: a call over it does not end"
            ),
        }
    };
    worker.join().expect("the worker thread reports its panics");
    let files = KINDS.len() * FILES_PER_KIND;
    println!(
        "reliability figures: {files} damaged files ({} byte original, {} pages), default open, \
         read fully (forward and reverse) and checked in {:.1?}: {} panics inside redb contained, \
         {} Error::Corrupted returned by reads ({} of them for entries out of key order), {} \
         escaped, 0 hung, {} items after an error; outcomes {outcomes:?}",
        original.len(),
        original.len() / PAGE,
        started.elapsed(),
        panics_in_redb - escaped.len(),
        totals.corrupted,
        totals.out_of_order,
        escaped.len(),
        totals.unfused,
    );
    assert!(files >= 1000);
    assert_eq!(totals.unfused, 0, "an iterator went on after an error");
    assert!(escaped.is_empty(), "panics escaped: {escaped:#?}");
    let undetected: Vec<_> = outcomes
        .iter()
        .filter(|((_, outcome), _)| *outcome == Outcome::Undetected)
        .collect();
    assert!(undetected.is_empty(), "undetected damage: {undetected:?}");
    // The test must exercise containment: damaged pages do make redb panic.
    assert!(
        panics_in_redb > 0,
        "no damaged file reached a panic in redb"
    );
    Ok(())
}
