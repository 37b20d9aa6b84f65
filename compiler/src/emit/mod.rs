//! Stage 3, emit: [`ir::Schema`] -> tokens, one module per generated artifact. Every path is
//! fully qualified (`::netabase::...`, `::core::...`), every public item has a doc that says where
//! in the schema it came from, and nothing is an inner attribute, so the output can be
//! `include!`d anywhere.

mod definition;
mod keys;
mod model;
mod tree;
mod types;
mod view;

use crate::ir::{self, Schema};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// What the caller chose beyond the schema.
pub struct EmitOptions<'a> {
    /// Derive `serde::Serialize` and `serde::Deserialize` on models.
    pub serde: bool,
    /// Extra derives for models, as paths.
    pub extra_derives: &'a [syn::Path],
}

/// Emits the whole file.
pub fn emit(schema: &Schema, options: &EmitOptions<'_>) -> TokenStream {
    let version = proc_macro2::Literal::u32_unsuffixed(crate::CODEGEN_VERSION);
    let definition = definition::emit(schema);
    let models = schema.models.iter().map(|m| {
        let ctx = Ctx { schema, model: m };
        let model = model::emit(&ctx, options);
        let keys = keys::emit(&ctx);
        let view = view::emit(&ctx);
        let tree = tree::emit(&ctx);
        quote! { #model #keys #view #tree }
    });
    quote! {
        const _: () = ::netabase::__private::check_codegen_version(#version);
        #definition
        #(#models)*
    }
}

/// The names of the public items generated for `model`, for collision checks in `validate`.
pub fn model_items(model: &ir::Model) -> Vec<String> {
    let m = &model.name.rust;
    let mut items = vec![
        m.clone(),
        format!("{m}PrimaryKey"),
        format!("{m}SecondaryKeys"),
        format!("{m}Ref"),
        format!("{m}Tree"),
        format!("{m}ReadTree"),
        format!("{m}WriteTree"),
    ];
    items.extend(
        model
            .secondary_keys
            .iter()
            .map(|k| keys::secondary_key_type_name(model, k)),
    );
    items
}

/// What every per-model emitter needs.
pub(crate) struct Ctx<'a> {
    pub schema: &'a Schema,
    pub model: &'a ir::Model,
}

impl Ctx<'_> {
    /// An identifier made from the model's name and a suffix: `CityPrimaryKey`.
    pub fn model_ident(&self, suffix: &str) -> Ident {
        ident(&format!("{}{suffix}", self.model.name.rust))
    }

    /// "`schemas/atlas.toml`, line 12": where an item came from.
    pub fn origin(&self, line: usize) -> String {
        format!("Schema: `{}`, line {line}.", self.schema.source_name)
    }
}

/// An identifier, raw (`r#type`) when the name says so.
pub(crate) fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// `#[doc]` attributes for a block of documentation: one per line, so it renders as `///`
/// lines. The text goes into string literals, so nothing in it can become code.
pub(crate) fn docs<'a>(paragraphs: impl IntoIterator<Item = &'a str>) -> TokenStream {
    let mut lines: Vec<String> = Vec::new();
    for paragraph in paragraphs {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.extend(paragraph.lines().map(|l| format!(" {}", l.trim_end())));
    }
    quote! { #(#[doc = #lines])* }
}
