#!/usr/bin/env python3
"""Parse an exposition with the official Python client's parsers and dump what they saw.

Used by tests/render_check.rs to check promagg's renderers against an independent parser:

    python3 scripts/parse_exposition.py text        < metrics.txt
    python3 scripts/parse_exposition.py openmetrics < metrics.om

`text` uses prometheus_client.parser.text_string_to_metric_families (Prometheus text
0.0.4), `openmetrics` uses prometheus_client.openmetrics.parser (strict OpenMetrics 1.0
checks: # EOF, canonical le/quantile, histogram consistency, name clashes, units).

Output, one record per line, fields separated by a tab; strings are hex-encoded UTF-8 so
any byte survives, numbers use Python's repr (shortest round-trip form):

    family  <name> <type> <help> <unit>
    sample  <name> <labels> <value> <timestamp ms or ->

where <labels> is `name=value` pairs (both hex) sorted by name and joined by commas.
Exit status: 0 parsed, 1 the parser refused the input (message on stderr), 3 the
prometheus_client package is missing.
"""

import math
import sys

try:
    from prometheus_client.openmetrics.parser import (
        text_string_to_metric_families as parse_openmetrics,
    )
    from prometheus_client.parser import text_string_to_metric_families as parse_text
except ImportError as err:  # pragma: no cover - depends on the environment
    sys.stderr.write(
        f"prometheus_client is not installed ({err}); run `pip install prometheus_client`\n"
    )
    sys.exit(3)


def hx(s):
    return s.encode("utf-8").hex()


def number(v):
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    return repr(v)


def timestamp_ms(ts):
    if ts is None:
        return "-"
    if hasattr(ts, "sec"):  # openmetrics Timestamp(sec, nsec)
        return str(ts.sec * 1000 + ts.nsec // 1_000_000)
    return str(round(ts * 1000))  # the text parser gives float seconds


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("text", "openmetrics"):
        sys.stderr.write("usage: parse_exposition.py text|openmetrics < exposition\n")
        return 2
    body = sys.stdin.read()
    parse = parse_text if sys.argv[1] == "text" else parse_openmetrics
    out = []
    try:
        for family in parse(body):
            out.append(
                "\t".join(
                    ["family", hx(family.name), family.type, hx(family.documentation), hx(family.unit)]
                )
            )
            for s in family.samples:
                labels = ",".join(f"{hx(k)}={hx(v)}" for k, v in sorted(s.labels.items()))
                out.append(
                    "\t".join(["sample", hx(s.name), labels, number(s.value), timestamp_ms(s.timestamp)])
                )
    except Exception as err:  # the parsers raise ValueError and friends
        sys.stderr.write(f"{sys.argv[1]} parser refused the input: {err!r}\n")
        return 1
    sys.stdout.write("".join(line + "\n" for line in out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
