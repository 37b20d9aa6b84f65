//! Property test of automatic migrations against an oracle: random records of a random model,
//! then random sequences of automatic schema changes (a new `Option` field, a new field with a
//! default, a rename, a widening, a confirmed removal, a reorder), each a new version. Every
//! record is carried through every version by the migration plan and the dynamic codec, and
//! must decode, at the end, to what the oracle got by applying the same changes to plain values.

use netabase_runtime::Layout;
use netabase_runtime::codec::dynamic::{self, Dynamic};
use netabase_runtime::layout::{FieldLayout, ModelLayout};
use netabase_runtime::migrate;
use proptest::prelude::*;

/// A field of the oracle's model: its name, its type as the layout spells it, and each
/// record's value.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    ty: String,
    values: Vec<Dynamic>,
}

/// The types a field starts with, and a value of each.
fn value_of(ty: &str, seed: u64) -> Dynamic {
    match ty {
        "u8" => Dynamic::Unsigned(u128::from(seed as u8)),
        "u16" => Dynamic::Unsigned(u128::from(seed as u16)),
        "u32" => Dynamic::Unsigned(u128::from(seed as u32)),
        "i8" => Dynamic::Signed(i128::from(seed as i8)),
        "i32" => Dynamic::Signed(i128::from(seed as i32)),
        "f32" => Dynamic::F32(seed as u32 as f32 / 7.0),
        "bool" => Dynamic::Bool(seed.is_multiple_of(2)),
        "String" => Dynamic::String(format!("s{seed}")),
        _ => Dynamic::Option(Some(Box::new(Dynamic::String(format!("o{seed}"))))),
    }
}

const START_TYPES: [&str; 9] = [
    "u8",
    "u16",
    "u32",
    "i8",
    "i32",
    "f32",
    "bool",
    "String",
    "Option<String>",
];

/// One automatic change; the numbers pick a field or a value.
#[derive(Debug, Clone)]
enum Step {
    AddOption,
    AddDefault(u32),
    Rename(usize),
    Widen(usize),
    Remove(usize),
    Reorder(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::AddOption),
        any::<u32>().prop_map(Step::AddDefault),
        any::<usize>().prop_map(Step::Rename),
        any::<usize>().prop_map(Step::Widen),
        any::<usize>().prop_map(Step::Remove),
        any::<usize>().prop_map(Step::Reorder),
    ]
}

/// The widened type and value, when the type can widen.
fn widen(ty: &str, value: &Dynamic) -> Option<(String, Dynamic)> {
    Some(match ty {
        "u8" => ("u16".into(), value.clone()),
        "u16" => ("u32".into(), value.clone()),
        // Read back as a signed integer.
        "u32" => match value {
            Dynamic::Unsigned(u) => ("i64".into(), Dynamic::Signed(*u as i128)),
            _ => return None,
        },
        "i8" => ("i32".into(), value.clone()),
        "i32" => ("i64".into(), value.clone()),
        "f32" => match value {
            Dynamic::F32(x) => ("f64".into(), Dynamic::F64(f64::from(*x))),
            _ => return None,
        },
        ty if !ty.starts_with("Option<") => (
            format!("Option<{ty}>"),
            Dynamic::Option(Some(Box::new(value.clone()))),
        ),
        _ => return None,
    })
}

/// The layout text of the oracle's model, with the hints of the step that made it.
fn layout(columns: &[Column], hints: &[String]) -> Layout {
    let mut text = String::from("definition P\nmodel M\n  field id: u64\n");
    for c in columns {
        text.push_str(&format!("  field {}: {}\n", c.name, c.ty));
    }
    text.push_str("  primary key (id)\n  record key fixed 8\n");
    for h in hints {
        text.push_str(&format!("hint {h}\n"));
    }
    Layout::parse(&text).expect("the test writes valid layouts")
}

fn record(columns: &[Column], i: usize) -> Vec<(String, Dynamic)> {
    std::iter::once(("id".to_owned(), Dynamic::Unsigned(i as u128)))
        .chain(
            columns
                .iter()
                .map(|c| (c.name.clone(), c.values[i].clone())),
        )
        .collect()
}

fn model(layout: &Layout) -> &ModelLayout {
    layout.model("M").expect("M")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn migrations_agree_with_the_oracle(
        start in prop::collection::vec((0..START_TYPES.len(), any::<u64>()), 1..6),
        seeds in prop::collection::vec(any::<u64>(), 1..8),
        steps in prop::collection::vec(step(), 1..8),
    ) {
        let records = seeds.len();
        let mut next_name = 0;
        let mut fresh = || { next_name += 1; format!("f{next_name}") };
        let mut columns: Vec<Column> = start
            .iter()
            .map(|&(t, salt)| Column {
                name: fresh(),
                ty: START_TYPES[t].to_owned(),
                values: seeds.iter().map(|s| value_of(START_TYPES[t], s ^ salt)).collect(),
            })
            .collect();
        let mut current = layout(&columns, &[]);
        let mut stored: Vec<Vec<u8>> = (0..records)
            .map(|i| {
                let mut out = Vec::new();
                dynamic::encode_record(&current, model(&current), &record(&columns, i), &mut out)
                    .expect("encode");
                out
            })
            .collect();
        for (version, step) in steps.iter().enumerate() {
            let mut hints = Vec::new();
            let pick = |n: usize| if columns.is_empty() { None } else { Some(n % columns.len()) };
            match *step {
                Step::AddOption => columns.push(Column {
                    name: fresh(),
                    ty: "Option<u32>".into(),
                    values: vec![Dynamic::Option(None); records],
                }),
                Step::AddDefault(v) => {
                    let name = fresh();
                    hints.push(format!("default M.{name} int {v}"));
                    columns.push(Column {
                        name,
                        ty: "u32".into(),
                        values: vec![Dynamic::Unsigned(v.into()); records],
                    });
                }
                Step::Rename(n) => {
                    let Some(i) = pick(n) else { continue };
                    let name = fresh();
                    hints.push(format!("renamed M.{name} from {}", columns[i].name));
                    columns[i].name = name;
                }
                Step::Widen(n) => {
                    let Some(i) = pick(n) else { continue };
                    let c = &mut columns[i];
                    let widened: Option<Vec<(String, Dynamic)>> =
                        c.values.iter().map(|v| widen(&c.ty, v)).collect();
                    let Some(widened) = widened else { continue };
                    if let Some((ty, _)) = widened.first() {
                        c.ty = ty.clone();
                    }
                    c.values = widened.into_iter().map(|(_, v)| v).collect();
                }
                Step::Remove(n) => {
                    let Some(i) = pick(n) else { continue };
                    hints.push(format!("removed field M.{}", columns.remove(i).name));
                }
                Step::Reorder(n) => {
                    let Some(i) = pick(n) else { continue };
                    let c = columns.remove(i);
                    columns.push(c);
                }
            }
            let next = layout(&columns, &hints);
            let plan = migrate::plan(&current, &next, version as u64 + 1, version as u64 + 2)
                .map_err(|e| TestCaseError::fail(format!("{step:?}: {e}")))?;
            for bytes in &mut stored {
                if let Some(new) = plan.migrate_record("M", bytes).map_err(TestCaseError::fail)? {
                    *bytes = new;
                }
            }
            current = next;
        }
        let fields: Vec<&FieldLayout> = model(&current).fields.iter().collect();
        prop_assert_eq!(fields.len(), columns.len() + 1);
        for (i, bytes) in stored.iter().enumerate() {
            let decoded = dynamic::decode_record(&current, model(&current), bytes)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(decoded, record(&columns, i));
        }
    }
}
