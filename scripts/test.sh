#!/usr/bin/env bash
# Runs every suite: lint, the wasm components' build, native unit and integration tests
# (the integration tests drive the built .wasm through the test host), and the benchmark
# tool's --quick mode. Each stage prints its duration.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() {
  local name=$1; shift
  local start=$SECONDS
  echo "=== $name"
  "$@"
  echo "=== $name: $((SECONDS - start)) s"
}

COMPONENTS=(-p gateway -p pusher -p trivial)
NATIVE_EXCLUDES=(--exclude gateway --exclude pusher --exclude trivial --exclude promagg-spin)

existing_components() {
  local args=()
  for p in gateway pusher trivial; do
    if cargo metadata --no-deps --format-version 1 2>/dev/null | grep -q "\"name\":\"$p\""; then
      args+=(-p "$p")
    fi
  done
  echo "${args[@]}"
}

stage "cargo fmt" cargo fmt --all -- --check
# shellcheck disable=SC2046
stage "build components (wasm32-wasip2)" cargo build --target wasm32-wasip2 --profile component $(existing_components) -p promagg-spin
# shellcheck disable=SC2046
stage "clippy (components, wasm32-wasip2)" cargo clippy --target wasm32-wasip2 $(existing_components) -p promagg-spin -- -D warnings
stage "clippy (native)" cargo clippy --workspace "${NATIVE_EXCLUDES[@]}" --all-targets -- -D warnings
stage "cargo test (native: core, test host, integration)" cargo test --workspace "${NATIVE_EXCLUDES[@]}"
if [ -x scripts/e2e.sh ]; then
  stage "end-to-end (real clients, Prometheus, Redis)" scripts/e2e.sh
fi
if cargo metadata --no-deps --format-version 1 | grep -q '"name":"promagg-bench"'; then
  stage "benchmarks --quick" cargo run -p promagg-bench -- --quick all
fi
