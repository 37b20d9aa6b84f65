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

/// The previous version of the schema (`example-app/schemas/atlas_v2.toml`), for the test that
/// migrates a database it wrote.
#[cfg(test)]
mod atlas_v2 {
    netabase_runtime::include_schema!("atlas_v2");
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
        None => tour::tour(&open(path, out)?, path, out),
        Some(Command::Import { cities500 }) => {
            let set = if cities500 {
                CitySet::Cities500
            } else {
                CitySet::Cities15000
            };
            let store = open(path, out)?;
            let imported = import::import(&store, set, import::progress_bar)?;
            report_import(&imported, out)
        }
        Some(Command::City { name }) => {
            queries::city(&open_existing(path, out)?.begin_read()?, &name, out)
        }
        Some(Command::Country { iso }) => {
            queries::country(&open_existing(path, out)?.begin_read()?, &iso, out)
        }
        Some(Command::Timezone { tz, page: None, .. }) => {
            queries::timezone(&open_existing(path, out)?.begin_read()?, &tz, out)
        }
        Some(Command::Timezone {
            tz,
            page: Some(size),
            after,
        }) => {
            let store = open_existing(path, out)?;
            queries::timezone_page(&store.begin_read()?, &tz, size, after, out)
        }
        Some(Command::Prefix { prefix, limit }) => queries::prefix(
            &open_existing(path, out)?.begin_read()?,
            &prefix,
            limit,
            out,
        ),
        Some(Command::Stats) => queries::stats(&open_existing(path, out)?.begin_read()?, out),
        Some(Command::Watch { iso, batch }) => watch::watch(&iso, batch, out),
    }
}

/// Opens (or creates) the store, printing what the migration did if the file was written by
/// an earlier version of the schema (`Store::open` migrates it: docs/MIGRATIONS.md).
fn open(path: &Path, out: &mut dyn Write) -> Result<Store<Atlas>, AppError> {
    let store = open_with_progress(Store::<Atlas>::builder(), path);
    report_migration(store?, out)
}

/// Opens the store with `builder`, drawing a progress bar on stderr while opening migrates the
/// file: per model, the records rewritten and then indexed, fed by the runtime's
/// `on_migration_progress` (hidden when opening will not migrate, and by indicatif when stderr
/// is not a terminal).
fn open_with_progress(
    builder: netabase_runtime::StoreBuilder<Atlas>,
    path: &Path,
) -> netabase_runtime::Result<Store<Atlas>> {
    use netabase_runtime::schemaless::{Opening, opening_for};
    // Any error here is the one opening will report: this only decides whether to show.
    let bar = match opening_for::<Atlas>(path) {
        Ok(Opening::Migrate { from, to, .. }) => {
            let bar = indicatif::ProgressBar::new(0);
            let style = indicatif::ProgressStyle::with_template(
                "{prefix} {msg:>18} [{wide_bar:.cyan/blue}] {human_pos}/{human_len} records",
            )
            .map(|style| style.progress_chars("=> "))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(format!("migrating {from} -> {to}"));
            bar
        }
        _ => indicatif::ProgressBar::hidden(),
    };
    let shown = bar.clone();
    let store = builder
        .on_migration_progress(move |p| {
            let phase = match p.phase {
                netabase_runtime::MigrationPhase::Rewriting => "rewriting",
                _ => "indexing",
            };
            shown.set_message(format!("{} {phase}", p.model));
            shown.set_length(p.total);
            shown.set_position(p.done);
        })
        .open(path);
    bar.finish_and_clear();
    store
}

/// Prints the store's migration report, if opening it migrated the file.
fn report_migration(store: Store<Atlas>, out: &mut dyn Write) -> Result<Store<Atlas>, AppError> {
    if let Some(report) = store.migration() {
        write!(out, "{report}")?;
    }
    Ok(store)
}

/// Opens the store for a query: the file must exist and hold cities.
fn open_existing(path: &Path, out: &mut dyn Write) -> Result<Store<Atlas>, AppError> {
    if !path.exists() {
        return Err(AppError::NoDatabase(path.to_owned()));
    }
    let store = open_with_progress(Store::<Atlas>::builder().create_if_missing(false), path);
    let store = report_migration(store?, out)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A database written by version 2 of the schema: every country, and the cities of 15,000
    /// people or more, as the app's previous release imported them.
    fn version_2_database(path: &Path) -> (usize, usize) {
        use atlas_v2 as v2;
        let countries: Vec<v2::Country> = data::countries(data::COUNTRIES_TSV)
            .expect("header")
            .map(|row| {
                let c = row.expect("row");
                v2::Country {
                    iso: c.iso,
                    iso3: c.iso3,
                    iso_numeric: c.iso_numeric,
                    name: c.name,
                    capital: c.capital,
                    continent: c.continent,
                    area_km2: c.area_km2,
                    population: c.population,
                    currency_code: c.currency_code,
                    currency_name: c.currency_name,
                    languages: c.languages,
                    neighbours: c.neighbours,
                    tld: c.tld,
                    phone: c.phone,
                }
            })
            .collect();
        let tsv = data::gunzip(data::CITIES15000_TSV_GZ).expect("gunzip");
        let cities: Vec<v2::City> = data::cities(tsv.as_slice())
            .expect("header")
            .map(|row| {
                let c = row.expect("row");
                v2::City {
                    geonameid: c.geonameid,
                    name: c.name,
                    latitude: c.latitude,
                    longitude: c.longitude,
                    country_code: c.country_code,
                    admin1_code: c.admin1_code,
                    population: c.population,
                    timezone: c.timezone,
                }
            })
            .collect();
        let store = Store::<v2::Atlas>::open(path).expect("open as version 2");
        let txn = store.begin_write().expect("write");
        txn.countries()
            .expect("countries")
            .put_many(&countries)
            .expect("put");
        txn.cities()
            .expect("cities")
            .put_many(&cities)
            .expect("put");
        txn.commit().expect("commit");
        (countries.len(), cities.len())
    }

    #[test]
    fn a_version_2_database_migrates_on_open_and_the_app_prints_the_report() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("atlas.redb");
        assert_eq!(version_2_database(&path), (252, 34_006));
        // What the app asks before opening, to show its progress bar (and `netabase migrate --dry-run` prints).
        {
            use netabase_runtime::schemaless::{Opening, opening_for};
            let Ok(Opening::Migrate { from, to, changes }) = opening_for::<Atlas>(&path) else {
                panic!("opening would not migrate");
            };
            let changes: Vec<String> = changes
                .iter()
                .map(|c| format!("{}: {}", c.subject, c.description))
                .collect();
            assert_eq!(
                (from, to, changes),
                (
                    2,
                    3,
                    vec![
                        "City: new field elevation: Option<i32> (None)".to_owned(),
                        "City: index country_admin1 added".to_owned(),
                    ]
                )
            );
        }

        let cli = Cli::parse_from([
            "example-app",
            "--db",
            path.to_str().expect("utf-8"),
            "stats",
        ]);
        let mut out = Vec::new();
        run(cli, &mut out).expect("stats");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("migrated from version 2 to 3 in "),
            "{text}"
        );
        assert_eq!(
            lines[1..4],
            [
                "  City: 34006 record(s) rewritten, 1 index(es) rebuilt",
                "    new field elevation: Option<i32> (None)",
                "    index country_admin1 added",
            ],
            "{text}"
        );
        // Then the command's own output, from the migrated file.
        assert_eq!(lines[4], "252 countries and 34,006 cities", "{text}");

        // The file is at version 3: every city kept, the new field None, the new index whole.
        let mut store = Store::<Atlas>::open(&path).expect("reopen");
        assert!(store.migration().is_none(), "migrated twice");
        assert!(store.check_integrity().expect("check").is_clean());
        let txn = store.begin_read().expect("read");
        let cities = txn.cities().expect("cities");
        assert_eq!(cities.len().expect("len"), 34_006);
        assert_eq!(txn.countries().expect("countries").len().expect("len"), 252);
        let mut with_elevation = 0;
        let mut in_tokyo_prefecture = 0;
        for city in cities.iter().expect("iter") {
            let city = city.expect("city");
            with_elevation += usize::from(city.elevation.is_some());
            in_tokyo_prefecture +=
                usize::from(city.country_code == "JP" && city.admin1_code.as_deref() == Some("40"));
        }
        assert_eq!(with_elevation, 0);
        assert!(in_tokyo_prefecture > 0);
        let by_region = cities
            .by_country_admin1("JP", "40")
            .expect("by_country_admin1")
            .count();
        assert_eq!(by_region, in_tokyo_prefecture);
    }
}
