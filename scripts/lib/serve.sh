# Sourced by scripts that test the HTTP API against the serve mode of the test host.
#
#   serve_start [--variable NAME=VALUE ...]   starts the app on a free loopback port with a
#                                             fresh state directory; sets SERVE_URL, SERVE_LOG
#   serve_stop                                stops it (also run on exit)
#   serve_check_log                           fails when the host logged a trap or a panic
#
# Nothing is built here except what `cargo run` needs for the test host itself: the
# components must already be built (scripts/build-components.sh).

SERVE_PID=""
SERVE_DIR=""
SERVE_URL=""
SERVE_LOG=""

serve_require_components() {
  local missing=()
  for c in gateway pusher; do
    [ -f "target/wasm32-wasip2/component/$c.wasm" ] || missing+=("target/wasm32-wasip2/component/$c.wasm")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing ${missing[*]}: build the components first (scripts/build-components.sh)" >&2
    return 1
  fi
}

serve_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

serve_start() {
  serve_require_components
  SERVE_DIR=$(mktemp -d)
  SERVE_LOG="$SERVE_DIR/serve.log"
  local port
  port=$(serve_free_port)
  cargo run -q -p spin-test-host -- serve --manifest spin.toml \
    --listen "127.0.0.1:$port" --state-dir "$SERVE_DIR/state" "$@" >"$SERVE_LOG" 2>&1 &
  SERVE_PID=$!
  trap serve_stop EXIT
  # The first run may compile the test host.
  for _ in $(seq 1 600); do
    if grep -q '^Serving http' "$SERVE_LOG"; then
      SERVE_URL="http://127.0.0.1:$port"
      echo "serve mode at $SERVE_URL (log: $SERVE_LOG)"
      return 0
    fi
    if ! kill -0 "$SERVE_PID" 2>/dev/null; then
      echo "the test host exited:" >&2
      cat "$SERVE_LOG" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "the test host did not start within 300 s" >&2
  cat "$SERVE_LOG" >&2
  return 1
}

serve_stop() {
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
    # `cargo run` execs nothing: stop the host (its child) first, then cargo.
    local child
    for child in $(ps -o pid= --ppid "$SERVE_PID" 2>/dev/null); do kill "$child" 2>/dev/null || true; done
    kill "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  SERVE_PID=""
  if [ -n "$SERVE_DIR" ] && [ -z "${KEEP_SERVE_DIR:-}" ]; then
    rm -rf "$SERVE_DIR"
  fi
}

serve_check_log() {
  # The components' own log lines ("promagg: ...", "promagg pusher ...") quote request
  # content; everything else is the host's, which reports traps and failed invocations.
  if grep -v '^promagg' "$SERVE_LOG" \
      | grep -Ein 'Error processing request|error after response started|guest invocation|cron event .* failed|panicked|wasm trap|wasm backtrace'; then
    KEEP_SERVE_DIR=1
    echo "the test host logged a trap, panic or failed invocation (above; log kept: $SERVE_LOG)" >&2
    return 1
  fi
}
