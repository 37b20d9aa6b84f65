//! `put_many` writes new records' index entries held back and sorted (`tree/deferred.rs`): the
//! outcome must be that of the same puts one by one, whatever mix of new and replaced records
//! and unique keys the batch holds, and a failed batch must leave nothing.

use crate::store::author;
use netabase_runtime::{Error, Store};
use netabase_tests::library::{Author, Library};

type Result<T = ()> = std::result::Result<T, Error>;

/// Every author, and what the two indexes say, read back through the generated API.
fn contents(store: &Store<Library>) -> Result<(Vec<Author>, Vec<u64>, Vec<u64>)> {
    let txn = store.begin_read()?;
    let tree = txn.authors()?;
    let all = tree.iter()?.collect::<Result<Vec<_>>>()?;
    let by_name = all
        .iter()
        .map(|a| {
            tree.get_by_name(&a.name)
                .map(|found| found.map_or(0, |f| f.id))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut in_countries = Vec::new();
    for country in ["FR", "JP", "US"] {
        for a in tree.by_country(country)? {
            in_countries.push(a?.id);
        }
    }
    Ok((all, by_name, in_countries))
}

/// The same batch through `put_many` and through `put` one by one, on stores seeded alike:
/// same success, same contents, same index answers.
fn same_as_puts(seed: &[Author], batch: &[Author]) -> Result<bool> {
    let many = Store::<Library>::in_memory()?;
    let each = Store::<Library>::in_memory()?;
    for store in [&many, &each] {
        store.put_many::<Author>(seed)?;
    }
    let txn = many.begin_write()?;
    let ok_many = txn.authors()?.put_many(batch).is_ok();
    txn.commit()?;
    let txn = each.begin_write()?;
    let ok_each = {
        let mut tree = txn.authors()?;
        batch.iter().try_for_each(|a| tree.put(a)).is_ok()
    };
    if ok_each {
        txn.commit()?;
    } else {
        txn.abort()?;
    }
    assert_eq!(ok_many, ok_each, "batch {batch:?}");
    assert_eq!(contents(&many)?, contents(&each)?, "batch {batch:?}");
    Ok(ok_many)
}

#[test]
fn a_batch_matches_the_same_puts_one_by_one() -> Result {
    let seed = [
        author(1, "Ursula", Some("US")),
        author(2, "Haruki", Some("JP")),
    ];
    // New records only, out of key order, with index entries out of order.
    assert!(same_as_puts(
        &seed,
        &[
            author(30, "Zola", Some("FR")),
            author(10, "Anna", Some("JP")),
            author(20, "Mona", None),
        ]
    )?);
    // A replacement after new records: the held entries are written first.
    assert!(same_as_puts(
        &seed,
        &[
            author(10, "Anna", Some("FR")),
            author(2, "Haruki M.", Some("FR")),
            author(11, "Bea", Some("JP")),
        ]
    )?);
    // A new record, then the same key again: the later one wins.
    assert!(same_as_puts(
        &seed,
        &[author(10, "Anna", Some("FR")), author(10, "Anne", None)]
    )?);
    // A name freed by a replacement earlier in the batch is free for a new record.
    assert!(same_as_puts(
        &seed,
        &[
            author(2, "Haruki M.", None),
            author(10, "Haruki", Some("JP"))
        ]
    )?);
    // Freed only after the new record wanted it: refused, as one by one.
    assert!(!same_as_puts(
        &seed,
        &[
            author(10, "Haruki", Some("JP")),
            author(2, "Haruki M.", None)
        ]
    )?);
    // Two new records with one name; a new record with an existing record's name.
    assert!(!same_as_puts(
        &seed,
        &[author(10, "Anna", None), author(11, "Anna", None)]
    )?);
    assert!(!same_as_puts(
        &seed,
        &[author(10, "Anna", None), author(11, "Ursula", None)]
    )?);
    Ok(())
}

#[test]
fn the_later_of_two_new_records_with_one_unique_key_is_named() -> Result {
    let store = Store::<Library>::in_memory()?;
    store.put(&author(1, "Ursula", Some("US")))?;
    let txn = store.begin_write()?;
    {
        let mut tree = txn.authors()?;
        let error = tree
            .put_many([
                author(12, "Anna", Some("FR")),
                author(5, "Bea", None),
                author(7, "Anna", Some("JP")),
            ])
            .unwrap_err();
        match error {
            Error::UniqueViolation { field, value, .. } => {
                assert_eq!(field, "name");
                assert!(value.contains("Anna"), "{value}");
            }
            other => panic!("expected UniqueViolation, got {other:?}"),
        }
        // Nothing of the batch is left, and the transaction goes on.
        assert_eq!(tree.len()?, 1);
        assert!(tree.by_country("FR")?.next().is_none());
        assert_eq!(tree.get_by_name("Bea")?, None);
        assert_eq!(tree.put_many([author(5, "Bea", None)])?, 1);
    }
    txn.commit()?;
    let (all, by_name, _) = contents(&store)?;
    assert_eq!(all.iter().map(|a| a.id).collect::<Vec<_>>(), [1, 5]);
    assert_eq!(by_name, [1, 5]);
    Ok(())
}

#[test]
fn a_batch_larger_than_the_held_buffer_is_exact_and_all_or_nothing() -> Result {
    // About 250 bytes of held entries per author (a 200-byte name): 8 MiB is about 33,000 of
    // them, so the buffer is flushed mid-batch.
    const N: u64 = 45_000;
    let name = |id: u64| format!("{:08}{}", N - id, "-".repeat(192));
    let store = Store::<Library>::in_memory()?;
    store.put(&author(N + 1, "Taken", None))?;
    // The last record takes an existing name: the whole batch, flushed part included, goes.
    let txn = store.begin_write()?;
    {
        let mut tree = txn.authors()?;
        let batch = (0..N)
            .map(|id| author(id, &name(id), Some("FR")))
            .chain([author(N + 2, "Taken", None)]);
        assert!(matches!(
            tree.put_many(batch),
            Err(Error::UniqueViolation { .. })
        ));
        assert_eq!(tree.len()?, 1);
        assert!(tree.by_country("FR")?.next().is_none());
        assert_eq!(tree.get_by_name(&name(3))?, None);
    }
    txn.commit()?;
    let txn = store.begin_write()?;
    assert_eq!(
        txn.authors()?
            .put_many((0..N).map(|id| author(id, &name(id), Some("FR"))))?,
        N
    );
    txn.commit()?;
    let txn = store.begin_read()?;
    let tree = txn.authors()?;
    assert_eq!(tree.len()?, N + 1);
    assert_eq!(tree.count_by_country("FR")?, N);
    for id in [0, 1, N / 2, N - 1] {
        assert_eq!(tree.get_by_name(&name(id))?.map(|a| a.id), Some(id));
    }
    Ok(())
}
