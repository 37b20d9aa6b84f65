//! The schema commands: `check` and `gen`, the steps build.rs runs, by hand.

use crate::Failure;
use netabase_build::{Options, generate};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A schema's text and the name it is shown under (the path as given, with `/`).
pub(crate) fn read_schema(path: &Path) -> Result<(String, String), Failure> {
    if path == Path::new("-") {
        let mut source = String::new();
        std::io::stdin()
            .read_to_string(&mut source)
            .map_err(|e| format!("cannot read the schema from standard input: {e}"))?;
        return Ok((source, "<stdin>".to_owned()));
    }
    let source = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read schema `{}`: {e}", path.display()))?;
    Ok((source, path.to_string_lossy().replace('\\', "/")))
}

pub(crate) fn check(paths: &[PathBuf]) -> Result<(), Failure> {
    let mut failed = false;
    for path in paths {
        let (source, name) = match read_schema(path) {
            Ok(read) => read,
            Err(Failure::Message(message)) => {
                eprintln!("error: {message}");
                failed = true;
                continue;
            }
            Err(Failure::Reported) => {
                failed = true;
                continue;
            }
        };
        let options = Options {
            source_name: name.clone(),
            ..Options::default()
        };
        match generate(&source, &options) {
            Ok(_) => println!("{name}: ok, {}", summary(&source, &name)),
            Err(diagnostics) => {
                eprint!("{}", diagnostics.render());
                failed = true;
            }
        }
    }
    if failed {
        Err(Failure::Reported)
    } else {
        Ok(())
    }
}

/// `definition Atlas v1, 2 models, 5 secondary keys, 7 tables` for a valid schema.
fn summary(source: &str, name: &str) -> String {
    let Some(schema) = validated(source, name) else {
        return "valid".to_owned();
    };
    let models = schema.models.len();
    let keys: usize = schema.models.iter().map(|m| m.secondary_keys.len()).sum();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "definition {} v{}, {}, {}, {}",
        schema.definition.name.schema,
        schema.definition.version,
        plural(models, "model", "models"),
        plural(keys, "secondary key", "secondary keys"),
        plural(models + keys, "table", "tables"),
    )
}

/// The validated IR of a schema, or `None` if it has errors.
pub(crate) fn validated(source: &str, name: &str) -> Option<netabase_build::ir::Schema> {
    let mut errors = Vec::new();
    let raw = netabase_build::parse::parse(source, &mut errors)?;
    let schema = netabase_build::validate::validate(raw, source, name, &mut errors)?;
    errors.is_empty().then_some(schema)
}

pub(crate) fn gen_code(
    path: &Path,
    output: Option<&Path>,
    serde: bool,
    extra_derives: Vec<String>,
) -> Result<(), Failure> {
    let (source, name) = read_schema(path)?;
    let options = Options {
        source_name: name,
        serde,
        extra_derives,
    };
    let code = generate(&source, &options).map_err(|diagnostics| {
        eprint!("{}", diagnostics.render());
        Failure::Reported
    })?;
    match output {
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`netabase gen x.toml | head`) is not an error worth a message.
            match stdout
                .write_all(code.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(format!("cannot write to standard output: {e}").into())
                }
                _ => Ok(()),
            }
        }
        Some(file) => {
            netabase_build::write::write_if_changed(file, &code)
                .map_err(|e| format!("cannot write `{}`: {e}", file.display()))?;
            eprintln!("wrote {} ({} lines)", file.display(), code.lines().count());
            Ok(())
        }
    }
}
