#!/usr/bin/env bash
# Builds the Spin components for wasm32-wasip2 (profile `component`):
#   target/wasm32-wasip2/component/{gateway,pusher}-cloud.wasm  cargo feature `no-atomics`
#       (Spin cloud hosts: imports wasi:keyvalue/store only; spin.cloud.toml uses them)
#   target/wasm32-wasip2/component/{gateway,pusher}.wasm        default (spin up, Redis, SpinKube)
#   target/wasm32-wasip2/component/*.wasm                       every other component of the
#       workspace: the trivial baseline, ingest, the test fixtures (chaining, dependencies)
# Cargo unifies features within one invocation, so the variant gets its own invocation, and it
# runs first: the default build then leaves gateway.wasm/pusher.wasm as the default variant.
# Both stay in cargo's cache, so a second run of this script compiles nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/wasm32-wasip2/component
build=(cargo build --target wasm32-wasip2 --profile component)

"${build[@]}" -p gateway -p pusher --features no-atomics
for c in gateway pusher; do
  cp "$out/$c.wasm" "$out/$c-cloud.wasm.tmp"
  mv -f "$out/$c-cloud.wasm.tmp" "$out/$c-cloud.wasm"
done
# Every cdylib package of the workspace, in one invocation (none of them enables no-atomics).
mapfile -t pkgs < <(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    if any("cdylib" in t["kind"] for t in p["targets"]):
        print("-p"); print(p["name"])')
"${build[@]}" "${pkgs[@]}"
