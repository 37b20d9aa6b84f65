//! Generates the typed stores the benchmarks run: `schemas/users.toml` (model `User`) and the
//! atlas at version 2 (`example-app/schemas/atlas_v2.toml`, model `City`, for the real-data
//! imports; and `schemas/atlas.toml` at version 3 and `schemas/atlas_index_only.toml`, what
//! a version 2 file migrates to in the migration benchmark): frozen, so the import figures stay comparable and R and N, which build the same
//! indexes by hand, keep mirroring it when `schemas/atlas.toml` gains fields or indexes.

fn main() -> Result<(), netabase_build::Error> {
    netabase_build::compile("schemas/users.toml")?;
    netabase_build::compile("schemas/users_feed.toml")?;
    netabase_build::compile("../example-app/schemas/atlas_v2.toml")?;
    // The migration benchmark (src/bin/migration.rs): version 3 of the atlas, and version 2
    // with only a new index.
    netabase_build::compile("../schemas/atlas.toml")?;
    netabase_build::compile("schemas/atlas_index_only.toml")
}
