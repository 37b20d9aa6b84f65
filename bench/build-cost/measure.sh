#!/usr/bin/env bash
# Build cost of netabase against native_db (GitHub issue 5): the same small app (one model, a
# unique and a non-unique secondary key, a write transaction, three lookups) built
#   1. clean, in a fresh target directory (dependencies already downloaded: `cargo fetch` first,
#      untimed), in the dev and the release profile;
#   2. again after touching only the app's code (`src/main.rs`), in the dev profile. For netabase
#      this also checks that the schema step (the build script) did not run again;
#   3. again after editing the schema (a doc line on the model: `doc = ...` in `users.toml` for
#      netabase, a `///` line on `struct User` in `src/main.rs` for native_db), in the dev
#      profile: the code generation runs again (the build script, the derive macros) and the app
#      is recompiled. The file is restored afterwards.
# The apps are standalone crates excluded from the workspace, so CI never builds them.
#
# Usage: bench/build-cost/measure.sh            (prints a Markdown table)
set -euo pipefail
cd "$(dirname "$0")"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f s", b - a }'; }

declare -A results
for app in app-netabase app-native-db; do
    target=$(mktemp -d)
    trap 'rm -rf "$target"' EXIT
    (cd "$app" && cargo fetch -q)
    for profile in dev release; do
        flag=()
        [ "$profile" = release ] && flag=(--release)
        start=$(now)
        (cd "$app" && CARGO_TARGET_DIR="$target" cargo build -q --offline "${flag[@]}")
        results[$app,clean-$profile]=$(elapsed "$start" "$(now)")
    done
    touch "$app/src/main.rs"
    start=$(now)
    log=$(cd "$app" && CARGO_TARGET_DIR="$target" cargo build -v --offline 2>&1)
    results[$app,rebuild]=$(elapsed "$start" "$(now)")
    grep -q "Compiling $app" <<<"$log" || { echo "$app was not rebuilt after the touch" >&2; exit 1; }
    if grep -q 'build-script-build`' <<<"$log"; then
        results[$app,schema]="re-ran"
    else
        results[$app,schema]="not re-run"
    fi
    case $app in
        app-netabase) schema=users.toml; edit='s/^\[models.User\]$/[models.User]\ndoc = "A user of the app."/' ;;
        app-native-db) schema=src/main.rs; edit='s|^struct User {$|/// A user of the app.\nstruct User {|' ;;
    esac
    cp "$app/$schema" "$target/schema.orig"
    trap 'cp "$target/schema.orig" "$app/$schema"; rm -rf "$target"' EXIT
    sed -i "$edit" "$app/$schema"
    cmp -s "$app/$schema" "$target/schema.orig" && { echo "$app: the schema edit changed nothing" >&2; exit 1; }
    start=$(now)
    (cd "$app" && CARGO_TARGET_DIR="$target" cargo build -q --offline)
    results[$app,schema-edit]=$(elapsed "$start" "$(now)")
    cp "$target/schema.orig" "$app/$schema"
    crates=$(grep -c '^name = ' "$app/Cargo.lock")
    results[$app,crates]=$((crates - 1))
    rm -rf "$target"
    trap - EXIT
done

echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(rustc --version)"
echo
echo "| app | crates in Cargo.lock | clean build (dev) | clean build (release) | rebuild after touching src/main.rs (dev) | build script on rebuild | rebuild after a schema edit (dev) |"
echo "|---|---:|---:|---:|---:|---|---:|"
for app in app-netabase app-native-db; do
    echo "| $app | ${results[$app,crates]} | ${results[$app,clean-dev]} | ${results[$app,clean-release]} | ${results[$app,rebuild]} | ${results[$app,schema]} | ${results[$app,schema-edit]} |"
done
