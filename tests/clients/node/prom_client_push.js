// npm prom-client's Pushgateway against promagg: `node prom_client_push.js BASE_URL ACTION [GAUGE]`.
// ACTION is push (PUT), pushAdd (POST) or delete (DELETE); every run registers the same
// increments and sets the gauge to GAUGE. The grouping value holds `/` (sent URL-encoded).
// scripts/e2e.sh asserts the aggregated values after each step.
"use strict";
const client = require("prom-client");

const [baseUrl, action, gauge = "0"] = process.argv.slice(2);
const groupings = { instance: "n1", path: "api/v1" };

const registry = new client.Registry();
const requests = new client.Counter({
  name: "node_requests_total",
  help: "Requests handled.",
  labelNames: ["route"],
  registers: [registry],
});
requests.inc({ route: "/orders" }, 2);
new client.Gauge({ name: "node_queue_depth", help: "Queue depth.", registers: [registry] }).set(
  Number(gauge),
);
new client.Histogram({
  name: "node_task_seconds",
  help: "Task duration.",
  buckets: [0.5, 2],
  registers: [registry],
}).observe(1);
new client.Summary({
  name: "node_payload_bytes",
  help: "Payload size.",
  percentiles: [0.5],
  registers: [registry],
}).observe(300);

async function main() {
  if (!["push", "pushAdd", "delete"].includes(action)) {
    throw new Error(`unknown action ${action}: expected push, pushAdd or delete`);
  }
  const gateway = new client.Pushgateway(baseUrl, { timeout: 10000 }, registry);
  const { resp } = await gateway[action]({ jobName: "node_client", groupings });
  console.log(`prom-client ${action}: HTTP ${resp.statusCode}`);
}

main().catch((e) => {
  console.error(`FAIL: prom-client ${action}: ${e.message}`);
  process.exit(1);
});
