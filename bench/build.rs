//! Generates the typed stores the benchmarks run: `schemas/users.toml` (model `User`) and the
//! project's `schemas/atlas.toml` (model `City`, for the real-data imports).

fn main() -> Result<(), netabase_build::Error> {
    netabase_build::compile("schemas/users.toml")?;
    netabase_build::compile("schemas/users_feed.toml")?;
    netabase_build::compile("../schemas/atlas.toml")
}
