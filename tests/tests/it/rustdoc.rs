//! What a user reading `cargo doc` finds on a generated write tree: the writing methods with the
//! model's own types, no `KeyArg` projection, no private field. Runs rustdoc on the generated
//! code of `fixtures/library.toml` in a scratch crate (see [`crate::scratch_crate`]) and reads
//! the HTML page of `BookTree`, as text.

use netabase_build::{Options, generate};
use std::path::Path;

/// The visible text of an HTML page: tags dropped, the entities rustdoc writes decoded.
fn text_of(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
}

/// `text` without whitespace and trailing commas: rustdoc breaks long signatures over lines
/// (one parameter a line, each with a comma) as it sees fit.
fn squeezed(text: &str) -> String {
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    squeezed.replace(",)", ")")
}

#[test]
fn the_write_tree_page_shows_the_write_api_with_the_models_types() {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/library.toml");
    let source = std::fs::read_to_string(&schema).expect("fixture");
    let code = generate(&source, &Options::default()).expect("valid fixture");
    crate::scratch_crate::cargo(
        "rustdoc",
        &[("library".to_owned(), code)],
        &["doc", "--no-deps"],
    )
    .unwrap_or_else(|e| panic!("rustdoc failed:\n{e}"));
    let page = crate::scratch_crate::target_dir()
        .join("doc/netabase_scratch_rustdoc/library/struct.BookTree.html");
    let html = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
    let text = text_of(&html);
    let squeezed_text = squeezed(&text);
    for signature in [
        "pub fn put(&mut self, record: &Book) -> Result<()>",
        "pub fn insert(&mut self, record: &Book) -> Result<()>",
        "pub fn put_many(&mut self, records: impl IntoIterator<Item = impl Borrow<Book>>) -> Result<u64>",
        "pub fn remove(&mut self, key: &str) -> Result<Option<Book>>",
        "pub fn delete(&mut self, key: &str) -> Result<bool>",
        "pub fn remove_range<'k>(&mut self, range: impl RangeBounds<&'k str>) -> Result<u64>",
        "pub fn clear(&mut self) -> Result<u64>",
        // The key methods, and the reading methods reached through `Deref`.
        "pub fn by_year(&self, year: i32)",
        "pub fn get(&self, key: <M as Model>::KeyArg<'_>)",
    ] {
        assert!(
            squeezed_text.contains(&squeezed(signature)),
            "`{signature}` is not on the page; its text:\n{text}"
        );
    }
    assert!(
        squeezed_text.contains(&squeezed("impl BookTree<WriteTree<'_, Book>>")),
        "the write impl is not on the page"
    );
    // The wrapped runtime tree is a private field: rustdoc shows none.
    assert!(
        squeezed_text.contains(&squeezed("pub struct BookTree<T> { /* private fields */ }")),
        "the struct shows a field:\n{text}"
    );
}
