//! The schema's history in the generated file: each earlier version as a complete module
//! (`pub mod v1 { ... }`, the whole generated code of that version, so a program or a test can
//! still open, read and write databases of it), and the definition's `HISTORY`: every version
//! with the typed steps from it to the next, each naming
//! `::netabase_runtime::__codegen::typed_step::<v1::User, User>`, whose `Migrate` bound makes a
//! missing step a compile error that names both types.

use crate::history::Stepped;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// One earlier version, ready to emit.
pub struct OldVersion<'a> {
    /// Its `version`.
    pub version: u64,
    /// Its file, for the module's doc.
    pub source_name: &'a str,
    /// The definition's Rust name in that version.
    pub definition: &'a str,
    /// Its generated code, as tokens (formatted with the file that holds its module).
    pub code: TokenStream,
    /// The models that need a typed step from it to the next version.
    pub steps: Vec<Stepped>,
}

/// The name of the generated constant the definition's `HISTORY` points at.
pub const HISTORY_CONST: &str = "__NETABASE_HISTORY";

/// The module of each version (oldest first) and the `HISTORY` constant.
pub fn emit(versions: &[OldVersion<'_>], definition: &str) -> TokenStream {
    let modules = versions.iter().map(|v| {
        let name = module(v.version);
        let doc = format!(
            " Version {} of [`{definition}`](super::{definition}), generated from `{}` (kept as \
             history): its complete API, to open and write databases of that version (in tests \
             of a migration) and to name the types of its typed migration steps.",
            v.version, v.source_name
        );
        let code = &v.code;
        quote! {
            #[doc = #doc]
            pub mod #name {
                #code
            }
        }
    });
    let entries = versions.iter().enumerate().map(|(i, v)| {
        let old = module(v.version);
        let old_definition = super::ident(v.definition);
        let version = v.version;
        let next = versions.get(i + 1).map(|n| module(n.version));
        let steps = v.steps.iter().map(|s| {
            let model = &s.schema;
            let old_type = super::ident(&s.old_rust);
            let new_type = super::ident(&s.rust);
            let new_path = match &next {
                Some(next) => quote!(#next::#new_type),
                None => quote!(#new_type),
            };
            quote! {
                ::netabase_runtime::__codegen::Step {
                    model: #model,
                    convert: ::netabase_runtime::__codegen::typed_step::<#old::#old_type, #new_path>,
                }
            }
        });
        quote! {
            ::netabase_runtime::__codegen::Version {
                version: #version,
                fingerprint: <#old::#old_definition as ::netabase_runtime::Definition>::FINGERPRINT,
                layout: <#old::#old_definition as ::netabase_runtime::Definition>::LAYOUT,
                steps: &[#(#steps),*],
            }
        }
    });
    let history = format_ident!("{}", HISTORY_CONST);
    let doc = format!(
        " The earlier versions of [`{definition}`] kept as history, oldest first, with their typed \
         migration steps: `{definition}`'s `::netabase_runtime::Definition::HISTORY`."
    );
    quote! {
        #(#modules)*
        #[doc = #doc]
        #[doc(hidden)]
        pub const #history: &[::netabase_runtime::__codegen::Version] = &[#(#entries),*];
    }
}

/// The module of version `n`: `v1`.
fn module(n: u64) -> syn::Ident {
    format_ident!("v{}", n)
}
