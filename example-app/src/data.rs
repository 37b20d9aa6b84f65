//! The GeoNames data shipped in the binary, and the loader that turns its TSV rows into
//! [`Country`] and [`City`] records.
//!
//! The files are tab-separated UTF-8 with one header line and no quoting (a `"` is an ordinary
//! character: one city name really contains quotes). Every malformed row is a [`DataError`]
//! naming its line; nothing here panics.

use crate::atlas::{City, Country};
use std::fmt;
use std::io::Read;
use std::str::FromStr;

/// `countries.tsv`: 252 countries and territories.
pub const COUNTRIES_TSV: &[u8] = include_bytes!("../data/countries.tsv");
/// `cities15000.tsv.gz`: 34,006 cities of 15,000 people or more.
pub const CITIES15000_TSV_GZ: &[u8] = include_bytes!("../data/cities15000.tsv.gz");
/// `cities500.tsv.gz`: 234,908 cities of 500 people or more.
pub const CITIES500_TSV_GZ: &[u8] = include_bytes!("../data/cities500.tsv.gz");

/// The credit GeoNames asks for wherever its data is shown.
pub const CREDIT: &str = "Data: GeoNames (https://www.geonames.org), CC BY 4.0";

/// The header of `countries.tsv`, in order.
pub const COUNTRY_COLUMNS: [&str; 14] = [
    "iso",
    "iso3",
    "isonumeric",
    "name",
    "capital",
    "continentcode",
    "areakm2",
    "population",
    "currencycode",
    "currencyname",
    "languages",
    "neighbours",
    "tld",
    "phone",
];

/// The header of the cities files, in order.
pub const CITY_COLUMNS: [&str; 8] = [
    "geonameid",
    "name",
    "latitude",
    "longitude",
    "countrycode",
    "admin1code",
    "population",
    "timezone",
];

/// A row (or the file) that does not load. `line` is the 1-based line in the file, the header
/// being line 1.
#[derive(Debug)]
pub enum DataError {
    /// The file could not be read or decompressed, or a line is not UTF-8.
    Read { line: Option<u64>, message: String },
    /// The header is not the expected column list.
    Header { expected: String, found: String },
    /// A row has the wrong number of fields.
    Columns {
        line: u64,
        expected: usize,
        found: usize,
    },
    /// A field does not parse, or is empty where a value is required.
    Field {
        line: u64,
        column: &'static str,
        value: String,
        problem: String,
    },
}

impl DataError {
    /// The line the error is on, if it is about one line.
    #[cfg(test)]
    pub fn line(&self) -> Option<u64> {
        match self {
            DataError::Read { line, .. } => *line,
            DataError::Header { .. } => Some(1),
            DataError::Columns { line, .. } | DataError::Field { line, .. } => Some(*line),
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Read {
                line: Some(line),
                message,
            } => write!(f, "line {line}: {message}"),
            DataError::Read {
                line: None,
                message,
            } => write!(f, "cannot read the data: {message}"),
            DataError::Header { expected, found } => {
                write!(
                    f,
                    "line 1: expected the header `{expected}`, found `{found}`"
                )
            }
            DataError::Columns {
                line,
                expected,
                found,
            } => write!(
                f,
                "line {line}: expected {expected} tab-separated fields, found {found}"
            ),
            DataError::Field {
                line,
                column,
                value,
                problem,
            } => write!(f, "line {line}: column `{column}` = {value:?}: {problem}"),
        }
    }
}

impl std::error::Error for DataError {}

fn read_error(error: csv::Error) -> DataError {
    DataError::Read {
        line: error.position().map(|p| p.line()),
        message: match error.kind() {
            csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
            csv::ErrorKind::Io(io) => io.to_string(),
            _ => error.to_string(),
        },
    }
}

/// One data row: its fields and its line, with typed accessors that name the column on error.
struct Row<'r> {
    record: &'r csv::StringRecord,
    line: u64,
    columns: &'static [&'static str],
}

impl Row<'_> {
    fn raw(&self, index: usize) -> &str {
        // The field count was checked against `columns` before a `Row` is made.
        self.record.get(index).unwrap_or_default()
    }

    fn error(&self, index: usize, problem: impl Into<String>) -> DataError {
        DataError::Field {
            line: self.line,
            column: self.columns[index],
            value: self.raw(index).to_owned(),
            problem: problem.into(),
        }
    }

    /// A field that must not be empty.
    fn text(&self, index: usize) -> Result<String, DataError> {
        match self.raw(index) {
            "" => Err(self.error(index, "must not be empty")),
            value => Ok(value.to_owned()),
        }
    }

    /// A field that may be empty (kept as the empty string).
    fn text_or_empty(&self, index: usize) -> String {
        self.raw(index).to_owned()
    }

    /// A field whose empty value means "none".
    fn optional(&self, index: usize) -> Option<String> {
        Some(self.raw(index))
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    }

    /// A comma-separated list; empty means an empty list.
    fn list(&self, index: usize) -> Vec<String> {
        self.raw(index)
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn number<T: FromStr>(&self, index: usize) -> Result<T, DataError>
    where
        T::Err: fmt::Display,
    {
        self.raw(index)
            .parse()
            .map_err(|error: T::Err| self.error(index, format!("not a valid number ({error})")))
    }

    /// A finite number within `min..=max`.
    fn coordinate(&self, index: usize, min: f64, max: f64) -> Result<f64, DataError> {
        let value: f64 = self.number(index)?;
        if value.is_finite() && (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(self.error(index, format!("must be between {min} and {max}")))
        }
    }

    /// A finite number that is zero or more.
    fn non_negative(&self, index: usize) -> Result<f64, DataError> {
        let value: f64 = self.number(index)?;
        if value.is_finite() && value >= 0.0 {
            Ok(value)
        } else {
            Err(self.error(index, "must be a finite number, zero or more"))
        }
    }
}

/// Lazily parses the rows of a TSV file whose header must be `columns`.
pub struct Rows<R, T> {
    reader: csv::Reader<R>,
    record: csv::StringRecord,
    columns: &'static [&'static str],
    parse: fn(&Row<'_>) -> Result<T, DataError>,
    done: bool,
}

impl<R: Read, T> Rows<R, T> {
    fn new(
        input: R,
        columns: &'static [&'static str],
        parse: fn(&Row<'_>) -> Result<T, DataError>,
    ) -> Result<Self, DataError> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b'\t')
            .quoting(false)
            .has_headers(true)
            .flexible(true)
            .from_reader(input);
        let header = reader.headers().map_err(read_error)?;
        if header.iter().ne(columns.iter().copied()) {
            return Err(DataError::Header {
                expected: columns.join("\\t"),
                found: header.iter().collect::<Vec<_>>().join("\\t"),
            });
        }
        Ok(Self {
            reader,
            record: csv::StringRecord::new(),
            columns,
            parse,
            done: false,
        })
    }
}

impl<R: Read, T> Iterator for Rows<R, T> {
    type Item = Result<T, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = match self.reader.read_record(&mut self.record) {
            Ok(false) => None,
            Err(error) => Some(Err(read_error(error))),
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                Some(if self.record.len() != self.columns.len() {
                    Err(DataError::Columns {
                        line,
                        expected: self.columns.len(),
                        found: self.record.len(),
                    })
                } else {
                    (self.parse)(&Row {
                        record: &self.record,
                        line,
                        columns: self.columns,
                    })
                })
            }
        };
        // Stop after the first error: the rest of a broken file is not worth reading.
        self.done = !matches!(result, Some(Ok(_)));
        result
    }
}

/// The countries of a `countries.tsv`-shaped input.
pub fn countries<R: Read>(input: R) -> Result<Rows<R, Country>, DataError> {
    Rows::new(input, &COUNTRY_COLUMNS, parse_country)
}

/// The cities of a (decompressed) `cities*.tsv`-shaped input.
pub fn cities<R: Read>(input: R) -> Result<Rows<R, City>, DataError> {
    Rows::new(input, &CITY_COLUMNS, parse_city)
}

fn parse_country(row: &Row<'_>) -> Result<Country, DataError> {
    Ok(Country {
        iso: row.text(0)?,
        iso3: row.text(1)?,
        iso_numeric: row.number(2)?,
        name: row.text(3)?,
        capital: row.optional(4),
        continent: row.text(5)?,
        area_km2: row.non_negative(6)?,
        population: row.number(7)?,
        currency_code: row.optional(8),
        currency_name: row.optional(9),
        languages: row.list(10),
        neighbours: row.list(11),
        tld: row.text_or_empty(12),
        phone: row.text_or_empty(13),
    })
}

fn parse_city(row: &Row<'_>) -> Result<City, DataError> {
    Ok(City {
        geonameid: row.number(0)?,
        name: row.text(1)?,
        latitude: row.coordinate(2, -90.0, 90.0)?,
        longitude: row.coordinate(3, -180.0, 180.0)?,
        country_code: row.text(4)?,
        admin1_code: row.optional(5),
        population: row.number(6)?,
        timezone: row.text(7)?,
        // The shipped extract has no elevation column (data/README.md).
        elevation: None,
    })
}

/// Decompresses a gzipped file into memory.
pub fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let mut out = Vec::with_capacity(bytes.len() * 4);
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|error| DataError::Read {
            line: None,
            message: format!("gzip: {error}"),
        })?;
    Ok(out)
}

/// The number of data rows of a TSV file: its lines minus the header.
pub fn count_rows(tsv: &[u8]) -> u64 {
    let newlines = tsv.iter().filter(|&&b| b == b'\n').count() as u64;
    let unterminated = u64::from(tsv.last().is_some_and(|&b| b != b'\n'));
    (newlines + unterminated).saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CITY_HEADER: &str =
        "geonameid\tname\tlatitude\tlongitude\tcountrycode\tadmin1code\tpopulation\ttimezone\n";
    const COUNTRY_HEADER: &str = "iso\tiso3\tisonumeric\tname\tcapital\tcontinentcode\tareakm2\tpopulation\tcurrencycode\tcurrencyname\tlanguages\tneighbours\ttld\tphone\n";

    fn parse_cities(body: &str) -> Vec<Result<City, DataError>> {
        let input = format!("{CITY_HEADER}{body}");
        cities(input.as_bytes()).expect("header").collect()
    }

    #[test]
    fn a_city_with_unicode_quotes_empty_admin1_and_no_people() {
        let rows = parse_cities(
            "1\tŌsaka-shi \"新\" ﷺ\t34.69374\t135.50218\tJP\t\t0\tAsia/Tokyo\n\
             2\tSão Paulo\t-23.5475\t-46.63611\tBR\t27\t10021295\tAmerica/Sao_Paulo\n",
        );
        assert_eq!(rows.len(), 2);
        let first = rows[0].as_ref().expect("row 2 parses");
        assert_eq!(
            *first,
            City {
                geonameid: 1,
                name: "Ōsaka-shi \"新\" ﷺ".to_owned(),
                latitude: 34.69374,
                longitude: 135.50218,
                country_code: "JP".to_owned(),
                admin1_code: None,
                population: 0,
                timezone: "Asia/Tokyo".to_owned(),
                elevation: None,
            }
        );
        let second = rows[1].as_ref().expect("row 3 parses");
        assert_eq!(second.admin1_code.as_deref(), Some("27"));
        assert_eq!(second.population, 10_021_295);
    }

    #[test]
    fn a_country_with_empty_capital_currency_and_neighbours() {
        let input = format!(
            "{COUNTRY_HEADER}AQ\tATA\t10\tAntarctica\t\tAN\t14000000\t0\t\t\t\t\t.aq\t\n\
             AD\tAND\t20\tAndorra\tAndorra la Vella\tEU\t468\t77006\tEUR\tEuro\tca\tES,FR\t.ad\t376\n"
        );
        let rows: Vec<_> = countries(input.as_bytes())
            .expect("header")
            .collect::<Result<_, _>>()
            .expect("rows parse");
        assert_eq!(
            rows[0],
            Country {
                iso: "AQ".to_owned(),
                iso3: "ATA".to_owned(),
                iso_numeric: 10,
                name: "Antarctica".to_owned(),
                capital: None,
                continent: "AN".to_owned(),
                area_km2: 14_000_000.0,
                population: 0,
                currency_code: None,
                currency_name: None,
                languages: vec![],
                neighbours: vec![],
                tld: ".aq".to_owned(),
                phone: String::new(),
            }
        );
        assert_eq!(rows[1].capital.as_deref(), Some("Andorra la Vella"));
        assert_eq!(rows[1].neighbours, ["ES", "FR"]);
        assert_eq!(rows[1].languages, ["ca"]);
    }

    #[test]
    fn a_bad_number_is_an_error_naming_line_and_column() {
        let rows = parse_cities(
            "1\tA\t1\t2\tJP\t\t5\tAsia/Tokyo\n\
             2\tB\tnorth\t2\tJP\t\t5\tAsia/Tokyo\n\
             3\tC\t1\t2\tJP\t\t5\tAsia/Tokyo\n",
        );
        // The iterator stops at the first error.
        assert_eq!(rows.len(), 2);
        assert!(rows[0].is_ok());
        let error = rows[1].as_ref().expect_err("line 3 is malformed");
        assert_eq!(error.line(), Some(3));
        assert_eq!(
            error.to_string(),
            "line 3: column `latitude` = \"north\": not a valid number (invalid float literal)"
        );
    }

    #[test]
    fn a_short_row_an_empty_name_and_a_bad_latitude_are_errors() {
        let short = parse_cities("1\tA\t1\t2\tJP\n");
        assert_eq!(
            short[0].as_ref().expect_err("short").to_string(),
            "line 2: expected 8 tab-separated fields, found 5"
        );
        let empty = parse_cities("1\t\t1\t2\tJP\t\t5\tAsia/Tokyo\n");
        assert_eq!(
            empty[0].as_ref().expect_err("empty name").to_string(),
            "line 2: column `name` = \"\": must not be empty"
        );
        let far = parse_cities("1\tA\t91\t2\tJP\t\t5\tAsia/Tokyo\n");
        assert_eq!(
            far[0].as_ref().expect_err("latitude").to_string(),
            "line 2: column `latitude` = \"91\": must be between -90 and 90"
        );
        let negative = parse_cities("1\tA\t1\t2\tJP\t\t-5\tAsia/Tokyo\n");
        assert_eq!(
            negative[0].as_ref().expect_err("population").line(),
            Some(2)
        );
    }

    #[test]
    fn a_wrong_header_and_invalid_utf8_are_errors() {
        let error = cities("id\tname\n1\tA\n".as_bytes())
            .err()
            .expect("wrong header");
        assert_eq!(error.line(), Some(1));
        let mut bytes = CITY_HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"1\tA\t1\t2\tJP\t\t5\tAsia/Tokyo\n2\t\xff\t1\t2\tJP\t\t5\tX\n");
        let rows: Vec<_> = cities(bytes.as_slice()).expect("header").collect();
        assert!(rows[0].is_ok());
        let error = rows[1].as_ref().expect_err("invalid UTF-8");
        assert_eq!(error.to_string(), "line 3: not valid UTF-8");
    }

    #[test]
    fn the_embedded_files_parse_completely() {
        let countries: Vec<_> = countries(COUNTRIES_TSV)
            .expect("header")
            .collect::<Result<_, _>>()
            .expect("every country parses");
        assert_eq!(countries.len(), 252);
        assert_eq!(count_rows(COUNTRIES_TSV), 252);

        let tsv = gunzip(CITIES15000_TSV_GZ).expect("gzip");
        assert_eq!(count_rows(&tsv), 34_006);
        let cities = cities(tsv.as_slice())
            .expect("header")
            .collect::<Result<Vec<_>, _>>()
            .expect("every city parses");
        assert_eq!(cities.len(), 34_006);
    }

    #[test]
    fn count_rows_handles_a_missing_final_newline() {
        assert_eq!(count_rows(b""), 0);
        assert_eq!(count_rows(b"header\n"), 0);
        assert_eq!(count_rows(b"header\na\nb"), 2);
        assert_eq!(count_rows(b"header\na\nb\n"), 2);
    }
}
