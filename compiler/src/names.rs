//! The one place that turns schema names into Rust names: `UpperCamelCase` types, `snake_case`
//! fields and methods, raw identifiers for keywords.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Rust keywords (2024 edition, strict and reserved) that need a raw identifier.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers either.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Type names that the schema language itself uses in field types (`Vec<Option<String>>`): a
/// model, enum or struct with one of these names could not be told apart from it.
const SCHEMA_TYPES: &[&str] = &["String", "Bytes", "Option", "Vec", "BTreeMap"];

/// The generic parameter of the generated trees and link methods (`impl<T> CityTree<T>`): a
/// type of that name would be shadowed by it in the signatures that name the model's types.
/// (The other generic parameters, `open_tree::<M>` and `visit_models::<V>`, are made
/// [`fresh`] against the names they sit beside.)
pub const GENERIC_PARAMETERS: &[&str] = &["T"];

/// Why a schema name cannot become a Rust name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// Empty, not ASCII, or starts with a digit.
    NotAnIdentifier,
    /// A keyword that even `r#` cannot escape.
    Reserved(String),
    /// A type of the schema language (`Option`, `Vec`...), as a type name.
    SchemaType(String),
    /// A generic parameter of generated code (`T`), as a type name.
    GenericParameter(String),
}

/// The Rust type name for a schema name (`city_info` -> `CityInfo`).
pub fn type_name(schema: &str) -> Result<String, NameError> {
    check(schema)?;
    let name = schema.to_upper_camel_case();
    if NOT_RAW.contains(&name.as_str()) {
        return Err(NameError::Reserved(name));
    }
    if SCHEMA_TYPES.contains(&name.as_str()) {
        return Err(NameError::SchemaType(name));
    }
    if GENERIC_PARAMETERS.contains(&name.as_str()) {
        return Err(NameError::GenericParameter(name));
    }
    Ok(name)
}

/// The Rust field or method name for a schema name (`countryCode` -> `country_code`), a raw
/// identifier when it is a keyword (`type` -> `r#type`).
pub fn snake_name(schema: &str) -> Result<String, NameError> {
    check(schema)?;
    let name = schema.to_snake_case();
    if NOT_RAW.contains(&name.as_str()) || name.is_empty() {
        return Err(NameError::Reserved(name));
    }
    Ok(raw_if_keyword(name))
}

/// The name without a leading `r#`, for building other names from it (`by_type`, not `by_r#type`).
pub fn bare(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

/// `name`, or with underscores appended until it is not in `taken`: the name of something the
/// generator adds beside user names (a parameter, a marker field), never equal to one of them.
pub fn fresh(name: String, taken: &[String]) -> String {
    let mut name = name;
    while taken.contains(&name) {
        name.push('_');
    }
    name
}

/// `name`, or `r#name` if it is a keyword.
pub fn raw_if_keyword(name: String) -> String {
    if KEYWORDS.contains(&name.as_str()) {
        format!("r#{name}")
    } else {
        name
    }
}

/// The `snake_case` plural of a model name (`City` -> `cities`).
pub fn plural(model: &str) -> String {
    pluralizer::pluralize(&model.to_snake_case(), 2, false)
}

fn check(name: &str) -> Result<(), NameError> {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if starts_well
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.chars().any(|c| c.is_ascii_alphanumeric())
    {
        Ok(())
    } else {
        Err(NameError::NotAnIdentifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_case_and_escapes_keywords() {
        assert_eq!(type_name("city_info").unwrap(), "CityInfo");
        assert_eq!(snake_name("countryCode").unwrap(), "country_code");
        assert_eq!(snake_name("type").unwrap(), "r#type");
        assert_eq!(plural("City"), "cities");
        assert_eq!(plural("Country"), "countries");
        assert_eq!(plural("Person"), "people");
        assert_eq!(plural("Book"), "books");
        assert!(snake_name("self").is_err());
        assert!(type_name("9lives").is_err());
        assert!(type_name("Ünïcode").is_err());
        assert!(type_name("").is_err());
        assert_eq!(
            type_name("option"),
            Err(NameError::SchemaType("Option".to_owned()))
        );
        assert_eq!(type_name("M").unwrap(), "M");
        assert_eq!(
            type_name("T"),
            Err(NameError::GenericParameter("T".to_owned()))
        );
        assert_eq!(type_name("Result").unwrap(), "Result");
        assert_eq!(fresh("page".to_owned(), &["page".to_owned()]), "page_");
        assert_eq!(fresh("page".to_owned(), &["marker".to_owned()]), "page");
    }
}
