//! `watch <iso>`: follows one country's cities through a subscription while another thread
//! imports the atlas, one commit per batch of cities. The import goes to an in-memory store, so
//! the command never touches the database file.

use crate::atlas::{Atlas, City, Country};
use crate::data::{self, DataError};
use crate::error::AppError;
use crate::format::thousands;
use netabase_runtime::{Change, Error, Store};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// Follows the cities of country `iso` (2 or 3 letters) while another thread imports the 34,006
/// cities of `cities15000` in commits of `batch` cities: one line per commit that touched the
/// country, then a check that the subscription saw every city the store holds.
pub fn watch(iso: &str, batch: usize, out: &mut dyn Write) -> Result<(), AppError> {
    let store = Arc::new(Store::<Atlas>::in_memory()?);
    // Countries first: a city's `country_code` is a checked link to its country.
    let countries = data::countries(data::COUNTRIES_TSV)
        .and_then(|rows| rows.collect::<Result<Vec<_>, DataError>>())
        .map_err(|error| AppError::in_file("countries.tsv", error))?;
    store.put_many::<Country>(&countries)?;
    let Some(country) = crate::queries::find_country(&store.begin_read()?, iso)? else {
        writeln!(
            out,
            "No country has the code {iso:?}. Use an ISO 3166-1 code of 2 or 3 letters, such as \
             JP or JPN."
        )?;
        return Ok(());
    };
    let mut cities = store.watch(City::watch_by_country_code(&country.iso))?;
    writeln!(
        out,
        "Following the cities of {} ({}) while another thread imports the cities in commits \
         of {batch}:",
        country.name, country.iso
    )?;
    let importer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || import_in_commits(&store, batch.max(1)))
    };
    let mut commit = Commit::default();
    let (mut followed, mut commits) = (0u64, 0u64);
    loop {
        // Wait for events while the importer runs, then take what is left without waiting.
        let running = !importer.is_finished();
        let event = if running {
            cities.recv_timeout(Duration::from_millis(50))
        } else {
            cities.try_recv()
        };
        match event {
            Ok(Some(event)) => {
                if event.seq != commit.seq && commit.print(out)? {
                    commits += 1;
                }
                commit.seq = event.seq;
                if let Change::Inserted(city) | Change::Updated { new: city, .. } = event.change {
                    followed += 1;
                    commit.add(city);
                }
            }
            Ok(None) if running => {}
            Ok(None) => break,
            Err(Error::Lagged { missed }) => {
                writeln!(out, "  (fell behind and missed {missed} cities)")?;
                followed += missed;
            }
            Err(error) => return Err(error.into()),
        }
    }
    if commit.print(out)? {
        commits += 1;
    }
    let imported_commits = importer
        .join()
        .expect("the importer thread does not panic")?;
    let stored = store
        .begin_read()?
        .cities()?
        .count_by_country_code(&country.iso)?;
    writeln!(
        out,
        "Followed {} cities of {} in {commits} of the {imported_commits} commits; the store \
         holds {}{}.",
        thousands(followed),
        country.name,
        thousands(stored),
        if stored == followed {
            ": the subscription saw every one"
        } else {
            ""
        }
    )?;
    Ok(())
}

/// The followed cities of the commit being received.
#[derive(Default)]
struct Commit {
    seq: u64,
    count: u64,
    largest: Option<City>,
}

impl Commit {
    fn add(&mut self, city: City) {
        self.count += 1;
        if self
            .largest
            .as_ref()
            .is_none_or(|largest| city.population > largest.population)
        {
            self.largest = Some(city);
        }
    }

    /// Prints the commit's line and starts over; says whether there was one.
    fn print(&mut self, out: &mut dyn Write) -> Result<bool, AppError> {
        let Some(largest) = self.largest.take() else {
            return Ok(false);
        };
        writeln!(
            out,
            "  commit {:>3}: {:>5} cities, the largest {} ({})",
            self.seq,
            thousands(self.count),
            largest.name,
            thousands(largest.population)
        )?;
        self.count = 0;
        Ok(true)
    }
}

/// Writes the cities of `cities15000`, `batch` per commit; returns how many commits.
fn import_in_commits(store: &Store<Atlas>, batch: usize) -> Result<u64, AppError> {
    let file = "cities15000.tsv";
    let tsv = data::gunzip(data::CITIES15000_TSV_GZ)
        .map_err(|error| AppError::in_file(&format!("{file}.gz"), error))?;
    let mut rows = data::cities(tsv.as_slice()).map_err(|e| AppError::in_file(file, e))?;
    let mut commits = 0;
    loop {
        let cities = rows
            .by_ref()
            .take(batch)
            .collect::<Result<Vec<City>, DataError>>()
            .map_err(|error| AppError::in_file(file, error))?;
        if cities.is_empty() {
            return Ok(commits);
        }
        store.put_many::<City>(&cities)?;
        commits += 1;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn watching_japan_sees_every_japanese_city_of_the_import() {
        let mut out = Vec::new();
        super::watch("jpn", 5000, &mut out).expect("watch");
        let out = String::from_utf8(out).expect("UTF-8");
        assert!(
            out.starts_with("Following the cities of Japan (JP) while another thread imports"),
            "{out}"
        );
        // 34,006 cities in commits of 5,000: 7 commits, the cities of Japan spread over them.
        assert!(
            out.ends_with(
                " of the 7 commits; the store holds 1,300: the subscription saw every one.\n"
            ),
            "{out}"
        );
        assert!(out.contains("Followed 1,300 cities of Japan in "), "{out}");
        assert!(out.contains("cities, the largest Tokyo ("), "{out}");
    }

    #[test]
    fn an_unknown_country_is_named() {
        let mut out = Vec::new();
        super::watch("XX", 5000, &mut out).expect("watch");
        assert!(
            String::from_utf8(out)
                .expect("UTF-8")
                .starts_with("No country has the code \"XX\".")
        );
    }
}
