//! Compiles every valid fixture (`fixtures/*.toml`) and every project schema
//! (`../schemas/*.toml`), in name order, so the end-to-end tests run the generated API. Invalid
//! fixtures live in `fixtures/invalid/` and are only snapshot-tested. `fixtures/migrations/`
//! holds versions of one definition, for the migration tests; `fixtures/history/catalog.toml`
//! is compiled with its earlier versions as history (typed migration steps).

use std::path::PathBuf;

fn schemas(dir: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    found.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    found.sort();
    Ok(found)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A new file in either folder must re-run this script.
    println!("cargo:rerun-if-changed=fixtures");
    println!("cargo:rerun-if-changed=fixtures/migrations");
    println!("cargo:rerun-if-changed=fixtures/history");
    println!("cargo:rerun-if-changed=../schemas");
    for schema in schemas("fixtures")?
        .into_iter()
        .chain(schemas("fixtures/migrations")?)
        .chain(schemas("../schemas")?)
    {
        netabase_build::compile(&schema)?;
    }
    netabase_build::Builder::new()
        .schema("fixtures/history/catalog.toml")
        .history([
            "fixtures/history/catalog_v1.toml",
            "fixtures/history/catalog_v2.toml",
        ])
        .compile()?;
    Ok(())
}
