#!/usr/bin/env bash
# Property-based HTTP fuzzing of the whole API (docs/openapi.yaml) with schemathesis (PyPI),
# against the serve mode of the test host, then a consistency check:
#   1. schemathesis: examples, coverage and fuzzing phases, a bounded number of cases per
#      operation; checks: no 5xx (not_a_server_error), every status, content type, header
#      and JSON body as documented, schema-invalid input refused, undeclared methods 405
#      with a matching Allow (everything but positive_data_acceptance: a schema cannot say
#      which strings are valid exposition text);
#   2. the host's log must show no trap, panic or failed invocation;
#   3. a burst of known-invalid requests must each be refused (4xx) and change nothing:
#      the user part of GET /metrics and GET /api/v1/metrics are byte-identical before and
#      after, and promagg_rejections_total grew by exactly the number of requests.
# The components must already be built (scripts/build-components.sh); nothing is built here.
# FUZZ_EXAMPLES (default 300) bounds the cases per operation; FUZZ_SEED fixes the seed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/serve.sh

if command -v schemathesis >/dev/null; then
  ST=(schemathesis)
elif python3 -c 'import schemathesis' 2>/dev/null; then
  ST=(python3 -m schemathesis.cli)
else
  echo "schemathesis not found: python3 -m pip install schemathesis" >&2
  exit 1
fi

serve_start
U=$SERVE_URL
work=$(mktemp -d)
cleanup() { serve_stop; rm -rf "$work"; }
trap cleanup EXIT

# Some stored data, so reads and conflicts have something to work on.
curl -sf -X POST "$U/metrics" --data-binary $'# TYPE seed_total counter\nseed_total{k="v"} 1\n# TYPE seed_g gauge\nseed_g 2\n' >/dev/null
curl -sf -X PUT "$U/metrics/job/seed/instance/i1" --data-binary $'# TYPE seed_lat histogram\nseed_lat_bucket{le="1"} 1\nseed_lat_bucket{le="+Inf"} 1\nseed_lat_sum 0.5\nseed_lat_count 1\n' >/dev/null

echo "=== schemathesis (${FUZZ_EXAMPLES:-300} cases per operation)"
# One worker: hypothesis' source introspection is not thread-safe on every Python, and the
# gateway answers in milliseconds anyway. POST /-/push waits for the next push interval
# (up to 10 s) and takes no input: it gets its own check below, not hundreds of cases.
SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="scripts/lib${PYTHONPATH:+:$PYTHONPATH}" \
  "${ST[@]}" run docs/openapi.yaml --url "$U" \
  --checks all --exclude-checks positive_data_acceptance \
  --phases examples,coverage,fuzzing \
  --max-examples "${FUZZ_EXAMPLES:-300}" --seed "${FUZZ_SEED:-$RANDOM}" \
  --workers 1 --request-timeout 30 --exclude-path /-/push \
  --no-color --report junit --report-dir "$work/report"

status_of() { # status_of METHOD PATH [curl args...]
  local method=$1 path=$2; shift 2
  curl -s -o /dev/null -w '%{http_code}' -X "$method" "$U$path" "$@"
}

echo "=== POST /-/push (pusher)"
code=$(status_of GET /-/push)
[ "$code" = 405 ] || { echo "GET /-/push: expected 405, got $code" >&2; exit 1; }
code=$(status_of POST /-/push --max-time 60)
case "$code" in
  200) ;;
  *) echo "POST /-/push: expected 200 (no remote_write endpoint: a fold only), got $code" >&2; exit 1 ;;
esac

echo "=== consistency: rejected requests change nothing"
# Start from known data without TTLs, so no expiry can happen between the two reads, and
# wait for a fold, so conflicts are checked against folded state.
curl -sf -X DELETE "$U/metrics/__all" >/dev/null
curl -sf -X POST "$U/metrics" --data-binary $'# TYPE c_total counter\nc_total{k="v"} 3\n# TYPE g gauge\ng 1.5\n' >/dev/null
curl -sf -X PUT "$U/metrics/job/j/instance/i" --data-binary $'# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n' >/dev/null
for _ in $(seq 1 60); do
  curl -sf "$U/metrics" | grep -qx 'promagg_pending_writes 0' && break
  sleep 0.5
done
curl -sf "$U/metrics" | grep -qx 'promagg_pending_writes 0' || { echo "no fold within 30 s" >&2; exit 1; }

user_part() { grep -v -e '^promagg_' -e '^# [A-Z]* promagg_' || true; }
rejections() { curl -sf "$U/metrics" | awk '/^promagg_rejections_total\{/ {s += $2} END {print s + 0}'; }

curl -sf "$U/metrics" | user_part >"$work/before.txt"
curl -sf "$U/api/v1/metrics" >"$work/before.json"
rejected_before=$(rejections)

big="$work/big.txt"
python3 -c 'import sys; sys.stdout.write("x 1\n" * 2_500_000)' >"$big"   # 10 MB > max_body_bytes
printf '\xff\xfe not utf-8\n' >"$work/latin1.txt"
long_key=$(python3 -c 'print("k" * 200)')
n=0
refuse() { # refuse EXPECTED METHOD PATH [curl args...]: the request must get EXPECTED
  local want=$1; shift
  local got
  got=$(status_of "$@")
  n=$((n + 1))
  if [ "$got" != "$want" ]; then
    echo "$*: expected $want, got $got" >&2
    exit 1
  fi
}
refuse 400 POST /metrics --data-binary 'c_total{k="v" 1'
refuse 400 POST /metrics --data-binary $'c_total{k="v"} 1\nbroken{ 2\n'
refuse 409 POST /metrics --data-binary $'# TYPE c_total gauge\nc_total{k="v"} 1\n'
refuse 409 PUT /metrics/job/j/instance/i --data-binary $'# TYPE h histogram\nh_bucket{le="5"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'
refuse 415 POST /metrics -H 'Content-Type: image/png' --data-binary 'c_total 1'
refuse 415 POST /metrics -H 'Content-Encoding: br' --data-binary 'c_total 1'
refuse 400 POST /metrics -H 'Content-Encoding: gzip' --data-binary 'not gzip'
refuse 400 POST /metrics --data-binary @"$work/latin1.txt"
refuse 413 POST /metrics --data-binary @"$big"
refuse 400 POST '/metrics?gauge=avg' --data-binary 'g 1'
refuse 400 POST '/metrics?ttl=soon' --data-binary 'g 1'
refuse 400 POST '/metrics?unknown=1' --data-binary 'g 1'
refuse 400 POST /metrics --data-binary 'g 1 1700000000000'
refuse 400 POST /metrics --data-binary 'promagg_series 1'
refuse 400 POST /metrics -H "Idempotency-Key: $long_key" --data-binary 'c_total{k="v"} 1'
refuse 400 PATCH '/metrics/c_total?k=v' --data-binary '-1'
refuse 400 PATCH '/metrics/c_total?k=v' --data-binary 'NaN'
refuse 400 PATCH '/metrics/c_total?k=v' --data-binary 'one'
refuse 400 PATCH /metrics/9bad
refuse 400 PATCH '/metrics/c_total?a=1&a=2'
refuse 400 PATCH '/metrics/c_total?__name__=x'
refuse 400 PUT '/metrics/job@base64/=' --data-binary 'g 1'
refuse 400 PUT /metrics/job/j/instance --data-binary 'g 1'
refuse 400 PUT /metrics/job/j --data-binary 'push_time_seconds 1'
refuse 400 DELETE '/metrics/__all?k=v'
refuse 400 DELETE /metrics/job/j/9bad/x
refuse 404 GET /nope
refuse 405 GET /metrics/c_total
refuse 405 PATCH /metrics/__all
refuse 405 POST /
refuse 405 POST /api/v1/metrics

curl -sf "$U/metrics" | user_part >"$work/after.txt"
curl -sf "$U/api/v1/metrics" >"$work/after.json"
rejected_after=$(rejections)
if ! cmp -s "$work/before.txt" "$work/after.txt"; then
  echo "GET /metrics changed after rejected requests:" >&2
  diff "$work/before.txt" "$work/after.txt" >&2 || true
  exit 1
fi
if ! cmp -s "$work/before.json" "$work/after.json"; then
  echo "GET /api/v1/metrics changed after rejected requests" >&2
  exit 1
fi
if [ "$((rejected_after - rejected_before))" != "$n" ]; then
  echo "promagg_rejections_total grew by $((rejected_after - rejected_before)), expected $n" >&2
  exit 1
fi
grep -q '^c_total{k="v"} 3$' "$work/after.txt" || { echo "seeded data missing" >&2; cat "$work/after.txt" >&2; exit 1; }

serve_check_log
echo "http fuzz OK: no 5xx, no trap; $n rejected requests changed nothing and were each counted"
