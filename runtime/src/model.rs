//! The traits that generated code implements. Users call the generated wrappers; these traits
//! let the runtime hold every algorithm once, generically.

use crate::codec::{DecodeError, DecodeKey, KeyPart};
use crate::error::Result;
use crate::index_keys::IndexKeys;
use crate::links::{Backlink, LinkDef, LinkTarget};
use crate::transaction::{ReadTransaction, WriteTransaction};

/// A definition: the set of models stored together in one database, generated from a schema's
/// `[definition]` table.
pub trait Definition: Sized + 'static {
    /// The definition's schema name.
    const NAME: &'static str;
    /// The schema's declared version.
    const VERSION: u64;
    /// A hash of the stored layout, checked when a database is opened.
    const FINGERPRINT: &'static str;
    /// The canonical text of the stored layout (models, fields with their types in encoding
    /// order, keys, enums, structs) and the schema's migration hints: stored in every database
    /// the definition writes, so the file describes itself, and compared on open to migrate a
    /// file written by an earlier version (see [`Layout`](crate::Layout)).
    const LAYOUT: &'static str;
    /// Whether every commit also writes its changes to the durable change feed
    /// (`change_feed = true` in the schema's `[definition]`); see
    /// [`Store::changes_since`](crate::Store::changes_since).
    const CHANGE_FEED: bool = false;
    /// The earlier versions of the schema kept as history (`Builder::history` in `build.rs`),
    /// oldest first, each with the typed steps from it to the next version: a database written
    /// by one of them migrates through the chain (see [`migrate::Version`](crate::migrate::Version)).
    /// Empty without history.
    const HISTORY: &'static [crate::migrate::Version] = &[];
    /// Every table of every model, created when a database is first opened.
    const TABLES: &'static [&'static str];
    /// The generated read transaction, with one method per model (a wrapper of
    /// [`ReadTransaction`], converted both ways).
    type Read<'s>: From<ReadTransaction<'s, Self>>
        + Into<ReadTransaction<'s, Self>>
        + AsRef<ReadTransaction<'s, Self>>;
    /// The generated write transaction, with one method per model (a wrapper of
    /// [`WriteTransaction`], converted both ways: [`Store::write`](crate::Store::write) hands
    /// its closures this type).
    type Write<'s>: From<WriteTransaction<'s, Self>>
        + Into<WriteTransaction<'s, Self>>
        + AsRef<WriteTransaction<'s, Self>>;

    /// Calls [`visitor.visit::<M>()`](ModelVisitor::visit) for every model `M` of the
    /// definition, in schema order, stopping at the first error. Generated; it lets the runtime
    /// run generic work over every model (such as
    /// [`Store::check_integrity`](crate::Store::check_integrity)).
    fn visit_models<V: ModelVisitor<Self>>(visitor: &mut V) -> Result<()>;
}

/// Work done once per model of definition `D`, generically: see [`Definition::visit_models`].
pub trait ModelVisitor<D: Definition> {
    /// Called once for each model `M` of `D`.
    fn visit<M: Model<Definition = D>>(&mut self) -> Result<()>;
}

/// One secondary index of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexDef {
    /// The indexed field's schema name.
    pub field: &'static str,
    /// The index table's name.
    pub table: &'static str,
    /// Whether each value may belong to one record only.
    pub unique: bool,
    /// The index table's key and value types.
    pub layout: crate::IndexLayout,
}

/// A stored model, generated from a schema's `[models.X]` table.
pub trait Model: Sized + 'static {
    /// The definition the model belongs to.
    type Definition: Definition;
    /// The generated primary key type.
    type PrimaryKey: DecodeKey + std::fmt::Debug;
    /// The key type of the record table: [`Fixed<N>`](crate::Fixed) when every primary key
    /// encodes to `N` bytes, `&'static [u8]` otherwise.
    type StoredKey: crate::StoredKey;
    /// The primary key as query methods take it, borrowed where it can be: `u64`, `&'k str`
    /// for a `String`, a tuple such as `(&'k str, i32)` for a composite key. It encodes as
    /// [`PrimaryKey`](Self::PrimaryKey) does.
    type KeyArg<'k>: KeyPart;
    /// The generated zero-copy view.
    type Ref<'a>: ModelRef<'a, Model = Self>;
    /// The generated named tree wrapper around a runtime tree `A`.
    type Tree<A>: From<A>;
    /// The model's schema name.
    const NAME: &'static str;
    /// The name of the table holding the records.
    const TABLE: &'static str;
    /// The model's secondary indexes, in schema order.
    const INDEXES: &'static [IndexDef];
    /// The model's link fields (each has an index in [`INDEXES`](Self::INDEXES)).
    const LINKS: &'static [LinkDef] = &[];
    /// The checked links of any model that point at this one.
    const BACKLINKS: &'static [Backlink] = &[];
    /// The model as the target of links.
    const LINK_TARGET: LinkTarget = LinkTarget {
        model: Self::NAME,
        table: Self::TABLE,
        backlinks: Self::BACKLINKS,
        describe: describe_primary_key::<Self>,
        open_write: crate::links::open_records_write::<Self>,
        open_read: crate::links::open_records_read::<Self>,
    };

    /// The record's primary key.
    fn primary_key(&self) -> Self::PrimaryKey;
    /// Appends the encoded primary key.
    fn encode_primary_key(&self, out: &mut Vec<u8>);
    /// Appends the encoded record.
    fn encode(&self, out: &mut Vec<u8>);
    /// Decodes a stored record.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError>;
    /// Pushes the record's encoded keys of index `index` onto `keys`: none when a part is an
    /// `Option` that is `None` (or an empty `Vec`), one per element of a multi-valued key over a
    /// `Vec` field, otherwise one.
    fn index_keys(&self, index: usize, keys: &mut IndexKeys);
    /// The value of index `index`'s field, as `Debug` shows it, for error messages.
    fn describe_index_value(&self, index: usize) -> String;
}

/// A zero-copy view of a stored record: strings and bytes borrow from the database page.
pub trait ModelRef<'a>: Sized {
    /// The owned model.
    type Model: Model;
    /// Decodes a view borrowing from `bytes`.
    fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError>;
    /// As [`Model::index_keys`], read from the view (used to drop stale index entries without
    /// allocating).
    fn index_keys(&self, index: usize, keys: &mut IndexKeys);
    /// Copies the view into an owned model.
    fn to_model(&self) -> Self::Model;
}

/// An encoded primary key of `M` as its `Debug` form (`CityPrimaryKey(1850147)`), for messages.
pub fn describe_primary_key<M: Model>(mut bytes: &[u8]) -> String {
    match M::PrimaryKey::decode_key(&mut bytes) {
        Ok(key) if bytes.is_empty() => format!("{key:?}"),
        _ => "with an undecodable primary key".to_owned(),
    }
}
