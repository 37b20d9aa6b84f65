//! Crash safety of migrations: a child process opens a `shop_v1` database with `shop_v2`
//! (every automatic class of change at once, in one write transaction) and is killed with
//! SIGKILL part way. After every kill the file must hold either the complete old version or
//! the complete new one, with `check_integrity()` clean and every record as it should be.
//!
//! Kill moments are drawn along the migration's progress, not its time: the parent waits until
//! the file has grown by a random number of bytes (between none, a kill while the child opens
//! the file, and a little past what a whole migration adds), then kills. The test never sleeps.

use netabase_runtime::{Error, MigrationErrorKind, Store};
use netabase_tests::migrations::{shop_v1, shop_v2};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

const KILLS: usize = 50;
const USERS: u64 = 1000;
const SEED: u64 = 0x6d69_6772_6174_6531;

/// Every record of a database, read by the stored layout (any version).
fn contents(path: &Path) -> Vec<String> {
    let stored = netabase_runtime::schemaless::stored_schema(path)
        .expect("readable")
        .expect("netabase metadata");
    let layout = stored.layout().expect("parses").expect("a layout");
    let mut out = vec![format!("version {}", stored.info.version)];
    for model in &layout.models {
        netabase_runtime::schemaless::for_each_record(path, &model.name, |record| {
            out.push(format!("{}: {record:?}", model.name));
            true
        })
        .expect("records");
    }
    out
}

fn seed(path: &Path) -> netabase_runtime::Result<()> {
    use shop_v1::*;
    let store = Store::<Shop>::open(path)?;
    let txn = store.begin_write()?;
    {
        let mut users = txn.users()?;
        for i in 1..=USERS {
            users.put(&User {
                id: i,
                name: format!("user{i}"),
                title: format!("Dr {i}"),
                age: (i % 90) as u8,
                score: i as f32 / 4.0,
                nickname: format!("nick{i}"),
                tier: if i % 3 == 0 { Tier::Plus } else { Tier::Basic },
                fax: format!("+64 {i:07}"),
            })?;
        }
        let mut orders = txn.orders()?;
        for i in 1..=2 * USERS as u32 {
            orders.put(&Order {
                id: i,
                user: u64::from(i) % USERS + 1,
                total: i * 7,
            })?;
        }
        txn.legacies()?.put(&Legacy { code: "x".into() })?;
    }
    txn.commit()
}

/// Opens the file as whichever version it holds, repairing it as redb does after a crash, and
/// checks its integrity; returns the version.
fn reopen(path: &Path, round: usize) -> netabase_runtime::Result<u64> {
    match Store::<shop_v1::Shop>::open(path) {
        Ok(mut store) => {
            let report = store.check_integrity()?;
            assert!(report.is_clean(), "round {round}, version 1: {report}");
            Ok(1)
        }
        Err(Error::Migration {
            kind: MigrationErrorKind::Downgrade,
            ..
        }) => {
            let mut store = Store::<shop_v2::Shop>::open(path)?;
            assert!(store.migration().is_none(), "round {round}");
            let report = store.check_integrity()?;
            assert!(report.is_clean(), "round {round}, version 2: {report}");
            Ok(2)
        }
        Err(other) => Err(other),
    }
}

#[test]
fn a_migration_killed_at_any_moment_leaves_the_old_or_the_new_version()
-> netabase_runtime::Result<()> {
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let original = dir.path().join("v1.redb");
    seed(&original)?;
    let old = contents(&original);
    // The reference: the same migration, run to the end in this process.
    let reference = dir.path().join("reference.redb");
    std::fs::copy(&original, &reference).expect("copy");
    let start_len = std::fs::metadata(&reference).expect("size").len();
    drop(Store::<shop_v2::Shop>::open(&reference)?);
    let new = contents(&reference);
    let growth = std::fs::metadata(&reference)
        .expect("size")
        .len()
        .saturating_sub(start_len);
    assert!(old != new && old.len() > 2 * USERS as usize);

    let mut rng = fastrand::Rng::with_seed(SEED);
    let path = dir.path().join("shop.redb");
    let (mut found_old, mut found_new) = (0, 0);
    for round in 0..KILLS {
        std::fs::copy(&original, &path).expect("copy");
        // Up to 1/8 past the whole migration's growth: some kills land after the commit.
        let target = start_len + rng.u64(0..=growth + growth / 8);
        let mut child = Command::new(env!("CARGO_BIN_EXE_migration_child"))
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the child");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines
            .next()
            .expect("the child died by itself")
            .expect("read");
        assert_eq!(first, "opening", "round {round}");
        // Wait for the migration to have written `target` bytes, or to have finished.
        loop {
            let len = std::fs::metadata(&path).map_or(0, |m| m.len());
            if len >= target || child.try_wait().expect("poll").is_some() {
                break;
            }
            std::hint::spin_loop();
        }
        let _ = child.kill();
        let status = child.wait().expect("wait");
        let finished = lines.any(|l| l.is_ok_and(|l| l == "migrated"));
        assert!(
            status.signal() == Some(9) || (status.success() && finished),
            "round {round}: {status}"
        );
        match reopen(&path, round)? {
            1 => {
                assert!(
                    !finished,
                    "round {round}: acknowledged, but the file is at version 1"
                );
                found_old += 1;
                assert!(
                    contents(&path) == old,
                    "round {round}: version 1 but not the original records"
                );
            }
            _ => {
                found_new += 1;
                assert!(
                    contents(&path) == new,
                    "round {round}: version 2 but not the migrated records"
                );
            }
        }
    }
    println!(
        "migration crash figures: {KILLS} kills along a migration of {} records ({growth} bytes of \
         growth): {found_old} left version 1, {found_new} version 2, {:.1?}",
        old.len() - 1,
        started.elapsed()
    );
    assert!(found_old > 0, "no kill landed before the commit");
    Ok(())
}
