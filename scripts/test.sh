#!/usr/bin/env bash
# Runs every suite: formatting and lint, the wasm components' build, native unit and
# integration tests (the integration tests drive the built .wasm through the test host),
# end-to-end checks with real clients, HTTP fuzzing, short cargo-fuzz runs where a nightly
# toolchain exists, and the benchmark tool's --quick mode. Each stage prints its duration.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() {
  local name=$1; shift
  local start=$SECONDS
  echo "=== $name"
  "$@"
  echo "=== $name: $((SECONDS - start)) s"
}

# Spin components (cdylibs, and the adapter crate they share) target wasm32-wasip2: they are
# built and linted for it, not tested natively.
mapfile -t WASM_PKGS < <(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    kinds = {k for t in p["targets"] for k in t["kind"]}
    if "cdylib" in kinds or p["name"] == "promagg-spin":
        print(p["name"])')
NATIVE_EXCLUDES=()
WASM_ARGS=()
for p in "${WASM_PKGS[@]}"; do NATIVE_EXCLUDES+=(--exclude "$p"); WASM_ARGS+=(-p "$p"); done

fuzz_smoke() {
  if ! rustup toolchain list | grep -q nightly; then
    echo "no nightly toolchain: cargo-fuzz runs skipped (corpora still run as unit tests)"
    return 0
  fi
  command -v cargo-fuzz >/dev/null || cargo install -q cargo-fuzz
  # libFuzzer writes new inputs into the first corpus directory: a scratch one, so the committed
  # seeds (read from the second) stay as committed. About 45 s in all over the targets.
  local scratch t
  scratch=$(mktemp -d)
  for t in $(cargo +nightly fuzz list --fuzz-dir fuzz); do
    mkdir -p "$scratch/$t"
    cargo +nightly fuzz run --fuzz-dir fuzz "$t" "$scratch/$t" "fuzz/corpus/$t" -- \
      -max_total_time="${FUZZ_SECONDS:-6}" -rss_limit_mb=2048 ||
      { rm -rf "$scratch"; return 1; }
  done
  rm -rf "$scratch"
}

stage "cargo fmt" cargo fmt --all -- --check
stage "build components (wasm32-wasip2)" scripts/build-components.sh
stage "clippy (components, wasm32-wasip2)" cargo clippy --target wasm32-wasip2 "${WASM_ARGS[@]}" -- -D warnings
stage "clippy (native)" cargo clippy --workspace "${NATIVE_EXCLUDES[@]}" --all-targets -- -D warnings
stage "cargo test (core, test host, integration of the .wasm components)" cargo test --workspace "${NATIVE_EXCLUDES[@]}"
for s in e2e.sh http-fuzz.sh status-page-check.sh; do
  if [ -x "scripts/$s" ]; then stage "scripts/$s" "scripts/$s"; fi
done
if [ -d fuzz ]; then stage "cargo fuzz (short runs)" fuzz_smoke; fi
if cargo metadata --no-deps --format-version 1 | grep -q '"name":"promagg-bench"'; then
  stage "benchmarks --quick" cargo run -p promagg-bench -- --quick all
fi
