//! The naming pass: the Rust names of every item generated for a model, derived once from the
//! IR. The emitters take them from here and `validate` checks them for collisions from here,
//! so what is checked is what is emitted. (Identifiers themselves come from [`crate::names`].)

use crate::ir::{Model, SecondaryKey};
use crate::names::bare;
use heck::ToUpperCamelCase;

/// The items generated for one model, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelNames {
    /// The record struct: `City`.
    pub model: String,
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
    /// One per secondary key, in schema order.
    pub keys: Vec<KeyNames>,
}

/// The names generated for one secondary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyNames {
    /// Its key type: `CityCountryCodeSecondaryKey`.
    pub type_name: String,
    /// Its variant of the `XSecondaryKeys` enum: `CountryCode`.
    pub variant: String,
}

impl ModelNames {
    /// The names of `model`'s items.
    pub fn new(model: &Model) -> Self {
        let m = &model.name.rust;
        Self {
            model: m.clone(),
            primary_key: format!("{m}PrimaryKey"),
            secondary_keys: format!("{m}SecondaryKeys"),
            view: format!("{m}Ref"),
            tree: tree(m),
            read_tree: format!("{m}ReadTree"),
            write_tree: format!("{m}WriteTree"),
            keys: model
                .secondary_keys
                .iter()
                .map(|k| KeyNames::new(m, k))
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
}

impl KeyNames {
    fn new(model: &str, key: &SecondaryKey) -> Self {
        let variant = bare(&key.name.rust).to_upper_camel_case();
        Self {
            type_name: format!("{model}{variant}SecondaryKey"),
            variant,
        }
    }
}

/// The named tree of the model `model` (`CityTree`), for the items that name another model's
/// tree (link methods).
pub fn tree(model: &str) -> String {
    format!("{model}Tree")
}

/// The transaction types of a definition: `AtlasReadTransaction`, `AtlasWriteTransaction`.
pub fn transactions(definition: &str) -> (String, String) {
    (
        format!("{definition}ReadTransaction"),
        format!("{definition}WriteTransaction"),
    )
}
