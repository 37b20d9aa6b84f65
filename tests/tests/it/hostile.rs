//! The hostile-names fixture (`fixtures/hostile.toml`) compiles (the tests crate builds it under
//! `deny(warnings)`); these tests check that its methods, whose parameters sit beside user fields
//! named like the generated ones, still do what they say.

use netabase_runtime::{Result, Store};
use netabase_tests::hostile::{Hostile, Out, Value};

fn value(prefix: &str, key: i32, after: &str, page: u16) -> Value {
    Value {
        prefix: prefix.to_owned(),
        key,
        after: after.to_owned(),
        after_prefix: after.to_owned(),
        after_key: i64::from(key) * 10,
        range: 1,
        page,
        txn: 7,
        tree: -1,
        inner: true,
        index: 3,
        keys: vec![u32::from(page), 100],
        visitor: None,
    }
}

fn keys_of(found: impl Iterator<Item = Result<Value>>) -> Result<Vec<(String, i32)>> {
    found.map(|v| v.map(|v| (v.prefix, v.key))).collect()
}

#[test]
fn cursors_and_prefixes_over_fields_named_like_their_parameters() -> Result<()> {
    let store = Store::<Hostile>::in_memory()?;
    let txn = store.begin_write()?;
    {
        let mut values = txn.values()?;
        values.put(&value("a", 1, "x", 1))?;
        values.put(&value("a", 2, "x", 2))?;
        values.put(&value("b", 1, "x", 3))?;
        values.put(&value("b", 2, "y", 4))?;
    }
    txn.commit()?;

    let txn = store.begin_read()?;
    let values = txn.values()?;
    // Key `after_prefix`, then the primary key (`prefix`, `key`) as the cursor: its parameters
    // are `after_prefix_` and `after_key_`, beside the key fields `after_prefix`... and `after_key`.
    assert_eq!(
        keys_of(values.by_after_prefix_after("x", "a", 1)?)?,
        [("a".to_owned(), 2), ("b".to_owned(), 1)]
    );
    // The composite key `after` = (`after`, `key`): its leading part, and a cursor in one value.
    assert_eq!(
        keys_of(values.prefix_by_after_after("x")?)?,
        [
            ("a".to_owned(), 1),
            ("b".to_owned(), 1),
            ("a".to_owned(), 2)
        ]
    );
    assert_eq!(
        keys_of(values.by_after_after("x", 1, "a", 1)?)?,
        [("b".to_owned(), 1)]
    );
    // The leading part `prefix` of the composite primary key.
    assert_eq!(
        keys_of(values.prefix_prefix("b")?)?,
        [("b".to_owned(), 1), ("b".to_owned(), 2)]
    );
    // A multi-valued key over a field named `keys`, and a unique key over (`range`, `page`).
    assert_eq!(values.count_by_keys(100)?, 4);
    assert_eq!(
        values.get_by_range(1, 3)?.map(|v| v.prefix).as_deref(),
        Some("b")
    );
    Ok(())
}

#[test]
fn enum_variant_fields_named_like_the_writer_round_trip() -> Result<()> {
    let store = Store::<Hostile>::in_memory()?;
    let out = Out::W {
        w: 1,
        out: "out".to_owned(),
        r: -2,
        input: 3,
        tag: 4,
        other: true,
    };
    let txn = store.begin_write()?;
    txn.txns()?.put(&netabase_tests::hostile::Txn {
        inner: "i".to_owned(),
        txn: "t".to_owned(),
        out: out.clone(),
        tree: "tree".to_owned(),
    })?;
    txn.commit()?;
    let txn = store.begin_read()?;
    let txns = txn.txns()?;
    let found: Vec<_> = txns
        .by_out(out.clone())?
        .map(|t| t.map(|t| t.inner))
        .collect::<Result<_>>()?;
    assert_eq!(found, ["i"]);
    assert_eq!(txns.get_by_txn("t")?.map(|t| t.out), Some(out));
    Ok(())
}
