//! Compiles every valid fixture in `fixtures/` (and the project's schemas) so the end-to-end
//! tests run the generated API. Invalid fixtures live in `fixtures/invalid/` and are only
//! snapshot-tested.

fn main() -> Result<(), netabase_build::Error> {
    for schema in [
        "fixtures/library.toml",
        "fixtures/scalars.toml",
        "../schemas/atlas.toml",
    ] {
        netabase_build::compile(schema)?;
    }
    Ok(())
}
