//! Subscriptions (issue 13): each filter kind, typed events, ordering within and across commits,
//! nothing for aborted or failed writes, `Lagged` with a bounded queue, unsubscribing, and many
//! writers with many subscribers. The change feed has its own module (`watch_feed.rs`).
//!
//! A commit delivers its events before `commit` returns, so `try_recv` right after a commit
//! sees them: no test waits on a clock.

use super::links::{city, country};
use netabase_runtime::{
    Change, Error, Event, Filter, KeyBounds, Model, Result, Store, Subscription,
};
use netabase_tests::atlas::{Atlas, City};
use netabase_tests::shop::{Item, Order, Shop};

pub fn item(sku: &str, category: &str, price: u64) -> Item {
    Item {
        sku: sku.to_owned(),
        name: format!("name of {sku}"),
        category: category.to_owned(),
        price,
    }
}

/// Every event waiting on `sub`, without blocking.
pub fn drain<M: Model>(sub: &mut Subscription<M>) -> Result<Vec<Event<M>>> {
    let mut events = Vec::new();
    while let Some(event) = sub.try_recv()? {
        events.push(event);
    }
    Ok(events)
}

/// An item event as `(seq, kind, sku, price after or before)`, for short assertions.
pub fn brief(event: &Event<Item>) -> (u64, &'static str, String, u64) {
    let (kind, record) = match &event.change {
        Change::Inserted(new) => ("inserted", new),
        Change::Updated { new, .. } => ("updated", new),
        Change::Removed(old) => ("removed", old),
    };
    (event.seq, kind, record.sku.clone(), record.price)
}

fn briefs(sub: &mut Subscription<Item>) -> Result<Vec<(u64, &'static str, String, u64)>> {
    Ok(drain(sub)?.iter().map(brief).collect())
}

fn commit_items(store: &Store<Shop>, items: &[Item]) -> Result<()> {
    let txn = store.begin_write()?;
    txn.items()?.put_many(items)?;
    txn.commit()
}

fn s(sku: &str) -> String {
    sku.to_owned()
}

#[test]
fn a_whole_model_subscription_gets_typed_events_in_write_order_and_commit_order() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    let mut all = store.watch(Filter::<Item>::all())?;
    assert_eq!(all.start_seq(), 0);
    let txn = store.begin_write()?;
    {
        let mut items = txn.items()?;
        items.put(&item("b", "tools", 1))?;
        items.put(&item("a", "tools", 2))?;
        items.put(&item("b", "tools", 3))?;
        items.remove("a")?;
    }
    txn.commit()?;
    let first = drain(&mut all)?;
    // Write order, not key order; a replaced record is an update carrying both versions.
    assert_eq!(
        first.iter().map(brief).collect::<Vec<_>>(),
        [
            (1, "inserted", s("b"), 1),
            (1, "inserted", s("a"), 2),
            (1, "updated", s("b"), 3),
            (1, "removed", s("a"), 2),
        ]
    );
    assert_eq!(
        first[2].change,
        Change::Updated {
            old: item("b", "tools", 1),
            new: item("b", "tools", 3)
        }
    );
    assert_eq!(first[3].change, Change::Removed(item("a", "tools", 2)));
    store.put(&item("c", "food", 4))?;
    store.remove::<Item>("b")?;
    assert_eq!(
        briefs(&mut all)?,
        [(2, "inserted", s("c"), 4), (3, "removed", s("b"), 3)]
    );
    assert_eq!(store.last_seq(), 3);
    // Another model's changes are not this subscription's.
    let txn = store.begin_write()?;
    txn.orders()?.put(&Order {
        id: 1,
        item: "c".into(),
        quantity: 1,
    })?;
    txn.commit()?;
    assert!(all.try_recv()?.is_none());
    Ok(())
}

#[test]
fn a_key_subscription_gets_only_that_record() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    let mut one = store.watch(Filter::<Item>::key("b"))?;
    commit_items(
        &store,
        &[item("a", "x", 1), item("b", "x", 2), item("c", "x", 3)],
    )?;
    commit_items(&store, &[item("b", "x", 4), item("bb", "x", 5)])?;
    assert_eq!(
        briefs(&mut one)?,
        [(1, "inserted", s("b"), 2), (2, "updated", s("b"), 4)]
    );
    Ok(())
}

#[test]
fn a_range_subscription_gets_the_keys_within_its_bounds() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    let mut range = store.watch(Filter::<Item>::range("b".."d"))?;
    let mut inclusive = store.watch(Filter::<Item>::range("b"..="d"))?;
    commit_items(
        &store,
        &["a", "b", "bz", "c", "d", "dz", "e"].map(|sku| item(sku, "x", 1)),
    )?;
    let skus = |sub: &mut Subscription<Item>| -> Result<Vec<String>> {
        Ok(briefs(sub)?.into_iter().map(|b| b.2).collect())
    };
    assert_eq!(skus(&mut range)?, ["b", "bz", "c"]);
    assert_eq!(skus(&mut inclusive)?, ["b", "bz", "c", "d"]);
    Ok(())
}

#[test]
fn a_prefix_subscription_gets_the_keys_that_start_with_it() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    let mut prefix = store.watch(Filter::<Item>::key_bounds(KeyBounds::string_prefix("ab")))?;
    commit_items(
        &store,
        &["a", "ab", "abc", "abz", "ac", "b"].map(|sku| item(sku, "x", 1)),
    )?;
    let skus: Vec<String> = briefs(&mut prefix)?.into_iter().map(|b| b.2).collect();
    assert_eq!(skus, ["ab", "abc", "abz"]);
    Ok(())
}

#[test]
fn a_secondary_key_subscription_sees_records_arrive_and_leave() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    let mut tools = store.watch(Item::watch_by_category("tools"))?;
    let mut food = store.watch(Filter::<Item>::index("category", "food"))?;
    commit_items(&store, &[item("a", "tools", 1), item("b", "food", 2)])?;
    // `a` moves from tools to food: both subscriptions see the one update.
    commit_items(&store, &[item("a", "food", 3)])?;
    let txn = store.begin_write()?;
    txn.items()?.remove("b")?;
    txn.commit()?;
    assert_eq!(
        briefs(&mut tools)?,
        [(1, "inserted", s("a"), 1), (2, "updated", s("a"), 3)]
    );
    assert_eq!(
        briefs(&mut food)?,
        [
            (1, "inserted", s("b"), 2),
            (2, "updated", s("a"), 3),
            (3, "removed", s("b"), 2)
        ]
    );
    Ok(())
}

#[test]
fn a_secondary_key_range_subscription_matches_before_or_after() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    let mut t = store.watch(Filter::<Item>::index_bounds(
        "category",
        KeyBounds::string_prefix("t"),
    ))?;
    commit_items(
        &store,
        &[
            item("a", "tea", 1),
            item("b", "food", 2),
            item("c", "toys", 3),
        ],
    )?;
    commit_items(&store, &[item("a", "food", 4)])?;
    let skus: Vec<(u64, String)> = briefs(&mut t)?.into_iter().map(|b| (b.0, b.2)).collect();
    assert_eq!(skus, [(1, s("a")), (1, s("c")), (2, s("a"))]);
    Ok(())
}

#[test]
fn an_unknown_secondary_key_is_an_error() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    let error = store
        .watch(Filter::<Item>::index("colour", "red"))
        .expect_err("Item has no `colour` key");
    assert!(
        matches!(&error, Error::UnknownIndex { model: "Item", field } if field == "colour"),
        "{error:?}"
    );
    assert_eq!(store.subscriptions(), 0);
    Ok(())
}

#[test]
fn aborted_and_failed_writes_deliver_nothing() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    let mut all = store.watch(Filter::<Item>::all())?;
    let mut orders = store.watch(Filter::<Order>::all())?;
    commit_items(&store, &[item("a", "x", 1)])?;
    assert_eq!(drain(&mut all)?.len(), 1);

    // Aborted, and dropped without committing.
    let txn = store.begin_write()?;
    txn.items()?.put(&item("b", "x", 2))?;
    txn.abort()?;
    let txn = store.begin_write()?;
    txn.items()?.put(&item("b", "x", 2))?;
    drop(txn);

    // A failed `put_many` (its second record takes `a`'s unique name) undoes its first record;
    // a refused single put changes nothing; the write before them is committed.
    let txn = store.begin_write()?;
    {
        let mut items = txn.items()?;
        items.put(&item("c", "x", 3))?;
        let mut stealer = item("e", "x", 5);
        stealer.name = "name of a".into();
        let error = items
            .put_many([item("d", "x", 4), stealer.clone()])
            .expect_err("unique name");
        assert!(matches!(error, Error::UniqueViolation { .. }), "{error:?}");
        assert!(items.put(&stealer).is_err());
        assert!(items.insert(&item("a", "x", 9)).is_err());
        // A failed `remove_many` (no failure is possible without corruption) is covered by
        // the same undo path; a successful one is delivered below.
    }
    txn.commit()?;
    assert_eq!(briefs(&mut all)?, [(2, "inserted", s("c"), 3)]);

    // A commit refused for a broken checked link writes nothing and delivers nothing.
    let txn = store.begin_write()?;
    txn.items()?.put(&item("f", "x", 6))?;
    txn.orders()?.put(&Order {
        id: 1,
        item: "missing".into(),
        quantity: 1,
    })?;
    assert!(matches!(txn.commit(), Err(Error::BrokenLink { .. })));
    assert!(all.try_recv()?.is_none());
    assert!(orders.try_recv()?.is_none());
    assert_eq!(store.last_seq(), 2, "a failed commit takes no number");

    // The next commit is delivered, numbered right after the last one.
    let txn = store.begin_write()?;
    assert_eq!(txn.items()?.remove_many(["a", "c", "zz"])?, 2);
    txn.commit()?;
    assert_eq!(
        briefs(&mut all)?,
        [(3, "removed", s("a"), 1), (3, "removed", s("c"), 3)]
    );
    Ok(())
}

#[test]
fn clear_and_range_removal_deliver_every_removed_record() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    commit_items(&store, &["a", "b", "c", "d"].map(|sku| item(sku, "x", 1)))?;
    let mut all = store.watch(Filter::<Item>::all())?;
    assert_eq!(all.start_seq(), 1);
    let txn = store.begin_write()?;
    assert_eq!(txn.items()?.remove_range("b".."d")?, 2);
    assert_eq!(txn.items()?.retain(|item| item.sku != "a")?, 1);
    assert_eq!(txn.items()?.clear()?, 1);
    txn.commit()?;
    let removed: Vec<String> = briefs(&mut all)?
        .into_iter()
        .map(|(seq, kind, sku, _)| {
            assert_eq!((seq, kind), (2, "removed"));
            sku
        })
        .collect();
    assert_eq!(removed, ["b", "c", "a", "d"]);
    Ok(())
}

#[test]
fn a_slow_subscriber_lags_with_a_bounded_queue_and_then_gets_whole_commits() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    let capacity = 4;
    let mut slow = store.watch_with_capacity(Filter::<Item>::all(), capacity)?;
    let mut fast = store.watch(Filter::<Item>::all())?;
    // 1,000 commits of 3 changes while `slow` reads nothing: its queue never holds more than
    // `capacity` commits.
    for n in 0..1000u64 {
        commit_items(
            &store,
            &[item("a", "x", n), item("b", "x", n), item("c", "x", n)],
        )?;
        assert!(slow.queued_commits() <= capacity, "commit {n}");
        if n % 100 == 0 {
            drain(&mut fast)?;
        }
    }
    // The queue holds the lag report, then whole commits: every commit's three changes.
    let error = slow.recv().expect_err("lagged");
    let Error::Lagged { missed } = error else {
        panic!("{error:?}")
    };
    let rest = drain(&mut slow)?;
    assert_eq!(missed + rest.len() as u64, 3000);
    assert_eq!(rest.len() % 3, 0);
    assert!(rest.len() / 3 < capacity, "{} commits kept", rest.len() / 3);
    for commit in rest.chunks(3) {
        let seqs: Vec<u64> = commit.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [seqs[0]; 3]);
        let skus: Vec<String> = commit.iter().map(|e| brief(e).2).collect();
        assert_eq!(skus, ["a", "b", "c"]);
    }
    // Caught up: the next commit arrives whole.
    commit_items(&store, &[item("d", "x", 1)])?;
    assert_eq!(briefs(&mut slow)?, [(1001, "inserted", s("d"), 1)]);
    // The subscriber that kept up got every change.
    assert_eq!(drain(&mut fast)?.last().map(|e| e.seq), Some(1001));
    Ok(())
}

#[test]
fn dropping_a_subscription_unsubscribes_and_dropping_the_store_ends_them() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    let first = store.watch(Filter::<Item>::all())?;
    let mut second = store.watch(Filter::<Item>::key("a"))?;
    assert_eq!(store.subscriptions(), 2);
    drop(first);
    assert_eq!(store.subscriptions(), 1);
    commit_items(&store, &[item("a", "x", 1)])?;
    assert_eq!(drain(&mut second)?.len(), 1);
    drop(store);
    // The store is gone: the subscription ends instead of blocking.
    assert!(second.recv()?.is_none());
    assert!(second.next().is_none());
    Ok(())
}

#[test]
fn the_blocking_iterator_receives_from_another_thread() -> Result<()> {
    let store = std::sync::Arc::new(Store::<Shop>::in_memory()?);
    let sub = store.watch(Filter::<Item>::all())?;
    let reader = std::thread::spawn(move || -> Result<Vec<u64>> {
        sub.take(5).map(|event| Ok(event?.seq)).collect()
    });
    for n in 0..5 {
        commit_items(&store, &[item(&format!("k{n}"), "x", n)])?;
    }
    assert_eq!(reader.join().expect("reader")?, [1, 2, 3, 4, 5]);
    Ok(())
}

#[test]
fn recv_timeout_returns_none_when_nothing_comes() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    let mut sub = store.watch(Filter::<Item>::all())?;
    assert!(
        sub.recv_timeout(std::time::Duration::from_millis(1))?
            .is_none()
    );
    commit_items(&store, &[item("a", "x", 1)])?;
    let event = sub.recv_timeout(std::time::Duration::from_secs(60))?;
    assert_eq!(event.map(|e| e.seq), Some(1));
    Ok(())
}

#[test]
fn the_async_stream_yields_the_same_events() -> Result<()> {
    use futures_executor::block_on_stream;
    let store = Store::<Shop>::in_memory()?;
    let stream = store.watch(Filter::<Item>::all())?.into_stream();
    commit_items(&store, &[item("a", "x", 1), item("b", "x", 2)])?;
    commit_items(&store, &[item("a", "x", 3)])?;
    let events: Vec<Event<Item>> = block_on_stream(stream).take(3).collect::<Result<_>>()?;
    assert_eq!(
        events.iter().map(brief).collect::<Vec<_>>(),
        [
            (1, "inserted", s("a"), 1),
            (1, "inserted", s("b"), 2),
            (2, "updated", s("a"), 3)
        ]
    );
    Ok(())
}

#[test]
fn a_definition_without_feed_numbers_commits_in_memory_and_has_no_feed() -> Result<()> {
    let store = Store::<Atlas>::in_memory()?;
    // The generated filters: one per secondary key.
    let mut japan = store.watch(City::watch_by_country_code("JP"))?;
    let mut big_french = store.watch(City::watch_by_country_population("FR", 2))?;
    let txn = store.begin_write()?;
    txn.countries()?
        .put_many([country("JP", &[]), country("FR", &[])])?;
    txn.cities()?
        .put_many([city(1, "JP"), city(2, "FR"), city(3, "JP")])?;
    txn.commit()?;
    let ids: Vec<(u64, u64)> = drain(&mut japan)?
        .iter()
        .map(|e| (e.seq, e.change.after().map_or(0, |c| c.geonameid)))
        .collect();
    assert_eq!(ids, [(1, 1), (1, 3)]);
    assert_eq!(drain(&mut big_french)?.len(), 1);
    assert!(matches!(
        store.changes_since::<City>(0),
        Err(Error::NoChangeFeed {
            definition: "Atlas"
        })
    ));
    assert!(matches!(
        store.prune_changes_before(1),
        Err(Error::NoChangeFeed { .. })
    ));
    Ok(())
}

/// Writers and subscribers at once, for a bounded number of commits: every subscriber sees
/// its changes in commit order, each commit whole, and replaying what the whole-model
/// subscriber saw rebuilds the store.
#[test]
fn concurrent_writers_and_subscribers() -> Result<()> {
    const WRITERS: u64 = 4;
    const COMMITS: u64 = 60;
    let store = std::sync::Arc::new(Store::<Shop>::in_memory()?);
    let all = store.watch(Filter::<Item>::all())?;
    let low = store.watch(Filter::<Item>::range("w0".."w2"))?;
    let even = store.watch(Filter::<Item>::index("category", "even"))?;
    let total = WRITERS * COMMITS;
    // Each reader blocks on its subscription until the store is dropped, which ends it.
    let collect =
        |sub: Subscription<Item>| std::thread::spawn(move || sub.collect::<Result<Vec<_>>>());
    let readers = [collect(all), collect(low), collect(even)];
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = std::sync::Arc::clone(&store);
            std::thread::spawn(move || -> Result<()> {
                for n in 0..COMMITS {
                    let category = if n % 2 == 0 { "even" } else { "odd" };
                    let txn = store.begin_write()?;
                    {
                        let mut items = txn.items()?;
                        items.put(&item(&format!("w{w}-{}", n % 7), category, n))?;
                        items.put(&item(&format!("w{w}-last"), "even", n))?;
                        items.put(&item("w0-shared", "even", w * 1000 + n))?;
                    }
                    txn.commit()?;
                }
                Ok(())
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("writer")?;
    }
    let stored: Vec<Item> = store
        .begin_read()?
        .items()?
        .iter()?
        .collect::<Result<_>>()?;
    drop(store);
    let mut results = Vec::new();
    for reader in readers {
        results.push(reader.join().expect("reader")?);
    }
    for events in &results {
        assert!(
            events.windows(2).all(|w| w[0].seq <= w[1].seq),
            "commit order"
        );
    }
    // The whole-model subscriber saw every commit whole (three changes each, in write order).
    let all = &results[0];
    assert_eq!(all.len() as u64, 3 * total);
    for (n, commit) in all.chunks(3).enumerate() {
        assert!(commit.iter().all(|e| e.seq == n as u64 + 1));
        assert_eq!(brief(&commit[2]).2, "w0-shared");
    }
    // Replaying its events rebuilds the store exactly.
    let mut replica = std::collections::BTreeMap::new();
    for event in all {
        match &event.change {
            Change::Inserted(new) => {
                assert!(replica.insert(new.sku.clone(), new.clone()).is_none())
            }
            Change::Updated { old, new } => {
                assert_eq!(
                    replica.insert(new.sku.clone(), new.clone()).as_ref(),
                    Some(old)
                );
            }
            Change::Removed(old) => assert_eq!(replica.remove(&old.sku).as_ref(), Some(old)),
        }
    }
    assert_eq!(replica.into_values().collect::<Vec<_>>(), stored);
    // The filtered subscribers saw exactly the matching part of the same stream.
    let low_expected: Vec<_> = all
        .iter()
        .filter(|e| {
            let sku = &brief(e).2;
            sku.as_str() >= "w0" && sku.as_str() < "w2"
        })
        .map(brief)
        .collect();
    assert_eq!(
        results[1].iter().map(brief).collect::<Vec<_>>(),
        low_expected
    );
    let even_expected: Vec<_> = all
        .iter()
        .filter(|e| {
            e.change.before().is_some_and(|i| i.category == "even")
                || e.change.after().is_some_and(|i| i.category == "even")
        })
        .map(brief)
        .collect();
    assert_eq!(
        results[2].iter().map(brief).collect::<Vec<_>>(),
        even_expected
    );
    Ok(())
}

/// `put_many` writes new records at once and holds their index entries back (see
/// `tree/deferred.rs`): its events are still every write, in batch order, with the replaced
/// record as an update; a batch that fails delivers none of them.
#[test]
fn put_many_delivers_its_writes_in_batch_order() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    commit_items(&store, &[item("m", "tools", 1)])?;
    let mut all = store.watch(Filter::<Item>::all())?;
    commit_items(
        &store,
        &[
            item("z", "tools", 2),
            item("a", "books", 3),
            item("m", "tools", 4),
            item("b", "books", 5),
        ],
    )?;
    assert_eq!(
        briefs(&mut all)?,
        [
            (2, "inserted", s("z"), 2),
            (2, "inserted", s("a"), 3),
            (2, "updated", s("m"), 4),
            (2, "inserted", s("b"), 5),
        ]
    );
    Ok(())
}

#[test]
fn group_commits_deliver_the_writes_of_callers_that_succeeded_and_nothing_of_the_others()
-> Result<()> {
    const THREADS: u64 = 4;
    const WRITES: u64 = 30;
    let store = std::sync::Arc::new(Store::<Shop>::in_memory()?);
    commit_items(&store, &[item("taken", "x", 0)])?;
    let mut all = store.watch_with_capacity(Filter::<Item>::all(), 1000)?;
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = std::sync::Arc::clone(&store);
            std::thread::spawn(move || {
                (0..WRITES)
                    .map(|i| {
                        let n = t * WRITES + i;
                        // Every fifth caller also takes `taken`'s unique name: its whole closure
                        // fails, including the put before, while its group's others commit.
                        let fails = n.is_multiple_of(5);
                        let result = store.write(move |txn| {
                            let mut items = txn.items()?;
                            items.put(&item(&format!("w{n:03}"), "x", n))?;
                            if fails {
                                let mut stealer = item(&format!("s{n:03}"), "x", n);
                                stealer.name = "name of taken".into();
                                items.put(&stealer)?;
                            }
                            Ok(())
                        });
                        (n, fails, result)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut committed = Vec::new();
    for handle in handles {
        for (n, fails, result) in handle.join().expect("writer thread") {
            assert_eq!(result.is_err(), fails, "write {n}: {result:?}");
            if !fails {
                committed.push(format!("w{n:03}"));
            }
        }
    }
    committed.sort();
    let events = drain(&mut all)?;
    // Every event is an insert of a caller that succeeded, each exactly once; commits arrive in
    // order, and the events of one commit (one group) arrive together.
    let mut delivered: Vec<String> = events
        .iter()
        .map(|event| match &event.change {
            Change::Inserted(new) => new.sku.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "{seqs:?}");
    assert_eq!(seqs.last().copied(), Some(store.last_seq()));
    delivered.sort();
    assert_eq!(delivered, committed);
    // And the events are exactly what the store holds.
    let txn = store.begin_read()?;
    let mut stored: Vec<String> = txn
        .items()?
        .iter()?
        .map(|item| item.map(|item| item.sku))
        .collect::<Result<_>>()?;
    stored.retain(|sku| sku != "taken");
    assert_eq!(stored, committed);
    Ok(())
}
