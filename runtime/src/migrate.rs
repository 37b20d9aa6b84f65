//! Automatic migrations: what changed between the layout stored in a database and the layout
//! this program was built for ([`plan`]), and how the file is brought from one to the other in
//! one write transaction (`migrate::run`): either it commits whole, or the file is untouched.
//!
//! Automatic (docs/MIGRATIONS.md has the full rules): a new model; a secondary key or link index
//! added, removed or changed (only that index is rebuilt, from the records); a new
//! `Option<T>` field (`None`) or a field with a `default`; a field renamed with
//! `renamed_from`; widening (a larger integer of the same signedness, unsigned to a larger
//! signed, `f32` to `f64`, `T` to `Option<T>`, new enum variants at the end); a field or model
//! removed with `removed_fields` / `removed_models`. Anything else is refused with
//! [`Error::Migration`] before anything is written, unless the schema keeps its history and the
//! user wrote a typed step for that model ([`Migrate`]): then `chain` goes through every kept
//! version in turn, each model by its typed step or automatically.

mod file;
mod steps;

pub use file::{FileMigration, migrate_file};
pub use steps::{Migrate, StepError};
// What generated code names (re-exported from `__codegen`).
pub use steps::{Step, StepFailure, StepFn, Version, typed_step};

use crate::codec::dynamic::{self, Dynamic, Record};
use crate::error::{Error, Result};
use crate::layout::{Layout, ModelLayout, TypeLayout};
use crate::model::{Definition, Model, ModelVisitor};
use crate::tree::rebuild;
use std::fmt;
use std::time::{Duration, Instant};

/// Why a migration was refused (the `kind` of [`Error::Migration`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationErrorKind {
    /// The database was written by a newer version of the definition than this program's.
    Downgrade,
    /// The layout changed but the schema's `version` did not.
    VersionNotRaised,
    /// A change that is not automatic (a narrowed or changed type, a new primary key, a new
    /// field without a default, a changed struct...).
    NotAutomatic,
    /// A field or model is gone from the schema without `removed_fields` / `removed_models`.
    RemovalNotConfirmed,
    /// The store was opened with [`StoreBuilder::migrate(false)`](crate::StoreBuilder::migrate).
    Disabled,
    /// The database was written by a netabase that did not store its layout, so what changed
    /// cannot be known.
    NoStoredLayout,
    /// A typed migration step ([`Migrate`]) returned an error for a record.
    StepFailed,
}

/// Where a migration is, for a progress bar (see
/// [`StoreBuilder::on_migration_progress`](crate::StoreBuilder::on_migration_progress)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationProgress<'a> {
    /// The model being migrated (schema name).
    pub model: &'a str,
    /// What is being done to it.
    pub phase: MigrationPhase,
    /// Records done so far in this phase.
    pub done: u64,
    /// Records of the model.
    pub total: u64,
}

/// The phase of a [`MigrationProgress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationPhase {
    /// Rewriting the records into their new encoding (typed steps included).
    Rewriting,
    /// Building indexes from the records.
    Indexing,
}

/// What a migration did, returned by [`Store::migration`](crate::Store::migration).
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationReport {
    /// The version the database was at.
    pub from_version: u64,
    /// The version it is at now.
    pub to_version: u64,
    /// Every model that changed, in schema order.
    pub models: Vec<ModelReport>,
    /// The models whose tables were deleted (`removed_models`).
    pub removed_models: Vec<String>,
    /// How long the migration took, commit included.
    pub elapsed: Duration,
}

/// What a migration did to one model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelReport {
    /// The model's schema name.
    pub model: String,
    /// Each change, in words (`new field population: u32 (default 0)`).
    pub changes: Vec<String>,
    /// How many records were rewritten into the new encoding (0 when only indexes changed).
    pub records_rewritten: u64,
    /// The indexes built from the records (by key name).
    pub indexes_rebuilt: Vec<String>,
    /// The index tables deleted.
    pub indexes_dropped: Vec<String>,
    /// How long this model took.
    pub elapsed: Duration,
}

impl fmt::Display for MigrationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "migrated from version {} to {} in {:.3} s",
            self.from_version,
            self.to_version,
            self.elapsed.as_secs_f64()
        )?;
        for m in &self.models {
            writeln!(
                f,
                "  {}: {} record(s) rewritten, {} index(es) rebuilt",
                m.model,
                m.records_rewritten,
                m.indexes_rebuilt.len()
            )?;
            for change in &m.changes {
                writeln!(f, "    {change}")?;
            }
        }
        for removed in &self.removed_models {
            writeln!(f, "  {removed}: removed")?;
        }
        Ok(())
    }
}

/// Where a field of the new layout takes its value from.
#[derive(Debug, Clone)]
enum Source {
    /// The old record's field `name` of type `from`, written as type `to`.
    Old {
        name: String,
        from: TypeLayout,
        to: TypeLayout,
    },
    /// A fixed value (`None` for a new `Option`, or the schema's `default`).
    Value(Dynamic),
}

/// What a migration does to one model.
#[derive(Debug, Clone)]
struct ModelPlan {
    name: String,
    changes: Vec<String>,
    /// For each new field, where its value comes from; `None` when the records keep their
    /// bytes.
    rewrite: Option<Vec<(String, Source)>>,
    /// The keys to build from the records.
    rebuild: Vec<String>,
    /// The index tables to delete.
    drop: Vec<String>,
    /// Whether a typed step ([`Migrate`]) rewrites the records (then `rewrite` is `None`).
    typed: bool,
}

/// The difference between a stored layout and a new one, checked: every change automatic.
#[derive(Debug, Clone)]
pub struct Plan {
    old: Layout,
    new: Layout,
    models: Vec<ModelPlan>,
    /// Removed models and their tables.
    removed: Vec<(String, Vec<String>)>,
}

impl Plan {
    /// Every change, in words (all automatic: see [`diff`]).
    pub fn changes(&self) -> Vec<Change> {
        diff(&self.old, &self.new)
    }

    /// [`changes`](Self::changes), with the changes of the models that `steps` migrate as one
    /// line each, of class [`ChangeClass::TypedStep`].
    fn changes_with(&self, steps: &[Step]) -> Vec<Change> {
        let stepped: Vec<&str> = steps.iter().map(|s| s.model).collect();
        let mut out = diff_with(&self.old, &self.new, &stepped);
        out.extend(stepped.iter().map(|model| Change {
            subject: (*model).to_owned(),
            class: ChangeClass::TypedStep,
            description:
                "records rewritten by its typed step (Migrate), indexes rebuilt".to_owned(),
        }));
        out
    }

    /// The bytes a record of `model`, stored under the old layout, has after the migration;
    /// `None` when the migration leaves that model's records as they are. An error says why
    /// the record does not convert (its bytes do not decode by the old layout).
    pub fn migrate_record(&self, model: &str, bytes: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let Some(m) = self
            .models
            .iter()
            .find(|m| m.name == model && m.rewrite.is_some())
        else {
            return Ok(None);
        };
        let mut out = Vec::new();
        self.rewrite_record(m, bytes, &mut out)?;
        Ok(Some(out))
    }

    /// Decodes a record of `m` by the old layout, moves its fields to the new one and encodes
    /// it into `out`.
    fn rewrite_record(&self, m: &ModelPlan, bytes: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let (Some(sources), Some(old_model), Some(new_model)) =
            (&m.rewrite, self.old.model(&m.name), self.new.model(&m.name))
        else {
            return Err(format!("model {} is missing from a layout", m.name));
        };
        let record = dynamic::decode_record(&self.old, old_model, bytes)
            .map_err(|e| format!("a stored record of {} does not decode: {e}", m.name))?;
        dynamic::encode_record(&self.new, new_model, &migrate_record(record, sources), out)
    }

    /// Whether nothing in the records or indexes changes.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty() && self.removed.is_empty()
    }
}

/// A migration through the versions in between: one [`Plan`] per step from a version to the
/// next, each model of each step automatic or by its typed step. Without history (or for a
/// file whose version is not in it) one step goes from the stored layout straight to the
/// program's.
#[derive(Debug, Clone)]
pub struct Chain {
    hops: Vec<Hop>,
}

/// One version to the next.
#[derive(Debug, Clone)]
struct Hop {
    from: u64,
    to: u64,
    plan: Plan,
    steps: &'static [Step],
}

impl Chain {
    /// Every change, in words, version after version (a change of a step after the first is
    /// prefixed with `version a -> b:` when there are several).
    pub fn changes(&self) -> Vec<Change> {
        let several = self.hops.len() > 1;
        self.hops
            .iter()
            .flat_map(|hop| {
                hop.plan
                    .changes_with(hop.steps)
                    .into_iter()
                    .map(move |mut c| {
                        if several {
                            c.description =
                                format!("version {} -> {}: {}", hop.from, hop.to, c.description);
                        }
                        c
                    })
            })
            .collect()
    }
}

/// Plans the migration of a file at version `from` with layout `stored` (fingerprint
/// `fingerprint`) to `new` at version `to`, through `history` (the definition's kept versions)
/// when the file's version and layout are in it; otherwise straight, every change automatic.
pub(crate) fn chain(
    stored: &Layout,
    fingerprint: &str,
    from: u64,
    new: &Layout,
    to: u64,
    history: &[Version],
) -> Result<Chain> {
    let Some(start) = history
        .iter()
        .position(|v| v.version == from && v.fingerprint == fingerprint)
    else {
        let plan = plan(stored, new, from, to)?;
        return Ok(Chain {
            hops: vec![Hop {
                from,
                to,
                plan,
                steps: &[],
            }],
        });
    };
    let mut hops = Vec::new();
    let mut old = stored.clone();
    for (i, version) in history.iter().enumerate().skip(start) {
        let (next, next_version) = match history.get(i + 1) {
            Some(n) => (
                Layout::parse(n.layout).map_err(|e| Error::Inconsistent {
                    table: crate::meta::META_TABLE,
                    detail: format!(
                        "the generated layout of version {} does not parse ({e}): regenerate the code",
                        n.version
                    ),
                })?,
                n.version,
            ),
            None => (new.clone(), to),
        };
        let stepped: Vec<&str> = version.steps.iter().map(|s| s.model).collect();
        let plan = plan_with_steps(&old, &next, version.version, next_version, &stepped)?;
        hops.push(Hop {
            from: version.version,
            to: next_version,
            plan,
            steps: version.steps,
        });
        old = next;
    }
    Ok(Chain { hops })
}

/// How a change between two layouts is handled (see [`diff`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeClass {
    /// Opening the database applies it.
    Automatic,
    /// A removal the schema must confirm (`removed_fields`, `removed_models`).
    NeedsConfirmation,
    /// Not automatic: refused on open, unless the schema keeps its history and a typed step
    /// ([`Migrate`]) migrates the model.
    NotAutomatic,
    /// Made by the user's typed step ([`Migrate`]).
    TypedStep,
}

/// One change between two layouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The model, enum or struct it concerns.
    pub subject: String,
    /// How it is handled.
    pub class: ChangeClass,
    /// The change in words, and for a change that is not automatic, what to do.
    pub description: String,
}

/// One reason a plan is refused.
struct Refusal {
    subject: String,
    kind: MigrationErrorKind,
    message: String,
}

/// Every change from `old` to `new` and its class, in schema order: automatic changes first,
/// then those that need a confirmation or are not automatic. Empty when the layouts store
/// records alike.
pub fn diff(old: &Layout, new: &Layout) -> Vec<Change> {
    diff_with(old, new, &[])
}

/// [`diff`], leaving out the models `stepped` (migrated by typed steps).
fn diff_with(old: &Layout, new: &Layout, stepped: &[&str]) -> Vec<Change> {
    let Analysis {
        models,
        removed,
        enums,
        refusals,
    } = analyse(old, new, stepped);
    let mut out: Vec<Change> = enums
        .into_iter()
        .map(|(subject, description)| Change {
            subject,
            class: ChangeClass::Automatic,
            description,
        })
        .collect();
    out.extend(models.iter().filter(|m| !m.typed).flat_map(|m| {
        m.changes.iter().map(|c| Change {
            subject: m.name.clone(),
            class: ChangeClass::Automatic,
            description: c.clone(),
        })
    }));
    out.extend(removed.into_iter().map(|(model, _)| Change {
        subject: model,
        class: ChangeClass::Automatic,
        description: "model removed (removed_models)".to_owned(),
    }));
    out.extend(refusals.into_iter().map(|r| Change {
        subject: r.subject,
        class: match r.kind {
            MigrationErrorKind::RemovalNotConfirmed => ChangeClass::NeedsConfirmation,
            _ => ChangeClass::NotAutomatic,
        },
        description: r.message,
    }));
    out
}

/// Computes what migrating from `old` to `new` does, or why it cannot be automatic: the
/// error lists every change that stops it (`from` and `to` are the versions, for the message).
pub fn plan(old: &Layout, new: &Layout, from: u64, to: u64) -> Result<Plan> {
    plan_with_steps(old, new, from, to, &[])
}

/// [`plan`], where the models `stepped` are migrated by their typed steps: any change of theirs
/// is allowed (and of the structs and enums only they hold).
fn plan_with_steps(
    old: &Layout,
    new: &Layout,
    from: u64,
    to: u64,
    stepped: &[&str],
) -> Result<Plan> {
    let Analysis {
        models,
        removed,
        refusals,
        ..
    } = analyse(old, new, stepped);
    if !refusals.is_empty() {
        // A change that is not automatic first: confirming a removal would not be enough.
        let kind = refusals
            .iter()
            .map(|r| r.kind)
            .find(|k| *k == MigrationErrorKind::NotAutomatic)
            .unwrap_or(MigrationErrorKind::RemovalNotConfirmed);
        let mut detail = refusals
            .into_iter()
            .map(|r| r.message)
            .collect::<Vec<_>>()
            .join("; ");
        if kind == MigrationErrorKind::NotAutomatic {
            detail.push_str(
                ". For such a change, keep the previous schema file as history (`Builder::history` \
                 in build.rs) and write a typed step (`impl Migrate<v1::Model> for Model`): see \
                 \"Typed migration steps\" in netabase's MIGRATIONS.md",
            );
        }
        return Err(Error::Migration {
            kind,
            from,
            to,
            detail,
        });
    }
    Ok(Plan {
        old: old.clone(),
        new: new.clone(),
        models,
        removed,
    })
}

/// What [`analyse`] found.
struct Analysis {
    /// The plan of every model that changed.
    models: Vec<ModelPlan>,
    /// The removed models, with their tables.
    removed: Vec<(String, Vec<String>)>,
    /// Enums that gained variants at the end, with the change in words (no record changes).
    enums: Vec<(String, String)>,
    /// The changes that stop an automatic migration.
    refusals: Vec<Refusal>,
}

fn analyse(old: &Layout, new: &Layout, stepped: &[&str]) -> Analysis {
    let mut enums = Vec::new();
    let mut refusals = Vec::new();
    let mut refuse = |subject: &str, kind, message: String| {
        refusals.push(Refusal {
            subject: subject.to_owned(),
            kind,
            message,
        })
    };
    let not_auto = MigrationErrorKind::NotAutomatic;
    for e in &old.enums {
        let Some(n) = new.enumeration(&e.name) else {
            continue;
        };
        if n.variants.len() < e.variants.len() || n.variants[..e.variants.len()] != e.variants[..] {
            refuse(
                &e.name,
                not_auto,
                format!(
                    "enum `{}` changed its existing variants: only new variants at the end are automatic",
                    e.name
                ),
            );
        } else if n.variants.len() > e.variants.len() {
            let added: Vec<&str> = n.variants[e.variants.len()..]
                .iter()
                .map(|v| v.name.as_str())
                .collect();
            enums.push((
                e.name.clone(),
                format!("new variant(s) at the end: {}", added.join(", ")),
            ));
        }
    }
    for s in &old.structs {
        if new.structure(&s.name).is_some_and(|n| n != s) {
            refuse(
                &s.name,
                not_auto,
                format!(
                    "struct `{}` changed: a struct's fields cannot change automatically (give the model field a new type, a new field, instead)",
                    s.name
                ),
            );
        }
    }
    let mut removed = Vec::new();
    for m in &old.models {
        if new.model(&m.name).is_some() {
            continue;
        }
        if new.removed_models.contains(&m.name) {
            let mut tables = vec![format!("{}/{}", old.definition, m.name)];
            tables.extend(
                m.keys
                    .iter()
                    .map(|k| format!("{}/{}/{}", old.definition, m.name, k.name)),
            );
            removed.push((m.name.clone(), tables));
        } else {
            refuse(
                &m.name,
                MigrationErrorKind::RemovalNotConfirmed,
                format!(
                    "model `{0}` is gone from the schema: to delete its records, add `removed_models = [\"{0}\"]` to `[definition]`; to keep them, keep the model",
                    m.name
                ),
            );
        }
    }
    let mut models = Vec::new();
    for n in &new.models {
        let (plan, mut found) = match old.model(&n.name) {
            Some(o) if stepped.contains(&n.name.as_str()) => (
                ModelPlan {
                    name: n.name.clone(),
                    changes: vec!["records rewritten by its typed step (Migrate)".to_owned()],
                    rewrite: None,
                    rebuild: n.keys.iter().map(|k| k.name.clone()).collect(),
                    drop: o
                        .keys
                        .iter()
                        .map(|k| format!("{}/{}/{}", new.definition, o.name, k.name))
                        .collect(),
                    typed: true,
                },
                Vec::new(),
            ),
            None => (
                ModelPlan {
                    name: n.name.clone(),
                    changes: vec!["new model (empty tables)".to_owned()],
                    rewrite: None,
                    rebuild: Vec::new(),
                    drop: Vec::new(),
                    typed: false,
                },
                Vec::new(),
            ),
            Some(o) => model_plan(&new.definition, o, n),
        };
        refusals.append(&mut found);
        if !plan.changes.is_empty() {
            models.push(plan);
        }
    }
    // A struct or enum that changed is the stepped models' business when only they hold it.
    refusals.retain(|r| {
        let is_value_type =
            old.structure(&r.subject).is_some() || old.enumeration(&r.subject).is_some();
        !is_value_type
            || stepped.is_empty()
            || old
                .models
                .iter()
                .filter(|m| {
                    m.fields
                        .iter()
                        .any(|f| holds(old, &f.ty, &r.subject, &mut Vec::new()))
                })
                .any(|m| !stepped.contains(&m.name.as_str()))
    });
    Analysis {
        models,
        removed,
        enums,
        refusals,
    }
}

/// Whether a value of type `ty` holds the struct or enum `name` (through other structs and
/// enums too; `seen` stops at a type already looked at).
fn holds(layout: &Layout, ty: &TypeLayout, name: &str, seen: &mut Vec<String>) -> bool {
    use TypeLayout as T;
    match ty {
        T::Option(t) | T::Vec(t) | T::Array(t, _) => holds(layout, t, name, seen),
        T::Map(k, v) => holds(layout, k, name, seen) || holds(layout, v, name, seen),
        T::Tuple(ts) => ts.iter().any(|t| holds(layout, t, name, seen)),
        T::Named(n) if n == name => true,
        T::Named(n) => {
            if seen.contains(n) {
                return false;
            }
            seen.push(n.clone());
            let fields: Vec<&crate::layout::FieldLayout> =
                match (layout.structure(n), layout.enumeration(n)) {
                    (Some(s), _) => s.fields.iter().collect(),
                    (_, Some(e)) => e.variants.iter().flat_map(|v| &v.fields).collect(),
                    _ => Vec::new(),
                };
            fields.iter().any(|f| holds(layout, &f.ty, name, seen))
        }
        _ => false,
    }
}

fn model_plan(definition: &str, old: &ModelLayout, new: &ModelLayout) -> (ModelPlan, Vec<Refusal>) {
    let mut refusals = Vec::new();
    let name = &new.name;
    let mut refuse = |kind, message: String| {
        refusals.push(Refusal {
            subject: name.clone(),
            kind,
            message,
        })
    };
    let mut changes = Vec::new();
    let mut sources = Vec::new();
    let mut used = Vec::new();
    // The old name of each new field that has one.
    let mut old_names = Vec::new();
    for f in &new.fields {
        let found = f
            .renamed_from
            .as_ref()
            .and_then(|r| old.fields.iter().find(|o| o.name == *r))
            .or_else(|| old.fields.iter().find(|o| o.name == f.name));
        let source = match found {
            Some(o) => {
                used.push(o.name.clone());
                old_names.push((f.name.clone(), o.name.clone()));
                if o.name != f.name {
                    changes.push(format!("field {} renamed to {}", o.name, f.name));
                }
                if o.ty != f.ty {
                    if widens(&o.ty, &f.ty) {
                        changes.push(format!("field {}: {} widened to {}", f.name, o.ty, f.ty));
                    } else {
                        refuse(
                            MigrationErrorKind::NotAutomatic,
                            format!(
                                "field `{name}.{}` changed from `{}` to `{}`: only widening is automatic (a larger integer, f32 to f64, T to Option<T>)",
                                f.name, o.ty, f.ty
                            ),
                        );
                    }
                }
                Source::Old {
                    name: o.name.clone(),
                    from: o.ty.clone(),
                    to: f.ty.clone(),
                }
            }
            None => match (&f.ty, &f.default) {
                (TypeLayout::Option(_), None) => {
                    changes.push(format!("new field {}: {} (None)", f.name, f.ty));
                    Source::Value(Dynamic::Option(None))
                }
                (_, Some(value)) => {
                    changes.push(format!("new field {}: {} (default {value})", f.name, f.ty));
                    Source::Value(value.clone())
                }
                _ => {
                    refuse(
                        MigrationErrorKind::NotAutomatic,
                        format!(
                            "new field `{name}.{}: {}` has no value for the records already stored: make it `Option<{}>` or give it `default = ...`",
                            f.name, f.ty, f.ty
                        ),
                    );
                    continue;
                }
            },
        };
        sources.push((f.name.clone(), source));
    }
    for o in &old.fields {
        if used.contains(&o.name) {
            continue;
        }
        if new.removed_fields.contains(&o.name) {
            changes.push(format!("field {} removed (removed_fields)", o.name));
        } else {
            refuse(
                MigrationErrorKind::RemovalNotConfirmed,
                format!(
                    "field `{name}.{0}` is gone from the schema: to drop it from every record (its values are lost), add `removed_fields = [\"{0}\"]` to `[models.{name}]`; if it was renamed, give the new field `renamed_from = \"{0}\"`",
                    o.name
                ),
            );
        }
    }
    let old_name = |new_field: &str| {
        old_names
            .iter()
            .find(|(n, _)| n == new_field)
            .map(|(_, o)| o.clone())
    };
    let type_of = |fields: &[crate::layout::FieldLayout], name: &str| {
        fields.iter().find(|f| f.name == name).map(|f| f.ty.clone())
    };
    let key_unchanged = |fields_new: &[String], fields_old: &[String]| {
        fields_new.len() == fields_old.len()
            && fields_new.iter().zip(fields_old).all(|(n, o)| {
                old_name(n).as_deref() == Some(o.as_str())
                    && type_of(&new.fields, n) == type_of(&old.fields, o)
            })
    };
    if !key_unchanged(&new.primary_key, &old.primary_key) || new.record_key != old.record_key {
        refuse(
            MigrationErrorKind::NotAutomatic,
            format!(
                "the primary key of `{name}` changed from ({}) to ({}): a new primary key is not automatic",
                old.primary_key.join(", "),
                new.primary_key.join(", ")
            ),
        );
    }
    // The bytes of every record stay as they are when the fields keep their order and types.
    let same_bytes = new.fields.len() == old.fields.len()
        && sources.iter().zip(&old.fields).all(|((_, s), o)| matches!(s, Source::Old { name, from, to } if *name == o.name && from == to));
    // The kept fields, by their old names, in the new order and in the old one.
    let kept_new: Vec<&str> = old_names.iter().map(|(_, o)| o.as_str()).collect();
    let kept_old: Vec<&str> = old
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .filter(|n| kept_new.contains(n))
        .collect();
    if kept_new != kept_old {
        changes.push("fields reordered".to_owned());
    }
    let mut rebuild = Vec::new();
    let mut drop = Vec::new();
    for k in &new.keys {
        let kept = old.keys.iter().any(|o| {
            o.name == k.name
                && o.unique == k.unique
                && o.entry == k.entry
                && key_unchanged(&k.fields, &o.fields)
        });
        if !kept {
            rebuild.push(k.name.clone());
            let what = if old.keys.iter().any(|o| o.name == k.name) {
                "changed"
            } else {
                "added"
            };
            changes.push(format!("index {} {what}", k.name));
        }
    }
    for o in &old.keys {
        if !new
            .keys
            .iter()
            .any(|k| k.name == o.name && !rebuild.contains(&k.name))
        {
            drop.push(format!("{definition}/{}/{}", old.name, o.name));
            if !new.keys.iter().any(|k| k.name == o.name) {
                changes.push(format!("index {} removed", o.name));
            }
        }
    }
    let plan = ModelPlan {
        name: name.clone(),
        changes,
        rewrite: (!same_bytes).then_some(sources),
        rebuild,
        drop,
        typed: false,
    };
    (plan, refusals)
}

/// Whether a value of type `old` can be read as `new` without loss.
fn widens(old: &TypeLayout, new: &TypeLayout) -> bool {
    use TypeLayout as T;
    if old == new {
        return true;
    }
    match (old, new) {
        (T::Scalar(a), T::Scalar(b)) => match (a.integer(), b.integer()) {
            (Some((a_signed, a_bits)), Some((b_signed, b_bits))) => {
                b_bits > a_bits && (b_signed || !a_signed)
            }
            _ => *a == crate::layout::Scalar::F32 && *b == crate::layout::Scalar::F64,
        },
        (T::Option(a), T::Option(b)) | (T::Vec(a), T::Vec(b)) => widens(a, b),
        (a, T::Option(b)) => widens(a, b),
        _ => false,
    }
}

/// `value` of type `from` as a value of type `to` (which [`widens`] it).
fn convert(value: Dynamic, from: &TypeLayout, to: &TypeLayout) -> Dynamic {
    use TypeLayout as T;
    match (from, to, value) {
        (T::Option(f), T::Option(t), Dynamic::Option(v)) => {
            Dynamic::Option(v.map(|v| Box::new(convert(*v, f, t))))
        }
        (T::Vec(f), T::Vec(t), Dynamic::List(items)) => {
            Dynamic::List(items.into_iter().map(|v| convert(v, f, t)).collect())
        }
        (f, T::Option(t), v) if !matches!(f, T::Option(_)) => {
            Dynamic::Option(Some(Box::new(convert(v, f, t))))
        }
        // Numbers widen when they are encoded as the new type.
        (_, _, v) => v,
    }
}

/// The callback a migration reports its progress to.
pub(crate) type Progress<'a> = &'a dyn Fn(&MigrationProgress<'_>);

/// Runs `chain` in `txn` (which the caller commits), model by model: each model's records go
/// through every step of the chain one record at a time.
pub(crate) fn run<D: Definition>(
    txn: &redb::WriteTransaction,
    chain: &Chain,
    report: &mut MigrationReport,
    progress: Option<Progress<'_>>,
) -> Result<()> {
    for hop in &chain.hops {
        for (model, tables) in &hop.plan.removed {
            for table in tables {
                rebuild::delete_table(txn, table)?;
            }
            report.removed_models.push(model.clone());
        }
        for m in &hop.plan.models {
            for table in &m.drop {
                rebuild::delete_table(txn, table)?;
            }
        }
    }
    D::visit_models(&mut Migrator {
        txn,
        chain,
        report,
        progress,
    })
}

struct Migrator<'a> {
    txn: &'a redb::WriteTransaction,
    chain: &'a Chain,
    report: &'a mut MigrationReport,
    progress: Option<Progress<'a>>,
}

/// What one step of a chain does to one model's records.
enum Convert<'a> {
    /// Automatic: by the dynamic codec.
    Automatic(&'a Hop, &'a ModelPlan),
    /// By the user's typed step.
    Typed(&'a Hop, StepFn),
}

impl<D: Definition> ModelVisitor<D> for Migrator<'_> {
    fn visit<M: Model<Definition = D>>(&mut self) -> Result<()> {
        let plans: Vec<(&Hop, &ModelPlan)> = self
            .chain
            .hops
            .iter()
            .filter_map(|hop| {
                let m = hop.plan.models.iter().find(|m| m.name == M::NAME)?;
                Some((hop, m))
            })
            .collect();
        if plans.is_empty() {
            return Ok(());
        }
        let start = Instant::now();
        let mut converts = Vec::new();
        for &(hop, m) in &plans {
            if m.typed {
                let step = hop.steps.iter().find(|s| s.model == M::NAME);
                converts.extend(step.map(|s| Convert::Typed(hop, s.convert)));
            } else if m.rewrite.is_some() {
                converts.push(Convert::Automatic(hop, m));
            }
        }
        let typed = plans.iter().any(|(_, m)| m.typed);
        // The file's own layout of the model: absent when a later version added it (no table).
        let stored = self
            .chain
            .hops
            .first()
            .and_then(|hop| hop.plan.old.model(M::NAME));
        let report = |phase, done, total| {
            if let Some(progress) = self.progress {
                progress(&MigrationProgress {
                    model: M::NAME,
                    phase,
                    done,
                    total,
                });
            }
        };
        let mut records_rewritten = 0;
        if let (Some(stored), false) = (stored, converts.is_empty()) {
            // A typed step may give records a new primary key, of another width.
            let rekey = typed.then(|| match stored.record_key_type() {
                Ok(crate::tree::StoredType::Fixed(width)) => Some(width),
                _ => None,
            });
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let (from, to) = (
                self.chain.hops.first().map_or(0, |h| h.from),
                self.chain.hops.last().map_or(0, |h| h.to),
            );
            records_rewritten = rebuild::rewrite_records::<M>(
                self.txn,
                rekey,
                &mut |done, total| report(MigrationPhase::Rewriting, done, total),
                &mut |key, bytes, out| {
                    a.clear();
                    a.extend_from_slice(bytes);
                    for convert in &converts {
                        b.clear();
                        apply::<M>(convert, key, &a, &mut b)?;
                        std::mem::swap(&mut a, &mut b);
                    }
                    out.extend_from_slice(&a);
                    Ok(())
                },
            )
            .map_err(|error| match error {
                Error::UniqueViolation {
                    model,
                    field: "primary key",
                    value,
                } => Error::Migration {
                    kind: MigrationErrorKind::StepFailed,
                    from,
                    to,
                    detail: format!(
                        "the typed steps of {model} give two records the primary key {value}: each record needs a key of its own. Nothing was written: fix the step (or the records, with the previous program) and open the file again"
                    ),
                },
                other => other,
            })?;
        }
        let mut rebuilt: Vec<String> = Vec::new();
        for (_, m) in &plans {
            for k in &m.rebuild {
                if !rebuilt.contains(k) {
                    rebuilt.push(k.clone());
                }
            }
        }
        let which: Vec<usize> = M::INDEXES
            .iter()
            .enumerate()
            .filter(|(_, def)| {
                typed
                    || rebuilt
                        .iter()
                        .any(|k| format!("{}/{k}", M::TABLE) == def.table)
            })
            .map(|(i, _)| i)
            .collect();
        // Built afresh: an index a step changed may still hold its old entries.
        rebuild::rebuild_indexes::<M>(self.txn, &which, &mut |done, total| {
            report(MigrationPhase::Indexing, done, total)
        })?;
        let several = plans.len() > 1;
        self.report.models.push(ModelReport {
            model: M::NAME.to_owned(),
            changes: plans
                .iter()
                .flat_map(|(hop, m)| {
                    m.changes.iter().map(move |c| {
                        if several {
                            format!("version {} -> {}: {c}", hop.from, hop.to)
                        } else {
                            c.clone()
                        }
                    })
                })
                .collect(),
            records_rewritten,
            indexes_rebuilt: M::INDEXES
                .iter()
                .enumerate()
                .filter(|(i, _)| which.contains(i))
                .map(|(_, def)| def.table.rsplit('/').next().unwrap_or(def.table).to_owned())
                .collect(),
            indexes_dropped: plans.iter().flat_map(|(_, m)| m.drop.clone()).collect(),
            elapsed: start.elapsed(),
        });
        Ok(())
    }
}

/// One step of a chain on one record of `M` (`key` its stored key, for messages).
fn apply<M: Model>(
    convert: &Convert<'_>,
    key: &[u8],
    bytes: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    match convert {
        Convert::Automatic(hop, m) => {
            hop.plan
                .rewrite_record(m, bytes, out)
                .map_err(|detail| Error::Inconsistent {
                    table: M::TABLE,
                    detail,
                })
        }
        Convert::Typed(hop, step) => step(bytes, out).map_err(|failure| match failure {
            StepFailure::Decode(source) => Error::Decode {
                table: M::TABLE,
                record: Some(crate::model::describe_primary_key::<M>(key)),
                source,
            },
            StepFailure::Step(error) => Error::Migration {
                kind: MigrationErrorKind::StepFailed,
                from: hop.from,
                to: hop.to,
                detail: format!(
                    "the typed step of {} from version {} to {} failed on the record stored under key {}: {error}. Nothing was written: fix the step (or the record, with the previous program) and open the file again",
                    M::NAME,
                    hop.from,
                    hop.to,
                    hex(key)
                ),
            },
        }),
    }
}

/// A key's bytes in hex, for messages (the key of a version before may not decode as `M`'s).
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The new record: each new field from its source.
fn migrate_record(mut old: Record, sources: &[(String, Source)]) -> Record {
    sources
        .iter()
        .map(|(name, source)| {
            let value = match source {
                Source::Value(v) => v.clone(),
                Source::Old { name, from, to } => {
                    let taken = old
                        .iter_mut()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| std::mem::replace(v, Dynamic::Option(None)));
                    // Every old field is in the decoded record: the plan was made from its layout.
                    convert(taken.unwrap_or(Dynamic::Option(None)), from, to)
                }
            };
            (name.clone(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Scalar;

    #[test]
    fn widening_rules() {
        let s = |s| TypeLayout::Scalar(s);
        assert!(widens(&s(Scalar::U8), &s(Scalar::U64)));
        assert!(widens(&s(Scalar::U32), &s(Scalar::I64)));
        assert!(!widens(&s(Scalar::U32), &s(Scalar::I32)));
        assert!(!widens(&s(Scalar::I32), &s(Scalar::U64)));
        assert!(!widens(&s(Scalar::I64), &s(Scalar::I32)));
        assert!(widens(&s(Scalar::F32), &s(Scalar::F64)));
        assert!(!widens(&s(Scalar::F64), &s(Scalar::F32)));
        assert!(widens(
            &TypeLayout::String,
            &TypeLayout::Option(Box::new(TypeLayout::String))
        ));
        assert!(!widens(
            &TypeLayout::Option(Box::new(TypeLayout::String)),
            &TypeLayout::String
        ));
        assert!(!widens(&TypeLayout::String, &TypeLayout::Bytes));
    }

    fn layout(body: &str) -> Layout {
        Layout::parse(&format!("definition D\n{body}")).unwrap()
    }

    #[test]
    fn an_index_only_change_rewrites_no_record() {
        let old = layout("model M\n  field id: u64\n  field n: String\n  primary key (id)\n");
        let new = layout(
            "model M\n  field id: u64\n  field n: String\n  primary key (id)\n  index key n (n)\n",
        );
        let plan = plan(&old, &new, 1, 2).unwrap();
        assert!(plan.models[0].rewrite.is_none());
        assert_eq!(plan.models[0].rebuild, ["n"]);
        assert_eq!(
            plan.changes(),
            [Change {
                subject: "M".to_owned(),
                class: ChangeClass::Automatic,
                description: "index n added".to_owned()
            }]
        );
    }

    /// Found by the property test (tests/tests/it/migrations_properties.rs): a reorder alone
    /// was planned as no change, and the records kept their old field order.
    #[test]
    fn a_reorder_alone_rewrites_the_records() {
        let old =
            layout("model M\n  field id: u64\n  field a: u8\n  field b: u8\n  primary key (id)\n");
        let new =
            layout("model M\n  field id: u64\n  field b: u8\n  field a: u8\n  primary key (id)\n");
        let plan = plan(&old, &new, 1, 2).unwrap();
        let value = |n| Dynamic::Unsigned(n);
        let record = vec![
            ("id".to_owned(), value(7)),
            ("a".to_owned(), value(1)),
            ("b".to_owned(), value(2)),
        ];
        let mut bytes = Vec::new();
        dynamic::encode_record(&old, &old.models[0], &record, &mut bytes).unwrap();
        let migrated = plan
            .migrate_record("M", &bytes)
            .unwrap()
            .expect("rewritten");
        let decoded = dynamic::decode_record(&new, &new.models[0], &migrated).unwrap();
        assert_eq!(
            decoded,
            [
                ("id".to_owned(), value(7)),
                ("b".to_owned(), value(2)),
                ("a".to_owned(), value(1)),
            ]
        );
    }

    #[test]
    fn refusals_say_what_to_write() {
        let old = layout(
            "model M\n  field id: u64\n  field fax: String\n  primary key (id)\nmodel Old\n  field id: u64\n  primary key (id)\n",
        );
        let new = layout("model M\n  field id: u32\n  field age: u8\n  primary key (id)\n");
        let Err(Error::Migration { kind, detail, .. }) = plan(&old, &new, 1, 2) else {
            panic!("planned an impossible migration")
        };
        // Not automatic wins: confirming the removals would not be enough.
        assert_eq!(kind, MigrationErrorKind::NotAutomatic);
        for expected in [
            "removed_models = [\"Old\"]",
            "removed_fields = [\"fax\"]",
            "`M.id` changed from `u64` to `u32`",
            "`M.age: u8` has no value",
            "the primary key of `M` changed",
        ] {
            assert!(detail.contains(expected), "{expected} not in {detail}");
        }
        let classes: Vec<(String, ChangeClass)> = diff(&old, &new)
            .into_iter()
            .map(|c| (c.subject, c.class))
            .collect();
        assert_eq!(
            classes,
            [
                ("Old".to_owned(), ChangeClass::NeedsConfirmation),
                ("M".to_owned(), ChangeClass::NotAutomatic),
                ("M".to_owned(), ChangeClass::NotAutomatic),
                ("M".to_owned(), ChangeClass::NeedsConfirmation),
                // `id` is the primary key: its new type is a new primary key.
                ("M".to_owned(), ChangeClass::NotAutomatic),
            ]
        );
    }
}
