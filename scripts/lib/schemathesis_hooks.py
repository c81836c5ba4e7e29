"""Schemathesis hooks for scripts/http-fuzz.sh.

- Serializers for the exposition media types schemathesis does not know: the generated value
  goes out as its text (or as is, when it is already bytes), so the gateway's parsers see it.
- Header values are reduced to printable ASCII before sending. Spin itself (spin-trigger-http's
  `prepare_request_headers`, reproduced by the test host) answers 500 to any request with a
  header value that is not UTF-8, before a component runs; that is the platform's answer, not
  the gateway's, so the fuzz run does not send such headers. Bodies, paths and queries keep
  arbitrary Unicode.
"""

import schemathesis


def _as_bytes(value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


@schemathesis.serializer("application/openmetrics-text", "application/vnd.google.protobuf")
def exposition(ctx, value):
    return _as_bytes(value)


def _printable(value):
    return "".join(c if " " <= c <= "~" else "_" for c in str(value)).strip()


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.headers:
        case.headers = {k: _printable(v) for k, v in case.headers.items()}
