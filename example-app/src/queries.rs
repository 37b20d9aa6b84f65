//! The query commands: `city`, `country`, `timezone` and `stats`, each reading one snapshot
//! (a read transaction) and writing its report to `out`.

use crate::atlas::{AtlasReadTransaction, City, Country, CountryReadTree};
use crate::data::CREDIT;
use crate::error::AppError;
use crate::format::{CONTINENTS, continent_name, count, thousands};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::Write;

type Txn<'s> = AtlasReadTransaction<'s>;

/// Most populous first; equal populations in id order.
fn by_population(a: &City, b: &City) -> Ordering {
    b.population
        .cmp(&a.population)
        .then(a.geonameid.cmp(&b.geonameid))
}

/// Counts the cities of `cities` and keeps the `k` most populous, most populous first, without
/// holding them all in memory.
pub fn count_and_top(
    cities: impl Iterator<Item = netabase_runtime::Result<City>>,
    k: usize,
) -> netabase_runtime::Result<(u64, Vec<City>)> {
    let mut total = 0;
    let mut top: Vec<City> = Vec::with_capacity(k + 1);
    for city in cities {
        let city = city?;
        total += 1;
        let ranks = top.len() < k
            || top
                .last()
                .is_some_and(|last| by_population(&city, last) == Ordering::Less);
        if ranks {
            let at = top.partition_point(|c| by_population(c, &city) == Ordering::Less);
            top.insert(at, city);
            top.truncate(k);
        }
    }
    Ok((total, top))
}

/// The names of countries by ISO code, looked up once each.
struct CountryNames<'t> {
    /// Opened once: a name lookup is a `get`, never a table open.
    countries: CountryReadTree<'t>,
    known: HashMap<String, Option<String>>,
}

impl<'t> CountryNames<'t> {
    fn new(txn: &'t Txn<'_>) -> Result<Self, AppError> {
        Ok(Self {
            countries: txn.countries()?,
            known: HashMap::new(),
        })
    }

    /// `Japan` for `JP`; the code itself for a code with no country record.
    fn name(&mut self, iso: &str) -> Result<String, AppError> {
        if !self.known.contains_key(iso) {
            let name = self.countries.get(iso)?.map(|c| c.name);
            self.known.insert(iso.to_owned(), name);
        }
        Ok(self
            .known
            .get(iso)
            .cloned()
            .flatten()
            .unwrap_or_else(|| iso.to_owned()))
    }
}

/// Writes a numbered list of cities: name, country (unless `country` is false), population and
/// time zone, aligned.
fn write_city_list(
    out: &mut dyn Write,
    cities: &[City],
    names: &mut CountryNames<'_>,
    country: bool,
) -> Result<(), AppError> {
    let mut labels = Vec::with_capacity(cities.len());
    for city in cities {
        labels.push(if country {
            format!(
                "{} ({}, {})",
                city.name,
                city.country_code,
                names.name(&city.country_code)?
            )
        } else {
            city.name.clone()
        });
    }
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for (i, (city, label)) in cities.iter().zip(&labels).enumerate() {
        writeln!(
            out,
            "  {:>2}. {label:<width$}  {:>11}  {}",
            i + 1,
            thousands(city.population),
            city.timezone
        )?;
    }
    Ok(())
}

/// `city <name>`: every city with exactly this name, most populous first.
pub fn city(txn: &Txn<'_>, name: &str, out: &mut dyn Write) -> Result<(), AppError> {
    let mut cities = txn
        .cities()?
        .by_name(name)?
        .collect::<netabase_runtime::Result<Vec<_>>>()?;
    if cities.is_empty() {
        writeln!(
            out,
            "No city is named {name:?}. Names match exactly, with accents and capitals \
             (\"São Paulo\", \"Zürich\")."
        )?;
        return Ok(());
    }
    cities.sort_by(by_population);
    writeln!(
        out,
        "{} named {name:?}, most populous first:",
        count(cities.len() as u64, "city", "cities")
    )?;
    let mut names = CountryNames::new(txn)?;
    for city in &cities {
        let region = match &city.admin1_code {
            Some(admin1) => format!("{}-{admin1}", city.country_code),
            None => city.country_code.clone(),
        };
        writeln!(
            out,
            "  {} ({region}, {}): population {}, {}, lat {:.4} lon {:.4}, GeoNames id {}",
            city.name,
            names.name(&city.country_code)?,
            thousands(city.population),
            city.timezone,
            city.latitude,
            city.longitude,
            city.geonameid
        )?;
    }
    Ok(())
}

/// For the tour: how many cities have this name, and in which countries.
pub fn city_summary(txn: &Txn<'_>, name: &str, out: &mut dyn Write) -> Result<(), AppError> {
    let mut per_country: HashMap<String, u64> = HashMap::new();
    for city in txn.cities()?.by_name(name)? {
        *per_country.entry(city?.country_code).or_default() += 1;
    }
    let total: u64 = per_country.values().sum();
    if total == 0 {
        writeln!(out, "No city is named {name:?}.")?;
        return Ok(());
    }
    let mut names = CountryNames::new(txn)?;
    let mut parts = Vec::with_capacity(per_country.len());
    for (code, n) in per_country {
        parts.push((n, names.name(&code)?));
    }
    parts.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let parts: Vec<String> = parts
        .iter()
        .map(|(n, country)| format!("{} in {country}", thousands(*n)))
        .collect();
    writeln!(
        out,
        "{} named {name:?}: {}",
        count(total, "city", "cities"),
        parts.join(", ")
    )?;
    Ok(())
}

/// Finds a country by ISO 3166-1 alpha-2 (`JP`) or alpha-3 (`JPN`) code, in any case.
pub fn find_country(txn: &Txn<'_>, code: &str) -> Result<Option<Country>, AppError> {
    let code = code.trim().to_uppercase();
    let countries = txn.countries()?;
    Ok(match code.chars().count() {
        2 => countries.get(&code)?,
        3 => countries.get_by_iso3(&code)?,
        _ => None,
    })
}

/// `country <iso>`: the country's facts and its 10 most populous cities.
pub fn country(txn: &Txn<'_>, code: &str, out: &mut dyn Write) -> Result<(), AppError> {
    let Some(country) = find_country(txn, code)? else {
        writeln!(
            out,
            "No country has the code {code:?}. Use an ISO 3166-1 code of 2 or 3 letters, \
             such as JP or JPN."
        )?;
        return Ok(());
    };
    let mut names = CountryNames::new(txn)?;
    writeln!(
        out,
        "{} ({}, {}, {:03})",
        country.name, country.iso, country.iso3, country.iso_numeric
    )?;
    let or_none = |value: &Option<String>| value.clone().unwrap_or_else(|| "none".to_owned());
    writeln!(out, "  capital     {}", or_none(&country.capital))?;
    writeln!(
        out,
        "  continent   {} ({})",
        continent_name(&country.continent),
        country.continent
    )?;
    writeln!(out, "  population  {}", thousands(country.population))?;
    writeln!(
        out,
        "  area        {} km²",
        thousands(country.area_km2 as u64)
    )?;
    let currency = match (&country.currency_code, &country.currency_name) {
        (Some(code), Some(name)) => format!("{code} ({name})"),
        (code, name) => or_none(&code.clone().or(name.clone())),
    };
    writeln!(out, "  currency    {currency}")?;
    let languages = match country.languages.as_slice() {
        [] => "none listed".to_owned(),
        languages => languages.join(", "),
    };
    writeln!(out, "  languages   {languages}")?;
    // `neighbours` is a list of links to other countries, followed here in list order (the
    // links are checked, so each one is found).
    let neighbours: Vec<String> = country
        .neighbours_in(&names.countries)?
        .into_iter()
        .zip(&country.neighbours)
        .map(|(found, iso)| format!("{} ({iso})", found.map_or_else(|| iso.clone(), |c| c.name)))
        .collect();
    let neighbours = match neighbours.as_slice() {
        [] => "none".to_owned(),
        list => list.join(", "),
    };
    writeln!(out, "  neighbours  {neighbours}")?;

    // One count of index entries (nothing decoded), and one ordered scan of the composite key
    // (country, population) read backwards: the largest cities first, no sorting.
    let cities = txn.cities()?;
    let total = cities.count_by_country_code(&country.iso)?;
    let top = cities
        .prefix_by_country_population_country_code(&country.iso)?
        .rev()
        .take(10)
        .collect::<netabase_runtime::Result<Vec<_>>>()?;
    if total == 0 {
        writeln!(out, "  no cities in the database")?;
    } else {
        writeln!(
            out,
            "  {} in the database; the {} most populous:",
            count(total, "city", "cities"),
            top.len()
        )?;
        write_city_list(out, &top, &mut names, false)?;
    }
    Ok(())
}

/// `timezone <tz>`: how many cities use the time zone, and the 10 most populous.
pub fn timezone(txn: &Txn<'_>, tz: &str, out: &mut dyn Write) -> Result<(), AppError> {
    let (total, top) = count_and_top(txn.cities()?.by_timezone(tz)?, 10)?;
    if total == 0 {
        writeln!(
            out,
            "No city is in the time zone {tz:?}. Use an IANA name, with capitals, such as \
             Europe/Paris or America/New_York."
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{} in the time zone {tz}; the {} most populous:",
        count(total, "city", "cities"),
        top.len()
    )?;
    write_city_list(out, &top, &mut CountryNames::new(txn)?, true)
}

/// `timezone <tz> --page N [--after ID]`: one page of the time zone's cities in GeoNames id
/// order, starting after the cursor `after`.
pub fn timezone_page(
    txn: &Txn<'_>,
    tz: &str,
    size: usize,
    after: Option<u64>,
    out: &mut dyn Write,
) -> Result<(), AppError> {
    let cities = txn.cities()?;
    let total = cities.count_by_timezone(tz)?;
    let page = match after {
        Some(id) => cities.by_timezone_after(tz, id)?,
        None => cities.by_timezone(tz)?,
    }
    .take(size)
    .collect::<netabase_runtime::Result<Vec<_>>>()?;
    let start = match after {
        Some(id) => format!("after id {id}"),
        None => "from the start".to_owned(),
    };
    writeln!(
        out,
        "{} in the time zone {tz}; {} {start}:",
        count(total, "city", "cities"),
        count(page.len() as u64, "city", "cities")
    )?;
    for city in &page {
        writeln!(
            out,
            "  {:>9}  {} ({}), population {}",
            city.geonameid,
            city.name,
            city.country_code,
            thousands(city.population)
        )?;
    }
    match page.last() {
        Some(last) if page.len() == size => {
            writeln!(out, "next page: --page {size} --after {}", last.geonameid)?
        }
        _ => writeln!(out, "(end of the list)")?,
    }
    Ok(())
}

/// `prefix <text>`: the cities whose name starts with `text`, in name order (one range scan of
/// the name index), with how many there are.
pub fn prefix(
    txn: &Txn<'_>,
    text: &str,
    limit: usize,
    out: &mut dyn Write,
) -> Result<(), AppError> {
    let cities = txn.cities()?;
    let mut total = 0u64;
    let mut shown = Vec::with_capacity(limit);
    for city in cities.prefix_by_name(text)? {
        let city = city?;
        total += 1;
        if shown.len() < limit {
            shown.push(city);
        }
    }
    writeln!(
        out,
        "{} whose name starts with {text:?}{}",
        count(total, "city", "cities"),
        if total > shown.len() as u64 {
            format!("; the first {} by name:", shown.len())
        } else {
            ":".to_owned()
        }
    )?;
    for city in &shown {
        writeln!(
            out,
            "  {} ({}), population {}",
            city.name,
            city.country_code,
            thousands(city.population)
        )?;
    }
    Ok(())
}

/// For the tour: how many cities use the time zone, and its 3 most populous.
pub fn timezone_summary(txn: &Txn<'_>, tz: &str, out: &mut dyn Write) -> Result<(), AppError> {
    let (total, top) = count_and_top(txn.cities()?.by_timezone(tz)?, 3)?;
    let top: Vec<String> = top
        .iter()
        .map(|city| format!("{} ({})", city.name, thousands(city.population)))
        .collect();
    write!(
        out,
        "{} in the time zone {tz}",
        count(total, "city", "cities")
    )?;
    if top.is_empty() {
        writeln!(out, ".")?;
    } else {
        writeln!(out, "; the most populous: {}.", top.join(", "))?;
    }
    Ok(())
}

/// `stats`: counts, countries per continent, the 5 most populous cities, and the credit.
pub fn stats(txn: &Txn<'_>, out: &mut dyn Write) -> Result<(), AppError> {
    let countries = txn.countries()?;
    let cities = txn.cities()?;
    writeln!(
        out,
        "{} and {}",
        count(countries.len()?, "country", "countries"),
        count(cities.len()?, "city", "cities")
    )?;
    writeln!(out, "Countries per continent:")?;
    for code in CONTINENTS {
        let n = countries.count_by_continent(code)?;
        writeln!(out, "  {code} {:<14} {n:>3}", continent_name(code))?;
    }
    let (_, top) = count_and_top(cities.iter()?, 5)?;
    writeln!(out, "The {} most populous cities:", top.len())?;
    write_city_list(out, &top, &mut CountryNames::new(txn)?, true)?;
    writeln!(out, "{CREDIT}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atlas::Atlas;
    use crate::import::{CitySet, import};
    use netabase_runtime::Store;
    use std::sync::OnceLock;

    fn sample(geonameid: u64, population: u64) -> City {
        City {
            geonameid,
            name: format!("c{geonameid}"),
            latitude: 0.0,
            longitude: 0.0,
            country_code: "JP".to_owned(),
            admin1_code: None,
            population,
            timezone: "Asia/Tokyo".to_owned(),
            elevation: None,
        }
    }

    #[test]
    fn count_and_top_keeps_the_most_populous_in_order() {
        let cities = [
            sample(1, 5),
            sample(2, 50),
            sample(3, 0),
            sample(4, 50),
            sample(5, 7),
        ];
        let (total, top) = count_and_top(cities.iter().cloned().map(Ok), 3).expect("top");
        assert_eq!(total, 5);
        let ids: Vec<u64> = top.iter().map(|c| c.geonameid).collect();
        assert_eq!(ids, [2, 4, 5]);
        let (total, top) = count_and_top(cities.iter().cloned().map(Ok), 0).expect("top");
        assert_eq!((total, top.len()), (5, 0));
    }

    /// One imported in-memory store shared by the tests below.
    fn store() -> &'static Store<Atlas> {
        static STORE: OnceLock<Store<Atlas>> = OnceLock::new();
        STORE.get_or_init(|| {
            let store = Store::<Atlas>::in_memory().expect("store");
            import(&store, CitySet::Cities15000, |_| {
                indicatif::ProgressBar::hidden()
            })
            .expect("import");
            store
        })
    }

    fn run(query: impl FnOnce(&Txn<'_>, &mut dyn Write) -> Result<(), AppError>) -> String {
        let txn = store().begin_read().expect("read");
        let mut out = Vec::new();
        query(&txn, &mut out).expect("query");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn country_accepts_iso2_and_iso3_in_any_case() {
        let by_iso2 = run(|txn, out| country(txn, "jp", out));
        let by_iso3 = run(|txn, out| country(txn, " Jpn ", out));
        assert_eq!(by_iso2, by_iso3);
        assert!(by_iso2.starts_with("Japan (JP, JPN, 392)\n  capital     Tokyo\n"));
        assert!(by_iso2.contains("  1,300 cities in the database; the 10 most populous:\n"));
        assert!(by_iso2.contains("\n   1. Tokyo"));
        let unknown = run(|txn, out| country(txn, "XX", out));
        assert!(unknown.starts_with("No country has the code \"XX\"."));
        let too_long = run(|txn, out| country(txn, "JAPAN", out));
        assert!(too_long.starts_with("No country has the code \"JAPAN\"."));
    }

    #[test]
    fn country_follows_the_neighbour_links_in_list_order() {
        let germany = run(|txn, out| country(txn, "DE", out));
        assert!(
            germany.contains(
                "\n  neighbours  Switzerland (CH), Poland (PL), The Netherlands (NL), \
                 Denmark (DK), Belgium (BE), Czechia (CZ), Luxembourg (LU), France (FR), \
                 Austria (AT)\n"
            ),
            "{germany}"
        );
        let japan = run(|txn, out| country(txn, "JP", out));
        assert!(japan.contains("\n  neighbours  none\n"), "{japan}");
    }

    #[test]
    fn city_lists_every_springfield() {
        let report = run(|txn, out| city(txn, "Springfield", out));
        let mut lines = report.lines();
        assert_eq!(
            lines.next(),
            Some("8 cities named \"Springfield\", most populous first:")
        );
        assert_eq!(
            lines.next(),
            Some(
                "  Springfield (US-MO, United States): population 170,188, America/Chicago, \
                 lat 37.2153 lon -93.2982, GeoNames id 4409896"
            )
        );
        assert_eq!(lines.count(), 7);
        let summary = run(|txn, out| city_summary(txn, "Springfield", out));
        assert_eq!(
            summary,
            "8 cities named \"Springfield\": 8 in United States\n"
        );
        let none = run(|txn, out| city(txn, "springfield", out));
        assert!(none.starts_with("No city is named \"springfield\"."));
    }

    #[test]
    fn timezone_counts_the_cities() {
        let summary = run(|txn, out| timezone_summary(txn, "Asia/Tokyo", out));
        assert!(
            summary.starts_with(
                "1,300 cities in the time zone Asia/Tokyo; the most populous: Tokyo ("
            )
        );
        let report = run(|txn, out| timezone(txn, "Asia/Tokyo", out));
        assert_eq!(report.lines().count(), 11);
        let none = run(|txn, out| timezone(txn, "Mars/Olympus_Mons", out));
        assert!(none.starts_with("No city is in the time zone \"Mars/Olympus_Mons\"."));
    }

    #[test]
    fn stats_counts_countries_per_continent() {
        let report = run(stats);
        assert!(report.starts_with("252 countries and 34,006 cities\nCountries per continent:\n"));
        for line in [
            "  AF Africa          58",
            "  AN Antarctica       5",
            "  AS Asia            51",
            "  EU Europe          54",
            "  NA North America   42",
            "  OC Oceania         28",
            "  SA South America   14",
        ] {
            assert!(report.contains(&format!("{line}\n")), "missing {line:?}");
        }
        assert!(report.ends_with(&format!("{CREDIT}\n")));
    }
}
