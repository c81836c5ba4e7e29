#!/usr/bin/env bash
# End to end: the tools people already run, unchanged, against the served app.
#
# Serves spin.toml with the test host (a free loopback port, a temporary state directory), plus
# a second gateway with auth_write_tokens set, and a real Prometheus scraping the first one;
# then runs every check under tests/clients/ (README curl examples, promtool and OpenMetrics,
# Python prometheus_client, Node prom-client and promjs, Go client_golang, Prometheus queries).
# It installs nothing: a missing tool fails its check, naming the package to install (.ci/run
# installs them all). Everything started is stopped on exit. The last line is
# "N passed, M failed"; the exit status is non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CLIENTS=$ROOT/tests/clients
WRITE_TOKEN=e2e-write-token

work=$(mktemp -d "${TMPDIR:-/tmp}/promagg-e2e.XXXXXX")
pids=()
passed=0
failed=0
failures=()

finish() {
  local status=$?
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null
  done
  if [ "$failed" -gt 0 ]; then
    for log in "$work"/gateway-*.log; do
      [ -e "$log" ] || continue
      echo "--- last lines of $(basename "$log") (the gateway logs every refused request)"
      tail -n 15 "$log" | sed 's/^/    /'
    done
    echo "FAILED: ${failures[*]}"
  fi
  rm -rf "$work"
  echo "$passed passed, $failed failed"
  if [ "$failed" -gt 0 ] || [ "$status" -ne 0 ]; then
    exit 1
  fi
}
trap finish EXIT

fatal() {
  echo "e2e: FAIL: $*" >&2
  failed=$((failed + 1))
  failures+=("setup")
  exit 1
}

# Missing tools: `need_cmd CMD "how to install"`; collects into $missing for the current check.
missing=()
need_cmd() {
  command -v "$1" >/dev/null 2>&1 || missing+=("$1 (install: $2)")
}
need_file() {
  [ -e "$1" ] || missing+=("$1 (install: $2)")
}
need_python_client() {
  need_cmd python3 "Debian python3"
  python3 -c 'import prometheus_client' 2>/dev/null \
    || missing+=("Python module prometheus_client (install: pip prometheus_client)")
}
need_node_packages() {
  need_cmd node "Debian nodejs (18 or later: global fetch)"
  need_file "$CLIENTS/node/node_modules/prom-client/package.json" \
    "npm ci --prefix tests/clients/node (npm prom-client, promjs; Debian npm)"
  need_file "$CLIENTS/node/node_modules/promjs/package.json" \
    "npm ci --prefix tests/clients/node (npm prom-client, promjs; Debian npm)"
}

# Runs one check: `check NAME FUNCTION`; the function's requirements are checked by it.
check() {
  local name=$1 fn=$2 start=$SECONDS rc
  echo "=== $name"
  missing=()
  "$fn" >"$work/check.log" 2>&1
  rc=$?
  sed 's/^/    /' "$work/check.log"
  if [ ${#missing[@]} -gt 0 ]; then
    for m in "${missing[@]}"; do echo "    missing: $m"; done
    rc=1
  fi
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "=== ok: $name ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "=== FAIL: $name ($((SECONDS - start)) s)"
  fi
}

# A free loopback port for a tool that cannot report the one it bound.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts a served gateway: `start_gateway NAME [--variable K=V...]`; sets $gateway_url.
start_gateway() {
  local name=$1
  shift
  local state="$work/state-$name" log="$work/gateway-$name.log"
  mkdir -p "$state"
  cargo run -q -p spin-test-host -- serve --manifest spin.toml --listen 127.0.0.1:0 \
    --state-dir "$state" "$@" >"$log" 2>&1 &
  pids+=($!)
  local pid=$!
  for _ in $(seq 1 600); do
    gateway_url=$(sed -n 's/^Serving \(http:[^ ]*\).*/\1/p' "$log" | head -n 1)
    [ -n "$gateway_url" ] && { echo "gateway $name: $gateway_url (state $state)"; return 0; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  cat "$log" >&2
  fatal "the test host did not start serving the $name gateway"
}

# ---------------------------------------------------------------- checks

readme_examples() {
  need_cmd curl "Debian curl"
  [ ${#missing[@]} -eq 0 ] || return 1
  "$CLIENTS/readme_examples.sh" "$URL" "$ROOT/README.md"
}

every_type_promtool_openmetrics() {
  need_cmd curl "Debian curl"
  need_cmd promtool "Debian prometheus"
  need_python_client
  [ ${#missing[@]} -eq 0 ] || return 1
  curl -sf -X DELETE "$URL/metrics/__all" >/dev/null || { echo "DELETE /metrics/__all failed"; return 1; }
  python3 "$CLIENTS/python/every_type.py" "$URL" push || return 1
  curl -sf "$URL/metrics" >"$work/metrics.txt" || { echo "GET /metrics failed"; return 1; }
  if ! promtool check metrics <"$work/metrics.txt" >"$work/promtool.out" 2>&1 \
    || [ -s "$work/promtool.out" ]; then
    echo "promtool check metrics is not clean:"
    cat "$work/promtool.out"
    echo "on:"
    cat "$work/metrics.txt"
    return 1
  fi
  echo "promtool check metrics: clean on $(grep -c '^# TYPE' "$work/metrics.txt") families"
  python3 "$CLIENTS/python/every_type.py" "$URL" check
}

python_push() {
  need_python_client
  [ ${#missing[@]} -eq 0 ] || return 1
  python3 "$CLIENTS/python/push_check.py" "$URL"
}

python_auth() {
  need_python_client
  [ ${#missing[@]} -eq 0 ] || return 1
  python3 "$CLIENTS/python/auth_check.py" "$AUTH_URL" "$WRITE_TOKEN"
}

expect() {
  python3 "$CLIENTS/python/expect.py" "$URL" "$@"
}

# Expected series of prom-client's registry after RUNS runs, the last setting GAUGE.
node_series() {
  local g='instance="n1",job="node_client",path="api/v1"' r=$1
  exp=(
    "node_requests_total{$g,route=\"/orders\"} $((2 * r))"
    "node_queue_depth{$g} $2"
    "node_task_seconds_bucket{$g,le=\"0.5\"} 0"
    "node_task_seconds_bucket{$g,le=\"2\"} $r"
    "node_task_seconds_bucket{$g,le=\"+Inf\"} $r"
    "node_task_seconds_count{$g} $r"
    "node_task_seconds_sum{$g} $r"
    "node_payload_bytes{$g,quantile=\"0.5\"} 300"
    "node_payload_bytes_count{$g} $r"
    "node_payload_bytes_sum{$g} $((300 * r))"
  )
}

node_prom_client() {
  need_python_client
  need_node_packages
  [ ${#missing[@]} -eq 0 ] || return 1
  local run=(node "$CLIENTS/node/prom_client_push.js" "$URL")
  "${run[@]}" delete || return 1
  "${run[@]}" push 10 || return 1
  node_series 1 10
  expect "${exp[@]}" || return 1
  "${run[@]}" pushAdd 7 || return 1
  node_series 2 7
  expect "${exp[@]}" || return 1
  "${run[@]}" delete || return 1
  expect '!*{job="node_client"}' || return 1
  echo "prom-client Pushgateway: push sums with pushAdd, gauge keeps the last value, delete removes the group"
}

node_promjs() {
  need_cmd curl "Debian curl"
  need_python_client
  need_node_packages
  [ ${#missing[@]} -eq 0 ] || return 1
  local run=(node --no-deprecation "$CLIENTS/node/promjs_readme_example.js" "$URL")
  curl -sf -X DELETE "$URL/metrics/my_counter" || return 1
  "${run[@]}" || return 1
  expect 'my_counter{plan="pro",user="user1"} 1' 'my_counter{plan="free",user="user2"} 3' \
    'my_counter{plan="pro",user="user3"} 1' || return 1
  "${run[@]}" || return 1
  expect 'my_counter{plan="pro",user="user1"} 2' 'my_counter{plan="free",user="user2"} 6' \
    'my_counter{plan="pro",user="user3"} 2' || return 1
  echo "promjs (the original README's Workers example 2): JSON.stringify(registry.metrics()) adds up"
}

# Expected series of the Go program after RUNS runs, the last setting GAUGE; SUM = 0.75 * RUNS.
go_series() {
  local g='instance="g1",job="go_client",path="batch/nightly"' r=$1
  exp=(
    "gocli_tasks_done_total{$g,queue=\"emails\"} $((4 * r))"
    "gocli_temperature_celsius{$g} $2"
    "gocli_task_duration_seconds_bucket{$g,le=\"0.5\"} 0"
    "gocli_task_duration_seconds_bucket{$g,le=\"1\"} $r"
    "gocli_task_duration_seconds_bucket{$g,le=\"+Inf\"} $r"
    "gocli_task_duration_seconds_count{$g} $r"
    "gocli_task_duration_seconds_sum{$g} $3"
    "gocli_payload_bytes{$g,quantile=\"0.5\"} 100"
    "gocli_payload_bytes_count{$g} $r"
    "gocli_payload_bytes_sum{$g} $((100 * r))"
  )
}

go_client_golang() {
  need_python_client
  need_cmd go "Debian golang-go"
  need_file /usr/share/gocode/src/github.com/prometheus/client_golang/prometheus/push/push.go \
    "Debian golang-github-prometheus-client-golang-dev"
  [ ${#missing[@]} -eq 0 ] || return 1
  local bin="$work/go_push_check"
  # Debian's packaged Go sources, no module download; a build cache even without $HOME.
  (cd "$CLIENTS/go" && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= \
    GOCACHE="${GOCACHE:-${XDG_CACHE_HOME:-${HOME:-$work}/.cache}/go-build}" \
    go build -o "$bin" push_check.go) || { echo "go build failed"; return 1; }
  "$bin" "$URL" delete || return 1
  "$bin" "$URL" push 20 || return 1
  go_series 1 20 0.75
  expect "${exp[@]}" || return 1
  "$bin" "$URL" add 21 || return 1
  go_series 2 21 1.5
  expect "${exp[@]}" || return 1
  "$bin" "$URL" delete || return 1
  expect '!*{job="go_client"}' || return 1
  echo "client_golang push (protobuf-delimited): Push and Add sum, gauge keeps the last value, Delete removes the group"
}

prometheus_scrape() {
  need_python_client
  need_cmd prometheus "Debian prometheus"
  [ ${#missing[@]} -eq 0 ] || return 1
  [ -n "${PROM_URL:-}" ] || { echo "Prometheus was not started"; return 1; }
  if ! python3 "$CLIENTS/python/prometheus_check.py" "$PROM_URL" "$URL" "$TARGET"; then
    echo "Prometheus log:"
    tail -n 20 "$work/prometheus.log"
    return 1
  fi
}

start_prometheus() {
  command -v prometheus >/dev/null 2>&1 || return 0
  local port
  port=$(free_port) || return 0
  sed "s/127\.0\.0\.1:3000/$TARGET/" "$CLIENTS/prometheus.yml" >"$work/prometheus.yml"
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus-data" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn >"$work/prometheus.log" 2>&1 &
  pids+=($!)
  PROM_URL="http://127.0.0.1:$port"
  echo "prometheus: $PROM_URL scraping $TARGET every 1 s"
}

# ---------------------------------------------------------------- main

command -v cargo >/dev/null || fatal "cargo is missing (install Rust with the wasm32-wasip2 target)"
echo "=== build: components and test host"
cargo build -q --target wasm32-wasip2 --profile component -p gateway -p pusher \
  || fatal "building the components failed"
cargo build -q -p spin-test-host || fatal "building the test host failed"

start_gateway open
URL=$gateway_url
TARGET=${URL#http://}
start_gateway auth --variable "auth_write_tokens=$WRITE_TOKEN"
AUTH_URL=$gateway_url
PROM_URL=
start_prometheus

# The README's examples first: the first one expects an empty store.
check "README curl examples" readme_examples
check "promtool check metrics + OpenMetrics parser (every metric type)" every_type_promtool_openmetrics
check "Python prometheus_client push/pushadd/delete (base64 grouping key)" python_push
check "Python prometheus_client basic_auth_handler (auth_write_tokens)" python_auth
check "Node prom-client Pushgateway push/pushAdd/delete" node_prom_client
check "Node promjs: the original README's Workers example" node_promjs
check "Go client_golang push.New().Push()/Add()/Delete()" go_client_golang
# Last: compares everything the gateway holds with what Prometheus scraped.
check "Prometheus scrape (honor_labels) and HTTP API query" prometheus_scrape
