#!/usr/bin/env bash
# Property-based HTTP fuzzing of the whole API (docs/openapi.yaml) with schemathesis (PyPI),
# against the serve mode of the test host, then a consistency check:
#   1. schemathesis: examples, coverage and fuzzing phases, a bounded number of cases per
#      operation; checks: no 5xx (not_a_server_error), every status, content type, header
#      and JSON body as documented, schema-invalid input refused, undeclared methods 405
#      with a matching Allow (everything but positive_data_acceptance: a schema cannot say
#      which strings are valid exposition text);
#   2. the host's log must show no trap, panic or failed invocation;
#   3. on a fresh gateway with small limits (LIMITS below, so each is cheap to break), a burst
#      of known-invalid requests -- malformed input, every request and store limit, bad
#      histogram layouts, type conflicts -- must each be refused with its status and change
#      nothing: the user part of GET /metrics (promagg_* self-metrics aside) is byte-identical
#      after every single one, GET /api/v1/metrics after the burst, and
#      promagg_rejections_total grew by exactly the number of requests.
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
# GET and POST run a push (schedulers that can only GET); anything else is 405.
code=$(status_of PUT /-/push)
[ "$code" = 405 ] || { echo "PUT /-/push: expected 405, got $code" >&2; exit 1; }
code=$(curl -s -X POST "$U/-/push" --max-time 60 -D "$work/push.headers" -o "$work/push.out" \
  -w '%{http_code}')
case "$code" in
  200) ;;
  *) echo "POST /-/push: expected 200 (no remote_write endpoint: a fold only), got $code:" >&2
     cat "$work/push.headers" "$work/push.out" >&2
     echo "--- the host's last log lines:" >&2
     tail -n 40 "$SERVE_LOG" >&2
     exit 1 ;;
esac

echo "=== consistency: rejected requests change nothing"
serve_check_log
# A fresh gateway whose limits take a few hundred bytes to break (schemathesis above ran with
# the defaults, so its accepted cases were not all refused by a full store).
LIMITS=(max_body_bytes=65536 max_series_per_request=50 max_labels_per_series=8 max_name_len=64
  max_label_value_len=128 max_total_series=20 max_families=10)
serve_stop
vars=()
for v in "${LIMITS[@]}"; do vars+=(--variable "$v"); done
serve_start "${vars[@]}"
trap cleanup EXIT
U=$SERVE_URL
# Start from known data without TTLs, so no expiry can happen between the reads, and wait for
# a fold, so conflicts are checked against folded state.
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
python3 -c 'import sys; sys.stdout.write("x 1\n" * 20_000)' >"$big"   # 80 kB > max_body_bytes
# families NAME COUNT: COUNT untyped families NAME_<i> of one series each.
families() { python3 -c 'import sys; n, c = sys.argv[1], int(sys.argv[2])
sys.stdout.write("".join(f"{n}_{i} 1\n" for i in range(c)))' "$1" "$2"; }
# series NAME COUNT: COUNT series of one gauge family, told apart by label i.
series() { python3 -c 'import sys; n, c = sys.argv[1], int(sys.argv[2])
sys.stdout.write(f"# TYPE {n} gauge\n" + "".join(f"{n}{{i=\"{i}\"}} 1\n" for i in range(c)))' "$1" "$2"; }
nine_labels=$(python3 -c 'print(",".join(f"l{i}=\"v\"" for i in range(9)))')
eight_labels=$(python3 -c 'print(",".join(f"l{i}=\"v\"" for i in range(8)))')
name65=$(python3 -c 'print("n" * 65)')
value129=$(python3 -c 'print("v" * 129)')
printf '\xff\xfe not utf-8\n' >"$work/latin1.txt"
long_key=$(python3 -c 'print("k" * 200)')
n=0
refuse() { # refuse [-m TEXT] EXPECTED METHOD PATH [curl args...]: the request must get
  # EXPECTED (and an error message holding TEXT, so a limit is refused for the right reason)
  local text=""
  if [ "$1" = -m ]; then text=$2; shift 2; fi
  local want=$1 method=$2 path=$3; shift 3
  local got
  got=$(curl -s -o "$work/answer.txt" -w '%{http_code}' -X "$method" "$U$path" "$@")
  n=$((n + 1))
  if [ "$got" != "$want" ]; then
    echo "$method $path: expected $want, got $got: $(head -c 300 "$work/answer.txt")" >&2
    exit 1
  fi
  if [ -n "$text" ] && ! grep -qF -- "$text" "$work/answer.txt"; then
    echo "$method $path: answer does not mention \"$text\": $(head -c 300 "$work/answer.txt")" >&2
    exit 1
  fi
  curl -sf "$U/metrics" | user_part >"$work/now.txt"
  if ! cmp -s "$work/before.txt" "$work/now.txt"; then
    echo "GET /metrics changed after refused request $n ($method $path):" >&2
    diff "$work/before.txt" "$work/now.txt" >&2 || true
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
refuse -m max_body_bytes=65536 413 POST /metrics --data-binary @"$big"
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
# Request limits (LIMITS above), each refused for that limit.
refuse -m max_series_per_request=50 413 POST /metrics --data-binary "$(series many 51)"
refuse -m max_series_per_request=50 413 PUT /metrics/job/j/instance/i --data-binary "$(series many 51)"
refuse -m max_labels_per_series=8 400 POST /metrics --data-binary "wide{$nine_labels} 1"
# 8 labels in the body, plus job and instance from the path.
refuse -m max_labels_per_series=8 400 PUT /metrics/job/j/instance/i --data-binary "wide{$eight_labels} 1"
refuse -m max_name_len=64 400 POST /metrics --data-binary "$name65 1"
refuse -m max_name_len=64 400 POST /metrics --data-binary "g{$name65=\"v\"} 1"
refuse -m max_label_value_len=128 400 POST /metrics --data-binary "g{k=\"$value129\"} 1"
refuse -m max_label_value_len=128 400 PATCH "/metrics/c_total?k=$value129" --data-binary '1'
# Store limits: 3 families and 3 series are stored (plus the group's push_time_seconds and
# push_failure_time_seconds); 25 more series, or 12 more families, are too many.
refuse -m max_total_series=20 409 POST /metrics --data-binary "$(series many 25)"
refuse -m max_families=10 409 POST /metrics --data-binary "$(families fam 12)"
# Histogram layouts.
refuse 400 POST /metrics --data-binary $'# TYPE hx histogram\nhx_bucket{le="1"} 5\nhx_bucket{le="+Inf"} 3\nhx_sum 1\nhx_count 3\n'
refuse 400 POST /metrics --data-binary $'# TYPE hx histogram\nhx_bucket{le="1"} 1\nhx_sum 1\nhx_count 1\n'
refuse 400 POST /metrics --data-binary $'# TYPE hx histogram\nhx_bucket{le="1"} 1\nhx_bucket{le="+Inf"} 2\nhx_sum 1\nhx_count 3\n'
refuse 400 POST /metrics --data-binary $'# TYPE hx histogram\nhx_bucket{le="x"} 1\nhx_bucket{le="+Inf"} 1\nhx_sum 1\nhx_count 1\n'
refuse 400 POST /metrics --data-binary $'# TYPE sx summary\nsx{quantile="1.5"} 1\nsx_sum 1\nsx_count 1\n'
refuse 409 PUT /metrics/job/j/instance/i --data-binary $'# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n'
# Type conflicts with what is stored, in every format that declares a type.
refuse 409 POST /metrics --data-binary $'# TYPE g counter\ng 1\n'
refuse 409 POST /metrics --data-binary $'# TYPE g untyped\ng 1\n'
refuse 409 POST /metrics --data-binary $'# TYPE h summary\nh_sum 1\nh_count 1\n'
refuse 409 POST /metrics -H 'Content-Type: application/openmetrics-text; version=1.0.0' \
  --data-binary $'# TYPE c_total gauge\nc_total{k="v"} 1\n# EOF\n'
refuse 409 POST /metrics -H 'Content-Type: application/openmetrics-text; version=1.0.0' \
  --data-binary $'# TYPE g counter\ng_total 1\n# TYPE h gauge\nh 1\n# EOF\n'
refuse 409 PUT /metrics/job/j/instance/i --data-binary $'# TYPE c_total gauge\nc_total{k="v"} 1\n'
refuse 400 POST /metrics --data-binary $'# TYPE d gauge\n# TYPE d counter\nd 1\n'

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
