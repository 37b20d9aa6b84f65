//! Links between models (`fixtures/links.toml`): following them both ways, checked links
//! verified at commit (written in any order, broken by a write or by a removal, never by a
//! rolled-back batch), unchecked links allowed to dangle.

use netabase_runtime::{Error, Store};
use netabase_tests::links::*;

type Result<T = ()> = std::result::Result<T, Error>;

fn writer(id: u64, name: &str, mentor: Option<u64>) -> Writer {
    Writer {
        id,
        name: name.to_owned(),
        mentor,
    }
}

fn volume(isbn: &str, writer: u64, coauthors: &[u64], shelf: Option<&str>) -> Volume {
    Volume {
        isbn: isbn.to_owned(),
        title: format!("Title of {isbn}"),
        writer,
        coauthors: coauthors.to_vec(),
        shelf: shelf.map(str::to_owned),
        sequel: None,
    }
}

fn shelf(code: &str, floor: i8) -> Shelf {
    Shelf {
        code: code.to_owned(),
        floor,
    }
}

fn collect<T>(iter: impl Iterator<Item = Result<T>>) -> Vec<T> {
    iter.collect::<Result<Vec<T>>>().expect("iteration failed")
}

fn isbns(volumes: Vec<Volume>) -> Vec<String> {
    volumes.into_iter().map(|v| v.isbn).collect()
}

/// Three writers, two shelves and three volumes, written targets-last: checked links are checked
/// at commit, so order within a transaction does not matter.
fn seeded() -> Result<Store<Links>> {
    let store = Store::<Links>::in_memory()?;
    let txn = store.begin_write()?;
    {
        let mut volumes = txn.volumes()?;
        volumes.put(&volume("v1", 1, &[2, 3], Some("A-1")))?;
        volumes.put(&Volume {
            sequel: Some("v3".to_owned()),
            ..volume("v2", 2, &[], None)
        })?;
        volumes.put(&volume("v3", 2, &[1], Some("A-1")))?;
        let mut writers = txn.writers()?;
        writers.put(&writer(1, "Ursula", None))?;
        writers.put(&writer(2, "Haruki", Some(1)))?;
        writers.put(&writer(3, "Banana", Some(2)))?;
        let mut shelves = txn.shelves()?;
        shelves.put(&shelf("A-1", 0))?;
        shelves.put(&shelf("B-7", 2))?;
    }
    txn.commit()?;
    Ok(store)
}

fn broken_link(error: &Error) -> (&'static str, &'static str, &str, &'static str, &str) {
    match error {
        Error::BrokenLink {
            model,
            field,
            record,
            target,
            key,
        } => (model, field, record, target, key),
        other => panic!("expected BrokenLink, got {other:?}"),
    }
}

#[test]
fn links_are_followed_forward_and_backward() -> Result {
    let store = seeded()?;
    let txn = store.begin_read()?;
    let (writers, volumes, shelves) = (txn.writers()?, txn.volumes()?, txn.shelves()?);
    let v1 = volumes.get("v1")?.expect("v1");
    // Forward: one link, many links in list order, an optional link.
    assert_eq!(v1.writer_in(&writers)?, Some(writer(1, "Ursula", None)));
    assert_eq!(
        v1.coauthors_in(&writers)?,
        [
            Some(writer(2, "Haruki", Some(1))),
            Some(writer(3, "Banana", Some(2)))
        ]
    );
    assert_eq!(v1.shelf_in(&shelves)?, Some(shelf("A-1", 0)));
    let v2 = volumes.get("v2")?.expect("v2");
    assert_eq!(v2.shelf_in(&shelves)?, None, "no shelf: None");
    assert_eq!(v2.sequel_in(&volumes)?.map(|v| v.isbn), Some("v3".into()));
    let haruki = writers.get(2)?.expect("writer 2");
    assert_eq!(haruki.mentor_in(&writers)?.map(|w| w.id), Some(1));

    // Backward, through each link's index, in primary key order.
    assert_eq!(
        isbns(collect(haruki.volumes_by_writer(&volumes)?)),
        ["v2", "v3"]
    );
    assert_eq!(
        isbns(collect(haruki.volumes_by_coauthors(&volumes)?)),
        ["v1"]
    );
    let ursula = writers.get(1)?.expect("writer 1");
    assert_eq!(
        isbns(collect(ursula.volumes_by_coauthors(&volumes)?)),
        ["v3"]
    );
    let mentored: Vec<u64> = collect(ursula.writers_by_mentor(&writers)?)
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(mentored, [2]);
    let a1 = shelves.get("A-1")?.expect("shelf");
    assert_eq!(isbns(collect(a1.volumes_by_shelf(&volumes)?)), ["v1", "v3"]);
    let b7 = shelves.get("B-7")?.expect("shelf");
    assert!(collect(b7.volumes_by_shelf(&volumes)?).is_empty());
    // A unique link: at most one record points at a given one.
    let v3 = volumes.get("v3")?.expect("v3");
    assert_eq!(
        v3.volumes_by_sequel(&volumes)?.map(|v| v.isbn),
        Some("v2".into())
    );
    assert_eq!(v1.volumes_by_sequel(&volumes)?, None);
    // The link fields are indexes like any other.
    assert_eq!(volumes.count_by_writer(2)?, 2);
    assert_eq!(volumes.count_range_by_coauthors(..)?, 3);
    Ok(())
}

#[test]
fn a_checked_link_to_a_missing_record_fails_the_commit_and_writes_nothing() -> Result {
    let store = seeded()?;
    let txn = store.begin_write()?;
    {
        let mut volumes = txn.volumes()?;
        volumes.put(&volume("v9", 1, &[], None))?;
        volumes.put(&volume("v4", 9, &[], None))?;
    }
    let error = txn.commit().unwrap_err();
    assert_eq!(
        broken_link(&error),
        (
            "Volume",
            "writer",
            "VolumePrimaryKey(\"v4\")",
            "Writer",
            "WriterPrimaryKey(9)"
        )
    );
    assert_eq!(
        error.to_string(),
        "Volume VolumePrimaryKey(\"v4\") links to Writer WriterPrimaryKey(9) through \
         `Volume.writer`, but no such Writer exists"
    );
    // Nothing of the transaction was written, not even the volume with a good link.
    let txn = store.begin_read()?;
    assert_eq!(txn.volumes()?.get("v9")?, None);
    assert_eq!(txn.volumes()?.get("v4")?, None);
    assert_eq!(txn.volumes()?.len()?, 3);

    // The same for a many-link and an optional link (a String key).
    for bad in [
        volume("v5", 1, &[2, 77], None),
        volume("v6", 1, &[], Some("Z-0")),
    ] {
        let txn = store.begin_write()?;
        txn.volumes()?.put(&bad)?;
        let error = txn.commit().unwrap_err();
        let (_, field, _, target, key) = broken_link(&error);
        match bad.isbn.as_str() {
            "v5" => assert_eq!(
                (field, target, key),
                ("coauthors", "Writer", "WriterPrimaryKey(77)")
            ),
            _ => assert_eq!(
                (field, target, key),
                ("shelf", "Shelf", "ShelfPrimaryKey(\"Z-0\")")
            ),
        }
    }
    // The auto-commit API checks too.
    let error = store.put(&volume("v7", 42, &[], None)).unwrap_err();
    assert_eq!(broken_link(&error).4, "WriterPrimaryKey(42)");
    assert_eq!(store.len::<Volume>()?, 3);
    Ok(())
}

#[test]
fn check_links_reports_early_and_the_transaction_can_be_repaired() -> Result {
    let store = seeded()?;
    let txn = store.begin_write()?;
    txn.volumes()?.put(&volume("v4", 4, &[], None))?;
    let error = txn.check_links().unwrap_err();
    assert_eq!(broken_link(&error).4, "WriterPrimaryKey(4)");
    // Add the missing writer in the same transaction, and the commit goes through.
    txn.writers()?.put(&writer(4, "Ada", None))?;
    txn.check_links()?;
    txn.commit()?;
    let txn = store.begin_read()?;
    let v4 = txn.volumes()?.get("v4")?.expect("v4");
    assert_eq!(
        v4.writer_in(&txn.writers()?)?.map(|w| w.name),
        Some("Ada".into())
    );
    Ok(())
}

#[test]
fn removing_a_linked_record_fails_the_commit_unless_the_links_go_too() -> Result {
    let store = seeded()?;
    // Writer 3 is a coauthor of v1: removing it alone breaks that link.
    let txn = store.begin_write()?;
    assert_eq!(txn.writers()?.remove(3)?.map(|w| w.id), Some(3));
    let error = txn.commit().unwrap_err();
    assert_eq!(
        broken_link(&error),
        (
            "Volume",
            "coauthors",
            "VolumePrimaryKey(\"v1\")",
            "Writer",
            "WriterPrimaryKey(3)"
        )
    );
    assert!(store.get::<Writer>(3)?.is_some());

    // Dropping the link first (an update that moves the many-link's entries) makes it legal.
    let txn = store.begin_write()?;
    txn.volumes()?.put(&volume("v1", 1, &[2], Some("A-1")))?;
    txn.writers()?.remove(3)?;
    txn.commit()?;
    assert_eq!(store.get::<Writer>(3)?, None);

    // A target removed and put back in the same transaction is fine.
    let txn = store.begin_write()?;
    let removed = txn.shelves()?.remove("A-1")?.expect("shelf");
    txn.shelves()?.put(&removed)?;
    txn.commit()?;

    // Clearing a model that is linked to is checked the same way.
    let txn = store.begin_write()?;
    assert_eq!(txn.shelves()?.clear()?, 2);
    let (_, field, _, target, _) = broken_link(&txn.commit().unwrap_err()).to_owned();
    assert_eq!((field, target), ("shelf", "Shelf"));

    // Removing the linking record and its target together is fine.
    let txn = store.begin_write()?;
    txn.volumes()?.remove("v2")?;
    txn.volumes()?.remove("v3")?;
    txn.writers()?.remove(2)?;
    txn.volumes()?.put(&volume("v1", 1, &[], Some("A-1")))?;
    txn.commit()?;
    assert_eq!(store.len::<Writer>()?, 1);
    Ok(())
}

#[test]
fn unchecked_links_may_dangle() -> Result {
    let store = seeded()?;
    let txn = store.begin_write()?;
    {
        let mut writers = txn.writers()?;
        writers.put(&writer(5, "Tove", Some(404)))?;
        // Removing a mentor that others link to is fine too: the link is unchecked.
        writers.remove(1)?;
    }
    txn.volumes()?.put(&Volume {
        sequel: Some("missing".to_owned()),
        ..volume("v8", 2, &[], None)
    })?;
    txn.volumes()?.put(&volume("v1", 2, &[2, 3], Some("A-1")))?;
    txn.volumes()?.put(&volume("v3", 2, &[], Some("A-1")))?;
    txn.commit()?;
    let txn = store.begin_read()?;
    let (writers, volumes) = (txn.writers()?, txn.volumes()?);
    let tove = writers.get(5)?.expect("writer 5");
    assert_eq!(tove.mentor, Some(404));
    assert_eq!(
        tove.mentor_in(&writers)?,
        None,
        "a dangling link follows to None"
    );
    let v8 = volumes.get("v8")?.expect("v8");
    assert_eq!(v8.sequel_in(&volumes)?, None);
    let haruki = writers.get(2)?.expect("writer 2");
    assert_eq!(haruki.mentor_in(&writers)?, None, "mentor 1 was removed");
    Ok(())
}

#[test]
fn a_rolled_back_batch_leaves_no_link_to_check() -> Result {
    let store = seeded()?;
    let txn = store.begin_write()?;
    {
        let mut volumes = txn.volumes()?;
        // The first record links to a missing writer, the second takes v3's unique sequel
        // (v2 has it): the batch fails and is rolled back, so the commit has nothing to refuse.
        let error = volumes
            .put_many([
                volume("v10", 99, &[], None),
                Volume {
                    sequel: Some("v3".to_owned()),
                    ..volume("v11", 1, &[], None)
                },
            ])
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::UniqueViolation {
                    field: "sequel",
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(volumes.get("v10")?, None);
    }
    txn.commit()?;
    assert_eq!(store.len::<Volume>()?, 3);
    Ok(())
}

#[test]
fn links_persist_and_check_integrity_is_clean() -> Result {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("links.redb");
    {
        let seeded = seeded()?;
        let txn = seeded.begin_read()?;
        let store = Store::<Links>::open(&path)?;
        let write = store.begin_write()?;
        {
            let mut writers = write.writers()?;
            for w in collect(txn.writers()?.iter()?) {
                writers.put(&w)?;
            }
            let mut shelves = write.shelves()?;
            for s in collect(txn.shelves()?.iter()?) {
                shelves.put(&s)?;
            }
            let mut volumes = write.volumes()?;
            volumes.put_many(collect(txn.volumes()?.iter()?))?;
        }
        write.commit()?;
    }
    let mut store = Store::<Links>::open(&path)?;
    let report = store.check_integrity()?;
    assert!(report.is_clean(), "{report}");
    {
        let txn = store.begin_read()?;
        let writers = txn.writers()?;
        let haruki = writers.get(2)?.expect("writer 2");
        assert_eq!(
            isbns(collect(haruki.volumes_by_writer(&txn.volumes()?)?)),
            ["v2", "v3"]
        );
    }
    drop(store);

    // Writer 1 removed behind netabase's back: the two checked links to it are reported, in
    // schema order (the unchecked `mentor` link of writer 2 is not).
    {
        let db = redb::Database::open(&path).expect("raw open");
        let txn = db.begin_write().expect("raw write");
        // `Writer`'s primary key is a `u64`: its records are keyed by `Fixed<8>`.
        txn.open_table(
            redb::TableDefinition::<netabase_runtime::Fixed<8>, &[u8]>::new("Links/Writer"),
        )
        .expect("table")
        .remove(1u64.to_be_bytes().as_slice())
        .expect("remove")
        .expect("writer 1 was there");
        txn.commit().expect("raw commit");
    }
    let mut store = Store::<Links>::open(&path)?;
    let report = store.check_integrity()?;
    let broken: Vec<(String, String)> = report
        .problems()
        .iter()
        .map(|p| match &p.kind {
            netabase_runtime::ProblemKind::BrokenLink { field, target, key } => (
                p.record.clone().unwrap_or_default(),
                format!("{field} -> {target} {key}"),
            ),
            other => panic!("unexpected problem {other:?}"),
        })
        .collect();
    assert_eq!(
        broken,
        [
            (
                "Volume VolumePrimaryKey(\"v1\")".to_owned(),
                "writer -> Writer WriterPrimaryKey(1)".to_owned()
            ),
            (
                "Volume VolumePrimaryKey(\"v3\")".to_owned(),
                "coauthors -> Writer WriterPrimaryKey(1)".to_owned()
            ),
        ]
    );
    Ok(())
}

/// The atlas schema links cities to their country and countries to their neighbours: the
/// neighbours of a country can be written after it in one transaction, and a city in an unknown
/// country is refused.
#[test]
fn atlas_links_cities_and_neighbouring_countries() -> Result {
    use netabase_tests::atlas::{Atlas, City, Country};
    let country = |iso: &str, neighbours: &[&str]| Country {
        iso: iso.to_owned(),
        iso3: format!("{iso}X"),
        iso_numeric: 0,
        name: format!("Country {iso}"),
        capital: None,
        continent: "EU".to_owned(),
        area_km2: 1.0,
        population: 1,
        currency_code: None,
        currency_name: None,
        languages: Vec::new(),
        neighbours: neighbours.iter().map(|n| (*n).to_owned()).collect(),
        tld: String::new(),
        phone: String::new(),
    };
    let city = |id: u64, country: &str| City {
        geonameid: id,
        name: format!("City {id}"),
        latitude: 0.0,
        longitude: 0.0,
        country_code: country.to_owned(),
        admin1_code: None,
        population: id,
        timezone: "UTC".to_owned(),
    };
    let store = Store::<Atlas>::in_memory()?;
    let txn = store.begin_write()?;
    txn.countries()?.put_many([
        country("FR", &["ES", "BE"]),
        country("ES", &["FR"]),
        country("BE", &["FR"]),
    ])?;
    txn.cities()?
        .put_many([city(1, "FR"), city(2, "FR"), city(3, "ES")])?;
    txn.commit()?;

    let txn = store.begin_read()?;
    let (countries, cities) = (txn.countries()?, txn.cities()?);
    let fr = countries.get("FR")?.expect("FR");
    let names: Vec<String> = fr
        .neighbours_in(&countries)?
        .into_iter()
        .map(|c| c.expect("checked").iso)
        .collect();
    assert_eq!(names, ["ES", "BE"]);
    let pointing_at_fr: Vec<String> = collect(fr.countries_by_neighbours(&countries)?)
        .into_iter()
        .map(|c| c.iso)
        .collect();
    assert_eq!(pointing_at_fr, ["BE", "ES"]);
    let in_fr: Vec<u64> = collect(fr.cities_by_country_code(&cities)?)
        .into_iter()
        .map(|c| c.geonameid)
        .collect();
    assert_eq!(in_fr, [1, 2]);
    let paris = cities.get(1)?.expect("city 1");
    assert_eq!(
        paris.country_code_in(&countries)?.map(|c| c.iso),
        Some("FR".into())
    );
    drop((countries, cities));
    drop(txn);

    let error = store.put(&city(4, "XX")).unwrap_err();
    assert_eq!(
        broken_link(&error),
        (
            "City",
            "country_code",
            "CityPrimaryKey(4)",
            "Country",
            "CountryPrimaryKey(\"XX\")"
        )
    );
    let error = store.remove::<Country>("BE").unwrap_err();
    assert_eq!(broken_link(&error).1, "neighbours");
    Ok(())
}

/// A link to a model with a composite primary key stores the key as a tuple: followed both
/// ways, checked at commit like any other.
#[test]
fn links_to_a_composite_key_store_a_tuple() -> Result {
    let edition = |isbn: &str, printing: u16| Edition {
        isbn: isbn.to_owned(),
        printing,
        year: 2000 + i32::from(printing),
    };
    let copy = |barcode: u64, edition: (&str, u16), reprints: &[(&str, u16)]| Copy {
        barcode,
        edition: (edition.0.to_owned(), edition.1),
        reprints: reprints
            .iter()
            .map(|(i, p)| ((*i).to_owned(), *p))
            .collect(),
    };
    let store = Store::<Links>::in_memory()?;
    let txn = store.begin_write()?;
    txn.copies()?.put_many([
        copy(10, ("v1", 2), &[("v1", 1), ("v9", 9)]),
        copy(11, ("v1", 1), &[]),
        copy(12, ("v1", 2), &[]),
    ])?;
    txn.editions()?
        .put_many([edition("v1", 1), edition("v1", 2)])?;
    txn.commit()?;

    let txn = store.begin_read()?;
    let (copies, editions) = (txn.copies()?, txn.editions()?);
    let c10 = copies.get(10)?.expect("copy 10");
    assert_eq!(c10.edition_in(&editions)?, Some(edition("v1", 2)));
    assert_eq!(
        c10.reprints_in(&editions)?,
        [Some(edition("v1", 1)), None],
        "an unchecked link to a missing printing"
    );
    let second = editions.get(("v1", 2))?.expect("edition");
    let barcodes: Vec<u64> = collect(second.copies_by_edition(&copies)?)
        .into_iter()
        .map(|c| c.barcode)
        .collect();
    assert_eq!(barcodes, [10, 12]);
    let first = editions.get(("v1", 1))?.expect("edition");
    let reprinted: Vec<u64> = collect(first.copies_by_reprints(&copies)?)
        .into_iter()
        .map(|c| c.barcode)
        .collect();
    assert_eq!(reprinted, [10]);
    drop((copies, editions));
    drop(txn);

    let error = store.put(&copy(13, ("v1", 3), &[])).unwrap_err();
    assert_eq!(
        broken_link(&error),
        (
            "Copy",
            "edition",
            "CopyPrimaryKey(13)",
            "Edition",
            "EditionPrimaryKey(\"v1\", 3)"
        )
    );
    let error = store.remove::<Edition>(("v1", 1)).unwrap_err();
    assert_eq!(broken_link(&error).2, "CopyPrimaryKey(11)");
    Ok(())
}

/// Checked links whose index entries have fixed-width keys (a `u64` target in a model with a
/// `u64` primary key): the commit-time checks read those layouts too, for a non-unique link
/// (the primary key is the entry key's tail) and a unique one (key -> primary key).
#[test]
fn checked_links_with_fixed_width_index_entries() -> Result {
    let store = seeded()?;
    let award = |id: u64, winner: u64, runner_up: Option<u64>| Award {
        id,
        winner,
        runner_up,
    };
    // Writers 8 and 9 are linked to by awards only.
    store.put_many([writer(8, "Tove", None), writer(9, "Ada", None)])?;
    store.put_many([award(1, 8, Some(9)), award(2, 8, None)])?;
    {
        let txn = store.begin_read()?;
        let (writers, awards) = (txn.writers()?, txn.awards()?);
        let tove = writers.get(8)?.expect("writer 8");
        let won: Vec<u64> = collect(tove.awards_by_winner(&awards)?)
            .into_iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(won, [1, 2]);
        let ada = writers.get(9)?.expect("writer 9");
        assert_eq!(ada.awards_by_runner_up(&awards)?.map(|a| a.id), Some(1));
        assert_eq!(
            awards.get(1)?.expect("award").runner_up_in(&writers)?,
            Some(ada)
        );
    }
    for (bad, field) in [
        (award(3, 77, None), "winner"),
        (award(3, 8, Some(78)), "runner_up"),
    ] {
        let error = store.put(&bad).unwrap_err();
        assert_eq!(broken_link(&error).1, field);
    }
    // Writer 9 is only the runner-up of award 1 (a unique link), writer 8 the winner of both.
    let txn = store.begin_write()?;
    txn.writers()?.remove(9)?;
    let error = txn.commit().unwrap_err();
    assert_eq!(
        broken_link(&error),
        (
            "Award",
            "runner_up",
            "AwardPrimaryKey(1)",
            "Writer",
            "WriterPrimaryKey(9)"
        )
    );
    let txn = store.begin_write()?;
    txn.awards()?.put(&award(1, 9, None))?;
    txn.writers()?.remove(8)?;
    let error = txn.commit().unwrap_err();
    assert_eq!(
        broken_link(&error),
        (
            "Award",
            "winner",
            "AwardPrimaryKey(2)",
            "Writer",
            "WriterPrimaryKey(8)"
        )
    );
    // With its last award moved away, writer 8 can go.
    let txn = store.begin_write()?;
    txn.awards()?
        .put_many([award(1, 9, None), award(2, 9, None)])?;
    txn.writers()?.remove(8)?;
    txn.commit()?;
    Ok(())
}

/// `check_links` reads the linked model's table: with that tree still open it is a
/// `TreeInUse` error that says to drop the tree, and after dropping it the check runs.
#[test]
fn check_links_with_a_tree_open_says_to_drop_it() -> Result {
    let store = Store::<Links>::in_memory()?;
    let txn = store.begin_write()?;
    let mut writers = txn.writers()?;
    writers.put(&writer(1, "Ursula", None))?;
    {
        let mut volumes = txn.volumes()?;
        volumes.put(&volume("v1", 1, &[], None))?;
    }
    let error = txn.check_links().expect_err("the Writer tree is open");
    assert!(
        matches!(&error, Error::TreeInUse { table } if table == "Links/Writer"),
        "{error:?}"
    );
    assert!(error.to_string().contains("drop(tree)"), "{error}");
    drop(writers);
    txn.check_links()?;
    txn.commit()?;
    Ok(())
}
