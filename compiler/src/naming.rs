//! The naming pass: every name the generated code defines (types, tables, methods), derived
//! once from the IR. The emitters read them from here, and the collision check (`collisions.rs`,
//! run by [`crate::validate`]) reads the same [`Names`], so what is checked is what is emitted
//! and no name is spelled in two places. (Identifiers themselves come from [`crate::names`].)

use crate::ir::{self, Definition, Field, Model, Schema, SecondaryKey, Type};
use crate::names::bare;
use heck::ToUpperCamelCase;

/// The names of everything generated for a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The definition's read transaction: `AtlasReadTransaction`.
    pub read_transaction: String,
    /// The definition's write transaction: `AtlasWriteTransaction`.
    pub write_transaction: String,
    /// One per model, in schema order.
    pub models: Vec<ModelNames>,
}

/// The items generated for one model, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelNames {
    /// The record struct: `City`.
    pub model: String,
    /// The record table: `Atlas/City`.
    pub table: String,
    /// `CityPrimaryKey`.
    pub primary_key: String,
    /// The enum of every secondary key: `CitySecondaryKeys`.
    pub secondary_keys: String,
    /// The zero-copy view: `CityRef`.
    pub view: String,
    /// The named tree: `CityTree`.
    pub tree: String,
    /// `CityReadTree`.
    pub read_tree: String,
    /// `CityWriteTree`.
    pub write_tree: String,
    /// The tree's prefix scans over the primary key: `prefix` for a `String` key,
    /// `prefix_country`, `prefix_country_year` for the leading parts of a composite key.
    pub prefixes: Vec<String>,
    /// One per secondary key, in schema order.
    pub keys: Vec<KeyNames>,
    /// The methods that follow the model's links forward (`author_in`), in the order of
    /// [`Model::links`].
    pub links: Vec<String>,
    /// The methods that follow links to this model backward (`books_by_author`), in the order
    /// of [`Schema::links_to`].
    pub backlinks: Vec<String>,
}

/// The names generated for one secondary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyNames {
    /// Its key type: `CityCountryCodeSecondaryKey`.
    pub type_name: String,
    /// Its variant of the `XSecondaryKeys` enum: `CountryCode`.
    pub variant: String,
    /// Its index table: `Atlas/City/country_code`.
    pub table: String,
    /// The lookup: `get_by_<key>` for a unique key, `by_<key>` for a non-unique one.
    pub lookup: String,
    /// `count_by_<key>` (non-unique keys only).
    pub count: Option<String>,
    /// `by_<key>_after`, the cursor (non-unique keys only).
    pub after: Option<String>,
    /// `by_<key>_ref`, the lookup yielding zero-copy views (non-unique keys only).
    pub lookup_ref: Option<String>,
    /// `range_by_<key>`.
    pub range: String,
    /// `range_by_<key>_ref`, the range yielding zero-copy views.
    pub range_ref: String,
    /// `count_range_by_<key>`.
    pub count_range: String,
    /// `prefix_by_<key>` for a `String` key; `prefix_by_<key>_<part>...` for each proper leading
    /// part of a composite key.
    pub prefixes: Vec<String>,
    /// The subscription filter on the model: `watch_by_<key>`.
    pub watch: String,
}

/// The writing methods every write tree forwards (see `emit::tree`).
pub const WRITE_METHODS: &[&str] = &[
    "put",
    "insert",
    "put_many",
    "remove",
    "delete",
    "remove_many",
    "remove_range",
    "retain",
    "clear",
];

/// The method on every model that lists its secondary keys.
pub const SECONDARY_KEYS_METHOD: &str = "secondary_keys";

impl Names {
    /// The naming pass over a validated schema.
    pub fn new(schema: &Schema) -> Self {
        let (read_transaction, write_transaction) = transactions(&schema.definition.name.rust);
        let models = schema
            .models
            .iter()
            .enumerate()
            .map(|(position, _)| ModelNames::new(&schema.definition, &schema.models, position))
            .collect();
        Self {
            read_transaction,
            write_transaction,
            models,
        }
    }
}

impl ModelNames {
    /// The names of the items of the model at `position` in `models` (validation calls this
    /// before the schema is whole, hence the parts).
    pub fn new(definition: &Definition, models: &[Model], position: usize) -> Self {
        let model = &models[position];
        let m = &model.name.rust;
        let pk: Vec<&Field> = model.primary_key_fields().collect();
        let prefixes = match pk.as_slice() {
            [only] if only.ty == Type::String => vec!["prefix".to_owned()],
            [_] => Vec::new(),
            fields => leading_parts("prefix", fields),
        };
        Self {
            model: m.clone(),
            table: definition.record_table(model),
            primary_key: format!("{m}PrimaryKey"),
            secondary_keys: format!("{m}SecondaryKeys"),
            view: format!("{m}Ref"),
            tree: format!("{m}Tree"),
            read_tree: format!("{m}ReadTree"),
            write_tree: format!("{m}WriteTree"),
            prefixes,
            keys: model
                .secondary_keys
                .iter()
                .map(|k| KeyNames::new(definition, model, k))
                .collect(),
            links: model
                .links()
                .iter()
                .map(|l| format!("{}_in", bare(&l.field.name.rust)))
                .collect(),
            backlinks: ir::links_to(models, position)
                .iter()
                .map(|l| {
                    let key = &l.model.secondary_keys[l.index];
                    format!("{}_by_{}", bare(&l.model.plural), bare(&key.name.rust))
                })
                .collect(),
        }
    }

    /// Every public item name, for the collision check.
    pub fn items(&self) -> Vec<&str> {
        let mut items = vec![
            self.model.as_str(),
            &self.primary_key,
            &self.secondary_keys,
            &self.view,
            &self.tree,
            &self.read_tree,
            &self.write_tree,
        ];
        items.extend(self.keys.iter().map(|k| k.type_name.as_str()));
        items
    }

    /// Every inherent method generated on the model struct, for the collision check.
    pub fn model_methods(&self) -> Vec<&str> {
        let mut methods = vec![SECONDARY_KEYS_METHOD];
        methods.extend(self.keys.iter().map(|k| k.watch.as_str()));
        methods.extend(self.links.iter().map(String::as_str));
        methods.extend(self.backlinks.iter().map(String::as_str));
        methods
    }

    /// Every inherent method generated on the named tree, for the collision check.
    pub fn tree_methods(&self) -> Vec<&str> {
        let mut methods: Vec<&str> = WRITE_METHODS.to_vec();
        methods.extend(self.prefixes.iter().map(String::as_str));
        for k in &self.keys {
            methods.push(&k.lookup);
            methods.extend(k.count.as_deref());
            methods.extend(k.after.as_deref());
            methods.extend(k.lookup_ref.as_deref());
            methods.push(&k.range);
            methods.push(&k.range_ref);
            methods.push(&k.count_range);
            methods.extend(k.prefixes.iter().map(String::as_str));
        }
        methods
    }
}

impl KeyNames {
    fn new(definition: &Definition, model: &Model, key: &SecondaryKey) -> Self {
        let base = bare(&key.name.rust);
        let variant = base.to_upper_camel_case();
        let fields = model.key_fields(key);
        let prefix = format!("prefix_by_{base}");
        let prefixes = match fields.as_slice() {
            [only] if *only.ty.indexed() == Type::String => vec![prefix],
            [_] => Vec::new(),
            fields => leading_parts(&prefix, fields),
        };
        let non_unique = |name: String| (!key.unique).then_some(name);
        Self {
            type_name: format!("{}{variant}SecondaryKey", model.name.rust),
            variant,
            table: definition.index_table(model, key),
            lookup: if key.unique {
                format!("get_by_{base}")
            } else {
                format!("by_{base}")
            },
            count: non_unique(format!("count_by_{base}")),
            after: non_unique(format!("by_{base}_after")),
            lookup_ref: non_unique(format!("by_{base}_ref")),
            range: format!("range_by_{base}"),
            range_ref: format!("range_by_{base}_ref"),
            count_range: format!("count_range_by_{base}"),
            prefixes,
            watch: format!("watch_by_{base}"),
        }
    }
}

/// `{name}_a`, `{name}_a_b`... for every proper leading part of a composite key over `fields`.
fn leading_parts(name: &str, fields: &[&Field]) -> Vec<String> {
    (1..fields.len())
        .map(|len| {
            let parts: Vec<&str> = fields[..len].iter().map(|f| bare(&f.name.rust)).collect();
            format!("{name}_{}", parts.join("_"))
        })
        .collect()
}

/// The transaction types of a definition: `AtlasReadTransaction`, `AtlasWriteTransaction`.
pub fn transactions(definition: &str) -> (String, String) {
    (
        format!("{definition}ReadTransaction"),
        format!("{definition}WriteTransaction"),
    )
}

#[cfg(test)]
mod tests {
    use super::Names;

    fn names(source: &str) -> Names {
        let mut errors = Vec::new();
        let raw = crate::parse::parse(source, &mut errors).expect("parses");
        let schema = crate::validate::validate(raw, source, "n.toml", &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        Names::new(&schema.expect("valid"))
    }

    #[test]
    fn every_generated_name_comes_from_the_naming_pass() {
        let names = names(
            r#"
[definition]
name = "Lib"
version = 1

[models.Author]
primary_key = "name"
[models.Author.fields]
name = "String"

[models.Book]
primary_key = ["shelf", "slot"]
secondary_keys = [{ name = "place", fields = ["author", "year"] }]
[models.Book.fields]
shelf = "u32"
slot = "u32"
author = { type = "Author", secondary_key = true }
year = { type = "i32", secondary_key = "unique" }
"#,
        );
        assert_eq!(names.read_transaction, "LibReadTransaction");
        assert_eq!(names.write_transaction, "LibWriteTransaction");
        let [author, book] = names.models.as_slice() else {
            panic!("two models")
        };
        assert_eq!(author.table, "Lib/Author");
        assert_eq!(author.prefixes, ["prefix"]);
        assert_eq!(author.backlinks, ["books_by_author"]);
        assert_eq!(
            author.model_methods(),
            ["secondary_keys", "books_by_author"]
        );
        assert_eq!(book.table, "Lib/Book");
        assert_eq!(book.tree, "BookTree");
        assert_eq!(book.write_tree, "BookWriteTree");
        assert_eq!(book.prefixes, ["prefix_shelf"]);
        assert_eq!(book.links, ["author_in"]);
        let keys: Vec<_> = book
            .keys
            .iter()
            .map(|k| (k.type_name.as_str(), k.table.as_str(), k.lookup.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("BookAuthorSecondaryKey", "Lib/Book/author", "by_author"),
                ("BookYearSecondaryKey", "Lib/Book/year", "get_by_year"),
                ("BookPlaceSecondaryKey", "Lib/Book/place", "by_place"),
            ]
        );
        let place = &book.keys[2];
        assert_eq!(place.count.as_deref(), Some("count_by_place"));
        assert_eq!(place.after.as_deref(), Some("by_place_after"));
        assert_eq!(place.lookup_ref.as_deref(), Some("by_place_ref"));
        assert_eq!(place.range_ref, "range_by_place_ref");
        assert_eq!(place.prefixes, ["prefix_by_place_author"]);
        // A link is not a `String` key, even to a `String` primary key: no prefix scan.
        assert!(book.keys[0].prefixes.is_empty());
        assert_eq!(book.keys[1].count, None);
        // A unique key's lookup returns one record: no view iterator for it.
        assert_eq!(book.keys[1].lookup_ref, None);
        assert_eq!(book.keys[1].range_ref, "range_by_year_ref");
        assert_eq!(
            book.model_methods(),
            [
                "secondary_keys",
                "watch_by_author",
                "watch_by_year",
                "watch_by_place",
                "author_in"
            ]
        );
    }
}
