//! The integration tests of netabase, gathered in one test binary: each file is a module, so
//! the fixtures' generated code and redb are linked once instead of once per file.
//!
//! Tests that must be their own process stay separate: `compile_fail.rs` (trybuild) and
//! `reliability_allocation.rs` (it installs a counting global allocator). The SIGKILL crash
//! tests run their child process from `src/bin/reliability_child` (the change feed's from
//! `src/bin/watch_child`).

mod builder;
mod fuzz_generate;
mod group_commit;
mod hostile;
mod links;
mod migration_steps;
mod migrations;
mod migrations_crash;
mod migrations_properties;
mod migrations_schemaless;
mod properties;
mod put_many;
mod raw;
mod reliability_atomicity;
mod reliability_backup;
mod reliability_concurrency;
mod reliability_corruption;
mod reliability_crash;
mod reliability_damage;
mod reliability_faults;
mod reliability_full_disk;
mod reliability_integrity;
mod reliability_salvage;
mod rustdoc;
mod scratch_crate;
mod snapshots;
mod store;
mod types;
mod watch;
mod watch_feed;
