//! End-to-end tests of the generated API against in-memory and on-disk stores.

use crate::raw;

use netabase_runtime::{Error, Store};
use netabase_tests::library::{Author, Book, Library};
use netabase_tests::scalars::{Reading, Scalars, Visit};

type Result<T = ()> = std::result::Result<T, Error>;

pub(crate) fn author(id: u64, name: &str, country: Option<&str>) -> Author {
    Author {
        id,
        name: name.to_owned(),
        country: country.map(str::to_owned),
    }
}

fn book(isbn: &str, author: u64, year: i32) -> Book {
    Book {
        isbn: isbn.to_owned(),
        title: format!("Title of {isbn}"),
        author,
        year,
        available: year % 2 == 0,
        tags: vec!["fiction".to_owned(), "東京".to_owned()],
        cover: (year > 2000).then(|| vec![0, 1, 2, 255]),
    }
}

fn collect<T>(iter: impl Iterator<Item = Result<T>>) -> Vec<T> {
    iter.collect::<Result<Vec<T>>>().expect("iteration failed")
}

fn ids(authors: Vec<Author>) -> Vec<u64> {
    authors.into_iter().map(|a| a.id).collect()
}

fn seeded() -> Result<Store<Library>> {
    let store = Store::<Library>::in_memory()?;
    let txn = store.begin_write()?;
    {
        let mut authors = txn.authors()?;
        authors.put(&author(1, "Ursula", Some("US")))?;
        authors.put(&author(2, "Haruki", Some("JP")))?;
        authors.put(&author(3, "Banana", Some("JP")))?;
        authors.put(&author(4, "Anonymous", None))?;
        let mut books = txn.books()?;
        books.put_many([
            book("b-2", 2, 1987),
            book("a-1", 1, 1969),
            book("c-3", 2, 2002),
        ])?;
    }
    txn.commit()?;
    Ok(store)
}

#[test]
fn get_contains_len_and_iter_in_key_order() -> Result {
    let store = seeded()?;
    let txn = store.begin_read()?;
    let authors = txn.authors()?;
    assert_eq!(authors.get(2)?, Some(author(2, "Haruki", Some("JP"))));
    assert_eq!(authors.get(99)?, None);
    assert!(authors.contains(3)?);
    assert!(!authors.contains(5)?);
    assert_eq!(authors.len()?, 4);
    assert!(!authors.is_empty()?);
    assert_eq!(ids(collect(authors.iter()?)), [1, 2, 3, 4]);
    assert_eq!(ids(collect(authors.iter()?.rev())), [4, 3, 2, 1]);
    let books = txn.books()?;
    let isbns: Vec<String> = collect(books.iter()?).into_iter().map(|b| b.isbn).collect();
    assert_eq!(isbns, ["a-1", "b-2", "c-3"]);
    assert_eq!(books.get("c-3")?, Some(book("c-3", 2, 2002)));
    Ok(())
}

#[test]
fn string_keys_sort_in_byte_order() -> Result {
    let store = Store::<Library>::in_memory()?;
    let keys = ["b", "", "a\u{0}", "ab", "a", "é", "Z", "東京", "a\u{1}"];
    let txn = store.begin_write()?;
    {
        let mut books = txn.books()?;
        for key in keys {
            books.put(&book(key, 1, 2000))?;
        }
    }
    txn.commit()?;
    let mut expected: Vec<&str> = keys.to_vec();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let txn = store.begin_read()?;
    let found: Vec<String> = collect(txn.books()?.iter()?)
        .into_iter()
        .map(|b| b.isbn)
        .collect();
    assert_eq!(found, expected);
    Ok(())
}

fn reading(at: i64, level: i8) -> Reading {
    Reading {
        at,
        sensor: (at % 3) as i16,
        level,
        small: u8::MAX,
        medium: u16::MAX,
        large: u32::MAX,
        huge: u64::MAX,
        signed32: i32::MIN,
        ratio: f32::NAN,
        value: -0.0,
        ok: true,
        r#type: "ünïcödé ✓".to_owned(),
        raw_data: vec![0, 0, 255],
        notes: Some(vec![None, Some(String::new())]),
        samples: vec![f64::INFINITY, f64::MIN_POSITIVE],
    }
}

#[test]
fn negative_integer_keys_iterate_in_numeric_order() -> Result {
    let store = Store::<Scalars>::in_memory()?;
    let keys = [5, -1, i64::MIN, 0, 300, -300, i64::MAX, 256, -256];
    let txn = store.begin_write()?;
    {
        let mut readings = txn.readings()?;
        for (i, at) in keys.into_iter().enumerate() {
            readings.put(&reading(at, i as i8 - 4))?;
        }
    }
    txn.commit()?;
    let mut sorted = keys.to_vec();
    sorted.sort();
    let txn = store.begin_read()?;
    let readings = txn.readings()?;
    let found: Vec<i64> = collect(readings.iter()?)
        .into_iter()
        .map(|r| r.at)
        .collect();
    assert_eq!(found, sorted);
    // Secondary keys on signed types are ordered and exact too.
    let on_sensor: Vec<i64> = collect(readings.by_sensor(-1)?)
        .into_iter()
        .map(|r| r.at)
        .collect();
    let mut expected: Vec<i64> = keys.into_iter().filter(|at| at % 3 == -1).collect();
    expected.sort();
    assert_eq!(on_sensor, expected);
    assert_eq!(readings.get_by_level(-4)?.map(|r| r.at), Some(5));
    Ok(())
}

#[test]
fn every_scalar_type_round_trips_exactly() -> Result {
    let store = Store::<Scalars>::in_memory()?;
    let original = reading(-7, 1);
    store.put(&original)?;
    let back = store.get::<Reading>(-7)?.expect("stored");
    // NaN != NaN, so compare the bits of the float fields and the rest field by field.
    assert_eq!(back.ratio.to_bits(), original.ratio.to_bits());
    assert_eq!(back.value.to_bits(), (-0.0f64).to_bits());
    assert_eq!(back.samples, original.samples);
    assert_eq!(
        (
            back.small,
            back.medium,
            back.large,
            back.huge,
            back.signed32,
            back.ok
        ),
        (u8::MAX, u16::MAX, u32::MAX, u64::MAX, i32::MIN, true)
    );
    assert_eq!(back.r#type, "ünïcödé ✓");
    assert_eq!(back.raw_data, [0, 0, 255]);
    assert_eq!(back.notes, Some(vec![None, Some(String::new())]));
    Ok(())
}

#[test]
fn composite_primary_keys_sort_by_component() -> Result {
    let store = Store::<Scalars>::in_memory()?;
    let visits = [
        ("JP", 2001, 7),
        ("DE", 2024, 1),
        ("JP", -5, 9),
        ("JP", 2001, 2),
        ("JPN", 0, 0),
    ];
    let txn = store.begin_write()?;
    {
        let mut tree = txn.visits()?;
        for (country, year, person) in visits {
            tree.put(&Visit {
                country: country.into(),
                year,
                person,
                days: 3,
            })?;
        }
    }
    txn.commit()?;
    let txn = store.begin_read()?;
    let tree = txn.visits()?;
    let keys: Vec<(String, i32, u32)> = collect(tree.iter()?)
        .into_iter()
        .map(|v| (v.country, v.year, v.person))
        .collect();
    let mut expected: Vec<(String, i32, u32)> = visits
        .iter()
        .map(|&(c, y, p)| (c.to_owned(), y, p))
        .collect();
    expected.sort();
    assert_eq!(keys, expected);
    assert_eq!(tree.get(("JP", 2001, 2))?.map(|v| v.person), Some(2));
    assert!(tree.get(("JP", 2001, 3))?.is_none());
    assert_eq!(collect(tree.by_days(3)?).len(), 5);
    Ok(())
}

#[test]
fn unique_and_non_unique_lookups() -> Result {
    let store = seeded()?;
    let txn = store.begin_read()?;
    let authors = txn.authors()?;
    assert_eq!(authors.get_by_name("Haruki")?.map(|a| a.id), Some(2));
    assert_eq!(authors.get_by_name("Nobody")?, None);
    assert_eq!(ids(collect(authors.by_country("JP")?)), [2, 3]);
    assert_eq!(ids(collect(authors.by_country("JP")?.rev())), [3, 2]);
    // Skips (`nth`) step over entries without reading their records, from either end, and
    // land where stepping one at a time does.
    let all = ids(collect(authors.range_by_country(..)?));
    assert!(all.len() >= 3, "{all:?}");
    for n in 0..=all.len() {
        let front = authors.range_by_country(..)?.nth(n).transpose()?;
        assert_eq!(front.map(|a| a.id), all.get(n).copied(), "nth({n})");
        let back = authors.range_by_country(..)?.nth_back(n).transpose()?;
        let from_back = all.len().checked_sub(n + 1).map(|i| all[i]);
        assert_eq!(back.map(|a| a.id), from_back, "nth_back({n})");
    }
    assert!(
        collect(authors.by_country("J")?).is_empty(),
        "a key is not a prefix match"
    );
    assert_eq!(ids(collect(authors.by_country("US")?)), [1]);
    let books = txn.books()?;
    let by_author: Vec<String> = collect(books.by_author(2)?)
        .into_iter()
        .map(|b| b.isbn)
        .collect();
    assert_eq!(by_author, ["b-2", "c-3"]);
    let available: Vec<String> = collect(books.by_available(true)?)
        .into_iter()
        .map(|b| b.isbn)
        .collect();
    assert_eq!(available, ["c-3"]);
    assert_eq!(collect(books.by_year(1969)?).len(), 1);
    Ok(())
}

#[test]
fn none_is_not_indexed() -> Result {
    let store = seeded()?;
    let txn = store.begin_read()?;
    let authors = txn.authors()?;
    let indexed: usize = ["US", "JP"]
        .iter()
        .map(|c| collect(authors.by_country(c).unwrap()).len())
        .sum();
    assert_eq!(
        indexed, 3,
        "author 4 has no country and is in no index entry"
    );
    assert_eq!(
        authors.get(4)?.unwrap().secondary_keys(),
        [netabase_tests::library::AuthorSecondaryKeys::Name(
            "Anonymous".into()
        )]
    );
    Ok(())
}

#[test]
fn update_moves_secondary_entries_and_remove_drops_them() -> Result {
    let store = seeded()?;
    let txn = store.begin_write()?;
    {
        let mut authors = txn.authors()?;
        authors.put(&author(2, "Murakami", Some("US")))?;
        assert_eq!(
            authors.get_by_name("Haruki")?,
            None,
            "old unique entry removed"
        );
        assert_eq!(authors.get_by_name("Murakami")?.map(|a| a.id), Some(2));
        assert_eq!(
            ids(collect(authors.by_country("JP")?)),
            [3],
            "old non-unique entry removed"
        );
        assert_eq!(ids(collect(authors.by_country("US")?)), [1, 2]);
        // A name freed by the update can be taken by another record.
        authors.put(&author(5, "Haruki", None))?;

        let removed = authors.remove(3)?;
        assert_eq!(removed, Some(author(3, "Banana", Some("JP"))));
        assert_eq!(authors.remove(3)?, None);
        assert_eq!(authors.get_by_name("Banana")?, None);
        assert!(collect(authors.by_country("JP")?).is_empty());
        // Setting an indexed Option to None removes its entry.
        authors.put(&author(1, "Ursula", None))?;
        assert_eq!(ids(collect(authors.by_country("US")?)), [2]);
    }
    txn.commit()?;
    Ok(())
}

#[test]
fn unique_violation_names_the_key_and_changes_nothing() -> Result {
    let store = seeded()?;
    let txn = store.begin_write()?;
    {
        let mut authors = txn.authors()?;
        let error = authors.put(&author(3, "Haruki", Some("DE"))).unwrap_err();
        match &error {
            Error::UniqueViolation {
                model,
                field,
                value,
            } => {
                assert_eq!(
                    (*model, *field, value.as_str()),
                    ("Author", "name", "\"Haruki\"")
                );
            }
            other => panic!("expected UniqueViolation, got {other:?}"),
        }
        assert!(
            error.to_string().contains("Author.name = \"Haruki\""),
            "{error}"
        );
        // Neither the record nor any index moved.
        assert_eq!(authors.get(3)?, Some(author(3, "Banana", Some("JP"))));
        assert_eq!(authors.get_by_name("Banana")?.map(|a| a.id), Some(3));
        assert!(collect(authors.by_country("DE")?).is_empty());
        // The transaction is still usable after the error.
        authors.put(&author(6, "Ada", Some("GB")))?;
    }
    txn.commit()?;
    assert_eq!(store.len::<Author>()?, 5);
    Ok(())
}

#[test]
fn insert_refuses_an_existing_key() -> Result {
    let store = seeded()?;
    let error = store.insert(&author(1, "Someone", None)).unwrap_err();
    assert!(
        matches!(error, Error::AlreadyExists { model: "Author", ref key } if key.contains('1')),
        "{error:?}"
    );
    assert_eq!(
        store.get::<Author>(1)?,
        Some(author(1, "Ursula", Some("US")))
    );
    store.insert(&author(9, "New", None))?;
    assert!(store.get::<Author>(9)?.is_some());
    Ok(())
}

#[test]
fn put_many_is_all_or_nothing() -> Result {
    let store = seeded()?;
    let txn = store.begin_write()?;
    {
        let mut authors = txn.authors()?;
        let batch = [
            author(10, "Ten", Some("FR")), // new
            author(2, "Haruki M.", None),  // update: moves unique and non-unique keys
            author(11, "Eleven", Some("FR")),
            author(12, "Ursula", None), // conflicts with author 1
        ];
        let error = authors.put_many(&batch).unwrap_err();
        assert!(
            matches!(error, Error::UniqueViolation { field: "name", .. }),
            "{error:?}"
        );
        assert_eq!(authors.len()?, 4);
        assert_eq!(authors.get(10)?, None);
        assert_eq!(authors.get(2)?, Some(author(2, "Haruki", Some("JP"))));
        assert_eq!(authors.get_by_name("Haruki")?.map(|a| a.id), Some(2));
        assert_eq!(authors.get_by_name("Haruki M.")?, None);
        assert_eq!(ids(collect(authors.by_country("JP")?)), [2, 3]);
        assert!(collect(authors.by_country("FR")?).is_empty());
        // A clean batch, with a later record replacing an earlier one of the same key.
        let written = authors.put_many(vec![
            author(10, "Ten", Some("FR")),
            author(10, "Ten again", Some("IT")),
        ])?;
        assert_eq!(written, 2);
        assert_eq!(authors.get(10)?.map(|a| a.name), Some("Ten again".into()));
        assert!(collect(authors.by_country("FR")?).is_empty());
    }
    txn.commit()?;
    Ok(())
}

/// An author, the id its name finds and the ids its country finds.
type Indexed = (Author, Option<u64>, Vec<u64>);

/// Every author with the results of both indexes: what a `put_many` and the same puts one by
/// one must agree on.
fn authors_and_indexes(store: &Store<Library>) -> Result<Vec<Indexed>> {
    let txn = store.begin_read()?;
    let authors = txn.authors()?;
    let all = collect(authors.iter()?);
    all.into_iter()
        .map(|a| {
            let by_name = authors.get_by_name(a.name.as_str())?.map(|b| b.id);
            let by_country = match &a.country {
                Some(c) => ids(collect(authors.by_country(c.as_str())?)),
                None => Vec::new(),
            };
            Ok((a, by_name, by_country))
        })
        .collect()
}

/// `put_many` appends the records and entries above a table's greatest key through a cursor
/// and writes the others one by one; a batch that mixes both, and replaces records it has just
/// appended, must end as the same puts one by one do.
#[test]
fn put_many_mixing_appends_and_replacements_equals_puts_one_by_one() -> Result {
    let batch = [
        author(6, "Zadie", Some("GB")),         // appended
        author(7, "Yoko", Some("JP")),          // appended
        author(3, "Banana Y.", Some("JP")),     // replaces a stored record
        author(9, "Xi", None),                  // appended
        author(9, "Xi Chuan", Some("CN")),      // replaces the held record 9
        author(5, "Ali", Some("GB")),           // new, below the greatest key
        author(7, "Yoko O.", Some("US")),       // replaces a record appended earlier
        author(10, "Anonymous II", Some("GB")), // appended after the table was written to
        author(11, "Banana", None),             // appended: takes the name author 3 gave up
    ];
    let (many, one_by_one) = (seeded()?, seeded()?);
    assert_eq!(many.put_many::<Author>(&batch)?, batch.len() as u64);
    for a in &batch {
        one_by_one.put(a)?;
    }
    let expected = authors_and_indexes(&one_by_one)?;
    assert_eq!(authors_and_indexes(&many)?, expected);
    assert_eq!(expected.len(), 10);
    let mut many = many;
    let report = many.check_integrity()?;
    assert!(report.is_clean(), "{report}");
    Ok(())
}

/// A unique key wanted by two appended records of one batch, or by an appended record when an
/// existing record holds the index's greatest key: the batch fails and leaves nothing.
#[test]
fn put_many_appending_a_taken_unique_key_fails_and_leaves_nothing() -> Result {
    name_taken_and_nothing_left([
        vec![author(6, "Zadie", None), author(7, "Zadie", None)],
        // "Ursula" is the greatest name of the index.
        vec![author(6, "Zadie", None), author(7, "Ursula", None)],
        vec![author(7, "Ursula", None)],
    ])
}

/// A replacement in a batch writes the held entries first, while the table already holds its
/// new bytes: a name wanted by two held records fails there; a replacement that wants a taken
/// name fails itself. Either way the replaced record is put back and the batch leaves nothing.
#[test]
fn put_many_replacing_after_a_conflict_or_into_a_taken_name_leaves_nothing() -> Result {
    name_taken_and_nothing_left([
        vec![
            author(6, "Zadie", None),
            author(7, "Zadie", None),
            author(3, "Banana Y.", Some("JP")),
        ],
        vec![author(6, "Zadie", None), author(3, "Haruki", Some("JP"))],
        vec![author(3, "Banana Y.", None), author(2, "Banana Y.", None)],
    ])?;
    // Author 7 wants the name author 6 holds, then is replaced within the batch: the error
    // names the name 7 wanted, not the one of its replacement.
    let batch = [
        author(6, "Zadie", None),
        author(7, "Zadie", None),
        author(7, "Yoko", None),
    ];
    let error = seeded()?.put_many::<Author>(&batch).unwrap_err();
    assert!(
        matches!(&error, Error::UniqueViolation { field: "name", value, .. } if value.contains("Zadie")),
        "{error:?}"
    );
    Ok(())
}

/// Each batch, put into the seeded store, fails on a taken name and leaves it as it was.
fn name_taken_and_nothing_left(batches: impl IntoIterator<Item = Vec<Author>>) -> Result {
    let store = seeded()?;
    let before = authors_and_indexes(&store)?;
    for batch in batches {
        // In a transaction committed after the failure: the batch itself must take back what
        // it wrote (the auto-commit `Store::put_many` would abort the whole transaction).
        let txn = store.begin_write()?;
        let error = txn.authors()?.put_many(&batch).unwrap_err();
        assert!(
            matches!(error, Error::UniqueViolation { field: "name", .. }),
            "{error:?}"
        );
        txn.commit()?;
        assert_eq!(authors_and_indexes(&store)?, before);
    }
    Ok(())
}

/// Entries of a batch that fall between two existing keys of an index, at least `MIN_RUN` (8)
/// of them, go in through a cursor at that gap: unique names between "Banana" and "Haruki",
/// non-unique years between 1987 and 2002. The result must be that of the puts one by one, and
/// a name wanted twice in the gap must fail the batch and leave nothing.
#[test]
fn put_many_into_a_gap_between_existing_keys_equals_puts_one_by_one() -> Result {
    let authors: Vec<Author> = (0..12)
        .map(|n| author(10 + n, &format!("C{n:02}"), Some("FR")))
        .collect();
    let books: Vec<Book> = (0..12)
        .map(|n| book(&format!("d-{n:02}"), 1, 1990))
        .collect();
    let (many, one_by_one) = (seeded()?, seeded()?);
    many.put_many::<Author>(&authors)?;
    many.put_many::<Book>(&books)?;
    for a in &authors {
        one_by_one.put(a)?;
    }
    for b in &books {
        one_by_one.put(b)?;
    }
    assert_eq!(
        authors_and_indexes(&many)?,
        authors_and_indexes(&one_by_one)?
    );
    let by_year_and_author = |store: &Store<Library>| -> Result<_> {
        let txn = store.begin_read()?;
        let books = txn.books()?;
        let isbns = |found: Vec<Book>| found.into_iter().map(|b| b.isbn).collect::<Vec<_>>();
        Ok((
            isbns(collect(books.by_year(1990)?)),
            isbns(collect(books.by_author(1)?)),
        ))
    };
    let (years, by_author) = by_year_and_author(&many)?;
    assert_eq!((years.len(), by_author.len()), (12, 13));
    assert_eq!(by_year_and_author(&one_by_one)?, (years, by_author));
    let mut many = many;
    let report = many.check_integrity()?;
    assert!(report.is_clean(), "{report}");

    // Two of the gap's new records want one name; a record wants the name that ends the gap.
    let mut twice = authors.clone();
    twice[7].name = "C03".to_owned();
    let mut taken = authors;
    taken.push(author(30, "Haruki", None));
    name_taken_and_nothing_left([twice, taken])
}

/// A run of at least `MIN_RUN` (8) new records above every name of the index goes in through a
/// cursor at the index's end; a name wanted twice in that run fails the batch, leaves nothing,
/// and the later record is the one refused, as with puts one by one.
#[test]
fn put_many_appending_a_long_run_with_a_name_twice_fails_and_leaves_nothing() -> Result {
    // "Ursula" is the greatest name of the index: "V00" to "V09" all sort above it.
    let mut batch: Vec<Author> = (0..10)
        .map(|n| author(10 + n, &format!("V{n:02}"), None))
        .collect();
    batch[8].name = "V03".to_owned();
    name_taken_and_nothing_left([batch.clone()])?;
    let store = seeded()?;
    let error = store.put_many::<Author>(&batch).unwrap_err();
    assert!(
        matches!(&error, Error::UniqueViolation { field: "name", value, .. } if value.contains("V03")),
        "{error:?}"
    );
    // Without the second "V03", the run goes in whole, in name order.
    batch[8].name = "V08".to_owned();
    assert_eq!(store.put_many::<Author>(&batch)?, 10);
    let txn = store.begin_read()?;
    let authors = txn.authors()?;
    for a in &batch {
        assert_eq!(
            authors.get_by_name(&a.name)?.map(|found| found.id),
            Some(a.id)
        );
    }
    Ok(())
}

#[test]
fn dropped_or_aborted_write_transactions_leave_nothing() -> Result {
    let store = seeded()?;
    {
        let txn = store.begin_write()?;
        txn.authors()?.put(&author(20, "Dropped", None))?;
    }
    let txn = store.begin_write()?;
    txn.authors()?.put(&author(21, "Aborted", None))?;
    txn.abort()?;
    let txn = store.begin_read()?;
    let authors = txn.authors()?;
    assert_eq!((authors.get(20)?, authors.get(21)?), (None, None));
    assert_eq!(authors.get_by_name("Dropped")?, None);
    Ok(())
}

#[test]
fn read_transactions_see_a_snapshot() -> Result {
    let store = seeded()?;
    let before = store.begin_read()?;
    store.put(&author(30, "Later", None))?;
    assert_eq!(before.authors()?.get(30)?, None);
    assert!(store.begin_read()?.authors()?.get(30)?.is_some());
    Ok(())
}

#[test]
fn auto_commit_api_round_trips() -> Result {
    let store = Store::<Library>::in_memory()?;
    assert!(store.is_empty::<Author>()?);
    store.put(&author(1, "A", None))?;
    assert_eq!(
        store.put_many([author(2, "B", None), author(3, "C", None)])?,
        2
    );
    assert_eq!(store.len::<Author>()?, 3);
    assert_eq!(store.remove::<Author>(2)?.map(|a| a.name), Some("B".into()));
    assert_eq!(store.get::<Author>(2)?, None);
    // Keys as trees take them (no `AuthorPrimaryKey(..)`); delete says whether it existed.
    assert!(store.delete::<Author>(3)?);
    assert!(!store.delete::<Author>(3)?);
    assert_eq!(store.len::<Author>()?, 1);
    // The unique index followed the removals: "C" can be taken again.
    store.insert(&author(4, "C", None))?;
    Ok(())
}

#[test]
fn zero_copy_views_borrow_and_convert() -> Result {
    let store = seeded()?;
    let txn = store.begin_read()?;
    let books = txn.books()?;
    let guard = books.get_ref("c-3")?.expect("stored");
    let view = guard.view()?;
    assert_eq!(view.title, "Title of c-3");
    assert_eq!(view.tags, ["fiction", "東京"]);
    assert_eq!(view.cover, Some(&[0u8, 1, 2, 255][..]));
    assert_eq!(
        netabase_runtime::ModelRef::to_model(&view),
        book("c-3", 2, 2002)
    );
    assert_eq!(guard.to_model()?, book("c-3", 2, 2002));
    assert!(books.get_ref("zzz")?.is_none());
    Ok(())
}

#[test]
fn generic_open_tree_matches_named_method() -> Result {
    let store = seeded()?;
    let txn = store.begin_read()?;
    let tree = txn.open_tree::<Author>()?;
    assert_eq!(tree.get(1)?, txn.authors()?.get(1)?);
    Ok(())
}

#[test]
fn opening_a_tree_twice_in_one_write_transaction_is_an_error() -> Result {
    let store = seeded()?;
    let txn = store.begin_write()?;
    let first = txn.authors()?;
    let error = txn.authors().err().expect("the tree is open");
    assert!(
        matches!(&error, Error::TreeInUse { table } if table == "Library/Author"),
        "{error:?}"
    );
    // The message says what to do and names no source file of netabase or redb.
    let message = error.to_string();
    assert!(
        message.contains("`Library/Author` is already open"),
        "{message}"
    );
    assert!(message.contains("drop(tree)"), "{message}");
    assert!(!message.contains(".rs:"), "{message}");
    drop(first);
    assert!(txn.authors().is_ok(), "a dropped tree can be opened again");
    Ok(())
}

#[test]
fn data_persists_after_reopen() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("library.redb");
    {
        let store = Store::<Library>::open(&path)?;
        let txn = store.begin_write()?;
        txn.authors()?
            .put_many([author(1, "Kept", Some("NO")), author(2, "Also", Some("NO"))])?;
        txn.commit()?;
    }
    let store = Store::<Library>::builder()
        .create_if_missing(false)
        .open(&path)?;
    let txn = store.begin_read()?;
    let authors = txn.authors()?;
    assert_eq!(authors.get(1)?.map(|a| a.name), Some("Kept".into()));
    assert_eq!(ids(collect(authors.by_country("NO")?)), [1, 2]);
    assert_eq!(authors.get_by_name("Also")?.map(|a| a.id), Some(2));
    Ok(())
}

#[test]
fn durability_none_and_cache_size_are_accepted() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fast.redb");
    let store = Store::<Library>::builder()
        .durability(netabase_runtime::Durability::None)
        .cache_size(1 << 20)
        .open(&path)?;
    store.put(&author(1, "Fast", None))?;
    assert_eq!(store.len::<Author>()?, 1);
    Ok(())
}

#[test]
fn schema_mismatch_shows_both_sides_and_leaves_the_file() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("library.redb");
    Store::<Library>::open(&path)?.put(&author(1, "Kept", None))?;
    let Err(error) = Store::<Scalars>::open(&path) else {
        panic!("opened a Library file as Scalars")
    };
    match &error {
        Error::SchemaMismatch { expected, found } => {
            assert_eq!(
                (expected.definition.as_str(), expected.version),
                ("scalars", 3)
            );
            assert_eq!((found.definition.as_str(), found.version), ("Library", 1));
            assert_eq!(
                found.fingerprint,
                <Library as netabase_runtime::Definition>::FINGERPRINT
            );
        }
        other => panic!("expected SchemaMismatch, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("`Library` version 1") && message.contains("`scalars` version 3"),
        "{message}"
    );
    // The original still opens and holds its data.
    assert_eq!(Store::<Library>::open(&path)?.len::<Author>()?, 1);
    Ok(())
}

#[test]
fn a_foreign_redb_file_is_a_schema_mismatch() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("foreign.redb");
    {
        let db = redb::Database::create(&path)?;
        let txn = db.begin_write()?;
        txn.open_table(redb::TableDefinition::<u64, u64>::new("something_else"))?
            .insert(1, 2)?;
        txn.commit()?;
    }
    let Err(error) = Store::<Library>::open(&path) else {
        panic!("opened a foreign file")
    };
    assert!(matches!(error, Error::SchemaMismatch { .. }), "{error:?}");
    assert!(error.to_string().contains("something_else"), "{error}");
    Ok(())
}

#[test]
fn open_errors_say_what_is_missing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing_dir = dir.path().join("no/such/dir/db.redb");
    let error = Store::<Library>::open(&missing_dir)
        .err()
        .expect("must fail");
    assert!(
        matches!(error, Error::Io { .. }) && error.to_string().contains("does not exist"),
        "{error}"
    );
    let missing_file = dir.path().join("absent.redb");
    let error = Store::<Library>::builder()
        .create_if_missing(false)
        .open(&missing_file)
        .err()
        .expect("must fail");
    assert!(error.to_string().contains("no database at"), "{error}");
    assert!(!missing_file.exists());
}

/// Overwrites the stored bytes of one record through redb directly.
fn corrupt(path: &std::path::Path, table: &str, key: &[u8], value: &[u8]) {
    let db = redb::Database::open(path).expect("open raw");
    let txn = db.begin_write().expect("begin");
    raw::raw_put(&txn, table, key, Some(value));
    txn.commit().expect("commit");
}

#[test]
fn corrupted_values_are_decode_errors_on_every_read_path() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("corrupt.redb");
    {
        let store = Store::<Library>::open(&path)?;
        store.put_many([author(1, "One", Some("JP")), author(2, "Two", Some("JP"))])?;
    }
    // Author 2's key is its u64 id, big endian; its value becomes a string claiming 2^62 bytes.
    corrupt(
        &path,
        "Library/Author",
        &2u64.to_be_bytes(),
        &[2, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0x40],
    );
    let store = Store::<Library>::open(&path)?;
    let is_decode = |e: &Error| {
        matches!(
            e,
            Error::Decode {
                table: "Library/Author",
                ..
            }
        )
    };
    {
        let txn = store.begin_read()?;
        let authors = txn.authors()?;
        assert_eq!(authors.get(1)?.map(|a| a.id), Some(1));
        let error = authors.get(2).unwrap_err();
        assert!(is_decode(&error));
        // A lookup by key names the record and says what to do.
        assert!(
            matches!(&error, Error::Decode { record: Some(key), .. } if key == "AuthorPrimaryKey(2)"),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("record with primary key AuthorPrimaryKey(2)")
        );
        assert!(error.to_string().contains("check_integrity"));
        assert!(is_decode(
            &authors
                .get_ref(2)?
                .expect("bytes are there")
                .view()
                .unwrap_err()
        ));
        let results: Vec<Result<Author>> = authors.iter()?.collect();
        assert_eq!(results.len(), 2, "the iterator goes on after an error");
        assert!(results[0].is_ok() && is_decode(results[1].as_ref().unwrap_err()));
        let by_country: Vec<Result<Author>> = authors.by_country("JP")?.collect();
        assert!(by_country[0].is_ok() && is_decode(by_country[1].as_ref().unwrap_err()));
        assert!(is_decode(&authors.get_by_name("Two").unwrap_err()));
    }
    // Writes over or removing a corrupted record fail and change nothing.
    let txn = store.begin_write()?;
    {
        let mut authors = txn.authors()?;
        assert!(is_decode(
            &authors.put(&author(2, "Fixed", None)).unwrap_err()
        ));
        assert!(is_decode(&authors.remove(2).unwrap_err()));
        assert!(authors.contains(2)?);
        assert_eq!(authors.get_by_name("Fixed")?, None);
        assert!(
            is_decode(&authors.get_by_name("Two").unwrap_err()),
            "index entry still points at it"
        );
    }
    txn.commit()?;
    Ok(())
}

#[test]
fn a_record_with_trailing_bytes_is_a_decode_error() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("trailing.redb");
    Store::<Library>::open(&path)?.put(&author(1, "One", None))?;
    // id 1, name "One", country None, then one extra byte.
    corrupt(
        &path,
        "Library/Author",
        &1u64.to_be_bytes(),
        &[1, 3, b'O', b'n', b'e', 0, 7],
    );
    let error = Store::<Library>::open(&path)?.get::<Author>(1).unwrap_err();
    assert!(error.to_string().contains("trailing"), "{error}");
    Ok(())
}

#[test]
fn every_index_table_exists_before_the_first_write() -> Result {
    // Reads on a fresh store must find every table, composite indexes included.
    let store = Store::<netabase_tests::keys::Keys>::in_memory()?;
    let txn = store.begin_read()?;
    let wides = txn.wides()?;
    assert_eq!(wides.count_range_by_group_label(..)?, 0);
    assert!(wides.get_by_slot(0, 0, false)?.is_none());
    assert_eq!(collect(wides.by_code_label(1, "a")?).len(), 0);
    let tables = <netabase_tests::keys::Keys as netabase_runtime::Definition>::TABLES;
    assert!(tables.contains(&"Keys/Wide/group_label") && tables.contains(&"Keys/Wide/code_label"));
    let mut unique = tables.to_vec();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), tables.len(), "a table is listed twice");
    Ok(())
}

#[test]
fn clear_empties_the_records_and_every_index() -> Result {
    let store = seeded()?;
    let txn = store.begin_write()?;
    {
        let mut authors = txn.authors()?;
        assert_eq!(authors.clear()?, 4);
        assert!(authors.is_empty()?);
        assert_eq!(authors.get_by_name("Haruki")?, None);
        assert_eq!(authors.count_range_by_country(..)?, 0);
        assert_eq!(authors.count_range_by_name(..)?, 0);
        // The tree is usable afterwards, and a freed unique value can be taken again.
        authors.put(&author(9, "Haruki", Some("JP")))?;
        assert_eq!(ids(collect(authors.by_country("JP")?)), [9]);
    }
    txn.commit()?;
    Ok(())
}

#[test]
fn views_borrow_their_strings_and_bytes_from_the_stored_value() -> Result {
    let store = seeded()?;
    let txn = store.begin_read()?;
    let books = txn.books()?;
    for guard in books.iter_ref()? {
        let guard = guard?;
        let stored = guard.bytes().as_ptr_range();
        let view = guard.view()?;
        // No copy: each &str and &[u8] of the view points into the stored bytes.
        assert!(stored.contains(&view.title.as_ptr()) && stored.contains(&view.isbn.as_ptr()));
        for tag in &view.tags {
            assert!(stored.contains(&tag.as_ptr()));
        }
        if let Some(cover) = view.cover {
            assert!(stored.contains(&cover.as_ptr()));
        }
    }
    Ok(())
}

#[test]
fn an_existing_empty_file_becomes_a_database_and_errors_read_cleanly() -> Result {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    Store::<Library>::open(file.path())?.put(&author(1, "In a temp file", None))?;
    assert_eq!(Store::<Library>::open(file.path())?.len::<Author>()?, 1);
    let dir = tempfile::tempdir().expect("temp dir");
    let error = Store::<Library>::open(dir.path().join("no/such/db.redb"))
        .err()
        .expect("must fail");
    // The message says what is wrong and what to do, without a trailing OS error string.
    assert!(error.to_string().ends_with("(create it first)"), "{error}");
    Ok(())
}

fn tagged(isbn: &str, tags: &[&str]) -> Book {
    Book {
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        ..book(isbn, 1, 2001)
    }
}

fn isbns(books: Vec<Book>) -> Vec<String> {
    books.into_iter().map(|b| b.isbn).collect()
}

#[test]
fn a_multi_valued_key_indexes_each_element_once_and_moves_only_what_changed() -> Result {
    let store = Store::<Library>::in_memory()?;
    let txn = store.begin_write()?;
    {
        let mut books = txn.books()?;
        // A repeated element is one entry; an empty list is in no entry.
        books.put(&tagged("x", &["sf", "classic", "sf"]))?;
        books.put(&tagged("y", &["sf"]))?;
        books.put(&tagged("z", &[]))?;
        assert_eq!(isbns(collect(books.by_tags("sf")?)), ["x", "y"]);
        assert_eq!(books.count_by_tags("sf")?, 2);
        assert_eq!(books.count_range_by_tags(..)?, 3);
        assert_eq!(
            isbns(collect(books.range_by_tags(..)?)),
            ["x", "x", "y"],
            "(tag, isbn) order: classic/x, sf/x, sf/y"
        );
        assert_eq!(isbns(collect(books.prefix_by_tags("cl")?)), ["x"]);
        assert_eq!(
            tagged("x", &["sf", "classic"]).secondary_keys().len(),
            // author, year, available, and one per tag
            5
        );

        // An update removes the elements that left and adds the ones that joined.
        books.put(&tagged("x", &["classic", "poetry"]))?;
        assert_eq!(isbns(collect(books.by_tags("sf")?)), ["y"]);
        assert_eq!(isbns(collect(books.by_tags("classic")?)), ["x"]);
        assert_eq!(isbns(collect(books.by_tags("poetry")?)), ["x"]);

        // A remove drops every element's entry.
        books.remove("x")?;
        assert_eq!(books.count_range_by_tags(..)?, 1);
        assert_eq!(isbns(collect(books.range_by_tags(..)?)), ["y"]);
    }
    txn.commit()?;
    let mut store = store;
    let report = store.check_integrity()?;
    assert!(report.is_clean(), "{report}");
    Ok(())
}

#[test]
fn delete_removes_the_record_and_its_entries_without_returning_it() -> Result {
    let store = seeded()?;
    let txn = store.begin_write()?;
    {
        let mut authors = txn.authors()?;
        assert!(authors.delete(2)?);
        assert!(!authors.delete(2)?, "already gone");
        assert!(!authors.delete(99)?, "never there");
        assert_eq!(authors.get(2)?, None);
        assert_eq!(authors.get_by_name("Haruki")?, None);
        assert_eq!(ids(collect(authors.by_country("JP")?)), [3]);
        // The freed unique name can be taken again.
        authors.put(&author(7, "Haruki", None))?;
    }
    txn.commit()?;
    let mut store = store;
    let report = store.check_integrity()?;
    assert!(report.is_clean(), "{report}");
    assert_eq!(store.len::<Author>()?, 4);
    Ok(())
}

#[test]
fn ref_lookups_and_ranges_yield_the_records_of_their_owned_twins_as_views() -> Result {
    let store = seeded()?;
    let txn = store.begin_read()?;
    let books = txn.books()?;
    let owned: Vec<(String, String)> = collect(books.by_author(2)?)
        .into_iter()
        .map(|b| (b.isbn, b.title))
        .collect();
    let mut viewed = Vec::new();
    for guard in books.by_author_ref(2)? {
        let guard = guard?;
        let view = guard.view()?;
        // Zero-copy: the view's strings point into the stored bytes.
        assert!(guard.bytes().as_ptr_range().contains(&view.isbn.as_ptr()));
        viewed.push((view.isbn.to_owned(), view.title.to_owned()));
    }
    assert_eq!(viewed, owned);
    assert_eq!(owned.len(), 2);

    // A range, read from the back: the same records in reverse order.
    let in_range: Vec<String> = collect(books.range_by_year(1960..2000)?)
        .into_iter()
        .map(|b| b.isbn)
        .collect();
    let mut backwards = Vec::new();
    for guard in books.range_by_year_ref(1960..2000)?.rev() {
        backwards.push(guard?.view()?.isbn.to_owned());
    }
    backwards.reverse();
    assert!(!in_range.is_empty());
    assert_eq!(backwards, in_range);

    let authors = txn.authors()?;
    let mut japanese = Vec::new();
    for guard in authors.by_country_ref("JP")? {
        japanese.push(guard?.view()?.id);
    }
    assert_eq!(japanese, [2, 3]);
    Ok(())
}
