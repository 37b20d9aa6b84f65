//! Property tests: random sequences of operations run against the store and against a plain
//! in-memory oracle (a `BTreeMap` of records; index answers derived from it). Every query must
//! give the same results in the same order. Keys come from small domains full of edge values
//! (negatives, zero, extremes, empty and multi-byte strings, embedded NULs) so that collisions,
//! unique conflicts and ordering corners happen often.

use netabase_runtime::{Error, Store};
use netabase_tests::keys::*;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::ops::{Bound, RangeBounds};

const CASES: u32 = 256;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn text() -> impl Strategy<Value = String> + Clone {
    prop::sample::select(vec![
        "", "\0", "a", "a\0", "a\0b", "ab", "b", "San", "Santa", "Sao", "é", "東京", "Z",
    ])
    .prop_map(str::to_owned)
}

fn bound<T: Clone + std::fmt::Debug>(
    value: impl Strategy<Value = T>,
) -> impl Strategy<Value = Bound<T>> {
    (0..3u8, value).prop_map(|(kind, v)| match kind {
        0 => Bound::Included(v),
        1 => Bound::Excluded(v),
        _ => Bound::Unbounded,
    })
}

fn bounds<T: Clone + std::fmt::Debug>(
    value: impl Strategy<Value = T> + Clone,
) -> impl Strategy<Value = (Bound<T>, Bound<T>)> {
    (bound(value.clone()), bound(value))
}

fn as_str(b: &Bound<String>) -> Bound<&str> {
    b.as_ref().map(String::as_str)
}

fn copy<T: Copy>(v: &T) -> T {
    *v
}

fn pair(b: &Bound<(String, i32)>) -> Bound<(&str, i32)> {
    b.as_ref().map(|(c, y)| (c.as_str(), *y))
}

fn collect<T>(iter: impl Iterator<Item = netabase_runtime::Result<T>>) -> Vec<T> {
    iter.collect::<netabase_runtime::Result<Vec<T>>>()
        .expect("iteration")
}

// ---------------------------------------------------------------------------------------------
// `Wide`: an i64 primary key and a secondary key of every indexable type.

fn i64_key() -> impl Strategy<Value = i64> + Clone {
    prop::sample::select(vec![i64::MIN, -300, -256, -1, 0, 1, 255, 256, i64::MAX])
}

fn wide() -> impl Strategy<Value = Wide> {
    (
        i64_key(),
        prop::sample::select(vec![i32::MIN, -2, -1, 0, 1, i32::MAX]),
        prop::option::of(prop::sample::select(vec![0u16, 1, 7, u16::MAX])),
        text(),
        any::<bool>(),
        prop::sample::select(vec![i8::MIN, -1, 0, 1, i8::MAX]),
        prop::sample::select(vec![0u64, 1, u64::MAX]),
        prop::collection::vec(text(), 0..4),
        prop::collection::vec(0u8..6, 0..3),
    )
        .prop_map(
            |(id, group, code, label, flag, tiny, big, payload, aliases)| Wide {
                id,
                group,
                code,
                label,
                flag,
                tiny,
                big,
                payload,
                aliases,
            },
        )
}

#[derive(Debug, Clone)]
enum WideOp {
    Put(Wide),
    Insert(Wide),
    PutMany(Vec<Wide>),
    Remove(i64),
    RemoveRange((Bound<i64>, Bound<i64>)),
    RetainFlag(bool),
}

fn wide_op() -> impl Strategy<Value = WideOp> {
    prop_oneof![
        4 => wide().prop_map(WideOp::Put),
        1 => wide().prop_map(WideOp::Insert),
        1 => prop::collection::vec(wide(), 0..5).prop_map(WideOp::PutMany),
        2 => i64_key().prop_map(WideOp::Remove),
        1 => bounds(i64_key()).prop_map(WideOp::RemoveRange),
        1 => any::<bool>().prop_map(WideOp::RetainFlag),
    ]
}

/// The oracle's answer to a put: `Err` if another record holds the unique `code`, the unique
/// composite `slot` (tiny, big, flag) or one of the unique multi-valued `aliases`.
fn oracle_put(oracle: &mut BTreeMap<i64, Wide>, w: &Wide) -> Result<(), ()> {
    let slot = |r: &Wide| (r.tiny, r.big, r.flag);
    if oracle.values().any(|o| {
        o.id != w.id
            && ((w.code.is_some() && o.code == w.code)
                || slot(o) == slot(w)
                || o.aliases.iter().any(|a| w.aliases.contains(a)))
    }) {
        return Err(());
    }
    oracle.insert(w.id, w.clone());
    Ok(())
}

#[derive(Debug, Clone)]
struct WideQueries {
    pk: (Bound<i64>, Bound<i64>),
    group: (Bound<i32>, Bound<i32>),
    label: (Bound<String>, Bound<String>),
    label_prefix: String,
    tiny: i8,
    skip: usize,
    take: usize,
}

fn wide_queries() -> impl Strategy<Value = WideQueries> {
    (
        bounds(i64_key()),
        bounds(prop::sample::select(vec![i32::MIN, -1, 0, 1, i32::MAX])),
        bounds(text()),
        prop::sample::select(vec!["", "a", "San", "\0", "東"]).prop_map(str::to_owned),
        prop::sample::select(vec![i8::MIN, -1, 0, 1, i8::MAX]),
        0..6usize,
        0..6usize,
    )
        .prop_map(
            |(pk, group, label, label_prefix, tiny, skip, take)| WideQueries {
                pk,
                group,
                label,
                label_prefix,
                tiny,
                skip,
                take,
            },
        )
}

fn ids(records: impl IntoIterator<Item = Wide>) -> Vec<i64> {
    records.into_iter().map(|w| w.id).collect()
}

/// Oracle index scan: records whose field is in `range`, in (field, primary key) order.
fn by_field<F: Ord + Clone>(
    oracle: &BTreeMap<i64, Wide>,
    field: impl Fn(&Wide) -> F,
    range: &impl RangeBounds<F>,
) -> Vec<i64> {
    let mut hits: Vec<(F, i64)> = oracle
        .values()
        .map(|w| (field(w), w.id))
        .filter(|(f, _)| range.contains(f))
        .collect();
    hits.sort();
    hits.into_iter().map(|(_, id)| id).collect()
}

fn check_wide(
    store: &Store<Keys>,
    oracle: &BTreeMap<i64, Wide>,
    q: &WideQueries,
) -> Result<(), TestCaseError> {
    let txn = store.begin_read().expect("read");
    let tree = txn.wides().expect("tree");
    let all: Vec<Wide> = oracle.values().cloned().collect();
    prop_assert_eq!(collect(tree.iter().expect("iter")), all.clone());
    prop_assert_eq!(
        ids(collect(tree.iter().expect("iter").rev())),
        ids(all.iter().rev().cloned())
    );
    prop_assert_eq!(tree.len().expect("len"), oracle.len() as u64);
    prop_assert_eq!(
        tree.first().expect("first"),
        oracle.values().next().cloned()
    );
    prop_assert_eq!(
        tree.last().expect("last"),
        oracle.values().next_back().cloned()
    );
    // Primary key ranges, paging with skip/take, counts and cursors.
    let in_range: Vec<i64> = oracle
        .keys()
        .copied()
        .filter(|k| q.pk.contains(k))
        .collect();
    prop_assert_eq!(
        ids(collect(tree.range(q.pk).expect("range"))),
        in_range.clone()
    );
    prop_assert_eq!(
        ids(collect(tree.range(q.pk).expect("range").rev())),
        in_range.iter().rev().copied().collect::<Vec<_>>()
    );
    let page: Vec<i64> = in_range.iter().skip(q.skip).take(q.take).copied().collect();
    prop_assert_eq!(
        ids(collect(
            tree.range(q.pk).expect("range").skip(q.skip).take(q.take)
        )),
        page
    );
    prop_assert_eq!(
        tree.count_range(q.pk).expect("count"),
        in_range.len() as u64
    );
    if let Some(&cursor) = in_range.first() {
        let after: Vec<i64> = oracle.keys().copied().filter(|&k| k > cursor).collect();
        prop_assert_eq!(ids(collect(tree.after(cursor).expect("after"))), after);
    }
    let views: Vec<i64> = tree
        .range_ref(q.pk)
        .expect("views")
        .map(|g| g.expect("guard").view().expect("view").id)
        .collect();
    prop_assert_eq!(views, in_range);
    // Every secondary key type: point lookups, ranges (both directions), prefixes, counts.
    prop_assert_eq!(
        ids(collect(tree.range_by_group(q.group).expect("group"))),
        by_field(oracle, |w| w.group, &q.group)
    );
    let mut reversed = by_field(oracle, |w| w.group, &q.group);
    reversed.reverse();
    prop_assert_eq!(
        ids(collect(tree.range_by_group(q.group).expect("group").rev())),
        reversed
    );
    prop_assert_eq!(
        tree.count_range_by_group(q.group).expect("count"),
        by_field(oracle, |w| w.group, &q.group).len() as u64
    );
    let label = (as_str(&q.label.0), as_str(&q.label.1));
    prop_assert_eq!(
        ids(collect(tree.range_by_label(label).expect("label"))),
        by_field(oracle, |w| w.label.clone(), &q.label)
    );
    let prefixed = by_field(oracle, |w| w.label.clone(), &(..))
        .into_iter()
        .filter(|id| oracle[id].label.starts_with(&q.label_prefix))
        .collect::<Vec<_>>();
    prop_assert_eq!(
        ids(collect(
            tree.prefix_by_label(&q.label_prefix).expect("prefix")
        )),
        prefixed
    );
    prop_assert_eq!(
        ids(collect(tree.by_tiny(q.tiny).expect("tiny"))),
        by_field(oracle, |w| w.tiny, &(q.tiny..=q.tiny))
    );
    prop_assert_eq!(
        tree.count_by_tiny(q.tiny).expect("count"),
        by_field(oracle, |w| w.tiny, &(q.tiny..=q.tiny)).len() as u64
    );
    for flag in [false, true] {
        prop_assert_eq!(
            ids(collect(tree.by_flag(flag).expect("flag"))),
            by_field(oracle, |w| w.flag, &(flag..=flag))
        );
        let on_flag = by_field(oracle, |w| w.flag, &(flag..=flag));
        if let Some(&first) = on_flag.first() {
            prop_assert_eq!(
                ids(collect(tree.by_flag_after(flag, first).expect("after"))),
                on_flag[1..].to_vec()
            );
        }
    }
    for big in [0u64, 1, u64::MAX] {
        prop_assert_eq!(
            ids(collect(tree.by_big(big).expect("big"))),
            by_field(oracle, |w| w.big, &(big..=big))
        );
    }
    for code in [0u16, 1, 7, u16::MAX] {
        prop_assert_eq!(
            tree.get_by_code(code).expect("code"),
            oracle.values().find(|w| w.code == Some(code)).cloned()
        );
    }
    let coded: Vec<i64> = by_field(oracle, |w| w.code, &(Some(0)..));
    prop_assert_eq!(ids(collect(tree.range_by_code(..).expect("codes"))), coded);
    check_composite_keys(&tree, oracle, q)
}

/// Composite secondary keys: exact values, leading-component prefixes (both directions),
/// tuple ranges, a unique composite key, and a key with an `Option` part.
fn check_composite_keys<T: netabase_runtime::TreeRead<Wide>>(
    tree: &WideTree<T>,
    oracle: &BTreeMap<i64, Wide>,
    q: &WideQueries,
) -> Result<(), TestCaseError> {
    let group_label = |w: &Wide| (w.group, w.label.clone());
    for group in [i32::MIN, -1, 0, i32::MAX] {
        let of_group: Vec<i64> = by_field(oracle, group_label, &(..))
            .into_iter()
            .filter(|id| oracle[id].group == group)
            .collect();
        prop_assert_eq!(
            ids(collect(
                tree.prefix_by_group_label_group(group).expect("prefix")
            )),
            of_group.clone()
        );
        let mut reversed = of_group;
        reversed.reverse();
        prop_assert_eq!(
            ids(collect(
                tree.prefix_by_group_label_group(group)
                    .expect("prefix")
                    .rev()
            )),
            reversed
        );
        for label in ["", "a", "a\0"] {
            let exact = (group, label.to_owned());
            prop_assert_eq!(
                ids(collect(tree.by_group_label(group, label).expect("exact"))),
                by_field(oracle, group_label, &(exact.clone()..=exact))
            );
        }
    }
    let label = (as_str(&q.label.0), as_str(&q.label.1));
    let tuple_range = (label.0.map(|l| (0i32, l)), label.1.map(|l| (1i32, l)));
    let owned = (
        q.label.0.clone().map(|l| (0i32, l)),
        q.label.1.clone().map(|l| (1i32, l)),
    );
    prop_assert_eq!(
        ids(collect(
            tree.range_by_group_label(tuple_range).expect("range")
        )),
        by_field(oracle, group_label, &owned)
    );
    for flag in [false, true] {
        for big in [0u64, u64::MAX] {
            let found = tree.get_by_slot(q.tiny, big, flag).expect("slot");
            prop_assert_eq!(
                found,
                oracle
                    .values()
                    .find(|w| (w.tiny, w.big, w.flag) == (q.tiny, big, flag))
                    .cloned()
            );
        }
    }
    for code in [0u16, 7] {
        let expected: Vec<i64> = oracle
            .values()
            .filter(|w| w.code == Some(code) && w.label == "a")
            .map(|w| w.id)
            .collect();
        prop_assert_eq!(
            ids(collect(tree.by_code_label(code, "a").expect("code_label"))),
            expected
        );
    }
    let with_code: Vec<i64> = by_field(oracle, |w| (w.code, w.label.clone()), &(..))
        .into_iter()
        .filter(|id| oracle[id].code.is_some())
        .collect();
    prop_assert_eq!(
        ids(collect(tree.range_by_code_label(..).expect("all"))),
        with_code
    );
    check_multi_valued_keys(tree, oracle, q)
}

/// The oracle's entries of a multi-valued key: one (element, primary key) per distinct element
/// of each record's list, sorted.
fn elements<F: Ord + Clone>(
    oracle: &BTreeMap<i64, Wide>,
    key: impl Fn(&Wide) -> Vec<F>,
) -> Vec<(F, i64)> {
    let mut entries: Vec<(F, i64)> = oracle
        .values()
        .flat_map(|w| key(w).into_iter().map(move |k| (k, w.id)))
        .collect();
    entries.sort();
    entries.dedup();
    entries
}

/// Multi-valued keys over `Vec` fields: each distinct element is one index entry, so lookups,
/// ranges and counts see a record once per element; a unique one finds the single owner.
fn check_multi_valued_keys<T: netabase_runtime::TreeRead<Wide>>(
    tree: &WideTree<T>,
    oracle: &BTreeMap<i64, Wide>,
    q: &WideQueries,
) -> Result<(), TestCaseError> {
    let payload = elements(oracle, |w| w.payload.clone());
    let in_range: Vec<i64> = payload
        .iter()
        .filter(|(p, _)| q.label.contains(p))
        .map(|(_, id)| *id)
        .collect();
    let label = (as_str(&q.label.0), as_str(&q.label.1));
    prop_assert_eq!(
        ids(collect(tree.range_by_payload(label).expect("payload"))),
        in_range.clone()
    );
    prop_assert_eq!(
        tree.count_range_by_payload(label).expect("count"),
        in_range.len() as u64
    );
    for element in ["", "a", "a\0", "東京"] {
        let with: Vec<i64> = payload
            .iter()
            .filter(|(p, _)| p == element)
            .map(|(_, id)| *id)
            .collect();
        prop_assert_eq!(
            ids(collect(tree.by_payload(element).expect("by"))),
            with.clone()
        );
        let mut reversed = with;
        reversed.reverse();
        prop_assert_eq!(
            ids(collect(tree.by_payload(element).expect("by").rev())),
            reversed
        );
    }
    let prefixed: Vec<i64> = payload
        .iter()
        .filter(|(p, _)| p.starts_with(&q.label_prefix))
        .map(|(_, id)| *id)
        .collect();
    prop_assert_eq!(
        ids(collect(
            tree.prefix_by_payload(&q.label_prefix).expect("prefix")
        )),
        prefixed
    );
    let group_payload = elements(oracle, |w| {
        w.payload.iter().map(|p| (w.group, p.clone())).collect()
    });
    for group in [i32::MIN, 0, i32::MAX] {
        let of_group: Vec<i64> = group_payload
            .iter()
            .filter(|((g, _), _)| *g == group)
            .map(|(_, id)| *id)
            .collect();
        prop_assert_eq!(
            ids(collect(
                tree.prefix_by_group_payload_group(group).expect("prefix")
            )),
            of_group
        );
    }
    for alias in 0u8..6 {
        prop_assert_eq!(
            tree.get_by_aliases(alias).expect("alias"),
            oracle
                .values()
                .find(|w| w.aliases.contains(&alias))
                .cloned()
        );
    }
    prop_assert_eq!(
        ids(collect(tree.range_by_aliases(..).expect("aliases"))),
        elements(oracle, |w| w.aliases.clone())
            .into_iter()
            .map(|(_, id)| id)
            .collect::<Vec<_>>()
    );
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn wide_model_matches_oracle(ops in prop::collection::vec(wide_op(), 1..30), queries in prop::collection::vec(wide_queries(), 1..4)) {
        let store = Store::<Keys>::in_memory().expect("store");
        let mut oracle: BTreeMap<i64, Wide> = BTreeMap::new();
        for op in &ops {
            let txn = store.begin_write().expect("write");
            {
                let mut tree = txn.wides().expect("tree");
                match op {
                    WideOp::Put(w) => {
                        let expected = oracle_put(&mut oracle, w);
                        let got = tree.put(w);
                        prop_assert_eq!(got.is_ok(), expected.is_ok(), "put {:?}: {:?}", w, got);
                        if let Err(e) = got { prop_assert!(matches!(e, Error::UniqueViolation { field: "code" | "slot" | "aliases", .. }), "{e:?}"); }
                    }
                    WideOp::Insert(w) => {
                        let exists = oracle.contains_key(&w.id);
                        let got = tree.insert(w);
                        if exists {
                            prop_assert!(matches!(got, Err(Error::AlreadyExists { .. })), "{:?}", got);
                        } else {
                            prop_assert_eq!(got.is_ok(), oracle_put(&mut oracle, w).is_ok());
                        }
                    }
                    WideOp::PutMany(batch) => {
                        let mut staged = oracle.clone();
                        let expected = batch.iter().try_for_each(|w| oracle_put(&mut staged, w));
                        let got = tree.put_many(batch);
                        prop_assert_eq!(got.is_ok(), expected.is_ok(), "{:?}", got);
                        if expected.is_ok() { oracle = staged; }
                    }
                    WideOp::Remove(id) => {
                        prop_assert_eq!(tree.remove(*id).expect("remove"), oracle.remove(id));
                    }
                    WideOp::RemoveRange(range) => {
                        let doomed: Vec<i64> = oracle.keys().copied().filter(|k| range.contains(k)).collect();
                        prop_assert_eq!(tree.remove_range(*range).expect("remove_range"), doomed.len() as u64);
                        for k in doomed { oracle.remove(&k); }
                    }
                    WideOp::RetainFlag(flag) => {
                        let before = oracle.len();
                        oracle.retain(|_, w| w.flag == *flag);
                        prop_assert_eq!(tree.retain(|w| w.flag == *flag).expect("retain"), (before - oracle.len()) as u64);
                    }
                }
            }
            txn.commit().expect("commit");
        }
        for q in &queries {
            check_wide(&store, &oracle, q)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One model per primary key type: ordering, ranges, cursors and batch removal by key.

macro_rules! primary_key_property {
    ($test:ident, $model:ident, $tree:ident, $key:ty, $keys:expr, $value:expr, $as_arg:expr, $v_arg:expr) => {
        proptest! {
            #![proptest_config(config())]

            #[test]
            fn $test(
                puts in prop::collection::vec(($keys, $value), 0..24),
                removes in prop::collection::vec($keys, 0..6),
                range in bounds($keys),
                many in prop::collection::vec($keys, 0..5),
            ) {
                let store = Store::<Keys>::in_memory().expect("store");
                let mut oracle: BTreeMap<$key, $model> = BTreeMap::new();
                let txn = store.begin_write().expect("write");
                {
                    let mut tree = txn.$tree().expect("tree");
                    for (id, v) in puts {
                        let record = $model { id: id.clone(), v };
                        tree.put(&record).expect("put");
                        oracle.insert(id, record);
                    }
                    let arg = $as_arg;
                    let removed = tree.remove_many(removes.iter().map(arg)).expect("remove_many");
                    let mut expected = 0;
                    for k in &removes { if oracle.remove(k).is_some() { expected += 1; } }
                    prop_assert_eq!(removed, expected);
                }
                txn.commit().expect("commit");
                let txn = store.begin_read().expect("read");
                let tree = txn.$tree().expect("tree");
                let arg = $as_arg;
                let bounds = (range.0.as_ref().map(arg), range.1.as_ref().map(arg));
                prop_assert_eq!(collect(tree.iter().expect("iter")), oracle.values().cloned().collect::<Vec<_>>());
                let in_range: Vec<$model> = oracle.iter().filter(|(k, _)| range.contains(*k)).map(|(_, v)| v.clone()).collect();
                prop_assert_eq!(collect(tree.range(bounds).expect("range")), in_range.clone());
                prop_assert_eq!(collect(tree.range(bounds).expect("range").rev()), in_range.iter().rev().cloned().collect::<Vec<_>>());
                prop_assert_eq!(tree.count_range(bounds).expect("count"), in_range.len() as u64);
                let got = tree.get_many(many.iter().map(arg)).expect("get_many");
                prop_assert_eq!(got, many.iter().map(|k| oracle.get(k).cloned()).collect::<Vec<_>>());
                // Non-unique secondary key on another type: equal to the oracle's filter.
                for (k, record) in &oracle {
                    let mut expected: Vec<&$key> = oracle.iter().filter(|(_, r)| r.v == record.v).map(|(k, _)| k).collect();
                    expected.sort();
                    let found: Vec<$key> = collect(tree.by_v(($v_arg)(&record.v)).expect("by_v")).into_iter().map(|r| r.id).collect();
                    prop_assert_eq!(found.iter().collect::<Vec<_>>(), expected, "{:?}", k);
                }
            }
        }
    };
}

primary_key_property!(
    u8_keys_match_oracle,
    ByU8,
    by_u8s,
    u8,
    prop::sample::select(vec![0u8, 1, 127, 128, 255]),
    prop::sample::select(vec![i16::MIN, -1, 0, 1]),
    copy::<u8>,
    copy::<i16>
);
primary_key_property!(
    i16_keys_match_oracle,
    ByI16,
    by_i16s,
    i16,
    prop::sample::select(vec![i16::MIN, -256, -1, 0, 1, 255, i16::MAX]),
    prop::sample::select(vec![0u32, 1, u32::MAX]),
    copy::<i16>,
    copy::<u32>
);
primary_key_property!(
    u64_keys_match_oracle,
    ByU64,
    by_u64s,
    u64,
    prop::sample::select(vec![0u64, 1, 255, 256, u64::MAX]),
    text(),
    copy::<u64>,
    String::as_str
);
primary_key_property!(
    string_keys_match_oracle,
    ByText,
    by_texts,
    String,
    text(),
    prop::sample::select(vec![i64::MIN, -1, 0, i64::MAX]),
    String::as_str,
    copy::<i64>
);
primary_key_property!(
    bool_keys_match_oracle,
    ByBool,
    by_bools,
    bool,
    any::<bool>(),
    prop::sample::select(vec![0u8, 255]),
    copy::<bool>,
    copy::<u8>
);

proptest! {
    #![proptest_config(config())]

    #[test]
    fn composite_keys_match_oracle(
        puts in prop::collection::vec((text(), prop::sample::select(vec![i32::MIN, -1, 0, 1, i32::MAX]), any::<bool>()), 0..24),
        range in bounds((text(), prop::sample::select(vec![i32::MIN, -1, 0, 1, i32::MAX]))),
        country in text(),
        prefix in prop::sample::select(vec!["", "a", "San", "東"]),
    ) {
        let store = Store::<Keys>::in_memory().expect("store");
        let mut oracle: BTreeMap<(String, i32), ByPair> = BTreeMap::new();
        let txn = store.begin_write().expect("write");
        {
            let mut tree = txn.by_pairs().expect("tree");
            for (country, year, v) in puts {
                let record = ByPair { country: country.clone(), year, v };
                tree.put(&record).expect("put");
                oracle.insert((country, year), record);
            }
        }
        txn.commit().expect("commit");
        let txn = store.begin_read().expect("read");
        let tree = txn.by_pairs().expect("tree");
        let bounds = (pair(&range.0), pair(&range.1));
        let in_range: Vec<ByPair> = oracle.iter().filter(|(k, _)| range.contains(*k)).map(|(_, v)| v.clone()).collect();
        prop_assert_eq!(collect(tree.range(bounds).expect("range")), in_range.clone());
        prop_assert_eq!(collect(tree.range(bounds).expect("range").rev()), in_range.into_iter().rev().collect::<Vec<_>>());
        let of_country: Vec<ByPair> = oracle.values().filter(|r| r.country == country).cloned().collect();
        prop_assert_eq!(collect(tree.prefix_country(&country).expect("prefix")), of_country);
        // A composite key's leading String component matches exactly, never as a string prefix.
        let _ = prefix;
        for v in [false, true] {
            let expected: Vec<ByPair> = oracle.values().filter(|r| r.v == v).cloned().collect();
            prop_assert_eq!(collect(tree.by_v(v).expect("by_v")), expected);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Float keys: IEEE total order (-NaN < -inf < ... < -0.0 < +0.0 < ... < +inf < NaN). The oracle
// is a list sorted with `total_cmp`, so it does not share the store's encoding.

fn f64_key() -> impl Strategy<Value = f64> + Clone {
    prop::sample::select(vec![
        f64::NAN,
        -f64::NAN,
        f64::NEG_INFINITY,
        -1.5,
        -f64::MIN_POSITIVE,
        -0.0,
        0.0,
        1e-300,
        2.5,
        f64::MAX,
        f64::INFINITY,
    ])
}

fn f32_value() -> impl Strategy<Value = f32> {
    prop::sample::select(vec![f32::NAN, -1.0, -0.0, 0.0, 1.0, f32::INFINITY])
}

fn in_bounds(v: f64, range: &(Bound<f64>, Bound<f64>)) -> bool {
    use std::cmp::Ordering::*;
    let after_start = match range.0 {
        Bound::Included(s) => v.total_cmp(&s) != Less,
        Bound::Excluded(s) => v.total_cmp(&s) == Greater,
        Bound::Unbounded => true,
    };
    let before_end = match range.1 {
        Bound::Included(e) => v.total_cmp(&e) != Greater,
        Bound::Excluded(e) => v.total_cmp(&e) == Less,
        Bound::Unbounded => true,
    };
    after_start && before_end
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn float_keys_match_oracle(
        puts in prop::collection::vec((f64_key(), f32_value()), 0..24),
        removes in prop::collection::vec(f64_key(), 0..4),
        range in (bound(f64_key()), bound(f64_key())),
    ) {
        let store = Store::<Keys>::in_memory().expect("store");
        // The oracle: one record per key bit pattern (so -0.0 and +0.0, and each NaN, are distinct).
        let mut oracle: Vec<ByF64> = Vec::new();
        let txn = store.begin_write().expect("write");
        {
            let mut tree = txn.by_f64s().expect("tree");
            for (id, v) in puts {
                tree.put(&ByF64 { id, v }).expect("put");
                oracle.retain(|r| r.id.to_bits() != id.to_bits());
                oracle.push(ByF64 { id, v });
            }
            for id in &removes {
                let removed = tree.remove(*id).expect("remove").map(|r| r.id.to_bits());
                let expected = oracle.iter().position(|r| r.id.to_bits() == id.to_bits()).map(|i| oracle.remove(i).id.to_bits());
                prop_assert_eq!(removed, expected);
            }
        }
        txn.commit().expect("commit");
        oracle.sort_by(|a, b| a.id.total_cmp(&b.id));
        let bits = |records: Vec<ByF64>| records.into_iter().map(|r| (r.id.to_bits(), r.v.to_bits())).collect::<Vec<_>>();
        let txn = store.begin_read().expect("read");
        let tree = txn.by_f64s().expect("tree");
        prop_assert_eq!(bits(collect(tree.iter().expect("iter"))), bits(oracle.clone()));
        let in_range: Vec<ByF64> = oracle.iter().filter(|r| in_bounds(r.id, &range)).cloned().collect();
        prop_assert_eq!(bits(collect(tree.range(range).expect("range"))), bits(in_range.clone()));
        prop_assert_eq!(bits(collect(tree.range(range).expect("range").rev())), bits(in_range.into_iter().rev().collect()));
        // The f32 secondary key, in (value, primary key) total order.
        let mut by_v = oracle.clone();
        by_v.sort_by(|a, b| a.v.total_cmp(&b.v).then(a.id.total_cmp(&b.id)));
        prop_assert_eq!(bits(collect(tree.range_by_v(..).expect("by v"))), bits(by_v));
    }
}
