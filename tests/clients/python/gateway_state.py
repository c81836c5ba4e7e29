"""What a running promagg exposes, read with prometheus_client's own parsers.

Shared by the end-to-end checks: fetching `GET /metrics` (text 0.0.4 or OpenMetrics),
turning it into `{(sample name, labels): value}`, and comparing it with expectations
written as exposition lines (`name{label="value"} 12`, or `!name{...}` for "absent").
"""

import math
import sys
import urllib.request

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

OPENMETRICS = "application/openmetrics-text; version=1.0.0"
WILDCARD = "__any__"


class CheckFailed(Exception):
    """A check found something other than what it expected."""


def fetch(url, accept=None, timeout=10):
    """GET `url`; returns (status, content type, body text)."""
    req = urllib.request.Request(url)
    if accept:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()


def canonical(labels):
    """Labels with `le`/`quantile` as numbers: text 0.0.4 spells a bound `1`, OpenMetrics `1.0`."""
    out = dict(labels)
    for bound in ("le", "quantile"):
        if bound in out:
            try:
                out[bound] = repr(float(out[bound]))
            except ValueError:
                pass
    return out


def key(name, labels):
    """The identity of one sample: its name and its label set (bounds compared as numbers)."""
    return name, frozenset(canonical(labels).items())


def show(name, labels):
    """A sample identity as an exposition-style string."""
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def samples(families):
    """`{(name, labels): value}` of every sample of parsed families."""
    out = {}
    for family in families:
        for s in family.samples:
            k = key(s.name, s.labels)
            if k in out:
                raise CheckFailed(f"sample {show(s.name, s.labels)} appears twice")
            out[k] = s.value
    return out


def wire_names(families, body):
    """Undoes the text parser's renaming of `counter` samples to `<name>_total`.

    prometheus_client's text parser turns `# TYPE my_counter counter` / `my_counter 1` into
    a sample named `my_counter_total` (its internal OpenMetrics view); the checks compare
    what is on the wire, so a counter declared without `_total` keeps its name.
    """
    declared = {
        line.split()[2]
        for line in body.splitlines()
        if line.startswith("# TYPE ") and len(line.split()) == 4 and line.split()[3] == "counter"
    }
    for family in families:
        if family.type == "counter" and family.name in declared:
            family.samples = [
                s._replace(name=family.name) if s.name == family.name + "_total" else s
                for s in family.samples
            ]
        yield family


def text_samples(base_url):
    """Every sample of `GET /metrics` in text 0.0.4 as on the wire, parsed by prometheus_client."""
    status, ctype, body = fetch(f"{base_url}/metrics")
    if status != 200 or not ctype.startswith("text/plain"):
        raise CheckFailed(f"GET /metrics answered {status} {ctype!r}")
    return samples(wire_names(parse_text(body), body))


def openmetrics_samples(base_url, accept=OPENMETRICS):
    """Every sample of `GET /metrics` in OpenMetrics, parsed by the strict OpenMetrics parser."""
    status, ctype, body = fetch(f"{base_url}/metrics", accept=accept)
    if status != 200 or not ctype.startswith("application/openmetrics-text"):
        raise CheckFailed(f"GET /metrics (Accept: {accept}) answered {status} {ctype!r}")
    try:
        return samples(parse_openmetrics(body))
    except ValueError as e:
        raise CheckFailed(f"OpenMetrics parser refused the output: {e}\n{body}") from e


def parse_expectation(line):
    """`name{l="v"} 12` -> (False, name, labels, 12.0); `!name{...}` -> (True, name, labels, None).

    `*` as the name matches any metric (for "nothing of this group is left").
    """
    absent = line.startswith("!")
    text = line[1:] if absent else line
    if text.startswith("*"):
        text = WILDCARD + text[1:]
    if absent:
        text += " 0"
    families = list(parse_text(text + "\n"))
    if len(families) != 1 or len(families[0].samples) != 1:
        raise ValueError(f"expectation {line!r} is not one exposition line")
    s = families[0].samples[0]
    return absent, s.name, dict(s.labels), (None if absent else s.value)


def same_value(a, b):
    """Float equality that treats NaN as equal to NaN."""
    return a == b or (math.isnan(a) and math.isnan(b))


def check(actual, expectations):
    """Compares expectations with `{(name, labels): value}`; returns the list of problems."""
    problems = []
    for line in expectations:
        absent, name, labels, value = parse_expectation(line)
        if absent:
            hits = [
                show(n, dict(ls))
                for (n, ls) in actual
                if (name == WILDCARD or n == name)
                and canonical(labels).items() <= dict(ls).items()
            ]
            if hits:
                problems.append(f"expected no series matching {line[1:]}, found {', '.join(sorted(hits))}")
            continue
        got = actual.get(key(name, labels))
        if got is None:
            near = sorted(show(n, dict(ls)) for (n, ls) in actual if n == name)
            problems.append(
                f"missing {show(name, labels)} (expected {value}); series of that name: {near or 'none'}"
            )
        elif not same_value(got, value):
            problems.append(f"{show(name, labels)} is {got}, expected {value}")
    return problems


def expect(base_url, expectations, what):
    """Raises CheckFailed listing every unmet expectation on `GET /metrics` (text)."""
    problems = check(text_samples(base_url), expectations)
    if problems:
        raise CheckFailed(f"{what}:\n  " + "\n  ".join(problems))


def main_guard(fn):
    """Runs `fn()`; a CheckFailed or client error becomes a message and exit status 1."""
    try:
        fn()
    except CheckFailed as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    except OSError as e:
        print(f"FAIL: request error: {e}", file=sys.stderr)
        sys.exit(1)
