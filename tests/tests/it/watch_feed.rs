//! The durable change feed (issue 13): written in the same transaction as the data, read back
//! after a sequence number (also after a reopen and after SIGKILL), nothing for aborted or
//! failed writes, pruning and retention.

use super::watch::{brief, drain, item};
use netabase_runtime::{Change, Error, Event, Filter, Result, Store};
use netabase_tests::shop::{Item, Order, Shop};
use std::collections::BTreeMap;

fn feed(store: &Store<Shop>, after: u64) -> Result<Vec<(u64, &'static str, String, u64)>> {
    Ok(store
        .changes_since::<Item>(after)?
        .collect::<Result<Vec<_>>>()?
        .iter()
        .map(brief)
        .collect())
}

fn s(sku: &str) -> String {
    sku.to_owned()
}

#[test]
fn a_consumer_resumes_after_a_reopen_exactly_where_it_stopped() -> Result<()> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("feed.redb");
    {
        let store = Store::<Shop>::open(&path)?;
        store.put(&item("a", "x", 1))?;
        store.put(&item("b", "x", 2))?;
        let txn = store.begin_write()?;
        txn.items()?.put(&item("a", "x", 3))?;
        txn.orders()?.put(&Order {
            id: 7,
            item: "a".into(),
            quantity: 2,
        })?;
        txn.commit()?;
    }
    let store = Store::<Shop>::open(&path)?;
    assert_eq!(store.last_seq(), 3);
    assert_eq!(
        feed(&store, 0)?,
        [
            (1, "inserted", s("a"), 1),
            (2, "inserted", s("b"), 2),
            (3, "updated", s("a"), 3)
        ]
    );
    // A consumer that handled commit 2 resumes with commit 3, every model's changes in order.
    let entries = store.all_changes_since(2)?.collect::<Result<Vec<_>>>()?;
    let models: Vec<(u64, &str)> = entries.iter().map(|e| (e.seq(), e.model())).collect();
    assert_eq!(models, [(3, "Item"), (3, "Order")]);
    assert!(entries[1].event::<Item>()?.is_none());
    assert_eq!(
        entries[1].event::<Order>()?,
        Some(Event {
            seq: 3,
            change: Change::Inserted(Order {
                id: 7,
                item: "a".into(),
                quantity: 2
            })
        })
    );
    // Numbering continues after the reopen.
    store.remove::<Item>("b")?;
    assert_eq!(store.last_seq(), 4);
    assert_eq!(feed(&store, 3)?, [(4, "removed", s("b"), 2)]);
    assert!(feed(&store, 4)?.is_empty());
    assert!(feed(&store, u64::MAX)?.is_empty());
    Ok(())
}

#[test]
fn the_feed_and_a_subscription_carry_the_same_events() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    let mut sub = store.watch(Filter::<Item>::all())?;
    for n in 0..5u64 {
        let txn = store.begin_write()?;
        {
            let mut items = txn.items()?;
            items.put(&item(&format!("k{}", n % 3), "x", n))?;
            if n % 2 == 1 {
                items.remove("k0")?;
            }
        }
        txn.commit()?;
    }
    let fed: Vec<Event<Item>> = store.changes_since(0)?.collect::<Result<_>>()?;
    assert_eq!(drain(&mut sub)?, fed);
    assert_eq!(fed.len(), 7);
    Ok(())
}

#[test]
fn aborted_failed_and_empty_commits_leave_nothing_in_the_feed() -> Result<()> {
    let store = Store::<Shop>::in_memory()?;
    store.put(&item("a", "x", 1))?;
    let txn = store.begin_write()?;
    txn.items()?.put(&item("b", "x", 2))?;
    txn.abort()?;
    let txn = store.begin_write()?;
    {
        let mut items = txn.items()?;
        let mut stealer = item("d", "x", 4);
        stealer.name = "name of a".into();
        assert!(items.put_many([item("c", "x", 3), stealer]).is_err());
        items.put(&item("e", "x", 5))?;
    }
    txn.commit()?;
    let txn = store.begin_write()?;
    txn.items()?.put(&item("f", "x", 6))?;
    txn.orders()?.put(&Order {
        id: 1,
        item: "nothing".into(),
        quantity: 1,
    })?;
    assert!(matches!(txn.commit(), Err(Error::BrokenLink { .. })));
    // A commit that changes nothing writes nothing and takes no number.
    store.begin_write()?.commit()?;
    assert_eq!(store.last_seq(), 2);
    assert_eq!(
        feed(&store, 0)?,
        [(1, "inserted", s("a"), 1), (2, "inserted", s("e"), 5)]
    );
    assert_eq!(store.all_changes_since(0)?.count(), 2);
    Ok(())
}

#[test]
fn pruning_removes_old_commits_and_numbers_are_never_reused() -> Result<()> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("prune.redb");
    {
        let store = Store::<Shop>::open(&path)?;
        for n in 1..=4u64 {
            store.put_many([
                item(&format!("a{n}"), "x", n),
                item(&format!("b{n}"), "x", n),
            ])?;
        }
        assert_eq!(store.prune_changes_before(3)?, 4);
        let seqs: Vec<u64> = feed(&store, 0)?.iter().map(|b| b.0).collect();
        assert_eq!(seqs, [3, 3, 4, 4]);
        assert_eq!(store.prune_changes_before(3)?, 0);
        assert_eq!(store.prune_changes_before(u64::MAX)?, 4);
        assert!(feed(&store, 0)?.is_empty());
        assert_eq!(store.last_seq(), 4);
    }
    // Emptied by pruning, the feed still knows its last number after a reopen.
    let mut store = Store::<Shop>::open(&path)?;
    assert_eq!(store.last_seq(), 4);
    store.put(&item("c", "x", 5))?;
    assert_eq!(feed(&store, 0)?, [(5, "inserted", s("c"), 5)]);
    // The feed's tables are part of a clean database.
    let report = store.check_integrity()?;
    assert!(report.is_clean(), "{report:?}");
    Ok(())
}

#[test]
fn a_retention_bound_keeps_the_last_commits() -> Result<()> {
    let store = Store::<Shop>::builder()
        .change_feed_retention(2)
        .in_memory()?;
    for n in 1..=5u64 {
        store.put(&item(&format!("k{n}"), "x", n))?;
    }
    let seqs: Vec<u64> = feed(&store, 0)?.iter().map(|b| b.0).collect();
    assert_eq!(seqs, [4, 5]);
    Ok(())
}

/// SIGKILL: a child commits a seeded workload to a store with a feed and acknowledges each
/// commit; it is killed at random moments. After every kill, replaying the whole feed on an
/// empty map must give exactly the records of the reopened store (no change of an uncommitted
/// write, none missing for a committed one), every change's old record must be the one the
/// replay holds, commit numbers must run without a gap, and every acknowledged commit must be
/// there (at most one more: committed, but killed before it said so).
#[test]
fn the_feed_matches_the_committed_data_after_sigkill() -> Result<()> {
    use std::io::{BufRead, BufReader};
    const KILLS: usize = 16;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("crash.redb");
    drop(Store::<Shop>::open(&path)?);
    let mut moments = fastrand::Rng::with_seed(13);
    let mut verified = 0u64;
    for round in 0..KILLS {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_watch_child"))
            .arg(&path)
            .arg(round.to_string())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn the writer");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut acknowledged = verified;
        for _ in 0..moments.u64(1..=24) {
            let line = lines.next().expect("a line").expect("stdout");
            acknowledged = line.parse().expect("a sequence number");
        }
        child.kill().expect("kill");
        child.wait().expect("wait");
        // The child may have acknowledged more commits than were read before the kill landed.
        for line in lines {
            acknowledged = line.expect("stdout").parse().expect("a sequence number");
        }

        let mut store = Store::<Shop>::open(&path)?;
        let report = store.check_integrity()?;
        assert!(report.is_clean(), "round {round}: {report:?}");
        let last = store.last_seq();
        assert!(
            (acknowledged..=acknowledged + 1).contains(&last),
            "round {round}: {last} commits, {acknowledged} acknowledged"
        );
        let mut replica: BTreeMap<String, Item> = BTreeMap::new();
        let mut expected_seq = 1;
        for event in store.changes_since::<Item>(0)? {
            let event = event?;
            assert!(
                event.seq == expected_seq || event.seq == expected_seq + 1,
                "round {round}: seq {} after {}",
                event.seq,
                expected_seq
            );
            expected_seq = event.seq;
            match event.change {
                Change::Inserted(new) => {
                    assert!(
                        replica.insert(new.sku.clone(), new).is_none(),
                        "round {round}"
                    )
                }
                Change::Updated { old, new } => {
                    assert_eq!(
                        replica.insert(new.sku.clone(), new),
                        Some(old),
                        "round {round}"
                    )
                }
                Change::Removed(old) => {
                    assert_eq!(replica.remove(&old.sku), Some(old), "round {round}")
                }
            }
        }
        assert_eq!(
            expected_seq, last,
            "round {round}: every commit changes an item"
        );
        let stored: Vec<Item> = store
            .begin_read()?
            .items()?
            .iter()?
            .collect::<Result<_>>()?;
        assert_eq!(
            replica.into_values().collect::<Vec<_>>(),
            stored,
            "round {round}"
        );
        verified = last;
    }
    assert!(
        verified >= KILLS as u64,
        "{verified} commits in {KILLS} rounds"
    );
    Ok(())
}
