//! A stored length prefix that claims gigabytes must not make netabase allocate them (issue 6,
//! point 4): every length is checked against the bytes left in the value before anything is
//! allocated. This test binary counts allocations to prove it, so it holds this one test only.

#[path = "it/raw.rs"]
mod raw;

use netabase_runtime::codec::{Value, Writer};
use netabase_runtime::{Error, Store};
use netabase_tests::library::{Author, Library};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The system allocator, remembering the largest allocation made while `TRACKING` is set.
struct Tracking;

static TRACKING: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only sizes are recorded.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if TRACKING.load(Ordering::Relaxed) {
            LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: as for `System`.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if TRACKING.load(Ordering::Relaxed) {
            LARGEST.fetch_max(new_size, Ordering::Relaxed);
        }
        // SAFETY: as for `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// The encoding of a `Book` whose `tags` claim `tags` strings and whose cover claims `cover`
/// bytes, with nothing behind either claim.
fn lying_book(isbn: &str, tags: u64, cover: Option<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = Writer::new(&mut out);
    w.write(&isbn.to_owned());
    w.write(&"A title".to_owned());
    w.write(&1u64);
    w.write(&1999i32);
    w.write(&true);
    w.write(&tags);
    if let Some(cover) = cover {
        w.write(&1u8);
        w.write(&cover);
    }
    out
}

fn key<K: netabase_runtime::codec::KeyPart + ?Sized>(key: &K) -> Vec<u8> {
    let mut out = Vec::new();
    key.encode_key(&mut out);
    out
}

#[test]
fn length_prefixes_claiming_gigabytes_allocate_nothing_of_the_kind() -> netabase_runtime::Result<()>
{
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("lying.redb");
    {
        let store = Store::<Library>::open(&path)?;
        store.put(&Author {
            id: 1,
            name: "One".into(),
            country: None,
        })?;
    }
    // A name claiming 2^62 bytes, a tag list claiming 2^40 strings, a cover claiming 3 GiB.
    let mut author = Vec::new();
    {
        let mut w = Writer::new(&mut author);
        w.write(&1u64);
        w.write(&(1u64 << 62));
    }
    let lies: [(&str, Vec<u8>, Vec<u8>); 3] = [
        ("Library/Author", key(&1u64), author),
        (
            "Library/Book",
            key("tags"),
            lying_book("tags", 1 << 40, None),
        ),
        (
            "Library/Book",
            key("cover"),
            lying_book("cover", 0, Some(3 << 30)),
        ),
    ];
    {
        let db = redb::Database::open(&path).expect("open raw");
        let txn = db.begin_write().expect("begin");
        for (table, key, value) in &lies {
            raw::raw_put(&txn, table, key, Some(value));
        }
        txn.commit().expect("commit");
    }
    // The codec alone: a count of 2^40 strings with nothing behind it.
    let mut count = Vec::new();
    Writer::new(&mut count).write(&(1u64 << 40));
    TRACKING.store(true, Ordering::Relaxed);
    let error = <Vec<String> as Value>::read(&mut netabase_runtime::codec::Reader::new(&count));
    TRACKING.store(false, Ordering::Relaxed);
    assert!(error.is_err_and(|e| e.to_string().contains("exceeds")));

    let mut store = Store::<Library>::open(&path)?;
    TRACKING.store(true, Ordering::Relaxed);
    let is_decode = |e: &Error| matches!(e, Error::Decode { .. });
    let mut errors = 0;
    {
        let txn = store.begin_read()?;
        let authors = txn.authors()?;
        let books = txn.books()?;
        let mut check = |result: netabase_runtime::Result<()>| {
            let error = result.expect_err("a lying value must not decode");
            assert!(is_decode(&error), "{error:?}");
            assert!(error.to_string().contains("exceeds"), "{error}");
            errors += 1;
        };
        check(authors.get(1).map(drop));
        check(authors.get_ref(1)?.expect("stored").view().map(drop));
        for isbn in ["tags", "cover"] {
            check(books.get(isbn).map(drop));
            check(books.get_ref(isbn)?.expect("stored").view().map(drop));
        }
        for item in books.iter()? {
            check(item.map(drop));
        }
        for item in books.by_year(1999)? {
            check(item.map(drop));
        }
    }
    let report = store.check_integrity()?;
    TRACKING.store(false, Ordering::Relaxed);
    assert_eq!(report.problems().len(), 3, "{report}");
    let largest = LARGEST.load(Ordering::Relaxed);
    println!(
        "reliability figures: {errors} reads of values claiming up to 2^62 bytes: all Error::Decode; \
         largest allocation meanwhile (check_integrity included) {largest} bytes"
    );
    assert!(largest < 4 << 20, "an allocation of {largest} bytes");
    Ok(())
}
