"""Asserts series on a running promagg: `expect.py BASE_URL 'name{l="v"} 12' '!name{l="v"}' ...`.

Each argument is one exposition line: the series must exist with exactly that value, or, with a
leading `!`, no series may match it (the given labels are a subset; `*` matches any name).
`GET /metrics` is parsed by prometheus_client's text parser.
"""

import sys

from gateway_state import expect, main_guard


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    base_url, expectations = sys.argv[1], sys.argv[2:]
    expect(base_url, expectations, f"{len(expectations)} expectation(s) on GET /metrics")


if __name__ == "__main__":
    main_guard(main)
