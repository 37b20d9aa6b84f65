//! Stage 5, write: put the generated file in place only when its content changed, so an
//! unchanged schema never makes cargo rebuild the crate that includes it.

use std::io;
use std::path::Path;

/// Writes `contents` to `path` unless the file already holds exactly that. Returns whether it
/// wrote.
pub fn write_if_changed(path: &Path, contents: &str) -> io::Result<bool> {
    match std::fs::read(path) {
        Ok(existing) if existing == contents.as_bytes() => Ok(false),
        _ => {
            std::fs::write(path, contents)?;
            Ok(true)
        }
    }
}
