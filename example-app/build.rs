//! Generates the typed store of `schemas/atlas.toml` into `$OUT_DIR/atlas.rs`.

fn main() -> Result<(), netabase_build::Error> {
    netabase_build::compile("../schemas/atlas.toml")
}
