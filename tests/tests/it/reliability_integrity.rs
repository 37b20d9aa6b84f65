//! `check_integrity` has no false alarms (issue 6, point 1): after random writes to every model
//! of the `keys` fixture (every primary key type, a secondary key of every indexable type,
//! composite unique and non-unique keys, `Option` keys that are not indexed when `None`), the
//! report is clean and has counted every record and index entry.

use netabase_runtime::{Error, Store};
use netabase_tests::keys::*;

type Result<T = ()> = std::result::Result<T, Error>;

/// Passes a unique violation (the call changed nothing) and fails on anything else.
fn tolerate<T>(result: Result<T>) -> Result {
    match result {
        Ok(_) | Err(Error::UniqueViolation { .. }) => Ok(()),
        Err(error) => Err(error),
    }
}

fn wide(rng: &mut fastrand::Rng) -> Wide {
    Wide {
        id: rng.i64(-20..20),
        group: rng.i32(-3..3),
        code: (rng.u8(..4) > 0).then(|| rng.u16(..30)),
        label: ["", "a", "a\0", "b", "東京"][rng.usize(..5)].to_owned(),
        flag: rng.bool(),
        tiny: rng.i8(-4..4),
        big: [0, 1, u64::MAX][rng.usize(..3)],
        payload: (0..rng.usize(..4))
            .map(|_| ["", "a", "b"][rng.usize(..3)].to_owned())
            .collect(),
        aliases: (0..rng.usize(..3)).map(|_| rng.u8(..40)).collect(),
    }
}

#[test]
fn check_integrity_is_clean_after_random_writes_to_every_key_type() -> Result {
    let mut store = Store::<Keys>::in_memory()?;
    let report = store.check_integrity()?;
    assert!(
        report.is_clean() && report.records_checked() == 0,
        "{report}"
    );
    let mut rng = fastrand::Rng::with_seed(11);
    for _ in 0..40 {
        let txn = store.begin_write()?;
        {
            let mut wides = txn.wides()?;
            let mut u8s = txn.by_u8s()?;
            let mut i16s = txn.by_i16s()?;
            let mut u64s = txn.by_u64s()?;
            let mut texts = txn.by_texts()?;
            let mut bools = txn.by_bools()?;
            let mut pairs = txn.by_pairs()?;
            for _ in 0..10 {
                if rng.u8(..4) == 0 {
                    wides.remove(rng.i64(-20..20))?;
                    u8s.remove(rng.u8(..))?;
                    texts.remove(["", "x", "x\0y"][rng.usize(..3)])?;
                    continue;
                }
                tolerate(wides.put(&wide(&mut rng)))?;
                let batch: Vec<Wide> = (0..3).map(|_| wide(&mut rng)).collect();
                tolerate(wides.put_many(&batch))?;
                u8s.put(&ByU8 {
                    id: rng.u8(..),
                    v: rng.i16(..),
                })?;
                i16s.put(&ByI16 {
                    id: rng.i16(-5..5),
                    v: rng.u32(..3),
                })?;
                u64s.put(&ByU64 {
                    id: rng.u64(..10),
                    v: format!("v{}", rng.u8(..3)),
                })?;
                texts.put(&ByText {
                    id: ["", "x", "x\0y"][rng.usize(..3)].to_owned(),
                    v: rng.i64(..),
                })?;
                bools.put(&ByBool {
                    id: rng.bool(),
                    v: rng.u8(..),
                })?;
                pairs.put(&ByPair {
                    country: ["JP", "FR"][rng.usize(..2)].to_owned(),
                    year: rng.i32(-1..2),
                    v: rng.bool(),
                })?;
            }
        }
        txn.commit()?;
    }
    let report = store.check_integrity()?;
    assert!(report.is_clean(), "{report}");
    let txn = store.begin_read()?;
    let records = txn.wides()?.len()?
        + txn.by_u8s()?.len()?
        + txn.by_i16s()?.len()?
        + txn.by_u64s()?.len()?
        + txn.by_texts()?.len()?
        + txn.by_bools()?.len()?
        + txn.by_pairs()?.len()?;
    assert_eq!(report.records_checked(), records);
    assert!(report.index_entries_checked() > records);
    println!("reliability figures: {report}");
    Ok(())
}

/// The same for the `types` fixture: enums, structs, maps, arrays, 128-bit and `char` keys,
/// float keys (NaN, -0.0, infinities) and an enum key.
#[test]
fn check_integrity_is_clean_on_every_value_type() -> Result {
    use netabase_tests::types::*;
    use std::collections::BTreeMap;
    let mut store = Store::<Types>::in_memory()?;
    let floats = [
        f64::NAN,
        -f64::NAN,
        -0.0,
        0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1.5,
    ];
    let formats = [None, Some(Format::Hardcover), Some(Format::Ebook)];
    let txn = store.begin_write()?;
    {
        let mut everythings = txn.everythings()?;
        let mut measurements = txn.measurements()?;
        for (i, temperature) in floats.into_iter().enumerate() {
            measurements.put(&Measurement {
                value: temperature,
                format: formats[i % 3].clone(),
            })?;
            everythings.put(&Everything {
                id: u128::MAX - i as u128,
                signed: i128::MIN + i as i128,
                letter: ['a', '東', '\0'][i % 3],
                format: Format::Paperback,
                priority: [
                    Priority::Low,
                    Priority::High,
                    Priority::Custom {
                        level: -(i as i32),
                        note: "ü".into(),
                    },
                ][i % 3]
                    .clone(),
                temperature,
                shape: Shape::Circle {
                    radius: temperature,
                },
                maybe_shape: None,
                place: Place {
                    name: format!("place {i}"),
                    at: Point {
                        x: temperature,
                        y: 0.0,
                    },
                    tags: BTreeMap::from([(String::new(), vec![i as u8])]),
                    format: formats[i % 3].clone(),
                },
                places: Vec::new(),
                digest: [i as u8; 4],
                names: [String::new(), "名前".into()],
                scores: BTreeMap::from([("t".into(), temperature)]),
                by_letter: BTreeMap::from([('a', formats[i % 3].clone())]),
            })?;
        }
    }
    txn.commit()?;
    let report = store.check_integrity()?;
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.records_checked(), 2 * floats.len() as u64);
    Ok(())
}
