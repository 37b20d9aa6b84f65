//! What both report binaries print around their tables: the machine, the crate versions,
//! durations, and the generated section of `docs/BENCHMARKS.md`.

use std::path::Path;
use std::process::Command;

/// A duration in nanoseconds, with three significant digits and a unit.
pub fn duration(ns: f64) -> String {
    let (value, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {unit}")
}

/// The trimmed output of a command, if it ran and succeeded.
pub fn command(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The machine: cores, CPU, RAM and kernel.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']))
        })
        .unwrap_or("unknown CPU")
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or_else(|| "?".into(), |kb| format!("{:.0}", kb / 1024.0 / 1024.0));
    let os = command("uname", &["-sr"]).unwrap_or_else(|| std::env::consts::OS.into());
    format!("{cores} cores ({cpu}), {ram_gib} GiB RAM, {os}")
}

/// The versions of the benchmarked crates, from `Cargo.lock`.
pub fn versions(root: &Path) -> String {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let mut found: Vec<(String, String)> = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_owned());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            found.push((n, v.trim_matches('"').to_owned()));
        }
    }
    let mut parts = Vec::new();
    for crate_name in [
        "netabase-runtime",
        "netabase-build",
        "redb",
        "bincode",
        "native_db",
        "native_model",
        "criterion",
        "rusqlite",
        "libsqlite3-sys",
        "heed",
        "lmdb-master-sys",
    ] {
        let mut vs: Vec<&str> = found
            .iter()
            .filter(|(n, _)| n == crate_name)
            .map(|(_, v)| v.as_str())
            .collect();
        vs.sort_unstable();
        if !vs.is_empty() {
            parts.push(format!("{crate_name} {}", vs.join(" + ")));
        }
    }
    parts.join(", ")
}

/// Replaces the text between `begin` and `end` (markers included) in the file at `path` with
/// `section`, which starts with `begin` and ends with `end`; appends it when the markers are
/// missing.
pub fn replace_section(path: &Path, begin: &str, end: &str, section: &str) {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (old.find(begin), old.find(end)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{}{}", &old[..b], section, &old[e + end.len()..])
        }
        _ if old.is_empty() => format!("# Benchmarks\n\n{section}\n"),
        _ => format!("{}\n{section}\n", old.trim_end()),
    };
    std::fs::write(path, new).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// The start of a generated section: the `begin` marker, `when` (a sentence), then the
/// machine, the toolchain and the crate versions, as a list.
pub fn header(begin: &str, root: &Path, when: &str) -> String {
    let rustc = command("rustc", &["--version"]).unwrap_or_else(|| "rustc ?".into());
    format!(
        "{begin}\n\n{when}\n\n- Machine: {}\n- Toolchain: {rustc}\n- Crates: {}\n\n",
        machine(),
        versions(root)
    )
}

/// The peak resident memory of this process so far, in KiB (the kernel's `VmHWM`; NaN where
/// there is no `/proc`).
pub fn peak_rss_kib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN)
}
