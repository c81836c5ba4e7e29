#!/usr/bin/env bash
# The status page (GET /) in a real browser: serve mode of the test host, a few pushes (a
# Worker-style body, Pushgateway groups, a rejected request), then
#   - the page's HTML (curl) must name every pushed family, the groups and the rejection;
#   - headless Chromium (Debian package `chromium`) renders it, and the screenshot is kept as
#     the test artefact test-artifacts/status-page.png, which must be a non-trivial PNG.
# The components must already be built (scripts/build-components.sh); nothing is built here.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/serve.sh

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
  echo "chromium not found: apt-get install -y chromium" >&2
  exit 1
fi

serve_start
U=$SERVE_URL

expect() { # expect STATUS METHOD PATH [curl args...]
  local want=$1 method=$2 path=$3; shift 3
  local got
  got=$(curl -s -o /dev/null -w '%{http_code}' -X "$method" "$U$path" "$@")
  if [ "$got" != "$want" ]; then
    echo "$method $path: expected $want, got $got" >&2
    exit 1
  fi
}

expect 200 POST /metrics --data-binary $'# HELP http_requests_total Requests served, by code.
# TYPE http_requests_total counter
http_requests_total{code="200"} 1027
http_requests_total{code="500"} 3
# HELP queue_depth Jobs waiting <right now> & "later".
# TYPE queue_depth gauge
queue_depth 42
# HELP request_duration_seconds Request latency.
# TYPE request_duration_seconds histogram
request_duration_seconds_bucket{le="0.1"} 800
request_duration_seconds_bucket{le="1"} 1020
request_duration_seconds_bucket{le="+Inf"} 1030
request_duration_seconds_sum 95.2
request_duration_seconds_count 1030
'
expect 200 PATCH '/metrics/signups_total?plan=pro'
expect 200 PUT /metrics/job/nightly-backup/instance/db-1 --data-binary $'# HELP backup_last_success_timestamp_seconds Last successful backup.
# TYPE backup_last_success_timestamp_seconds gauge
backup_last_success_timestamp_seconds 1700000000
# TYPE backup_bytes_total counter
backup_bytes_total 73400320
'
expect 200 PUT /metrics/job/batch-import --data-binary $'# TYPE import_rows_total counter\nimport_rows_total 5120\n'
expect 400 POST /metrics --data-binary 'broken{ 1'

html=$(curl -sf "$U/")
for needle in http_requests_total queue_depth request_duration_seconds signups_total \
    backup_last_success_timestamp_seconds backup_bytes_total import_rows_total push_time_seconds \
    'job=&quot;nightly-backup&quot;' 'job=&quot;batch-import&quot;' \
    'Jobs waiting &lt;right now&gt; &amp; &quot;later&quot;.' \
    '<td class="mono">parse</td>' 'open (no tokens configured)' max_total_series; do
  if ! grep -qF -- "$needle" <<<"$html"; then
    echo "status page lacks: $needle" >&2
    exit 1
  fi
done
if grep -q '<script' <<<"$html"; then
  echo "status page must work without JavaScript (found <script)" >&2
  exit 1
fi

mkdir -p test-artifacts
png=test-artifacts/status-page.png
rm -f "$png"
profile=$(mktemp -d)
timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --screenshot="$png" --window-size=1280,900 "$U/" \
  >"$profile.log" 2>&1 || { cat "$profile.log" >&2; rm -rf "$profile" "$profile.log"; exit 1; }
rm -rf "$profile" "$profile.log"

if [ ! -f "$png" ]; then
  echo "chromium wrote no screenshot" >&2
  exit 1
fi
size=$(stat -c %s "$png")
magic=$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')
if [ "$magic" != "89504e470d0a1a0a" ] || [ "$size" -lt 20000 ]; then
  echo "$png is not a rendered page (PNG signature $magic, $size bytes)" >&2
  exit 1
fi
# The page names an inline icon, so the browser's visit costs no (counted) /favicon.ico 404.
if curl -sf "$U/metrics" | grep -F 'promagg_rejections_total{reason="not_found"}'; then
  echo "the browser's visit was refused somewhere (see the counter above)" >&2
  exit 1
fi
serve_check_log
echo "status page OK: HTML names every family; screenshot $png ($size bytes)"
