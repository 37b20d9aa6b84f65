//! The `netabase` command-line tool, run as a user runs it: the built binary, its exit status,
//! its standard output and error.

use netabase_build::{Options, generate};
use redb::{Database, TableDefinition};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const SCHEMA: &str = r#"[definition]
name = "Library"
version = 2
doc = "Books and authors."

[models.Author]
primary_key = "id"
[models.Author.fields]
id = "u64"
name = { type = "String", secondary_key = "unique" }

[models.Book]
primary_key = "isbn"
secondary_keys = [{ name = "author_year", fields = ["author", "year"] }]
[models.Book.fields]
isbn = "String"
author = { type = "u64", secondary_key = true }
year = "i32"
"#;

/// A schema with two mistakes: an unknown type and a primary key naming no field.
const BROKEN: &str = r#"[definition]
name = "Library"
version = 1

[models.Author]
primary_key = "idd"
[models.Author.fields]
id = "u64"
name = "Strng"
"#;

fn netabase(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netabase"))
        .args(args)
        .output()
        .expect("run netabase")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf-8 stderr")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// What `generate` gives for `path`'s text under the name the tool shows it by.
fn generated(path: &Path, options: Options) -> String {
    let source = std::fs::read_to_string(path).expect("read");
    generate(
        &source,
        &Options {
            source_name: arg(path).replace('\\', "/"),
            ..options
        },
    )
    .expect("valid schema")
}

#[test]
fn help_explains_every_command_with_examples() {
    let help = netabase(&["--help"]);
    assert!(help.status.success());
    let text = stdout(&help);
    for expected in [
        "check",
        "gen",
        "inspect",
        "Examples:",
        "netabase check schemas/library.toml",
        "netabase inspect library.redb",
        "Exit status",
        "docs/SCHEMA.md",
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` missing from --help:\n{text}"
        );
    }
    for (command, expected) in [
        ("check", "file:line:col"),
        ("gen", "-o, --output <FILE>"),
        ("inspect", "--schema <SCHEMA>"),
    ] {
        let help = netabase(&[command, "--help"]);
        assert!(help.status.success());
        let text = stdout(&help);
        assert!(
            text.contains(expected) && text.contains("Examples:"),
            "`netabase {command} --help` lacks `{expected}` or examples:\n{text}"
        );
    }
    // No command: the help, and the usage-error status.
    let bare = netabase(&[]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(stderr(&bare).contains("Usage: netabase"));
    let version = netabase(&["--version"]);
    assert!(stdout(&version).starts_with("netabase "));
}

#[test]
fn check_summarizes_a_valid_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = write(dir.path(), "library.toml", SCHEMA);
    let output = netabase(&["check", arg(&schema)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!(
            "{}: ok, definition Library v2, 2 models, 3 secondary keys, 5 tables\n",
            arg(&schema)
        )
    );
    assert_eq!(stderr(&output), "");
}

#[test]
fn check_reports_every_error_and_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = write(dir.path(), "broken.toml", BROKEN);
    let output = netabase(&["check", arg(&schema)]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    let errors = stderr(&output);
    let name = arg(&schema);
    for expected in [
        "error: the primary key names an unknown field `idd`".to_owned(),
        format!("{name}:6:15"),
        "error: unknown type `Strng`".to_owned(),
        format!("{name}:9:9"),
        "help: did you mean `String`?".to_owned(),
        "help: did you mean `id`?".to_owned(),
        format!("could not compile schema `{name}` due to 2 previous errors"),
    ] {
        assert!(
            errors.contains(&expected),
            "`{expected}` missing from:\n{errors}"
        );
    }
}

#[test]
fn check_goes_on_after_a_bad_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = write(dir.path(), "broken.toml", BROKEN);
    let good = write(dir.path(), "good.toml", SCHEMA);
    let missing = dir.path().join("missing.toml");
    let output = netabase(&["check", arg(&broken), arg(&missing), arg(&good)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains(&format!("{}: ok", arg(&good))));
    let errors = stderr(&output);
    assert!(errors.contains("unknown type `Strng`"), "{errors}");
    assert!(
        errors.contains(&format!("error: cannot read schema `{}`", arg(&missing))),
        "{errors}"
    );
}

#[test]
fn check_reads_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netabase"))
        .args(["check", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), BROKEN.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("<stdin>:9:9"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn gen_prints_what_generate_returns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = write(dir.path(), "library.toml", SCHEMA);
    let output = netabase(&["gen", arg(&schema)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), generated(&schema, Options::default()));

    let output = netabase(&["gen", arg(&schema), "--serde", "--derive", "Hash"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected = generated(
        &schema,
        Options {
            serde: true,
            extra_derives: vec!["Hash".to_owned()],
            ..Options::default()
        },
    );
    assert_eq!(stdout(&output), expected);
    assert!(expected.contains("::serde::Serialize") && expected.contains("Hash"));
}

#[test]
fn gen_writes_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = write(dir.path(), "library.toml", SCHEMA);
    let out = dir.path().join("library_generated.rs");
    let output = netabase(&["gen", arg(&schema), "-o", arg(&out)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).starts_with(&format!("wrote {}", arg(&out))));
    assert_eq!(
        std::fs::read_to_string(&out).expect("written"),
        generated(&schema, Options::default())
    );
}

#[test]
fn gen_of_a_broken_schema_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = write(dir.path(), "broken.toml", BROKEN);
    let out = dir.path().join("out.rs");
    let output = netabase(&["gen", arg(&schema), "--output", arg(&out)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("help: did you mean `String`?"));
    assert!(!out.exists());
}

/// A database file as a netabase store leaves it: the metadata table and `&[u8] -> &[u8]` tables.
fn create_database(path: &Path, definition: &str, version: u64, fingerprint: &str) {
    let db = Database::create(path).expect("create");
    let txn = db.begin_write().expect("write");
    {
        let mut meta = txn
            .open_table(TableDefinition::<&str, &[u8]>::new("netabase/meta"))
            .expect("meta");
        meta.insert("definition", definition.as_bytes())
            .expect("insert");
        meta.insert("version", version.to_be_bytes().as_slice())
            .expect("insert");
        meta.insert("fingerprint", fingerprint.as_bytes())
            .expect("insert");
        let bytes = |name: &'static str| TableDefinition::<&[u8], &[u8]>::new(name);
        let mut authors = txn.open_table(bytes("Library/Author")).expect("table");
        for id in 0u64..3 {
            authors
                .insert(id.to_be_bytes().as_slice(), b"record".as_slice())
                .expect("insert");
        }
        let mut names = txn.open_table(bytes("Library/Author/name")).expect("table");
        for name in ["Ann", "Bo", "Cy"] {
            names
                .insert(name.as_bytes(), b"key".as_slice())
                .expect("insert");
        }
        for table in [
            "Library/Book",
            "Library/Book/author",
            "Library/Book/author_year",
        ] {
            txn.open_table(bytes(table)).expect("table");
        }
    }
    txn.commit().expect("commit");
}

/// The definition name, version and fingerprint the schema compiles to.
fn identity(source: &str) -> (String, u64, String) {
    let mut errors = Vec::new();
    let raw = netabase_build::parse::parse(source, &mut errors).expect("parses");
    let schema =
        netabase_build::validate::validate(raw, source, "x.toml", &mut errors).expect("valid");
    (
        schema.definition.name.schema.clone(),
        schema.definition.version,
        netabase_build::fingerprint::fingerprint(&schema),
    )
}

#[test]
fn inspect_shows_metadata_tables_and_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("library.redb");
    create_database(&db, "Library", 2, "0123456789abcdef");
    let output = netabase(&["inspect", arg(&db)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with(&format!("database     {} (", arg(&db))),
        "{text}"
    );
    for line in [
        "definition   Library",
        "version      2",
        "fingerprint  0123456789abcdef",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line `{line}` in:\n{text}"
        );
    }
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip_while(|l| !l.starts_with("table "))
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [
            ["table", "rows"],
            ["Library/Author", "3"],
            ["Library/Author/name", "3"],
            ["Library/Book", "0"],
            ["Library/Book/author", "0"],
            ["Library/Book/author_year", "0"],
            ["netabase/meta", "3"],
        ],
        "{text}"
    );
    // A file written without a layout (as netabase did before it stored one) says so.
    assert_eq!(
        text.lines().last(),
        Some(
            "layout       none stored (written before netabase stored layouts: its records \
             cannot be read without its schema)"
        ),
        "{text}"
    );
    // Read-only: the file is not changed.
    let before = std::fs::read(&db).expect("read");
    netabase(&["inspect", arg(&db)]);
    assert_eq!(std::fs::read(&db).expect("read"), before);
}

#[test]
fn inspect_compares_with_a_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = write(dir.path(), "library.toml", SCHEMA);
    let (definition, version, fingerprint) = identity(SCHEMA);
    let db = dir.path().join("library.redb");
    create_database(&db, &definition, version, &fingerprint);
    let output = netabase(&["inspect", arg(&db), "--schema", arg(&schema)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&format!("schema       {}: matches", arg(&schema))),
        "{}",
        stdout(&output)
    );

    let old = dir.path().join("old.redb");
    create_database(&old, &definition, 1, "ffffffffffffffff");
    let output = netabase(&["inspect", arg(&old), "--schema", arg(&schema)]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("does not match"), "{text}");
    assert!(
        text.contains("version: the database has 1, the schema 2"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "fingerprint: the database has ffffffffffffffff, the schema {fingerprint}"
        )),
        "{text}"
    );
    assert!(
        stderr(&output).contains("2 differences"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn inspect_rejects_a_file_that_is_not_a_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "notes.txt", &"not a database\n".repeat(400));
    let output = netabase(&["inspect", arg(&file)]);
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(
        errors.starts_with(&format!(
            "error: {} is not a netabase database (Not a redb database",
            arg(&file)
        )),
        "{errors}"
    );
    assert!(!errors.contains("panicked"), "{errors}");

    let empty = write(dir.path(), "empty.redb", "");
    let output = netabase(&["inspect", arg(&empty)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: "),
        "{}",
        stderr(&output)
    );

    let missing = dir.path().join("missing.redb");
    let output = netabase(&["inspect", arg(&missing)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with(&format!("error: cannot read {}", arg(&missing))),
        "{}",
        stderr(&output)
    );
    assert!(!missing.exists(), "inspect must not create a database");
}

#[test]
fn inspect_rejects_a_redb_file_without_netabase_metadata() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("other.redb");
    {
        let db = Database::create(&path).expect("create");
        let txn = db.begin_write().expect("write");
        txn.open_table(TableDefinition::<u64, u64>::new("counters"))
            .expect("table")
            .insert(1, 2)
            .expect("insert");
        txn.commit().expect("commit");
    }
    let output = netabase(&["inspect", arg(&path)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("counters"), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("is a redb database but not a netabase one"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn inspect_reports_malformed_metadata() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("odd.redb");
    {
        let db = Database::create(&path).expect("create");
        let txn = db.begin_write().expect("write");
        {
            let mut meta = txn
                .open_table(TableDefinition::<&str, &[u8]>::new("netabase/meta"))
                .expect("meta");
            meta.insert("definition", b"Library".as_slice())
                .expect("insert");
            meta.insert("version", b"\x01".as_slice()).expect("insert");
        }
        txn.commit().expect("commit");
    }
    let output = netabase(&["inspect", arg(&path)]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("version      <malformed: 1 bytes, expected 8>"),
        "{text}"
    );
    assert!(text.contains("fingerprint  <missing>"), "{text}");
    assert!(
        stderr(&output).contains("incomplete or malformed (version, fingerprint)"),
        "{}",
        stderr(&output)
    );
}

/// `tests/fixtures/migrations/NAME.toml`, as a path from this crate.
fn shop_schema(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/migrations")
        .join(format!("{name}.toml"))
}

/// A `shop_v1` database (the test crate's compiled fixture) with two users and one order.
fn shop_v1_database(dir: &Path) -> PathBuf {
    use netabase_tests::migrations::shop_v1::*;
    let path = dir.join("shop.redb");
    let store = netabase_runtime::Store::<Shop>::open(&path).expect("open");
    let txn = store.begin_write().expect("write");
    {
        let mut users = txn.users().expect("users");
        for (id, name, tier) in [(1, "Ada", Tier::Plus), (2, "Bo \"B\"", Tier::Basic)] {
            users
                .put(&User {
                    id,
                    name: name.to_owned(),
                    title: format!("Dr {id}"),
                    age: 30 + id as u8,
                    score: 1.5,
                    nickname: format!("nick{id}"),
                    tier,
                    fax: String::new(),
                })
                .expect("put");
        }
        txn.orders()
            .expect("orders")
            .put(&Order {
                id: 9,
                user: 2,
                total: 1200,
            })
            .expect("put");
    }
    txn.commit().expect("commit");
    path
}

/// Everything the database holds, read without its schema: identity, layout, every record.
fn contents(path: &Path) -> Vec<String> {
    use netabase_runtime::schemaless;
    let stored = schemaless::stored_schema(path)
        .expect("read")
        .expect("netabase metadata");
    let mut out = vec![format!("{:?}", stored)];
    for model in ["User", "Order", "Legacy"] {
        schemaless::for_each_record(path, model, |record| {
            out.push(format!("{model} {record:?}"));
            true
        })
        .expect("records");
    }
    out
}

#[test]
fn inspect_shows_the_stored_layout() {
    use netabase_runtime::Definition;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = shop_v1_database(dir.path());
    let output = netabase(&["inspect", arg(&db)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let layout: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "layout")
        .skip(1)
        .collect();
    let expected: Vec<String> = netabase_tests::migrations::shop_v1::Shop::LAYOUT
        .lines()
        .map(|l| format!("  {l}"))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(layout, expected, "{text}");
    // The same text the compiler gives for the schema file.
    let source = std::fs::read_to_string(shop_schema("shop_v1")).expect("read");
    let compiled = netabase_build::stored_layout(&source, "shop_v1.toml").expect("valid");
    assert_eq!(compiled, netabase_tests::migrations::shop_v1::Shop::LAYOUT);
}

#[test]
fn inspect_prints_records_by_the_stored_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = shop_v1_database(dir.path());
    let output = netabase(&["inspect", arg(&db), "--records", "User"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "id: 1, name: \"Ada\", title: \"Dr 1\", age: 31, score: 1.5, nickname: \"nick1\", tier: Plus, fax: \"\"\n\
         id: 2, name: \"Bo \\\"B\\\"\", title: \"Dr 2\", age: 32, score: 1.5, nickname: \"nick2\", tier: Basic, fax: \"\"\n"
    );
    let output = netabase(&["inspect", arg(&db), "--records", "User", "--limit", "1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 1);
    assert!(stdout(&output).starts_with("id: 1, "));
    let output = netabase(&["inspect", arg(&db), "--records", "Order"]);
    assert_eq!(stdout(&output), "id: 9, user: 2, total: 1200\n");
    let output = netabase(&["inspect", arg(&db), "--records", "Legacy"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
}

#[test]
fn inspect_records_of_an_unknown_model_names_the_models() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = shop_v1_database(dir.path());
    let output = netabase(&["inspect", arg(&db), "--records", "Customer"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    let err = stderr(&output);
    assert!(
        err.contains("has no model `Customer`: its models are User, Order, Legacy"),
        "{err}"
    );
    let output = netabase(&["inspect", arg(&db), "--records", "User", "--limit", "0"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[test]
fn diff_lists_every_change_with_its_class() {
    let output = netabase(&[
        "diff",
        arg(&shop_schema("shop_v1")),
        arg(&shop_schema("shop_v2")),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            "version 1 -> 2",
            "automatic           Tier: new variant(s) at the end: Gold",
            "automatic           User: field title renamed to display_name",
            "automatic           User: field age: u8 widened to u32",
            "automatic           User: field score: f32 widened to f64",
            "automatic           User: field nickname: String widened to Option<String>",
            "automatic           User: new field email: Option<String> (None)",
            "automatic           User: new field country: String (default \"New Zealand\")",
            "automatic           User: field fax removed (removed_fields)",
            "automatic           User: index name changed",
            "automatic           User: index age added",
            "automatic           Order: field total: u32 widened to i64",
            "automatic           Coupon: new model (empty tables)",
            "automatic           Legacy: model removed (removed_models)",
            "13 changes: 13 automatic, 0 needs confirmation, 0 not automatic",
        ],
        "{text}"
    );
}

#[test]
fn diff_fails_on_a_change_that_would_stop_a_migration() {
    let old = shop_schema("shop_v1");
    let output = netabase(&["diff", arg(&old), arg(&shop_schema("shop_narrowed"))]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert_eq!(
        text.lines().skip(1).collect::<Vec<_>>(),
        [
            "version 1 -> 2",
            "not automatic       Order: field `Order.total` changed from `u32` to `u16`: only widening is automatic (a larger integer, f32 to f64, T to Option<T>)",
            "1 change: 0 automatic, 0 needs confirmation, 1 not automatic",
        ]
    );
    assert!(stderr(&output).contains("1 change would stop a migration"));

    let output = netabase(&["diff", arg(&old), arg(&shop_schema("shop_unconfirmed"))]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.lines().any(|l| l.starts_with(
            "needs confirmation  User: field `User.fax` is gone from the schema: to drop it from \
             every record (its values are lost), add `removed_fields = [\"fax\"]` to `[models.User]`"
        )),
        "{text}"
    );

    let output = netabase(&["diff", arg(&old), arg(&shop_schema("shop_same_version"))]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.lines()
            .any(|l| l.starts_with("the layout changed but version is still 1: raise `version`")),
        "{text}"
    );
    assert!(stderr(&output).contains("the versions break the rules"));

    // Backwards: a version that goes down.
    let output = netabase(&["diff", arg(&shop_schema("shop_option_field")), arg(&old)]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn diff_of_a_schema_with_itself_finds_nothing() {
    let old = shop_schema("shop_v1");
    let output = netabase(&["diff", arg(&old), arg(&old)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).lines().skip(1).collect::<Vec<_>>(),
        ["version 1 -> 1", "no change to the layout"]
    );
}

/// `netabase migrate --db DB --schema tests/fixtures/migrations/SCHEMA.toml --dry-run`.
fn dry_run(db: &Path, schema: &str) -> Output {
    netabase(&[
        "migrate",
        "--db",
        arg(db),
        "--schema",
        arg(&shop_schema(schema)),
        "--dry-run",
    ])
}

#[test]
fn migrate_dry_run_says_what_opening_would_do_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = shop_v1_database(dir.path());
    let before = contents(&db);
    let output = dry_run(&db, "shop_option_field");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!(
            "opening would migrate `{}` from Shop version 1 to 2, in one write transaction:\n\
             automatic           User: new field email: Option<String> (None)\n\
             (dry run: nothing was written)\n",
            arg(&db)
        )
    );
    assert_eq!(contents(&db), before);

    let output = dry_run(&db, "shop_v1");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!(
            "`{}` is at Shop version 1: opening would write nothing\n(dry run: nothing was written)\n",
            arg(&db)
        )
    );
}

#[test]
fn migrate_dry_run_reports_the_refusal_opening_would_give() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = shop_v1_database(dir.path());
    let before = contents(&db);
    let output = dry_run(&db, "shop_narrowed");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    let err = stderr(&output);
    assert!(err.contains("would be refused"), "{err}");
    assert!(
        err.contains("`Order.total` changed from `u32` to `u16`"),
        "{err}"
    );
    assert_eq!(contents(&db), before);
}

/// `netabase migrate --db DB --schema tests/fixtures/migrations/SCHEMA.toml`.
fn migrate(db: &Path, schema: &str) -> Output {
    netabase(&[
        "migrate",
        "--db",
        arg(db),
        "--schema",
        arg(&shop_schema(schema)),
    ])
}

/// Without --dry-run, `netabase migrate` migrates the file as the program built from the
/// schema would on open (which then finds nothing to do), prints the report, and a second run
/// says there is nothing to migrate.
#[test]
fn migrate_migrates_the_file_and_a_second_run_finds_nothing_to_do() {
    use netabase_tests::migrations::shop_v2;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = shop_v1_database(dir.path());
    let output = migrate(&db, "shop_v2");
    assert!(output.status.success(), "{}", stderr(&output));
    // stderr is not a terminal here: indicatif hides the progress bar.
    assert_eq!(stderr(&output), "");
    let text = stdout(&output);
    assert!(
        text.starts_with("migrated from version 1 to 2 in "),
        "{text}"
    );
    for line in [
        "  User: 2 record(s) rewritten, 2 index(es) rebuilt",
        "    field title renamed to display_name",
        "    new field country: String (default \"New Zealand\")",
        "  Order: 1 record(s) rewritten, 0 index(es) rebuilt",
        "  Legacy: removed",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    {
        let store = netabase_runtime::Store::<shop_v2::Shop>::open(&db).expect("open");
        assert!(store.migration().is_none(), "the program migrated again");
        let txn = store.begin_read().expect("read");
        let ada = txn.users().expect("users").get_by_name("Ada").expect("get");
        assert_eq!(
            ada.map(|u| (u.id, u.country)),
            Some((1, "New Zealand".to_owned()))
        );
    }
    let output = migrate(&db, "shop_v2");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!("`{}` is at Shop version 2: nothing to migrate\n", arg(&db))
    );
}

/// A migration `netabase migrate` cannot make (here one that needs a typed step) is exit
/// status 1 with the refusal, and the file is byte for byte as it was.
#[test]
fn migrate_refuses_what_needs_the_program_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = shop_v1_database(dir.path());
    let before = std::fs::read(&db).expect("read");
    let output = migrate(&db, "shop_narrowed");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    let err = stderr(&output);
    assert!(err.starts_with("error: cannot migrate"), "{err}");
    assert!(
        err.contains("`Order.total` changed from `u32` to `u16`")
            && err.contains("open the file from the program that has it"),
        "{err}"
    );
    assert!(std::fs::read(&db).expect("read") == before);
    let files: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
    assert_eq!(files.len(), 1, "the working copy was left behind");
}

/// `netabase compact`: after most rows are removed the file keeps its size; compacting gives
/// the space back, prints both sizes, and keeps every remaining row. A file that is not a
/// database is exit status 1 with a message, and is left as it was.
#[test]
fn compact_shrinks_a_file_and_keeps_its_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.redb");
    let table: TableDefinition<u64, &[u8]> = TableDefinition::new("rows");
    {
        let db = Database::create(&path).expect("create");
        let txn = db.begin_write().expect("write");
        {
            let mut rows = txn.open_table(table).expect("table");
            for id in 0..4_000u64 {
                rows.insert(id, [id as u8; 500].as_slice()).expect("insert");
            }
        }
        txn.commit().expect("commit");
        let txn = db.begin_write().expect("write");
        txn.open_table(table)
            .expect("table")
            .retain(|id, _| id % 10 == 0)
            .expect("retain");
        txn.commit().expect("commit");
    }
    let before = std::fs::metadata(&path).expect("size").len();
    let output = netabase(&["compact", path.to_str().expect("utf-8 path")]);
    assert!(output.status.success(), "{}", stderr(&output));
    let after = std::fs::metadata(&path).expect("size").len();
    assert!(after * 3 < before, "{before} -> {after}");
    assert_eq!(
        stdout(&output),
        format!(
            "compacted {}: {before} bytes -> {after} bytes\n",
            path.display()
        )
    );
    let db = Database::open(&path).expect("open");
    let txn = redb::ReadableDatabase::begin_read(&db).expect("read");
    let rows = txn.open_table(table).expect("table");
    assert_eq!(redb::ReadableTableMetadata::len(&rows).expect("len"), 400);

    let text = write(dir.path(), "notes.txt", "not a database");
    let output = netabase(&["compact", text.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("is not a netabase database"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(&text).expect("read"),
        "not a database"
    );
}

/// `netabase recover`: a library database with pages of book records zeroed is salvaged
/// without its schema. The output counts what was rescued and lost per model; the damaged file
/// is left as it was; the rescued file opens with the library's program, which builds its
/// indexes, passes `check_integrity`, and holds exactly the rescued books, each as written.
/// An existing output, and a redb file without a stored layout, are exit status 1 with a
/// message that says what to do.
#[test]
fn recover_salvages_a_damaged_file_without_its_schema() {
    use netabase_tests::library::{Author, Book, Library};
    const PAGE: usize = 4096;
    let book = |n: u64| Book {
        isbn: format!("isbn-{n:05}"),
        title: format!("Title of book {n}, "),
        author: n % 50,
        year: 1900 + (n % 120) as i32,
        available: n.is_multiple_of(3),
        tags: vec![format!("tag-{}", n % 11)],
        cover: None,
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let original = dir.path().join("library.redb");
    {
        let store = netabase_runtime::Store::<Library>::open(&original).expect("open");
        let txn = store.begin_write().expect("write");
        txn.authors()
            .expect("authors")
            .put_many((0..50).map(|id| Author {
                id,
                name: format!("Author {id}"),
                country: None,
            }))
            .expect("authors");
        txn.books()
            .expect("books")
            .put_many((0..2_000).map(book))
            .expect("books");
        txn.commit().expect("commit");
    }
    // Zero the two pages holding the most book titles (leaf pages of the book table).
    let mut bytes = std::fs::read(&original).expect("read");
    let mut titles: Vec<(usize, usize)> = bytes
        .chunks(PAGE)
        .map(|page| page.windows(14).filter(|w| *w == b"Title of book ").count())
        .enumerate()
        .map(|(page, count)| (count, page))
        .collect();
    titles.sort_unstable_by(|a, b| b.cmp(a));
    for &(_, page) in &titles[..2] {
        bytes[page * PAGE..(page + 1) * PAGE].fill(0);
    }
    let damaged = dir.path().join("damaged.redb");
    std::fs::write(&damaged, &bytes).expect("write");
    let rescued = dir.path().join("rescued.redb");

    let output = netabase(&["recover", arg(&damaged), "-o", arg(&rescued)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(&damaged).expect("read"),
        bytes,
        "damaged file unchanged"
    );
    let store = netabase_runtime::Store::<Library>::open(&rescued).expect("open rescued");
    let books: Vec<Book> = {
        let txn = store.begin_read().expect("read");
        let books = txn.books().expect("books");
        books
            .iter()
            .expect("iter")
            .map(|b| b.expect("book"))
            .collect()
    };
    let rescued_books = books.len() as u64;
    assert!(
        (1_000..2_000).contains(&rescued_books),
        "two damaged leaves lose some books, not most: {rescued_books}; {}",
        stdout(&output)
    );
    for b in &books {
        assert_eq!(*b, book(b.isbn[5..].parse().expect("isbn")));
    }
    // Two damaged leaves: the scan's failed read of each (or one for both when they are
    // neighbours), and the failed look-up of each lost book, which the indexes name.
    let printed = stdout(&output);
    let lost = 2_000 - rescued_books;
    let damaged_reads = if printed.contains(&format!(
        "undecodable, {} damaged reads)\nindexes",
        lost + 1
    )) {
        lost + 1
    } else {
        lost + 2
    };
    assert_eq!(
        printed,
        format!(
            "rescued {} records of Library version 1 from {} into {}\n  Author: 50 rescued, 0 \
             lost (0 undecodable, 0 damaged reads)\n  Book: {rescued_books} rescued, {} lost (0 \
             undecodable, {damaged_reads} damaged reads)\nindexes are built when a program of \
             version 1 first opens {}\n",
            50 + rescued_books,
            damaged.display(),
            rescued.display(),
            lost,
            rescued.display()
        )
    );
    {
        // The rebuilt year index finds the rescued books of 1905 and no others.
        let txn = store.begin_read().expect("read");
        let by_year: Vec<Book> = txn
            .books()
            .expect("books")
            .range_by_year(1905..=1905)
            .expect("range")
            .map(|b| b.expect("book"))
            .collect();
        let expected: Vec<Book> = books.iter().filter(|b| b.year == 1905).cloned().collect();
        assert!(!expected.is_empty());
        assert_eq!(by_year, expected);
    }
    let mut store = store;
    let check = store.check_integrity().expect("check");
    assert!(check.is_clean(), "{check:?}");
    drop(store);

    // The output exists now: refused, and the rescued file is kept.
    let again = netabase(&["recover", arg(&damaged), "-o", arg(&rescued)]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("the file exists"),
        "{}",
        stderr(&again)
    );
    assert!(rescued.exists());

    // A redb file without netabase metadata has no layout to read records by.
    let plain = dir.path().join("plain.redb");
    {
        let db = Database::create(&plain).expect("create");
        let txn = db.begin_write().expect("write");
        txn.open_table(TableDefinition::<u64, u64>::new("rows"))
            .expect("table")
            .insert(1, 2)
            .expect("insert");
        txn.commit().expect("commit");
    }
    let out = dir.path().join("plain-rescued.redb");
    let refused = netabase(&["recover", arg(&plain), "-o", arg(&out)]);
    assert_eq!(refused.status.code(), Some(1));
    let message = stderr(&refused);
    assert!(
        message.contains("its layout cannot be read without the schema")
            && message.contains("netabase_runtime::recover::<YourDefinition>"),
        "{message}"
    );
    assert!(!out.exists(), "nothing written");
}
