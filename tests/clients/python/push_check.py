"""prometheus_client's push functions against promagg: `push_check.py BASE_URL`.

push_to_gateway (PUT), pushadd_to_gateway (POST) and delete_from_gateway (DELETE) with a
grouping key whose value holds `/` (the client sends it as `path@base64/...`). promagg adds
pushes up: the counter, histogram and summary pushed twice are summed; on the path API a
gauge keeps the last pushed value. Deleting one group leaves the other.
"""

import sys
import time

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Summary,
    delete_from_gateway,
    pushadd_to_gateway,
    push_to_gateway,
)

from gateway_state import CheckFailed, expect, key, main_guard, text_samples

JOB = "py_client"
DAILY = {"instance": "worker-1", "path": "reports/daily"}
WEEKLY = {"instance": "worker-1", "path": "reports/weekly"}


def registry(batch_size):
    """One run's metrics: the same increments every run, a gauge set to `batch_size`."""
    r = CollectorRegistry()
    rows = Counter("py_rows_processed", "Rows processed.", ["table"], registry=r)
    rows.labels("orders").inc(3)
    Gauge("py_batch_last_size", "Size of the last batch.", registry=r).set(batch_size)
    duration = Histogram(
        "py_batch_duration_seconds", "Batch duration.", buckets=(0.1, 1.0), registry=r
    )
    duration.observe(0.5)
    Summary("py_payload_bytes", "Payload size.", registry=r).observe(200)
    return r


def series(group, runs, batch_size):
    """Expectations for `group` after `runs` runs, the last one setting `batch_size`."""
    g = ",".join(f'{k}="{v}"' for k, v in group.items())
    g = f'job="{JOB}",{g}'
    return [
        f'py_rows_processed_total{{{g},table="orders"}} {3 * runs}',
        f"py_batch_last_size{{{g}}} {batch_size}",
        f'py_batch_duration_seconds_bucket{{{g},le="0.1"}} 0',
        f'py_batch_duration_seconds_bucket{{{g},le="1"}} {runs}',
        f'py_batch_duration_seconds_bucket{{{g},le="+Inf"}} {runs}',
        f"py_batch_duration_seconds_count{{{g}}} {runs}",
        f"py_batch_duration_seconds_sum{{{g}}} {0.5 * runs}",
        f"py_payload_bytes_count{{{g}}} {runs}",
        f"py_payload_bytes_sum{{{g}}} {200 * runs}",
    ]


def check_push_time(base_url, group, since):
    """Pushgateway's `push_time_seconds` of the group is the time of the last push."""
    labels = {"job": JOB, **group}
    got = text_samples(base_url).get(key("push_time_seconds", labels))
    if got is None or not since - 1 <= got <= time.time() + 1:
        raise CheckFailed(f"push_time_seconds of {labels} is {got}, expected a time >= {since}")


def main():
    base_url = sys.argv[1]
    for group in (DAILY, WEEKLY):  # makes the check re-runnable on a used gateway
        delete_from_gateway(base_url, job=JOB, grouping_key=group)
    t0 = time.time()
    push_to_gateway(base_url, job=JOB, grouping_key=DAILY, registry=registry(10))
    expect(base_url, series(DAILY, 1, 10), "after push_to_gateway (PUT)")
    check_push_time(base_url, DAILY, t0)

    pushadd_to_gateway(base_url, job=JOB, grouping_key=DAILY, registry=registry(7))
    expect(base_url, series(DAILY, 2, 7), "after pushadd_to_gateway (POST): sums, last gauge")

    push_to_gateway(base_url, job=JOB, grouping_key=WEEKLY, registry=registry(1))
    expect(base_url, series(WEEKLY, 1, 1) + series(DAILY, 2, 7), "after a push to a second group")

    delete_from_gateway(base_url, job=JOB, grouping_key=DAILY)
    daily_gone = ['!*{job="%s",path="reports/daily"}' % JOB]
    expect(base_url, daily_gone + series(WEEKLY, 1, 1), "after delete_from_gateway (DELETE)")
    print("python prometheus_client: push/pushadd/delete with a base64 grouping key ok")


if __name__ == "__main__":
    main_guard(main)
