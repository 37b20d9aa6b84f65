// A schema whose history has a change that is not automatic (Item.quantity narrowed from u64 to
// u32) requires a typed step: without `impl Migrate<v1::Item> for Item`, the generated code does
// not compile, and the error names both types and says which impl to write.
// `history/item.rs` is the generated code of `history/item.toml` with `history/item_v1.toml`
// (kept equal to the generator's output by tests/tests/it/migration_steps.rs).
mod stock {
    include!("history/item.rs");
}

fn main() {
    let _ = stock::Stock;
}
