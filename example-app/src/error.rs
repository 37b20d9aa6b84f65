//! The app's one error type: what `main` prints before exiting with status 1.

use crate::data::DataError;
use std::fmt;
use std::path::PathBuf;

/// Everything that can make a command fail.
#[derive(Debug)]
pub enum AppError {
    /// The store failed (including a database written by another schema).
    Store(netabase_runtime::Error),
    /// An embedded data file did not load.
    Data { file: String, source: DataError },
    /// Writing the output failed.
    Output(std::io::Error),
    /// A query command was given a database file that does not exist.
    NoDatabase(PathBuf),
    /// A query command was given a database without cities.
    EmptyDatabase(PathBuf),
}

impl AppError {
    /// A data error in the named file.
    pub fn in_file(file: &str, source: DataError) -> Self {
        AppError::Data {
            file: file.to_owned(),
            source,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Store(error) => write!(f, "{error}"),
            AppError::Data { file, source } => write!(f, "{file}: {source}"),
            AppError::Output(error) => write!(f, "cannot write the output: {error}"),
            AppError::NoDatabase(path) => write!(
                f,
                "no database at {path}: run `example-app --db {path} import` first \
                 (or `example-app --db {path}` for a tour, which imports too)",
                path = path.display()
            ),
            AppError::EmptyDatabase(path) => write!(
                f,
                "the database at {path} has no cities: run `example-app --db {path} import` first",
                path = path.display()
            ),
        }
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AppError::Store(error) => Some(error),
            AppError::Data { source, .. } => Some(source),
            AppError::Output(error) => Some(error),
            AppError::NoDatabase(_) | AppError::EmptyDatabase(_) => None,
        }
    }
}

impl From<netabase_runtime::Error> for AppError {
    fn from(error: netabase_runtime::Error) -> Self {
        AppError::Store(error)
    }
}

impl From<std::io::Error> for AppError {
    fn from(error: std::io::Error) -> Self {
        AppError::Output(error)
    }
}
