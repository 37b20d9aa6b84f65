//! Typed migration steps: the changes a migration cannot make by itself (a narrowed or changed
//! type, a new primary key, a field split in two) are made by plain Rust the user writes, an
//! [`impl Migrate<v1::User> for User`](Migrate), called once per record.
//!
//! The user keeps the schema's earlier versions as history (`Builder::history` in `build.rs`);
//! the compiler generates each one as a complete module (`v1::User`, `v1::Shop`) and, for every
//! model whose change from one version to the next is not automatic, a [`Step`] that calls the
//! user's `Migrate` impl through [`typed_step`]. The list of versions with their steps is the
//! definition's [`HISTORY`](crate::Definition::HISTORY); the runtime chains the versions from
//! the one a file was written by up to the program's, in the one write transaction of the open.

use crate::codec::DecodeError;
use crate::model::Model;

/// The error a [`Migrate`] step returns: any error (`?` converts it), or a message
/// (`return Err("the price does not fit a u32".into())`). The migration stops, nothing is
/// written, and opening fails with [`Error::Migration`](crate::Error::Migration) of kind
/// [`StepFailed`](crate::MigrationErrorKind::StepFailed), naming the model, the record and this
/// message.
pub type StepError = Box<dyn std::error::Error + Send + Sync>;

/// A typed migration step: how a record of the previous version of a model (`Old`, from the
/// generated history module, such as `v1::User`) becomes a record of this version.
///
/// The generated code of a schema with history requires one for every model whose change from
/// one version to the next is not automatic: a missing step is a compile error naming both
/// types. The step runs once per record, inside the migration's write transaction; the indexes
/// of the model are rebuilt from the new records afterwards.
///
/// ```ignore
/// impl netabase_runtime::Migrate<shop::v1::User> for shop::v2::User {
///     fn migrate(old: shop::v1::User) -> Result<Self, netabase_runtime::StepError> {
///         Ok(Self { id: old.id, age: u8::try_from(old.age)?, name: old.name })
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "no migration step from `{Old}` to `{Self}`: this model's change between these schema versions is not automatic",
    label = "this schema's history needs a typed step for this model",
    note = "write `impl ::netabase_runtime::Migrate<{Old}> for {Self} {{ fn migrate(old: {Old}) -> ::core::result::Result<Self, ::netabase_runtime::StepError> {{ ... }} }}` next to where the schema is included (see \"Typed migration steps\" in netabase's MIGRATIONS.md)"
)]
pub trait Migrate<Old>: Sized {
    /// The record of this version made from `old`, or why it cannot be made (which stops the
    /// migration: the file stays as it was).
    fn migrate(old: Old) -> Result<Self, StepError>;
}

/// An earlier version of a definition, kept as history: what the generated
/// [`Definition::HISTORY`](crate::Definition::HISTORY) lists, oldest first.
#[derive(Debug, Clone, Copy)]
pub struct Version {
    /// Its `version`.
    pub version: u64,
    /// Its layout fingerprint (`Definition::FINGERPRINT` of its module).
    pub fingerprint: &'static str,
    /// Its stored layout (`Definition::LAYOUT` of its module).
    pub layout: &'static str,
    /// The typed steps from this version to the next one (the next entry, or the program's
    /// own version after the last), one per model whose change is not automatic.
    pub steps: &'static [Step],
}

/// One model's typed step from a version to the next (generated: see [`Version`]).
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// The model's schema name (in the newer version).
    pub model: &'static str,
    /// Converts one stored record of the older version into the bytes of the newer one:
    /// [`typed_step`] for the two generated types.
    pub convert: StepFn,
}

/// The function of a [`Step`]: old record bytes in, new record bytes appended to the vector.
pub type StepFn = fn(&[u8], &mut Vec<u8>) -> Result<(), StepFailure>;

/// Why a [`Step`] did not convert a record.
#[derive(Debug)]
pub enum StepFailure {
    /// The stored record does not decode as the older version (a damaged file).
    Decode(DecodeError),
    /// The user's [`Migrate::migrate`] returned an error.
    Step(StepError),
}

/// Decodes a record of `Old`, makes it a `New` with the user's [`Migrate`] step and encodes it:
/// the [`StepFn`] the generated history names for each step. Its `New: Migrate<Old>` bound is
/// what makes a missing step a compile error.
pub fn typed_step<Old: Model, New: Model + Migrate<Old>>(
    bytes: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), StepFailure> {
    let old = Old::decode(bytes).map_err(StepFailure::Decode)?;
    let new = New::migrate(old).map_err(StepFailure::Step)?;
    new.encode(out);
    Ok(())
}
