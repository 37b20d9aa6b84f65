//! Containment: no panic from redb escapes a netabase call.
//!
//! redb trusts the structure of the pages it reads. A page damaged outside redb (bit rot, a bad
//! copy, a hostile file) can make it index out of bounds or reach an `unreachable!()` (see
//! docs/RELIABILITY.md). netabase's own decoding is fallible and never panics, so the only
//! panics left come from inside redb. Every public entry point that reaches redb (opening,
//! beginning and committing transactions, opening trees, every tree method, every iterator
//! step) runs its body through [`Health::guard`] (or [`contain`] when there is no store yet),
//! which catches an unwinding panic and turns it into [`Error::Corrupted`], naming the table
//! when there is one.
//!
//! A panic may leave redb's in-memory state half-updated, so after the first one the store is
//! *poisoned*: every later guarded call on it, from any thread, is refused with
//! [`Error::Corrupted`] until the store is dropped and the file reopened. The check is one
//! relaxed atomic load per call.
//!
//! This needs unwinding: with `panic = "abort"` nothing can be caught and a damaged page aborts
//! the process (open with `verify_on_open(true)` there). The panic hook runs before the panic is
//! caught, so the default hook still prints redb's message on stderr.

use crate::error::{Error, Result};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a store is still usable, and the file it reads (for error messages).
#[derive(Debug)]
pub(crate) struct Health {
    poisoned: AtomicBool,
    path: PathBuf,
}

impl Health {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            poisoned: AtomicBool::new(false),
            path,
        }
    }

    /// Runs `f`, a call into redb on behalf of `table` (`""` for none), turning a panic into
    /// [`Error::Corrupted`] and poisoning the store; refuses to run it on a poisoned store.
    #[inline]
    pub(crate) fn guard<T>(&self, table: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        if self.poisoned.load(Ordering::Relaxed) {
            return Err(self.refused(table));
        }
        match catch(f) {
            Ok(Err(error)) => Err(self.reported(table, error)),
            Ok(result) => result,
            Err(message) => {
                self.poisoned.store(true, Ordering::Relaxed);
                Err(panicked(&self.path, table, &message))
            }
        }
    }

    /// An error returned inside the boundary, as the caller gets it: redb's own finding of
    /// damage (a bad checksum, entries out of order) is the same damage as a contained panic,
    /// reported the same way, naming the table.
    #[cold]
    fn reported(&self, table: &str, error: Error) -> Error {
        match error {
            Error::Storage(redb::StorageError::Corrupted(detail)) => {
                corrupted(&self.path, table, detail)
            }
            other => other,
        }
    }

    /// As [`guard`](Self::guard), for one iterator step: `None` (the end) passes through. Written
    /// out rather than on top of `guard`, so that an item (a decoded record) is not moved
    /// through extra layers on every step.
    #[inline]
    pub(crate) fn guard_step<T>(
        &self,
        table: &str,
        f: impl FnOnce() -> Option<Result<T>>,
    ) -> Option<Result<T>> {
        if self.poisoned.load(Ordering::Relaxed) {
            return Some(Err(self.refused(table)));
        }
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Some(Err(error))) => Some(Err(self.reported(table, error))),
            Ok(item) => item,
            Err(payload) => {
                self.poisoned.store(true, Ordering::Relaxed);
                Some(Err(panicked(&self.path, table, &message(payload))))
            }
        }
    }

    /// The database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a panic was contained on this store.
    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Relaxed)
    }

    fn refused(&self, table: &str) -> Error {
        corrupted(
            &self.path,
            table,
            "an earlier call found a damaged page, and this Store refuses further use: drop it \
             and reopen the file"
                .to_owned(),
        )
    }
}

/// Runs `f`, turning a panic inside it into [`Error::Corrupted`] for the database at `path`
/// (for calls made before there is a store to poison).
pub(crate) fn contain<T>(path: &Path, table: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch(f).unwrap_or_else(|message| Err(panicked(path, table, &message)))
}

/// Runs `f`; a panic becomes its message.
fn catch<T>(f: impl FnOnce() -> Result<T>) -> std::result::Result<Result<T>, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(message)
}

/// A panic's message.
fn message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

fn panicked(path: &Path, table: &str, message: &str) -> Error {
    corrupted(
        path,
        table,
        format!("the storage engine failed on a damaged page: {message}"),
    )
}

fn corrupted(path: &Path, table: &str, detail: String) -> Error {
    Error::Corrupted {
        path: path.to_path_buf(),
        table: (!table.is_empty()).then(|| table.to_owned()),
        detail,
    }
}

/// Owns a redb object whose `Drop` reads or writes pages (a database writes its allocator
/// state when closed, a write transaction frees its pages when aborted), and contains a panic
/// from that drop: dropping a `Store` or a transaction over a damaged file never panics.
/// Derefs to the object.
pub(crate) struct ContainDrop<T>(Option<T>);

impl<T> ContainDrop<T> {
    pub(crate) fn new(inner: T) -> Self {
        Self(Some(inner))
    }

    /// The object, to be consumed (a commit); its drop is then the caller's.
    pub(crate) fn into_inner(mut self) -> T {
        self.0
            .take()
            .expect("a ContainDrop holds its object until dropped")
    }
}

impl<T> std::ops::Deref for ContainDrop<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0
            .as_ref()
            .expect("a ContainDrop holds its object until dropped")
    }
}

impl<T> std::ops::DerefMut for ContainDrop<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0
            .as_mut()
            .expect("a ContainDrop holds its object until dropped")
    }
}

impl<T> Drop for ContainDrop<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.0.take() {
            // Nothing to report to: the file's damage was (or will be) reported by a call.
            let _ = catch_unwind(AssertUnwindSafe(|| drop(inner)));
        }
    }
}

thread_local! {
    /// Whether panics on this thread are expected and contained (see [`quietly`]).
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the panic messages of this thread left unprinted: for salvage, which reads a
/// damaged file on purpose and may meet thousands of contained panics. On first use it wraps
/// the panic hook then in place with one that skips quiet threads and hands every other panic
/// to it, so other threads' panics print as before. (A hook the program sets later replaces
/// the wrapper; then salvage's panics print.)
pub(crate) fn quietly<T>(f: impl FnOnce() -> T) -> T {
    static WRAP_HOOK: Once = Once::new();
    WRAP_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            QUIET.with(|quiet| quiet.set(self.0));
        }
    }
    let _restore = Restore(QUIET.with(|quiet| quiet.replace(true)));
    f()
}
