//! The real rows: GeoNames cities, parsed once (outside any timing) into the generated `City`,
//! from which each subject makes its own copy.

use crate::atlas::{City, Country};
use std::io::Read;
use std::path::PathBuf;

/// `cities15000.tsv.gz`: 34,006 cities.
pub const CITIES15000: &str = "cities15000.tsv.gz";
/// `cities500.tsv.gz`: 234,908 cities.
pub const CITIES500: &str = "cities500.tsv.gz";

/// The data folder: `example-app/data/`, or `../shared/data/` (relative to the workspace root)
/// when the example app's copy is missing.
pub fn data_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let app = root.join("example-app/data");
    if app.join(CITIES500).is_file() {
        app
    } else {
        root.join("../shared/data")
    }
}

/// A reader of GeoNames' tab-separated rows (no quoting; the first row names the columns).
fn tsv_reader(tsv: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quoting(false)
        .has_headers(true)
        .from_reader(tsv)
}

/// The countries of `countries.tsv`, which the generated subjects write before importing
/// cities (not timed): the atlas schema's `City.country_code` is a checked link to `Country`.
pub fn countries() -> Vec<Country> {
    let path = data_dir().join("countries.tsv");
    let tsv = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = tsv_reader(&tsv);
    let mut out = Vec::new();
    for record in reader.records() {
        let r = record.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let field = |i: usize| r.get(i).unwrap_or_default().to_owned();
        let optional = |i: usize| Some(field(i)).filter(|s| !s.is_empty());
        let list = |i: usize| -> Vec<String> {
            r.get(i)
                .unwrap_or_default()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        out.push(Country {
            iso: field(0),
            iso3: field(1),
            iso_numeric: field(2).parse().unwrap_or_default(),
            name: field(3),
            capital: optional(4),
            continent: field(5),
            area_km2: field(6).parse().unwrap_or_default(),
            population: field(7).parse().unwrap_or_default(),
            currency_code: optional(8),
            currency_name: optional(9),
            languages: list(10),
            neighbours: list(11),
            tld: field(12),
            phone: field(13),
        });
    }
    out
}

/// Parses one of the cities files. Panics on a bad file: the benchmark cannot run without it.
pub fn cities(file: &str) -> Vec<City> {
    let path = data_dir().join(file);
    let gz = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut tsv = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut tsv)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = tsv_reader(&tsv);
    let mut out = Vec::new();
    for record in reader.records() {
        let r = record.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let field = |i: usize| r.get(i).unwrap_or_default();
        let float = |i: usize| -> f64 {
            field(i)
                .parse()
                .unwrap_or_else(|e| panic!("{}: {:?}: {e}", path.display(), field(i)))
        };
        let integer = |i: usize| -> u64 {
            field(i)
                .parse()
                .unwrap_or_else(|e| panic!("{}: {:?}: {e}", path.display(), field(i)))
        };
        out.push(City {
            geonameid: integer(0),
            name: field(1).to_owned(),
            latitude: float(2),
            longitude: float(3),
            country_code: field(4).to_owned(),
            admin1_code: Some(field(5)).filter(|s| !s.is_empty()).map(str::to_owned),
            population: integer(6),
            timezone: field(7).to_owned(),
        });
    }
    out
}
