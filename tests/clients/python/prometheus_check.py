"""A real Prometheus scraping promagg: `prometheus_check.py PROMETHEUS_URL GATEWAY_URL TARGET`.

Prometheus (started by scripts/e2e.sh with tests/clients/prometheus.yml: job `promagg`,
`honor_labels: true`, 1 s scrapes of TARGET) must end up with exactly what was pushed:

1. a counter pushed twice (5, then 7) with prometheus_client is 12 in Prometheus, a histogram's
   buckets are summed, and the series keep the pushed `job`/`instance` (honor_labels), with no
   `exported_job` and no copy under `job="promagg"`;
2. after a scrape that began after the last push, every sample promagg exposes (in the
   OpenMetrics format Prometheus 2.42 asks for) equals the latest value Prometheus holds for it,
   and Prometheus holds no other series from this target.
"""

import json
import math
import sys
import time
import urllib.parse

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    delete_from_gateway,
    pushadd_to_gateway,
)

from gateway_state import CheckFailed, fetch, key, main_guard, openmetrics_samples, show

# What Prometheus 2.42 sends when scraping (scrape/scrape.go, scrapeAcceptHeader).
SCRAPE_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
SCRAPE_JOB = "promagg"
SYNTHETIC = {
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
}
JOB, INSTANCE = "prom_scrape", "scraped-1"


def query(prom_url, promql):
    """The result vector of an instant query: [(labels, value)]."""
    url = f"{prom_url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    _, _, body = fetch(url)
    doc = json.loads(body)
    if doc.get("status") != "success":
        raise CheckFailed(f"query {promql!r} failed: {body}")
    return [(r["metric"], float(r["value"][1])) for r in doc["data"]["result"]]


def wait(what, timeout, probe):
    """Polls `probe()` until it returns a true value; fails naming `what` after `timeout` s."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = probe()
            if last:
                return last
        except OSError as e:
            last = e
        time.sleep(0.25)
    raise CheckFailed(f"timed out after {timeout} s waiting for {what} (last: {last})")


def push(gateway_url, events):
    """One prometheus_client run: `events` events and one 0.5 s observation."""
    r = CollectorRegistry()
    Counter("scrape_check_events", "Events.", registry=r).inc(events)
    Histogram("scrape_check_latency_seconds", "Latency.", buckets=(0.25, 1), registry=r).observe(0.5)
    pushadd_to_gateway(gateway_url, job=JOB, grouping_key={"instance": INSTANCE}, registry=r)


def scraped_since(prom_url, t):
    """True once Prometheus holds a scrape of the target that began after `t` (unix s)."""
    res = query(prom_url, f'timestamp(up{{job="{SCRAPE_JOB}"}})')
    return bool(res) and res[0][1] > t


def check_pushed_values(prom_url):
    """The pushed values, under the pushed job/instance."""
    sel = f'job="{JOB}",instance="{INSTANCE}"'
    wanted = {
        f"scrape_check_events_total{{{sel}}}": 12,
        f'scrape_check_latency_seconds_bucket{{{sel},le="0.25"}}': 0,
        f'scrape_check_latency_seconds_bucket{{{sel},le="+Inf"}}': 2,
        f"scrape_check_latency_seconds_count{{{sel}}}": 2,
        f"scrape_check_latency_seconds_sum{{{sel}}}": 1.0,
        f'up{{job="{SCRAPE_JOB}"}}': 1,
    }
    problems = []
    for promql, value in wanted.items():
        res = query(prom_url, promql)
        if len(res) != 1 or res[0][1] != value:
            problems.append(f"{promql}: expected one series = {value}, got {res}")
        elif "exported_job" in res[0][0] or "exported_instance" in res[0][0]:
            problems.append(f"{promql}: honor_labels not honoured: {res[0][0]}")
    leaked = query(prom_url, f'{{__name__=~"scrape_check_.*",job="{SCRAPE_JOB}"}}')
    if leaked:
        problems.append(f"pushed series also appear under the scrape job: {leaked}")
    if problems:
        raise CheckFailed("Prometheus query results:\n  " + "\n  ".join(problems))


def check_everything(prom_url, gateway_url, target):
    """Every exposed sample equals Prometheus' latest value; nothing else from the target."""
    exposed = openmetrics_samples(gateway_url, accept=SCRAPE_ACCEPT)
    expected = {}
    for (name, labels), value in exposed.items():
        full = dict(labels)
        # honor_labels keeps pushed job/instance; absent ones get the target's labels, and
        # an empty one (Pushgateway's `instance=""`) means no such label, as always in Prometheus.
        full.setdefault("job", SCRAPE_JOB)
        full.setdefault("instance", target)
        full = {k: v for k, v in full.items() if v != ""}
        expected[key(name, full)] = (name, full, value)
    stored = {}
    for metric, value in query(prom_url, '{__name__=~".+"}'):
        name = metric.pop("__name__")
        from_target = metric.get("job") == SCRAPE_JOB and metric.get("instance") == target
        if name in SYNTHETIC and from_target:
            continue
        stored[key(name, metric)] = (name, metric, value)
    problems = []
    for k, (name, labels, value) in sorted(expected.items()):
        got = stored.get(k)
        if got is None:
            problems.append(f"not in Prometheus: {show(name, labels)} = {value}")
        elif not (got[2] == value or (math.isnan(got[2]) and math.isnan(value))):
            problems.append(f"{show(name, labels)}: Prometheus {got[2]}, promagg {value}")
    for k in sorted(stored.keys() - expected.keys()):
        name, labels, value = stored[k]
        problems.append(f"in Prometheus but not exposed now: {show(name, labels)} = {value}")
    if problems:
        raise CheckFailed("Prometheus vs promagg:\n  " + "\n  ".join(problems))
    return len(expected)


def main():
    prom_url, gateway_url, target = sys.argv[1:4]
    wait("Prometheus to be ready", 60, lambda: fetch(f"{prom_url}/-/ready")[0] == 200)
    wait("a first scrape of promagg", 30, lambda: scraped_since(prom_url, 0))
    # re-runnable on a used gateway
    delete_from_gateway(gateway_url, job=JOB, grouping_key={"instance": INSTANCE})
    push(gateway_url, 5)
    push(gateway_url, 7)
    pushed_at = time.time()
    wait("a scrape after the last push", 30, lambda: scraped_since(prom_url, pushed_at))
    check_pushed_values(prom_url)
    n = check_everything(prom_url, gateway_url, target)
    print(f"prometheus: scraped values equal the pushed ones; {n} samples identical to promagg's")


if __name__ == "__main__":
    main_guard(main)
