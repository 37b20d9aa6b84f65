//! A child process for the reliability tests (`tests/tests/reliability_*.rs`):
//!
//! * `reliability_child write <db> <seed>`: opens the store and commits the crash test's
//!   workload forever, printing each commit's number on stdout once `commit` has returned
//!   (an acknowledgement). The parent kills it with SIGKILL.
//! * `reliability_child hold <db>`: opens the store, prints `open`, and keeps it open until its
//!   stdin is closed.
//! * `reliability_child open <db>`: tries to open the store and prints `ok` or `error: <message>`.

mod workload;

use netabase_runtime::Store;
use netabase_tests::library::Library;
use std::io::{Read, Write};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    match arg(0) {
        "write" => write(arg(1), arg(2).parse().expect("seed")),
        "hold" => {
            let store = Store::<Library>::open(arg(1)).expect("open");
            println!("open");
            std::io::stdout().flush().expect("stdout");
            // Blocks until the parent closes our stdin.
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            drop(store);
        }
        "open" => match Store::<Library>::open(arg(1)) {
            Ok(_) => println!("ok"),
            Err(error) => println!("error: {error}"),
        },
        other => panic!("unknown command {other:?}"),
    }
}

fn write(path: &str, seed: u64) {
    let store = Store::<Library>::open(path).expect("open");
    let mut done = workload::commits(&store.begin_read().expect("read")).expect("counter");
    let mut out = std::io::stdout().lock();
    writeln!(out, "open {done}").expect("stdout");
    out.flush().expect("stdout");
    loop {
        done += 1;
        let txn = store.begin_write().expect("begin");
        workload::apply(&txn, seed, done).expect("workload");
        txn.commit().expect("commit");
        writeln!(out, "{done}").expect("stdout");
        out.flush().expect("stdout");
    }
}
