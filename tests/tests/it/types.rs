//! Every type of the schema language round-trips exactly, and every orderable type sorts in
//! its natural order as a key (floats by IEEE total order, enums by variant then fields).

use netabase_runtime::codec::{Reader, Value};
use netabase_runtime::{Result, Store};
use netabase_tests::types::*;
use std::collections::BTreeMap;

fn everything(id: u128, temperature: f64) -> Everything {
    Everything {
        id,
        signed: i128::MIN,
        letter: '東',
        format: Format::Ebook,
        priority: Priority::Custom {
            level: -5,
            note: "ünïcödé".into(),
        },
        temperature,
        shape: Shape::Label {
            text: "Ἀθῆναι".into(),
            size: u8::MAX,
        },
        maybe_shape: Some(Shape::Circle { radius: -0.0 }),
        place: Place {
            name: String::new(),
            at: Point {
                x: f64::NAN,
                y: f64::NEG_INFINITY,
            },
            tags: BTreeMap::from([(String::new(), vec![]), ("東京".into(), vec![0, 255])]),
            format: None,
        },
        places: vec![],
        digest: [0, 1, 254, 255],
        names: ["".into(), "名前".into()],
        scores: BTreeMap::from([("nan".into(), f64::NAN), ("neg zero".into(), -0.0)]),
        by_letter: BTreeMap::from([('a', None), ('é', Some(Format::Hardcover))]),
    }
}

/// NaN is not equal to itself, so records with floats compare by their `Debug` text, which
/// shows NaN, -0.0 and every other value exactly.
fn same<T: std::fmt::Debug>(a: &T, b: &T) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

#[test]
fn every_type_round_trips_exactly() -> Result<()> {
    let store = Store::<Types>::in_memory()?;
    let records = [
        everything(u128::MAX, f64::NAN),
        everything(0, -0.0),
        Everything {
            places: vec![everything(1, 0.0).place, everything(2, 0.0).place],
            scores: BTreeMap::new(),
            by_letter: BTreeMap::new(),
            maybe_shape: None,
            shape: Shape::Dot,
            priority: Priority::High,
            ..everything(7, f64::MIN_POSITIVE)
        },
    ];
    store.put_many::<Everything>(&records)?;
    let txn = store.begin_read()?;
    let tree = txn.everythings()?;
    for record in &records {
        let back = tree.get(record.id)?.expect("stored");
        assert!(same(&back, record), "{back:?}\n!=\n{record:?}");
        let guard = tree.get_ref(record.id)?.expect("stored");
        let view = guard.view()?;
        assert_eq!(
            view.names,
            [record.names[0].as_str(), record.names[1].as_str()]
        );
        assert!(same(&netabase_runtime::ModelRef::to_model(&view), record));
    }
    Ok(())
}

#[test]
fn enum_keys_sort_by_variant_then_fields() -> Result<()> {
    let store = Store::<Types>::in_memory()?;
    let priorities = [
        Priority::High,
        Priority::Custom {
            level: 3,
            note: "b".into(),
        },
        Priority::Low,
        Priority::Custom {
            level: -3,
            note: "z".into(),
        },
        Priority::Custom {
            level: 3,
            note: "a".into(),
        },
    ];
    let formats = [
        Format::Ebook,
        Format::Hardcover,
        Format::Paperback,
        Format::Hardcover,
        Format::Ebook,
    ];
    let txn = store.begin_write()?;
    {
        let mut tree = txn.everythings()?;
        for (i, (priority, format)) in priorities.iter().zip(formats).enumerate() {
            tree.put(&Everything {
                priority: priority.clone(),
                format,
                ..everything(i as u128, i as f64)
            })?;
        }
    }
    txn.commit()?;
    let txn = store.begin_read()?;
    let tree = txn.everythings()?;
    let by_priority: Vec<Priority> = tree
        .range_by_priority(..)?
        .map(|r| r.map(|e| e.priority))
        .collect::<Result<_>>()?;
    let mut expected = priorities.to_vec();
    expected.sort();
    assert_eq!(by_priority, expected);
    assert_eq!(by_priority.first(), Some(&Priority::Low));
    assert_eq!(by_priority.last(), Some(&Priority::High));
    let by_format: Vec<Format> = tree
        .range_by_format(..)?
        .map(|r| r.map(|e| e.format))
        .collect::<Result<_>>()?;
    assert_eq!(
        by_format,
        [
            Format::Hardcover,
            Format::Hardcover,
            Format::Paperback,
            Format::Ebook,
            Format::Ebook
        ]
    );
    assert_eq!(tree.count_by_format(Format::Ebook)?, 2);
    assert_eq!(tree.count_range_by_format(Format::Paperback..)?, 3);
    let custom_3: Vec<u128> = tree
        .by_priority(Priority::Custom {
            level: 3,
            note: "a".into(),
        })?
        .map(|r| r.map(|e| e.id))
        .collect::<Result<_>>()?;
    assert_eq!(custom_3, [4]);
    Ok(())
}

#[test]
fn float_keys_sort_by_total_order() -> Result<()> {
    let store = Store::<Types>::in_memory()?;
    let values = [
        f64::NAN,
        f64::NEG_INFINITY,
        -1.5,
        -0.0,
        0.0,
        1e-300,
        f64::INFINITY,
        -f64::NAN,
        2.5,
    ];
    let txn = store.begin_write()?;
    {
        let mut tree = txn.measurements()?;
        for (i, value) in values.into_iter().enumerate() {
            let format = [None, Some(Format::Paperback), Some(Format::Ebook)][i % 3].clone();
            tree.put(&Measurement { value, format })?;
        }
    }
    txn.commit()?;
    let mut expected = values.to_vec();
    expected.sort_by(f64::total_cmp);
    let txn = store.begin_read()?;
    let tree = txn.measurements()?;
    let stored: Vec<u64> = tree
        .iter()?
        .map(|r| r.map(|m| m.value.to_bits()))
        .collect::<Result<_>>()?;
    assert_eq!(
        stored,
        expected.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    // -0.0 and +0.0 are two keys; NaN is a key like any other.
    assert_eq!(
        tree.get(-0.0)?.map(|m| m.value.to_bits()),
        Some((-0.0f64).to_bits())
    );
    assert_eq!(
        tree.get(0.0)?.map(|m| m.value.to_bits()),
        Some(0.0f64.to_bits())
    );
    assert!(tree.get(f64::NAN)?.is_some() && tree.get(-f64::NAN)?.is_some());
    assert!(tree.get(1.0)?.is_none());
    let around_zero: Vec<u64> = tree
        .range(-1.5..1.0)?
        .map(|r| r.map(|m| m.value.to_bits()))
        .collect::<Result<_>>()?;
    assert_eq!(
        around_zero,
        [
            (-1.5f64).to_bits(),
            (-0.0f64).to_bits(),
            0.0f64.to_bits(),
            1e-300f64.to_bits()
        ]
    );
    // Option<enum> secondary key: None is not indexed.
    assert_eq!(tree.count_range_by_format(..)?, 6);
    Ok(())
}

#[test]
fn scalar_secondary_keys_of_new_types() -> Result<()> {
    let store = Store::<Types>::in_memory()?;
    let letters = ['z', 'A', '東', 'é', '\0'];
    let txn = store.begin_write()?;
    {
        let mut tree = txn.everythings()?;
        for (i, letter) in letters.into_iter().enumerate() {
            let signed = [i128::MIN, -1, 0, 1, i128::MAX][i];
            let temperature = [-40.0, -0.0, 0.0, 36.6, f64::NAN][i];
            tree.put(&Everything {
                letter,
                signed,
                temperature,
                ..everything(i as u128, 0.0)
            })?;
        }
    }
    txn.commit()?;
    let txn = store.begin_read()?;
    let tree = txn.everythings()?;
    let by_letter: Vec<char> = tree
        .range_by_letter(..)?
        .map(|r| r.map(|e| e.letter))
        .collect::<Result<_>>()?;
    let mut sorted = letters.to_vec();
    sorted.sort();
    assert_eq!(by_letter, sorted);
    let signed: Vec<i128> = tree
        .range_by_signed(-1..=1)?
        .map(|r| r.map(|e| e.signed))
        .collect::<Result<_>>()?;
    assert_eq!(signed, [-1, 0, 1]);
    assert_eq!(tree.by_signed(i128::MAX)?.count(), 1);
    let warm: Vec<u64> = tree
        .range_by_temperature(0.0..)?
        .map(|r| r.map(|e| e.temperature.to_bits()))
        .collect::<Result<_>>()?;
    assert_eq!(
        warm,
        [0.0f64.to_bits(), 36.6f64.to_bits(), f64::NAN.to_bits()]
    );
    Ok(())
}

#[test]
fn an_unknown_enum_variant_is_a_decode_error() {
    assert!(matches!(
        Format::read(&mut Reader::new(&[2])),
        Ok(Format::Ebook)
    ));
    let error = Format::read(&mut Reader::new(&[3])).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("unknown variant 3 of enum `Format`"),
        "{error}"
    );
    let error =
        <Priority as netabase_runtime::codec::DecodeKey>::decode_key(&mut &[0, 0, 0, 9][..])
            .unwrap_err();
    assert!(error.to_string().contains("unknown variant 9"), "{error}");
}
