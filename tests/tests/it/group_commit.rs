//! `Store::write`, the group commit: concurrent callers share one transaction and one sync, and
//! each caller's writes stay atomic and isolated from the others' failures.
//!
//! The tests that need callers in one group hold the group's first closure (which runs alone,
//! as its caller leads) until the others are queued (`queued_writes`), then release it: the
//! queued callers then join the held group before it commits, in the order they queued.

use netabase_runtime::{Error, Filter, Store};
use netabase_tests::library::{Author, Library, LibraryWriteTransaction};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

type Result<T = ()> = std::result::Result<T, Error>;

fn author(id: u64, name: &str) -> Author {
    Author {
        id,
        name: name.to_owned(),
        country: None,
    }
}

fn names(store: &Store<Library>) -> Result<Vec<(u64, String)>> {
    let txn = store.begin_read()?;
    txn.authors()?
        .iter()?
        .map(|a| a.map(|a| (a.id, a.name)))
        .collect()
}

/// A store on disk holding author 1, "Ursula".
fn seeded(dir: &tempfile::TempDir) -> Result<Arc<Store<Library>>> {
    let store = Store::<Library>::open(dir.path().join("library.redb"))?;
    store.write(|txn| txn.authors()?.put(&author(1, "Ursula")))?;
    Ok(Arc::new(store))
}

/// Starts a caller whose closure waits until `release` is dropped before writing author `id`:
/// while it waits, its group is running, so the callers started after it queue. (Dropped, not
/// sent to: the closure runs again, without waiting, if a caller that joins its group fails.)
fn held_leader(store: &Arc<Store<Library>>, id: u64) -> (mpsc::Sender<()>, JoinHandle<Result>) {
    let (release, wait) = mpsc::channel::<()>();
    let (started, running) = mpsc::channel::<()>();
    let store = Arc::clone(store);
    let handle = std::thread::spawn(move || {
        store.write(move |txn| {
            let _ = started.send(());
            let _ = wait.recv();
            txn.open_tree::<Author>()?
                .put(&author(id, &format!("Leader {id}")))
        })
    });
    running.recv().expect("the leader's closure runs");
    (release, handle)
}

/// Spawns a caller and returns once its closure is queued behind the held group.
fn queue_caller<T: Send + 'static>(
    store: &Arc<Store<Library>>,
    f: impl FnMut(&LibraryWriteTransaction<'_>) -> Result<T> + Send + 'static,
) -> JoinHandle<Result<T>> {
    let before = store.queued_writes();
    let caller = Arc::clone(store);
    let handle = std::thread::spawn(move || caller.write(f));
    while store.queued_writes() == before {
        std::thread::yield_now();
    }
    handle
}

#[test]
fn write_returns_the_closures_value_once_committed_and_durable() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("library.redb");
    {
        let store = Store::<Library>::open(&path)?;
        let value = store.write(|txn| {
            txn.open_tree::<Author>()?.put(&author(7, "Haruki"))?;
            Ok("written")
        })?;
        assert_eq!(value, "written");
        // Visible to a new read transaction as soon as `write` returns.
        assert_eq!(names(&store)?, [(7, "Haruki".to_owned())]);
    }
    let reopened = Store::<Library>::open(&path)?;
    assert_eq!(names(&reopened)?, [(7, "Haruki".to_owned())]);
    Ok(())
}

#[test]
fn callers_that_queue_while_a_group_runs_join_it_and_share_its_commit() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = seeded(&dir)?;
    let mut events = store.watch(Filter::<Author>::all())?;
    let (release, leader) = held_leader(&store, 100);
    let callers: Vec<_> = [10, 11, 12]
        .map(|id| {
            queue_caller(&store, move |txn| {
                txn.open_tree::<Author>()?
                    .put(&author(id, &format!("Author {id}")))?;
                Ok(id)
            })
        })
        .into();
    drop(release);
    leader.join().expect("leader thread")?;
    for (caller, id) in callers.into_iter().zip([10, 11, 12]) {
        assert_eq!(caller.join().expect("caller")?, id);
    }
    let mut written = Vec::new();
    while let Some(event) = events.try_recv()? {
        let id = event.change.after().map(|author| author.id);
        written.push((event.seq, id.expect("an insertion")));
    }
    let seq = store.last_seq();
    assert_eq!(
        written,
        [(seq, 100), (seq, 10), (seq, 11), (seq, 12)],
        "one commit, the leader's write first, then the callers' in the order they queued"
    );
    assert_eq!(store.queued_writes(), 0);
    Ok(())
}

#[test]
fn a_failing_closure_leaves_nothing_and_does_not_undo_the_others_of_its_group() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = seeded(&dir)?;
    let (release, leader) = held_leader(&store, 100);
    let runs_of_a = Arc::new(AtomicUsize::new(0));
    let runs = Arc::clone(&runs_of_a);
    let a = queue_caller(&store, move |txn| {
        runs.fetch_add(1, Ordering::SeqCst);
        txn.open_tree::<Author>()?.put(&author(10, "Banana"))?;
        Ok(10)
    });
    // B writes author 11, then takes Ursula's name: a unique violation it returns.
    let b = queue_caller(&store, |txn| {
        let mut authors = txn.open_tree::<Author>()?;
        authors.put(&author(11, "Kazuo"))?;
        authors.put(&author(12, "Ursula"))
    });
    let c = queue_caller(&store, |txn| {
        txn.open_tree::<Author>()?.put(&author(13, "Yoko"))
    });
    drop(release);
    leader.join().expect("leader thread")?;
    assert_eq!(a.join().expect("caller A")?, 10);
    let error = b.join().expect("caller B").unwrap_err();
    assert!(
        matches!(error, Error::UniqueViolation { field: "name", .. }),
        "{error:?}"
    );
    c.join().expect("caller C")?;
    // A ran in the group with B, then again once B left it.
    assert_eq!(runs_of_a.load(Ordering::SeqCst), 2);
    let expected: Vec<(u64, String)> = [
        (1, "Ursula"),
        (10, "Banana"),
        (13, "Yoko"),
        (100, "Leader 100"),
    ]
    .map(|(id, name)| (id, name.to_owned()))
    .into();
    assert_eq!(
        names(&store)?,
        expected,
        "nothing of B (11 or 12) is stored"
    );
    drop(store);
    let reopened = Store::<Library>::open(dir.path().join("library.redb"))?;
    assert_eq!(names(&reopened)?, expected, "after reopening");
    Ok(())
}

#[test]
fn a_panicking_closure_is_an_error_for_its_caller_only() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = seeded(&dir)?;
    let (release, leader) = held_leader(&store, 100);
    let a = queue_caller(&store, |txn| {
        txn.open_tree::<Author>()?.put(&author(10, "Banana"))
    });
    let b = queue_caller(&store, |txn| -> Result {
        txn.open_tree::<Author>()?.put(&author(11, "Kazuo"))?;
        panic!("the caller's own bug")
    });
    drop(release);
    leader.join().expect("leader thread")?;
    a.join().expect("caller A")?;
    match b.join().expect("caller B's thread does not panic") {
        Err(Error::GroupWrite { detail }) => assert!(detail.contains("the caller's own bug")),
        other => panic!("expected GroupWrite, got {other:?}"),
    }
    let ids: Vec<u64> = names(&store)?.into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, [1, 10, 100]);
    // The store goes on working.
    store.write(|txn| txn.open_tree::<Author>()?.put(&author(12, "Kazuo")))?;
    assert_eq!(names(&store)?.len(), 4);
    Ok(())
}

#[test]
fn a_closure_sees_the_writes_queued_before_it_in_its_group() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = seeded(&dir)?;
    let (release, leader) = held_leader(&store, 100);
    let a = queue_caller(&store, |txn| {
        txn.open_tree::<Author>()?.put(&author(10, "Banana"))
    });
    // B takes the name A just wrote: refused, as if A had committed alone first.
    let b = queue_caller(&store, |txn| {
        txn.open_tree::<Author>()?.put(&author(11, "Banana"))
    });
    drop(release);
    leader.join().expect("leader thread")?;
    a.join().expect("caller A")?;
    let error = b.join().expect("caller B").unwrap_err();
    assert!(matches!(error, Error::UniqueViolation { .. }), "{error:?}");
    let ids: Vec<u64> = names(&store)?.into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, [1, 10, 100]);
    Ok(())
}

#[test]
fn many_threads_each_learn_their_own_result() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = seeded(&dir)?;
    const THREADS: u64 = 8;
    const WRITES: u64 = 40;
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                (0..WRITES)
                    .map(|i| {
                        let id = 1000 + t * WRITES + i;
                        // Every fifth write also takes Ursula's name and must fail alone.
                        let fails = id.is_multiple_of(5);
                        let result = store.write(move |txn| {
                            let mut authors = txn.open_tree::<Author>()?;
                            authors.put(&author(id, &format!("Author {id}")))?;
                            if fails {
                                authors.put(&author(id + 100_000, "Ursula"))?;
                            }
                            Ok(id)
                        });
                        (id, fails, result)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut expected = vec![(1, "Ursula".to_owned())];
    for handle in handles {
        for (id, fails, result) in handle.join().expect("writer thread") {
            if fails {
                assert!(
                    matches!(result, Err(Error::UniqueViolation { .. })),
                    "{id}: {result:?}"
                );
            } else {
                assert_eq!(result?, id);
                expected.push((id, format!("Author {id}")));
            }
        }
    }
    expected.sort();
    assert_eq!(names(&store)?, expected);
    drop(store);
    let reopened = Store::<Library>::open(dir.path().join("library.redb"))?;
    assert_eq!(names(&reopened)?, expected);
    Ok(())
}
