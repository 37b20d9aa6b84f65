//! The migration commands: `diff` (every change between two versions of a schema, and its
//! class), `migrate --dry-run` (what opening a database with a schema would do) and `migrate`
//! (the migration itself, without the program: `netabase_runtime::migrate_file`). All compare
//! layouts through the runtime (`netabase_runtime::migrate`, `schemaless::opening`), the same
//! code `Store::open` runs, so what they print and do is what a program would do.

use crate::Failure;
use crate::schema::{read_schema, validated};
use netabase_runtime::migrate::{Change, ChangeClass};
use netabase_runtime::schemaless::{Opening, opening};
use netabase_runtime::{FileMigration, Layout, MigrationPhase, MigrationProgress, SchemaInfo};
use std::path::Path;

/// A schema file, compiled to what a program built from it would store and check.
struct Compiled {
    /// The name it is shown under.
    name: String,
    /// Definition name, version and fingerprint.
    info: SchemaInfo,
    /// The layout text (`Definition::LAYOUT`).
    layout_text: String,
    /// The layout, parsed.
    layout: Layout,
}

fn compile(path: &Path) -> Result<Compiled, Failure> {
    let (source, name) = read_schema(path)?;
    let layout_text = netabase_build::stored_layout(&source, &name).map_err(|diagnostics| {
        eprint!("{}", diagnostics.render());
        Failure::Reported
    })?;
    let schema =
        validated(&source, &name).ok_or_else(|| format!("schema `{name}` did not validate"))?;
    let layout = Layout::parse(&layout_text)
        .map_err(|e| format!("the layout of `{name}` does not parse ({e}): please report this"))?;
    Ok(Compiled {
        info: SchemaInfo {
            definition: schema.definition.name.schema.clone(),
            version: schema.definition.version,
            fingerprint: netabase_build::fingerprint::fingerprint(&schema),
        },
        name,
        layout_text,
        layout,
    })
}

/// `netabase diff OLD NEW`: prints every change and its class; fails when a change is not
/// automatic, needs a confirmation, or the versions break the rules.
pub(crate) fn diff(old: &Path, new: &Path) -> Result<(), Failure> {
    let old = compile(old)?;
    let new = compile(new)?;
    let mut changes = netabase_runtime::migrate::diff(&old.layout, &new.layout);
    if old.info.definition != new.info.definition {
        changes.push(Change {
            subject: new.info.definition.clone(),
            class: ChangeClass::NotAutomatic,
            description: format!(
                "definition renamed from `{}`: a program for `{}` refuses a file of `{}` \
                 (migrations never rename a definition)",
                old.info.definition, new.info.definition, old.info.definition
            ),
        });
    }
    let layout_changed = old.info.fingerprint != new.info.fingerprint;
    let (from, to) = (old.info.version, new.info.version);
    let version_problem = if to < from {
        Some(format!(
            "version went down from {from} to {to}: versions only go up (a program refuses a \
             file of a newer version)"
        ))
    } else if layout_changed && to == from {
        Some(format!(
            "the layout changed but version is still {to}: raise `version` in `{}`'s \
             `[definition]`",
            new.name
        ))
    } else {
        None
    };
    println!("{} -> {}", old.name, new.name);
    println!("version {from} -> {to}");
    if changes.is_empty() {
        println!(
            "{}",
            if layout_changed {
                "no change to the records (only the layout's text differs)"
            } else {
                "no change to the layout"
            }
        );
    }
    print_changes(&changes);
    let blocking = changes
        .iter()
        .filter(|c| c.class != ChangeClass::Automatic)
        .count();
    if let Some(problem) = &version_problem {
        println!("{problem}");
    }
    if !changes.is_empty() {
        println!("{}", summary(&changes));
    }
    match (blocking, version_problem) {
        (0, None) => Ok(()),
        (0, Some(_)) => Err("the versions break the rules: nothing would migrate"
            .to_owned()
            .into()),
        (n, _) => Err(format!(
            "{n} change{} would stop a migration: opening a database of `{}` with `{}` would be \
             refused",
            if n == 1 { "" } else { "s" },
            old.name,
            new.name
        )
        .into()),
    }
}

/// `netabase migrate --db FILE --schema SCHEMA --dry-run`: what opening would do.
pub(crate) fn dry_run(database: &Path, schema: &Path) -> Result<(), Failure> {
    let new = compile(schema)?;
    let shown = database.display();
    let (definition, version) = (&new.info.definition, new.info.version);
    if !database.exists() {
        println!(
            "`{shown}` does not exist: opening would create it for {definition} version {version}"
        );
        return Ok(());
    }
    let result = crate::inspect::quiet(|| opening(database, &new.info, &new.layout_text));
    match result.map_err(|e| {
        format!(
            "opening `{shown}` with `{}` would be refused: {e}",
            new.name
        )
    })? {
        Opening::Create => println!(
            "`{shown}` has no netabase metadata: opening would create {definition} version {version}'s tables in it"
        ),
        Opening::UpToDate => {
            println!("`{shown}` is at {definition} version {version}: opening would write nothing")
        }
        Opening::StoreLayout => println!(
            "`{shown}` is at {definition} version {version}: opening would store its layout, \
             nothing else"
        ),
        Opening::Migrate { from, to, changes } => {
            println!(
                "opening would migrate `{shown}` from {definition} version {from} to {to}, in one \
                 write transaction:"
            );
            if changes.is_empty() {
                println!("no change to the records (only the version number)");
            }
            print_changes(&changes);
        }
    }
    println!("(dry run: nothing was written)");
    Ok(())
}

/// `netabase migrate --db FILE --schema SCHEMA`: migrates the file to the schema, as a
/// program built from it would on open (automatic changes only), with a progress bar on
/// stderr, then prints what changed.
pub(crate) fn migrate(database: &Path, schema: &Path) -> Result<(), Failure> {
    let new = compile(schema)?;
    let shown = database.display();
    let bar = progress_bar();
    let progress = |p: &MigrationProgress<'_>| {
        let phase = match p.phase {
            MigrationPhase::Rewriting => "rewriting",
            _ => "indexing",
        };
        bar.set_message(format!("{} {phase}", p.model));
        bar.set_length(p.total);
        bar.set_position(p.done);
    };
    let result = crate::inspect::quiet(|| {
        netabase_runtime::migrate_file(database, &new.info, &new.layout_text, Some(&progress))
    });
    bar.finish_and_clear();
    let (definition, version) = (&new.info.definition, new.info.version);
    match result.map_err(|e| format!("cannot migrate `{shown}` to `{}`: {e}", new.name))? {
        FileMigration::Migrated(report) => print!("{report}"),
        FileMigration::LayoutStored => println!(
            "`{shown}` is at {definition} version {version}: its layout was stored, nothing \
             else changed"
        ),
        _ => println!("`{shown}` is at {definition} version {version}: nothing to migrate"),
    }
    Ok(())
}

/// A bar on stderr for the records of one model and phase (indicatif hides it when stderr is
/// not a terminal).
fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    let style = indicatif::ProgressStyle::with_template(
        "migrating {msg:>24} [{wide_bar:.cyan/blue}] {human_pos}/{human_len} records",
    )
    .map(|style| style.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

fn class_name(class: ChangeClass) -> &'static str {
    match class {
        ChangeClass::Automatic => "automatic",
        ChangeClass::NeedsConfirmation => "needs confirmation",
        ChangeClass::NotAutomatic => "not automatic",
        ChangeClass::TypedStep => "typed step",
    }
}

/// One line per change: `automatic           City: new field elevation: Option<i32> (None)`.
fn print_changes(changes: &[Change]) {
    for change in changes {
        println!(
            "{:<18}  {}: {}",
            class_name(change.class),
            change.subject,
            change.description
        );
    }
}

/// `3 changes: 2 automatic, 1 needs confirmation, 0 not automatic`.
fn summary(changes: &[Change]) -> String {
    let count = |class| changes.iter().filter(|c| c.class == class).count();
    format!(
        "{} change{}: {} automatic, {} needs confirmation, {} not automatic",
        changes.len(),
        if changes.len() == 1 { "" } else { "s" },
        count(ChangeClass::Automatic),
        count(ChangeClass::NeedsConfirmation),
        count(ChangeClass::NotAutomatic)
    )
}
