"""prometheus_client's basic_auth_handler against a promagg with write tokens:
`auth_check.py BASE_URL TOKEN`.

The gateway must have been started with `auth_write_tokens=TOKEN` (and no read tokens, so
`GET /metrics` stays open as Prometheus scrapes it). Without credentials, or with a wrong
password, pushes and deletes are refused with 401; with Basic auth whose password is the
token, they are applied.
"""

import sys
from urllib.error import HTTPError

from prometheus_client import (
    CollectorRegistry,
    Counter,
    delete_from_gateway,
    pushadd_to_gateway,
    push_to_gateway,
)
from prometheus_client.exposition import basic_auth_handler

from gateway_state import CheckFailed, expect, main_guard

JOB = "py_auth"
GROUP = {"instance": "secured"}
SERIES = 'py_auth_logins_total{instance="secured",job="py_auth"}'


def registry():
    """One run: the login counter incremented by 2."""
    r = CollectorRegistry()
    Counter("py_auth_logins", "Logins.", registry=r).inc(2)
    return r


def auth(password):
    """A push handler sending Basic credentials with `password`."""

    def handler(url, method, timeout, headers, data):
        return basic_auth_handler(url, method, timeout, headers, data, "e2e", password)

    return handler


def refused(what, fn, status):
    """Runs a client call that must fail with HTTP `status`."""
    try:
        fn()
    except HTTPError as e:
        if e.code != status:
            raise CheckFailed(f"{what}: expected {status}, got {e.code} {e.read()!r}") from e
        return
    raise CheckFailed(
        f"{what}: the gateway accepted it; it must answer {status} "
        "(is auth_write_tokens declared in spin.toml's [variables] and passed to the gateway?)"
    )


def main():
    base_url, token = sys.argv[1], sys.argv[2]
    refused(
        "push_to_gateway without credentials",
        lambda: push_to_gateway(base_url, job=JOB, grouping_key=GROUP, registry=registry()),
        401,
    )
    refused(
        "pushadd_to_gateway with a wrong password",
        lambda: pushadd_to_gateway(
            base_url, job=JOB, grouping_key=GROUP, registry=registry(), handler=auth("nope")
        ),
        401,
    )
    expect(base_url, [f"!{SERIES}"], "refused pushes must leave nothing")

    push_to_gateway(base_url, job=JOB, grouping_key=GROUP, registry=registry(), handler=auth(token))
    pushadd_to_gateway(
        base_url, job=JOB, grouping_key=GROUP, registry=registry(), handler=auth(token)
    )
    expect(base_url, [f"{SERIES} 4"], "after two authenticated pushes")

    refused(
        "delete_from_gateway without credentials",
        lambda: delete_from_gateway(base_url, job=JOB, grouping_key=GROUP),
        401,
    )
    delete_from_gateway(base_url, job=JOB, grouping_key=GROUP, handler=auth(token))
    expect(base_url, [f"!{SERIES}"], "after an authenticated delete_from_gateway")
    print("python prometheus_client: basic_auth_handler ok, 401 without or with a wrong token")


if __name__ == "__main__":
    main_guard(main)
