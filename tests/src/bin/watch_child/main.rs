//! The writer of the change feed's crash test (`tests/tests/it/watch_feed.rs`):
//! `watch_child <db> <seed>` opens a store with a change feed and commits a seeded workload
//! forever, printing each commit's sequence number once `commit` has returned. Every commit
//! changes at least one item; some also try a `put_many` that fails, or are aborted first. The
//! parent kills it with SIGKILL.

use netabase_runtime::Store;
use netabase_tests::shop::{Item, Shop};
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let store = Store::<Shop>::open(&args[0]).expect("open");
    let mut rng = fastrand::Rng::with_seed(args[1].parse().expect("seed"));
    let item = |rng: &mut fastrand::Rng| {
        let sku = format!("sku-{:02}", rng.u8(0..40));
        Item {
            name: format!("name of {sku}"),
            category: ["tools", "food", "toys"][rng.usize(0..3)].to_owned(),
            price: rng.u64(0..1_000_000),
            sku,
        }
    };
    let mut out = std::io::stdout().lock();
    loop {
        if rng.u8(0..4) == 0 {
            let txn = store.begin_write().expect("begin");
            txn.items()
                .expect("items")
                .put(&item(&mut rng))
                .expect("put");
            txn.abort().expect("abort");
        }
        let txn = store.begin_write().expect("begin");
        {
            let mut items = txn.items().expect("items");
            for _ in 0..rng.u8(1..6) {
                if rng.u8(0..4) == 0 {
                    let sku = format!("sku-{:02}", rng.u8(0..40));
                    items.remove(&sku).expect("remove");
                }
                items.put(&item(&mut rng)).expect("put");
            }
            if rng.u8(0..3) == 0 {
                // Its last item takes an existing item's unique name: the whole call fails.
                let mut batch: Vec<Item> = (0..rng.u8(1..4)).map(|_| item(&mut rng)).collect();
                let first = batch[0].sku.clone();
                let mut stealer = item(&mut rng);
                stealer.sku = "sku-zz".into();
                stealer.name = format!("name of {first}");
                batch.push(stealer);
                assert!(items.put_many(&batch).is_err());
            }
        }
        txn.commit().expect("commit");
        writeln!(out, "{}", store.last_seq()).expect("stdout");
        out.flush().expect("stdout");
    }
}
