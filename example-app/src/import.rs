//! Importing the embedded GeoNames files into a store: countries and cities in one write
//! transaction, so a failed import leaves the database as it was.

use crate::atlas::{Atlas, City};
use crate::data::{self, DataError};
use crate::error::AppError;
use indicatif::{ProgressBar, ProgressStyle};
use netabase_runtime::Store;
use std::time::{Duration, Instant};

/// Cities are parsed and written in batches of this many records.
const BATCH: usize = 1024;

/// Which cities file to import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CitySet {
    /// `cities15000`: 34,006 cities of 15,000 people or more.
    Cities15000,
    /// `cities500`: 234,908 cities of 500 people or more.
    Cities500,
}

impl CitySet {
    /// The file's name, without extension.
    pub fn name(self) -> &'static str {
        match self {
            CitySet::Cities15000 => "cities15000",
            CitySet::Cities500 => "cities500",
        }
    }

    fn gzipped_tsv(self) -> &'static [u8] {
        match self {
            CitySet::Cities15000 => data::CITIES15000_TSV_GZ,
            CitySet::Cities500 => data::CITIES500_TSV_GZ,
        }
    }
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// Countries written (inserted or replaced).
    pub countries: u64,
    /// Cities written (inserted or replaced).
    pub cities: u64,
    /// Cities in the database after the import: more than `cities` when an earlier import
    /// stored cities this one does not have.
    /// Wall time of parsing, writing and committing.
    pub elapsed: Duration,
}

/// A progress bar on stderr for `len` cities (indicatif hides it when stderr is not a terminal).
pub fn progress_bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{msg:>10} [{wide_bar:.cyan/blue}] {human_pos}/{human_len} cities, {eta} left",
    )
    .map(|style| style.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Imports every country and the cities of `set`, in one write transaction that first clears
/// both trees: the database then holds exactly this data set, whatever was imported before. `make_bar` receives the
/// number of cities to come.
pub fn import(
    store: &Store<Atlas>,
    set: CitySet,
    make_bar: impl FnOnce(u64) -> ProgressBar,
) -> Result<Imported, AppError> {
    let start = Instant::now();
    let file = format!("{}.tsv", set.name());
    let tsv = data::gunzip(set.gzipped_tsv())
        .map_err(|error| AppError::in_file(&format!("{file}.gz"), error))?;
    let bar = make_bar(data::count_rows(&tsv));
    bar.set_message("importing");

    let txn = store.begin_write()?;
    let countries = {
        let mut tree = txn.countries()?;
        tree.clear()?;
        let rows = data::countries(data::COUNTRIES_TSV)
            .and_then(|rows| rows.collect::<Result<Vec<_>, DataError>>())
            .map_err(|error| AppError::in_file("countries.tsv", error))?;
        tree.put_many(&rows)?
    };
    let cities = {
        let mut tree = txn.cities()?;
        tree.clear()?;
        let mut rows = data::cities(tsv.as_slice()).map_err(|e| AppError::in_file(&file, e))?;
        let mut batch: Vec<City> = Vec::with_capacity(BATCH);
        let mut written = 0;
        loop {
            batch.clear();
            for row in rows.by_ref().take(BATCH) {
                batch.push(row.map_err(|error| AppError::in_file(&file, error))?);
            }
            if batch.is_empty() {
                break;
            }
            written += tree.put_many(&batch)?;
            bar.inc(batch.len() as u64);
        }
        written
    };
    bar.set_message("committing");
    txn.commit()?;
    bar.finish_and_clear();
    Ok(Imported {
        countries,
        cities,
        elapsed: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_in_memory_import_stores_every_country_and_city() {
        let store = Store::<Atlas>::in_memory().expect("store");
        let imported =
            import(&store, CitySet::Cities15000, |_| ProgressBar::hidden()).expect("import");
        assert_eq!(imported.countries, 252);
        assert_eq!(imported.cities, 34_006);
        assert_eq!(store.len::<City>().expect("len"), 34_006);

        let txn = store.begin_read().expect("read");
        let countries = txn.countries().expect("countries");
        assert_eq!(countries.len().expect("len"), 252);
        let japan = countries.get("JP").expect("get").expect("JP is present");
        assert_eq!(japan.name, "Japan");
        assert_eq!(japan.iso3, "JPN");
        assert_eq!(japan.capital.as_deref(), Some("Tokyo"));
        assert_eq!(japan.continent, "AS");
        assert_eq!(
            countries.get_by_iso3("JPN").expect("get_by_iso3"),
            Some(japan)
        );

        let cities = txn.cities().expect("cities");
        let springfields = cities
            .by_name("Springfield")
            .expect("by_name")
            .collect::<netabase_runtime::Result<Vec<_>>>()
            .expect("springfields");
        assert_eq!(springfields.len(), 8);
        assert!(springfields.iter().all(|city| city.country_code == "US"));
    }

    #[test]
    fn importing_twice_replaces_the_records() {
        let store = Store::<Atlas>::in_memory().expect("store");
        import(&store, CitySet::Cities15000, |_| ProgressBar::hidden()).expect("first import");
        let again =
            import(&store, CitySet::Cities15000, |_| ProgressBar::hidden()).expect("second import");
        assert_eq!(again.cities, 34_006);
        assert_eq!(again.cities, 34_006);
        assert_eq!(store.len::<City>().expect("len"), 34_006);
        let txn = store.begin_read().expect("read");
        let cities = txn.cities().expect("cities");
        assert_eq!(cities.len().expect("len"), 34_006);
        // Each city is indexed once, not once per import.
        let in_japan = cities
            .by_country_code("JP")
            .expect("by_country_code")
            .count();
        let in_tokyo_tz = cities
            .by_timezone("Asia/Tokyo")
            .expect("by_timezone")
            .count();
        assert_eq!((in_japan, in_tokyo_tz), (1300, 1300));
    }
}
