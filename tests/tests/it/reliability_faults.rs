//! Fault paths (issue 6, point 6): a read-only file, a missing directory, a database already
//! open in another process. Each is an error that says what is wrong and what to do.

use netabase_runtime::{Error, Store};
use netabase_tests::library::{Author, Library};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

fn child() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reliability_child"))
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Opens `path` as an unprivileged user: in this process if it is unprivileged (file modes
/// bind it), else in a child running as `nobody`. `None` if that cannot be arranged.
fn open_unprivileged(path: &Path, privileged: bool) -> Option<String> {
    if !privileged {
        return Some(match Store::<Library>::open(path) {
            Ok(_) => "ok".to_owned(),
            Err(error) => format!("error: {error}"),
        });
    }
    let output = child().arg("open").arg(path).uid(65534).gid(65534).output();
    match output {
        Ok(output) if output.status.success() => {
            Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        }
        Ok(output) => panic!("the child failed: {output:?}"),
        Err(error) => {
            println!("read-only checks skipped: cannot run a child as `nobody` ({error})");
            None
        }
    }
}

#[test]
fn read_only_file_and_directory_say_write_access_is_needed() -> netabase_runtime::Result<()> {
    let dir = tempfile::tempdir().expect("temp dir");
    chmod(dir.path(), 0o755);
    let path = dir.path().join("read-only.redb");
    Store::<Library>::open(&path)?.put(&Author {
        id: 1,
        name: "Kept".into(),
        country: None,
    })?;
    chmod(&path, 0o444);
    // Root (or a capable user) writes through file modes: then a child running as `nobody`
    // meets them instead.
    let privileged = std::fs::OpenOptions::new().write(true).open(&path).is_ok();
    let Some(outcome) = open_unprivileged(&path, privileged) else {
        return Ok(());
    };
    assert!(
        outcome.starts_with("error: cannot open")
            && outcome.contains("read-only.redb")
            && outcome.contains("needs write access")
            && outcome.contains("chmod u+w"),
        "{outcome}"
    );
    // A new database in a directory that cannot be written.
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).expect("mkdir");
    chmod(&locked, 0o555);
    let new = locked.join("new.redb");
    let outcome = open_unprivileged(&new, privileged).expect("as above");
    assert!(
        outcome.starts_with("error: cannot create") && outcome.contains("needs write access"),
        "{outcome}"
    );
    assert!(!new.exists());
    // Writable again, the file opens with its data.
    chmod(&path, 0o644);
    assert_eq!(Store::<Library>::open(&path)?.len::<Author>()?, 1);
    println!("read-only file and directory refused (privileged: {privileged}): {outcome}");
    Ok(())
}

#[test]
fn missing_directory_says_which_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("missing/deeper/db.redb");
    let error = Store::<Library>::open(&path).err().expect("must fail");
    assert!(matches!(error, Error::Io { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("missing/deeper")
            && message.contains("does not exist")
            && message.contains("create it first"),
        "{message}"
    );
    assert!(!dir.path().join("missing").exists());
}

#[test]
fn a_database_open_in_another_process_is_a_clear_error() -> netabase_runtime::Result<()> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("shared.redb");
    Store::<Library>::open(&path)?;
    let mut holder = child()
        .arg("hold")
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the holder");
    let mut lines = BufReader::new(holder.stdout.take().expect("stdout")).lines();
    assert_eq!(lines.next().expect("a line").expect("read"), "open");

    let error = Store::<Library>::open(&path)
        .err()
        .expect("held by the child");
    assert!(matches!(error, Error::AlreadyOpen { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("shared.redb")
            && message.contains("already open")
            && message.contains("close the other first"),
        "{message}"
    );

    // Closing the child's stdin lets it close the database and exit; then the file opens.
    drop(holder.stdin.take());
    assert!(holder.wait().expect("wait").success());
    let store = Store::<Library>::open(&path)?;

    // Within one process, a second open of the same file is the same error.
    let error = Store::<Library>::open(&path).err().expect("open here");
    assert!(matches!(error, Error::AlreadyOpen { .. }), "{error:?}");
    drop(store);
    Store::<Library>::open(&path)?;

    // The child, too, gets the error while this process holds the file.
    let _store = Store::<Library>::open(&path)?;
    let output = child()
        .arg("open")
        .arg(&path)
        .output()
        .expect("run the child");
    let outcome = String::from_utf8_lossy(&output.stdout);
    assert!(outcome.contains("already open"), "{outcome}");
    Ok(())
}
