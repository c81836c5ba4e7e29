"""Fills promagg with every metric type, well named: `every_type.py BASE_URL push|check`.

`push` sends one registry of prometheus_client with a counter, a gauge, a histogram, a
summary, an info, an enum and an untyped metric (pushadd_to_gateway, job `every_type`).
`check` then reads `GET /metrics` twice, as text 0.0.4 and as OpenMetrics (parsed by the
strict OpenMetrics parser), and asserts both hold exactly the pushed values, every family
has its type in OpenMetrics, and the two formats agree sample by sample (OpenMetrics may
add `_created`). `promtool check metrics` on the text output is run by scripts/e2e.sh.
"""

import sys

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Enum,
    Gauge,
    Histogram,
    Info,
    Summary,
    pushadd_to_gateway,
)
from prometheus_client.metrics_core import UnknownMetricFamily
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from gateway_state import (
    OPENMETRICS,
    CheckFailed,
    check,
    fetch,
    main_guard,
    openmetrics_samples,
    show,
    text_samples,
)

JOB = "every_type"
G = f'instance="",job="{JOB}"'

EXPECTED = [
    f'et_requests_total{{{G},code="200"}} 5',
    f'et_requests_total{{{G},code="500"}} 1',
    f"et_queue_depth{{{G}}} 42.5",
    f'et_latency_seconds_bucket{{{G},le="0.25"}} 1',
    f'et_latency_seconds_bucket{{{G},le="1"}} 2',
    f'et_latency_seconds_bucket{{{G},le="+Inf"}} 3',
    f"et_latency_seconds_count{{{G}}} 3",
    f"et_latency_seconds_sum{{{G}}} 3.125",
    f"et_response_size_bytes_count{{{G}}} 2",
    f"et_response_size_bytes_sum{{{G}}} 1536",
    f'et_build_info{{{G},version="1.2.3",commit="abc"}} 1',
    f'et_phase{{{G},et_phase="running"}} 1',
    f'et_phase{{{G},et_phase="done"}} 0',
    f"et_temperature_celsius{{{G}}} -3.5",
]

TYPES = {
    "et_requests": "counter",
    "et_queue_depth": "gauge",
    "et_latency_seconds": "histogram",
    "et_response_size_bytes": "summary",
    "et_build_info": "gauge",
    "et_phase": "gauge",
    "et_temperature_celsius": "unknown",
}


class Untyped:
    """A collector exposing one untyped sample (prometheus_client has no untyped metric class)."""

    def collect(self):
        """The untyped family."""
        f = UnknownMetricFamily("et_temperature_celsius", "Temperature, untyped.")
        f.add_metric([], -3.5)
        yield f


def push(base_url):
    """Pushes one registry holding every type."""
    r = CollectorRegistry()
    requests = Counter("et_requests", "Requests.", ["code"], registry=r)
    requests.labels("200").inc(5)
    requests.labels("500").inc()
    Gauge("et_queue_depth", "Queue depth.", registry=r).set(42.5)
    latency = Histogram("et_latency_seconds", "Latency.", buckets=(0.25, 1), registry=r)
    for v in (0.125, 0.5, 2.5):
        latency.observe(v)
    size = Summary("et_response_size_bytes", "Response size.", registry=r)
    size.observe(512)
    size.observe(1024)
    Info("et_build", "Build.", registry=r).info({"version": "1.2.3", "commit": "abc"})
    Enum("et_phase", "Phase.", states=["running", "done"], registry=r).state("running")
    r.register(Untyped())
    pushadd_to_gateway(base_url, job=JOB, registry=r)


def check_types(base_url):
    """Every pushed family carries its type in OpenMetrics."""
    _, _, body = fetch(f"{base_url}/metrics", accept=OPENMETRICS)
    types = {f.name: f.type for f in text_string_to_metric_families(body)}
    wrong = [
        f"{name}: {types.get(name, 'missing')}, expected {t}"
        for name, t in TYPES.items()
        if types.get(name) != t
    ]
    if wrong:
        raise CheckFailed("OpenMetrics family types:\n  " + "\n  ".join(wrong))


def run_check(base_url):
    """Text and OpenMetrics both hold what was pushed, and agree with each other."""
    text = text_samples(base_url)
    om = openmetrics_samples(base_url)
    for fmt, got in (("text 0.0.4", text), ("OpenMetrics", om)):
        problems = check(got, EXPECTED)
        if problems:
            raise CheckFailed(f"{fmt} output:\n  " + "\n  ".join(problems))
    check_types(base_url)
    om_no_created = {k: v for k, v in om.items() if not k[0].endswith("_created")}
    only_text = sorted(show(n, dict(ls)) for (n, ls) in text.keys() - om_no_created.keys())
    only_om = sorted(show(n, dict(ls)) for (n, ls) in om_no_created.keys() - text.keys())
    differ = sorted(
        f"{show(n, dict(ls))}: text {text[(n, ls)]} vs OpenMetrics {om[(n, ls)]}"
        for (n, ls) in text.keys() & om.keys()
        if text[(n, ls)] != om[(n, ls)]
    )
    if only_text or only_om or differ:
        raise CheckFailed(
            "text and OpenMetrics outputs disagree:\n"
            f"  only in text: {only_text}\n  only in OpenMetrics: {only_om}\n  values: {differ}"
        )
    print(f"every metric type: text and OpenMetrics agree on {len(text)} samples")


def main():
    base_url, action = sys.argv[1], sys.argv[2]
    {"push": push, "check": run_check}[action](base_url)


if __name__ == "__main__":
    main_guard(main)
