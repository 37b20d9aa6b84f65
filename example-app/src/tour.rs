//! What the app does without a subcommand: imports the cities if the database has none, then
//! shows a few queries.

use crate::atlas::Atlas;
use crate::error::AppError;
use crate::import::{CitySet, progress_bar};
use crate::queries;
use netabase_runtime::Store;
use std::io::Write;
use std::path::Path;

/// Runs the tour on the store at `path`, importing `cities15000` first if it has no cities.
pub fn tour(store: &Store<Atlas>, path: &Path, out: &mut dyn Write) -> Result<(), AppError> {
    if store.begin_read()?.cities()?.is_empty()? {
        writeln!(
            out,
            "The database {} has no cities yet: importing {} first.",
            path.display(),
            CitySet::Cities15000.name()
        )?;
        out.flush()?;
        let imported = crate::import::import(store, CitySet::Cities15000, progress_bar)?;
        crate::report_import(&imported, out)?;
        writeln!(out)?;
    }
    let txn = store.begin_read()?;

    writeln!(out, "$ example-app country DE")?;
    queries::country(&txn, "DE", out)?;
    writeln!(out, "\n$ example-app city Springfield")?;
    queries::city_summary(&txn, "Springfield", out)?;
    writeln!(out, "\n$ example-app timezone Europe/Paris")?;
    queries::timezone_summary(&txn, "Europe/Paris", out)?;
    writeln!(out, "\n$ example-app prefix \"San \" --limit 5")?;
    queries::prefix(&txn, "San ", 5, out)?;
    writeln!(out, "\n$ example-app timezone Pacific/Fiji --page 3")?;
    queries::timezone_page(&txn, "Pacific/Fiji", 3, None, out)?;
    // `stats` ends with the GeoNames credit.
    writeln!(out, "\n$ example-app stats")?;
    queries::stats(&txn, out)?;
    writeln!(
        out,
        "\nDatabase: {}. See `example-app --help` for the commands.",
        path.display()
    )?;
    Ok(())
}
