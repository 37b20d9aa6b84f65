//! The generated code of the test fixtures, compiled under `deny(warnings)` (and, in CI, clippy
//! with `-D warnings`) so any warning in generated code fails the build.

#![deny(warnings, missing_docs)]

/// `fixtures/library.toml`: authors and books.
pub mod library {
    netabase_runtime::include_schema!("library");
}

/// `fixtures/links.toml`: writers, volumes and shelves linked to each other.
pub mod links {
    netabase_runtime::include_schema!("links");
}

/// `fixtures/scalars.toml`: every scalar type, signed and composite keys.
pub mod scalars {
    netabase_runtime::include_schema!("scalars");
}

/// `schemas/atlas.toml`: countries and cities.
pub mod atlas {
    netabase_runtime::include_schema!("atlas");
}

/// `fixtures/keys.toml`: a model per primary key type and one with every secondary key type.
pub mod keys {
    netabase_runtime::include_schema!("keys");
}

/// `fixtures/shop.toml`: items and orders, with a change feed.
pub mod shop {
    netabase_runtime::include_schema!("shop");
}

/// `fixtures/types.toml`: every type of the schema language.
pub mod types {
    netabase_runtime::include_schema!("types");
}

/// `fixtures/hostile.toml`: the words generated code uses for itself, as user names everywhere.
pub mod hostile {
    netabase_runtime::include_schema!("hostile");
}

/// `fixtures/migrations/*.toml`: versions of the `Shop` definition, one module each, for the
/// migration tests (`shop_v1` is the version the others migrate from), and two of `Keyed`.
pub mod migrations {
    /// `fixtures/migrations/keyed_v1.toml`. Version 1: a value of every key type, no secondary key but a link's.
    pub mod keyed_v1 {
        netabase_runtime::include_schema!("keyed_v1");
    }
    /// `fixtures/migrations/keyed_v2.toml`. Version 2: a secondary key of every kind, built by the migration.
    pub mod keyed_v2 {
        netabase_runtime::include_schema!("keyed_v2");
    }
    /// `fixtures/migrations/shop_default_field.toml`. Version 2: new fields with defaults.
    pub mod shop_default_field {
        netabase_runtime::include_schema!("shop_default_field");
    }
    /// `fixtures/migrations/shop_index_added.toml`. Version 2: a new index on User.age.
    pub mod shop_index_added {
        netabase_runtime::include_schema!("shop_index_added");
    }
    /// `fixtures/migrations/shop_index_changed.toml`. Version 2: the index on User.name becomes unique.
    pub mod shop_index_changed {
        netabase_runtime::include_schema!("shop_index_changed");
    }
    /// `fixtures/migrations/shop_index_removed.toml`. Version 2: the index on User.name is removed.
    pub mod shop_index_removed {
        netabase_runtime::include_schema!("shop_index_removed");
    }
    /// `fixtures/migrations/shop_narrowed.toml`. Version 2: Order.total narrowed from u32 to u16 (not automatic: refused on open).
    pub mod shop_narrowed {
        netabase_runtime::include_schema!("shop_narrowed");
    }
    /// `fixtures/migrations/shop_new_model.toml`. Version 2: a new model (Coupon).
    pub mod shop_new_model {
        netabase_runtime::include_schema!("shop_new_model");
    }
    /// `fixtures/migrations/shop_option_field.toml`. Version 2: a new optional field (User.email).
    pub mod shop_option_field {
        netabase_runtime::include_schema!("shop_option_field");
    }
    /// `fixtures/migrations/shop_removed_field.toml`. Version 2: User.fax removed, confirmed.
    pub mod shop_removed_field {
        netabase_runtime::include_schema!("shop_removed_field");
    }
    /// `fixtures/migrations/shop_removed_model.toml`. Version 2: the Legacy model removed, confirmed.
    pub mod shop_removed_model {
        netabase_runtime::include_schema!("shop_removed_model");
    }
    /// `fixtures/migrations/shop_renamed.toml`. Version 2: User.title is renamed display_name.
    pub mod shop_renamed {
        netabase_runtime::include_schema!("shop_renamed");
    }
    /// `fixtures/migrations/shop_same_version.toml`. Still version 1, but with a new field (refused on open: the version was not raised).
    pub mod shop_same_version {
        netabase_runtime::include_schema!("shop_same_version");
    }
    /// `fixtures/migrations/shop_unconfirmed.toml`. Version 2: User.fax is gone without removed_fields (refused on open).
    pub mod shop_unconfirmed {
        netabase_runtime::include_schema!("shop_unconfirmed");
    }
    /// `fixtures/migrations/shop_v1.toml`. Version 1 of a shop: users, their orders, and a legacy model.
    pub mod shop_v1 {
        netabase_runtime::include_schema!("shop_v1");
    }
    /// `fixtures/migrations/shop_v2.toml`. Version 2: every automatic change at once.
    pub mod shop_v2 {
        netabase_runtime::include_schema!("shop_v2");
    }
    /// `fixtures/migrations/shop_v3.toml`. Version 3: shop_v2 with an index on User.country (a second migration).
    pub mod shop_v3 {
        netabase_runtime::include_schema!("shop_v3");
    }
    /// `fixtures/migrations/shop_widened.toml`. Version 2: widened types (u8 to u32, f32 to f64, String to Option<String>, u32 to i64, a new enum variant).
    pub mod shop_widened {
        netabase_runtime::include_schema!("shop_widened");
    }
}

/// `fixtures/history/catalog.toml` (version 3) with versions 1 and 2 kept as history: the
/// generated `catalog::v1` and `catalog::v2` modules, and the typed migration steps below.
pub mod catalog {
    netabase_runtime::include_schema!("catalog");

    use netabase_runtime::{Migrate, StepError};

    /// Version 2 narrows the price to a `u32`: a price that does not fit stops the migration.
    impl Migrate<v1::Product> for v2::Product {
        fn migrate(old: v1::Product) -> Result<Self, StepError> {
            Ok(Self {
                id: old.id,
                name: old.name,
                price: u32::try_from(old.price).map_err(|_| {
                    format!(
                        "price {} of product {} does not fit a u32",
                        old.price, old.id
                    )
                })?,
            })
        }
    }

    /// Version 2 keys customers by their email (a new primary key).
    impl Migrate<v1::Customer> for v2::Customer {
        fn migrate(old: v1::Customer) -> Result<Self, StepError> {
            Ok(Self {
                email: old.email,
                number: old.number,
                age: old.age,
            })
        }
    }

    /// Version 3 splits the name (`"Brand Title words"`) into brand and title.
    impl Migrate<v2::Product> for Product {
        fn migrate(old: v2::Product) -> Result<Self, StepError> {
            let (brand, title) = old.name.split_once(' ').unwrap_or((old.name.as_str(), ""));
            Ok(Self {
                id: old.id,
                brand: brand.to_owned(),
                title: title.to_owned(),
                price: old.price,
            })
        }
    }
}
