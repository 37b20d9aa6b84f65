//! An atlas of the world's countries and cities, from GeoNames, in a netabase store.
//!
//! Run it without arguments for a tour; `--help` lists the commands.

mod data;
mod error;
mod format;
mod import;
mod queries;
mod tour;
mod watch;

/// The code netabase-build generated from `schemas/atlas.toml`. It has every query and write
/// method of the schema; this app does not call them all, and needs no `allow(dead_code)` for
/// that: generated items allow it themselves.
mod atlas {
    netabase_runtime::include_schema!("atlas");
}

use atlas::Atlas;
use clap::{Parser, Subcommand};
use error::AppError;
use import::{CitySet, Imported};
use netabase_runtime::Store;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// An atlas of the world's countries and cities, stored with netabase.
///
/// Without a command, it imports the cities if the database has none and shows a short tour.
///
/// Data: GeoNames (https://www.geonames.org), CC BY 4.0.
#[derive(Debug, Parser)]
#[command(name = "example-app", version)]
struct Cli {
    /// The database file.
    #[arg(long, global = true, value_name = "PATH", default_value_os_t = default_db())]
    db: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Imports the countries and the cities of 15,000 people or more, in one transaction.
    ///
    /// The import replaces whatever the database held, so importing twice is fine.
    Import {
        /// Imports the 234,908 cities of 500 people or more instead of the 34,006 of 15,000.
        #[arg(long)]
        cities500: bool,
    },
    /// Lists the cities with exactly this name, such as "Springfield" or "São Paulo".
    City {
        /// The city's name, with accents and capitals.
        name: String,
    },
    /// Shows a country and its 10 most populous cities.
    Country {
        /// ISO 3166-1 code of 2 or 3 letters, in any case, such as JP or JPN.
        iso: String,
    },
    /// Counts the cities in a time zone and lists the 10 most populous, or pages through them.
    ///
    /// With `--page`, lists the cities in GeoNames id order, one page at a time: each page ends
    /// with the `--after` value that gives the next one (a cursor, stable under inserts).
    Timezone {
        /// IANA time zone, such as Europe/Paris.
        tz: String,
        /// Page through the cities, this many at a time.
        #[arg(long, value_name = "N")]
        page: Option<usize>,
        /// With `--page`: start after this GeoNames id (the last one of the previous page).
        #[arg(long, value_name = "ID", requires = "page")]
        after: Option<u64>,
    },
    /// Lists the cities whose name starts with a prefix, such as "San", in name order.
    Prefix {
        /// The start of the name, with accents and capitals.
        prefix: String,
        /// How many to list.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Counts countries and cities, countries per continent, and the 5 most populous cities.
    Stats,
    /// Follows a country's cities as they are written: another thread imports the cities into
    /// an in-memory store, one commit per batch, while a subscription prints each commit's
    /// cities of the country. The database file is not touched.
    Watch {
        /// ISO 3166-1 code of 2 or 3 letters, in any case, such as JP or JPN.
        iso: String,
        /// Cities per commit of the import.
        #[arg(long, value_name = "N", default_value_t = 2000)]
        batch: usize,
    },
}

fn default_db() -> PathBuf {
    std::env::temp_dir().join("netabase-atlas.redb")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = run(cli, &mut out).and_then(|()| Ok(out.flush()?));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`example-app stats | head -1`): not an error.
        Err(AppError::Output(error)) if error.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, out: &mut dyn Write) -> Result<(), AppError> {
    let path = cli.db.as_path();
    match cli.command {
        None => tour::tour(&Store::open(path)?, path, out),
        Some(Command::Import { cities500 }) => {
            let set = if cities500 {
                CitySet::Cities500
            } else {
                CitySet::Cities15000
            };
            let store = Store::open(path)?;
            let imported = import::import(&store, set, import::progress_bar)?;
            report_import(&imported, out)
        }
        Some(Command::City { name }) => {
            queries::city(&open_existing(path)?.begin_read()?, &name, out)
        }
        Some(Command::Country { iso }) => {
            queries::country(&open_existing(path)?.begin_read()?, &iso, out)
        }
        Some(Command::Timezone { tz, page: None, .. }) => {
            queries::timezone(&open_existing(path)?.begin_read()?, &tz, out)
        }
        Some(Command::Timezone {
            tz,
            page: Some(size),
            after,
        }) => queries::timezone_page(&open_existing(path)?.begin_read()?, &tz, size, after, out),
        Some(Command::Prefix { prefix, limit }) => {
            queries::prefix(&open_existing(path)?.begin_read()?, &prefix, limit, out)
        }
        Some(Command::Stats) => queries::stats(&open_existing(path)?.begin_read()?, out),
        Some(Command::Watch { iso, batch }) => watch::watch(&iso, batch, out),
    }
}

/// Opens the store for a query: the file must exist and hold cities.
fn open_existing(path: &Path) -> Result<Store<Atlas>, AppError> {
    if !path.exists() {
        return Err(AppError::NoDatabase(path.to_owned()));
    }
    let store = Store::<Atlas>::builder()
        .create_if_missing(false)
        .open(path)?;
    if store.begin_read()?.cities()?.is_empty()? {
        return Err(AppError::EmptyDatabase(path.to_owned()));
    }
    Ok(store)
}

/// Prints what an import wrote and how long it took.
fn report_import(imported: &Imported, out: &mut dyn Write) -> Result<(), AppError> {
    writeln!(
        out,
        "imported {} countries and {} cities in {:.2} s",
        imported.countries,
        imported.cities,
        imported.elapsed.as_secs_f64()
    )?;
    Ok(())
}
