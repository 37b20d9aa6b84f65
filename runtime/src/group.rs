//! Group commit: [`Store::write`] combines the closures of concurrent callers into one redb
//! transaction and one disk sync.
//!
//! A durable commit costs a sync of the file (milliseconds on most disks), whatever it holds;
//! threads that each commit a small transaction spend their time waiting for the disk. Here
//! each caller queues its closure; one of the waiting callers (the *leader*) takes every queued
//! closure, runs them one after another in a single write transaction and commits it once, then
//! hands each caller its own result. Callers that queue while the closures run join the group
//! before it commits; those that arrive during the commit queue up for the next group. So the
//! group grows with the load and a lone caller pays no more than `begin_write` + `commit`.
//!
//! Joining before the commit is what makes groups large. Without it, callers settle into two
//! alternating cohorts: while one cohort's group syncs, the other queues; when the sync ends,
//! the queued cohort starts its group at once, and the callers just served come back a few
//! microseconds later, to queue behind it. With 8 threads that made groups of 4 to 5. The
//! callers just served come back while the next group's closures run (a closure takes
//! microseconds, a sync most of a millisecond), so many of them now join that group instead:
//! 5.5 closures a group for 8 threads on 2 cores (8,000 single-record commits in 1,450 groups).
//! With more callers than cores, some of them are still waiting for a core when the closures
//! end; so a leader whose group is smaller than the last one yields its thread a few times
//! before committing (`wait_for_callers`), and groups grow to about 7 (8,000 commits in 1,020
//! to 1,250 groups): 3.9 times the throughput of a commit each, where it was 3.2 (medians of 8
//! interleaved runs of the disk benchmark's `concurrent` phase).
//!
//! Each caller's writes stay atomic and isolated from the others' failures. redb savepoints
//! cannot help inside a transaction that has already written (redb refuses a savepoint once the
//! transaction is dirty), so a failure is handled by running again: when a closure returns an
//! error (or panics, or leaves a broken checked link), the leader aborts the transaction,
//! drops that closure with its error, and runs the others again from the start in a fresh
//! transaction. A closure may therefore run more than once, always against the state of the
//! last commit plus the closures before it in its group: it must do its work through the
//! transaction only (no side effects it cannot repeat), which is why it is `FnMut`.

use crate::error::{Error, Result};
use crate::model::Definition;
use crate::store::Store;
use crate::transaction::WriteTransaction;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// The most closures one group takes in: callers that keep queuing while a group runs join it
/// up to this many, so a group always reaches its commit.
const MAX_GROUP: usize = 1024;

/// How many times a leader yields its thread, before committing a group smaller than the one
/// before it, to let the callers that group served queue again (see `wait_for_callers`).
const MAX_YIELDS: usize = 8;

/// A queued closure, its result type erased: it keeps its value in its own slot, and the
/// leader only learns whether it succeeded.
type Job<D> = Box<dyn for<'t> FnMut(&<D as Definition>::Write<'t>) -> Result<()> + Send>;

/// The group-commit queue of one [`Store`].
pub(crate) struct GroupCommit<D: Definition> {
    state: Mutex<State<D>>,
    /// Signalled when a group is finished (results are in, and nobody leads).
    finished: Condvar,
}

struct State<D: Definition> {
    queue: Vec<(u64, Job<D>)>,
    /// Whether a leader is running a group now.
    leading: bool,
    /// Results of finished jobs, by ticket, until their callers take them.
    results: HashMap<u64, Result<()>>,
    next_ticket: u64,
    /// How many closures the last group committed.
    last_group: usize,
}

impl<D: Definition> Default for GroupCommit<D> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                queue: Vec::new(),
                leading: false,
                results: HashMap::new(),
                next_ticket: 0,
                last_group: 0,
            }),
            finished: Condvar::new(),
        }
    }
}

impl<D: Definition> GroupCommit<D> {
    fn lock(&self) -> MutexGuard<'_, State<D>> {
        // Jobs run outside the lock and panics in them are caught, so a poisoned lock can only
        // come from a bug here; the state is still consistent (every change is one statement).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<D: Definition> Store<D> {
    /// Runs `f` in a write transaction shared with the closures of concurrent callers, commits
    /// them together with one disk sync, and returns `f`'s result once the commit is durable.
    ///
    /// Use it where many threads each commit small transactions: 8 threads calling `write`
    /// share syncs that 8 threads calling [`begin_write`](Self::begin_write) + `commit` would
    /// each pay. A caller alone pays the same as `begin_write` + `commit`.
    ///
    /// Each caller's writes are atomic and isolated from the others':
    ///
    /// * `Ok(value)`: everything `f` wrote is committed (and durable, with
    ///   [`Durability::Immediate`](crate::Durability::Immediate)).
    /// * `Err(e)` returned by `f`, a panic in `f` ([`Error::GroupWrite`]), or a broken checked
    ///   link it wrote ([`Error::BrokenLink`]): nothing `f` wrote is stored, and the other
    ///   callers of the group are not affected (their closures run again without it).
    /// * The shared commit failed (a storage error): every caller of the group gets
    ///   [`Error::GroupWrite`] and nothing of the group is stored.
    ///
    /// `f` sees the last commit plus the writes of the closures queued before it, and may run
    /// more than once (again from that state, when another closure of its group fails): do the
    /// work through the transaction only. It runs on whichever waiting caller's thread leads
    /// the group, hence `Send + 'static` (move what it writes into it). `f` gets the generated
    /// write transaction, the same as [`begin_write`](Self::begin_write) returns: open trees
    /// inside it (`txn.users()`) and drop them before it returns:
    ///
    /// ```ignore
    /// let user = User { id: 7, name: "Ann".into(), email: "ann@example.com".into(), age: 30 };
    /// store.write(move |txn| txn.users()?.put(&user))?;
    /// ```
    pub fn write<T, F>(&self, mut f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&D::Write<'_>) -> Result<T> + Send + 'static,
    {
        let slot = Arc::new(Mutex::new(None));
        let out = Arc::clone(&slot);
        let job: Job<D> = Box::new(move |txn| {
            let value = f(txn)?;
            *out.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
            Ok(())
        });
        self.run_grouped(job)?;
        let value = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        value.ok_or_else(|| Error::GroupWrite {
            detail: "the grouped write finished without a result".into(),
        })
    }

    /// How many [`write`](Self::write) calls are queued and not yet taken by a group (a
    /// running group takes them in before it commits). For tests that need callers to share
    /// a group.
    #[doc(hidden)]
    pub fn queued_writes(&self) -> usize {
        self.group.lock().queue.len()
    }

    /// Queues `job`, leads groups while no one else does, and returns the job's result.
    fn run_grouped(&self, job: Job<D>) -> Result<()> {
        let group = &self.group;
        let mut state = group.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queue.push((ticket, job));
        loop {
            if let Some(result) = state.results.remove(&ticket) {
                return result;
            }
            if state.leading {
                state = group
                    .finished
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Nobody leads and our job is still queued: lead a group with everything queued.
            state.leading = true;
            let jobs = std::mem::take(&mut state.queue);
            drop(state);
            // Every ticket the group takes, those of callers joining it included.
            let mut tickets: Vec<u64> = jobs.iter().map(|(ticket, _)| *ticket).collect();
            // Closures' panics are caught in `run_job`; this catches one in redb itself, so
            // that the callers of the group get an error instead of waiting forever.
            let results = catch_unwind(AssertUnwindSafe(|| self.run_group(jobs, &mut tickets)))
                .unwrap_or_else(|_| {
                    let detail = "the shared transaction panicked";
                    tickets
                        .into_iter()
                        .map(|ticket| {
                            (
                                ticket,
                                Err(Error::GroupWrite {
                                    detail: detail.into(),
                                }),
                            )
                        })
                        .collect()
                });
            state = group.lock();
            state.results.extend(results);
            state.leading = false;
            group.finished.notify_all();
        }
    }

    /// Runs `jobs`, and the jobs queued while they run, in one transaction and commits it;
    /// returns each job's result and adds the tickets of the jobs it took in to `tickets`. A
    /// job that fails is dropped with its error and the others run again in a fresh
    /// transaction.
    fn run_group(
        &self,
        mut jobs: Vec<(u64, Job<D>)>,
        tickets: &mut Vec<u64>,
    ) -> Vec<(u64, Result<()>)> {
        let mut results = Vec::with_capacity(jobs.len());
        'group: loop {
            if jobs.is_empty() {
                return results;
            }
            let txn: D::Write<'_> = match self.write_transaction() {
                Ok(txn) => txn.into(),
                Err(error) => return fail_all(results, jobs, &error),
            };
            let mut i = 0;
            loop {
                while i < jobs.len() {
                    if let Err(error) = run_job(&txn, &mut jobs[i].1) {
                        // Nothing of this transaction is kept: the failed job leaves the
                        // group, the others start again.
                        let (ticket, _) = jobs.remove(i);
                        results.push((ticket, Err(error)));
                        drop(Into::<WriteTransaction<'_, D>>::into(txn).abort());
                        continue 'group;
                    }
                    i += 1;
                }
                if !self.join_queued(&mut jobs, tickets)
                    && !self.wait_for_callers(&mut jobs, tickets)
                {
                    break;
                }
            }
            self.group.lock().last_group = jobs.len();
            return match Into::<WriteTransaction<'_, D>>::into(txn).commit() {
                Ok(()) => {
                    results.extend(jobs.into_iter().map(|(ticket, _)| (ticket, Ok(()))));
                    results
                }
                Err(error) => fail_all(results, jobs, &error),
            };
        }
    }

    /// Before a group smaller than the last one commits: yields this thread up to
    /// [`MAX_YIELDS`] times, taking in the closures queued meanwhile; false if none came.
    ///
    /// The callers the last group served come back for their next write a few microseconds
    /// after its commit, but with more callers than cores they are runnable and not yet
    /// running while this group's closures run, and would miss it: with 8 threads on 2 cores,
    /// groups of 5.5 closures. A yield lets them run and queue (no sleep: when no thread is
    /// waiting for a core, it returns at once), and groups grow to about 7. A caller alone
    /// (groups of one) never yields.
    fn wait_for_callers(&self, jobs: &mut Vec<(u64, Job<D>)>, tickets: &mut Vec<u64>) -> bool {
        let last = self.group.lock().last_group;
        for _ in 0..MAX_YIELDS {
            if jobs.len() >= last {
                return false;
            }
            std::thread::yield_now();
            if self.join_queued(jobs, tickets) {
                return true;
            }
        }
        false
    }

    /// Moves the closures queued since the group began into `jobs` (up to [`MAX_GROUP`] in
    /// all), their tickets into `tickets`; false if none was taken.
    fn join_queued(&self, jobs: &mut Vec<(u64, Job<D>)>, tickets: &mut Vec<u64>) -> bool {
        let room = MAX_GROUP.saturating_sub(jobs.len());
        let mut state = self.group.lock();
        let take = state.queue.len().min(room);
        if take == 0 {
            return false;
        }
        let joining = state.queue.drain(..take);
        tickets.extend(joining.as_slice().iter().map(|(ticket, _)| *ticket));
        jobs.extend(joining);
        true
    }
}

/// Runs one job and checks the checked links written so far (so a broken link is the job's
/// own failure, not the group's); a panic becomes [`Error::GroupWrite`].
fn run_job<D: Definition>(txn: &D::Write<'_>, job: &mut Job<D>) -> Result<()> {
    match catch_unwind(AssertUnwindSafe(|| job(txn))) {
        Ok(result) => result.and_then(|()| txn.as_ref().check_links()),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-string payload".into());
            Err(Error::GroupWrite {
                detail: format!("the closure panicked: {message}"),
            })
        }
    }
}

/// Every remaining job gets the group's failure (errors are not `Clone`: each gets its text).
fn fail_all<D: Definition>(
    mut results: Vec<(u64, Result<()>)>,
    jobs: Vec<(u64, Job<D>)>,
    error: &Error,
) -> Vec<(u64, Result<()>)> {
    results.extend(jobs.into_iter().map(|(ticket, _)| {
        let detail = format!("the shared commit failed: {error}");
        (ticket, Err(Error::GroupWrite { detail }))
    }));
    results
}
