// The original worker README's "Workers" example 2, run unchanged but for the URL:
// npm promjs' `registry.metrics()` sent as `JSON.stringify(...)` in a `POST /metrics` with
// node's global fetch. `node promjs_readme_example.js BASE_URL`; scripts/e2e.sh asserts the sums.
"use strict";
const promjs = require("promjs");

const prom = promjs.default || promjs;
const baseUrl = process.argv[2];

async function main() {
  const registry = prom();
  const counter = registry.create("counter", "my_counter", "A counter for things");

  // process tasks, e.g. orders
  counter.inc({ user: "user1", plan: "pro" });
  counter.add(3, { user: "user2", plan: "free" });
  counter.inc({ user: "user3", plan: "pro" });

  const resp = await fetch(`${baseUrl}/metrics`, {
    method: "POST",
    body: JSON.stringify(registry.metrics()),
  });
  const text = await resp.text();
  if (!resp.ok) {
    throw new Error(`POST /metrics answered ${resp.status}: ${text.trim()}`);
  }
  console.log(`promjs POST /metrics: HTTP ${resp.status} ${text.trim()}`);
}

main().catch((e) => {
  console.error(`FAIL: promjs example: ${e.message}`);
  process.exit(1);
});
