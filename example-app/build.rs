//! Generates the typed store of `schemas/atlas.toml` into `$OUT_DIR/atlas.rs`, and of its
//! previous version (`example-app/schemas/atlas_v2.toml`, for the migration test) into
//! `$OUT_DIR/atlas_v2.rs`.

fn main() -> Result<(), netabase_build::Error> {
    netabase_build::compile("../schemas/atlas.toml")?;
    netabase_build::compile("schemas/atlas_v2.toml")
}
