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
