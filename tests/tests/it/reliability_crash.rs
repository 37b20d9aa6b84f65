//! Crash safety (issue 6, point 2): a child process commits a workload in a loop and
//! acknowledges each commit on stdout; the test kills it with SIGKILL at random moments, and
//! after every kill reopens the file and requires that `check_integrity()` is clean, that every
//! acknowledged commit is there (and at most one more, committed but killed before it could
//! say so), and that the records are exactly those of a replica that replayed the same commits.
//!
//! Kill moments are drawn from a seeded generator as a number of acknowledgements to wait for
//! (zero: kill while the child is still opening, and recovering, the file), so the test never
//! sleeps and its length does not depend on the machine's speed beyond the commits it does.

#[path = "../../src/bin/reliability_child/workload.rs"]
mod workload;

use netabase_runtime::Store;
use netabase_tests::library::{Author, Book, Library};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

/// How many times the writer is killed.
const KILLS: usize = 100;
/// The workload's seed (the kill moments use another generator seeded from it).
const SEED: u64 = 0x6E65_7461_6261_7365;

fn contents(store: &Store<Library>) -> netabase_runtime::Result<(Vec<Author>, Vec<Book>)> {
    let txn = store.begin_read()?;
    let authors = txn
        .authors()?
        .iter()?
        .collect::<netabase_runtime::Result<_>>()?;
    let books = txn
        .books()?
        .iter()?
        .collect::<netabase_runtime::Result<_>>()?;
    Ok((authors, books))
}

#[test]
fn acknowledged_commits_survive_sigkill() -> netabase_runtime::Result<()> {
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("crash.redb");
    // Created here, so that every kill hits an existing database (creating one is not what
    // this test is about).
    drop(Store::<Library>::open(&path)?);
    let replica = Store::<Library>::in_memory()?;
    let mut replayed = 0u64;
    let mut kills = fastrand::Rng::with_seed(SEED);
    // What the file holds, as last verified.
    let mut verified = 0u64;
    let (mut killed_before_first_commit, mut committed_but_unacknowledged) = (0, 0);
    for round in 0..KILLS {
        // 1 in 8: kill at once, while the child starts and opens (and recovers) the file.
        let wait_for = if kills.u8(0..8) == 0 {
            None
        } else {
            Some(kills.u64(1..=32))
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_reliability_child"))
            .arg("write")
            .arg(&path)
            .arg(SEED.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the writer");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut acknowledged = verified;
        let read_line = |line: String, acknowledged: &mut u64| {
            if let Some(start) = line.strip_prefix("open ") {
                assert_eq!(start.parse::<u64>().ok(), Some(verified), "round {round}");
            } else {
                let n: u64 = line.parse().expect("an acknowledgement");
                assert_eq!(
                    n,
                    *acknowledged + 1,
                    "round {round}: acknowledgements in order"
                );
                *acknowledged = n;
            }
        };
        if let Some(wait_for) = wait_for {
            while acknowledged < verified + wait_for {
                let line = lines.next().expect("the writer died by itself");
                read_line(line.expect("read"), &mut acknowledged);
            }
        }
        child.kill().expect("SIGKILL");
        // Acknowledgements written before the kill are still in the pipe.
        for line in lines {
            read_line(line.expect("read"), &mut acknowledged);
        }
        let status = child.wait().expect("wait");
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut stderr)
            .expect("read stderr");
        assert_eq!(
            status.signal(),
            Some(9),
            "round {round}: {status}\n{stderr}"
        );
        if acknowledged == verified && wait_for.is_none() {
            killed_before_first_commit += 1;
        }

        let mut store = Store::<Library>::open(&path)?;
        let report = store.check_integrity()?;
        assert!(report.is_clean(), "round {round}: {report}");
        let held = workload::commits(&store.begin_read()?)?;
        assert!(
            held == acknowledged || held == acknowledged + 1,
            "round {round}: the file holds {held} commits, {acknowledged} were acknowledged"
        );
        committed_but_unacknowledged += u64::from(held > acknowledged);
        while replayed < held {
            replayed += 1;
            let txn = replica.begin_write()?;
            workload::apply(&txn, SEED, replayed)?;
            txn.commit()?;
        }
        assert!(
            contents(&store)? == contents(&replica)?,
            "round {round}: the file differs from the replica after {held} commits"
        );
        verified = held;
    }
    let records = {
        let (authors, books) = contents(&replica)?;
        authors.len() + books.len()
    };
    println!(
        "reliability figures: {KILLS} SIGKILLs survived ({killed_before_first_commit} before the child's first commit), \
         {verified} acknowledged commits verified ({committed_but_unacknowledged} kills fell \
         between a commit and its acknowledgement), {records} records at the end, {:.1?}",
        started.elapsed()
    );
    assert!(verified > KILLS as u64, "too few commits to mean anything");
    Ok(())
}
