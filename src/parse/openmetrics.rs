//! OpenMetrics 1.0 text format.
//!
//! Strict to the specification's ABNF, as Prometheus' `openmetricsparse.go` is: single spaces
//! between tokens, no blank or comment lines, `# EOF` last; `# HELP`, `# TYPE`, `# UNIT` at most
//! once per family and before its samples; escapes `\\`, `\"`, `\n` (other backslashes are kept
//! literally, as the grammar allows); float timestamps in seconds (stored as milliseconds);
//! exemplars are checked and dropped.
//!
//! Types map onto the model as follows: counter family `foo` (samples `foo_total`,
//! `foo_created`) becomes counter `foo_total`, as the text format names it; `unknown` becomes
//! untyped; `info` family `foo` becomes gauge `foo_info` and `stateset` family `foo` gauge
//! `foo`; `_created` of counters, histograms and summaries goes to `Series::created`;
//! `gaugehistogram` is refused.

use crate::model::MetricFamily;

use super::assemble::{Assembler, Kind, Meta};
use super::error::{describe, Number, ParseError, ParseErrorKind};
use super::lexer::{unescape_help, Cursor, Dialect, RawLabel};
use super::lines::Lines;
use super::number::{parse_float, parse_seconds_as_millis};

/// Parses an OpenMetrics 1.0 body into metric families (in input order).
pub fn parse(input: &str) -> Result<Vec<MetricFamily>, ParseError> {
    if input.starts_with('\u{feff}') {
        return Err(ParseErrorKind::ByteOrderMark.at(1));
    }
    let mut asm = Assembler::new(Dialect::OpenMetrics);
    let mut scratch = Scratch::default();
    let mut lines = Lines::new(input);
    let mut eof = false;
    for (n, line) in lines.by_ref() {
        if eof {
            return Err(ParseErrorKind::DataAfterEof.at(n));
        }
        if line == "# EOF" {
            eof = true;
            continue;
        }
        parse_line(&mut asm, &mut scratch, line, n).map_err(|k| k.at(n))?;
    }
    if !eof {
        return Err(ParseErrorKind::MissingEof.at(lines.number().max(1)));
    }
    asm.finish()
}

/// Label buffers reused across lines.
#[derive(Default)]
struct Scratch<'a> {
    labels: Vec<RawLabel<'a>>,
    exemplar: Vec<RawLabel<'a>>,
}

fn parse_line<'a>(
    asm: &mut Assembler,
    scratch: &mut Scratch<'a>,
    line: &'a str,
    n: usize,
) -> Result<(), ParseErrorKind> {
    if line.is_empty() {
        return Err(ParseErrorKind::BlankLine);
    }
    if line.ends_with('\r') {
        return Err(ParseErrorKind::CarriageReturn);
    }
    let c = Cursor::new(line, Dialect::OpenMetrics);
    if line.starts_with('#') {
        descriptor(asm, c, n)
    } else {
        sample(asm, scratch, c, n)
    }
}

/// `# HELP`, `# TYPE` or `# UNIT`; no other `#` line exists in OpenMetrics.
fn descriptor(asm: &mut Assembler, mut c: Cursor<'_>, n: usize) -> Result<(), ParseErrorKind> {
    c.eat(b'#');
    let what = if c.eat_str(" HELP ") {
        "HELP"
    } else if c.eat_str(" TYPE ") {
        "TYPE"
    } else if c.eat_str(" UNIT ") {
        "UNIT"
    } else if c.eat_str(" EOF") {
        return Err(c.expected("end of line after \"# EOF\""));
    } else {
        return Err(ParseErrorKind::Comment);
    };
    let name = c.metric_name()?;
    c.expect(b' ', "' ' after the metric name")?;
    let value = c.rest();
    let meta = match what {
        "HELP" => Meta::Help(unescape_help(value, Dialect::OpenMetrics)?),
        "TYPE" => Meta::Type(match value {
            "counter" => Kind::Counter,
            "gauge" => Kind::Gauge,
            "histogram" => Kind::Histogram,
            "summary" => Kind::Summary,
            "unknown" => Kind::Untyped,
            "info" => Kind::Info,
            "stateset" => Kind::StateSet,
            "gaugehistogram" => return Err(ParseErrorKind::GaugeHistogram(name.to_string())),
            other => return Err(ParseErrorKind::UnknownType {
                found: other.to_string(),
                expected:
                    "counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown",
            }),
        }),
        _ => {
            if !value.bytes().all(crate::model::names::is_metric_name_char) {
                return Err(ParseErrorKind::InvalidUnit(value.to_string()));
            }
            let suffixed = name
                .strip_suffix(value)
                .is_some_and(|stem| stem.ends_with('_'));
            if !value.is_empty() && !suffixed {
                return Err(ParseErrorKind::UnitNotSuffix {
                    unit: value.to_string(),
                    name: name.to_string(),
                });
            }
            Meta::Unit(value.to_string())
        }
    };
    asm.metadata(name, meta, n)
}

/// `name{labels} value [timestamp] [# {labels} value [timestamp]]`.
fn sample<'a>(
    asm: &mut Assembler,
    scratch: &mut Scratch<'a>,
    mut c: Cursor<'a>,
    n: usize,
) -> Result<(), ParseErrorKind> {
    let name = c.metric_name()?;
    let labels = &mut scratch.labels;
    labels.clear();
    if c.eat(b'{') {
        c.labels(labels)?;
    }
    c.expect(b' ', "' ' before the sample value")?;
    let value = number(&mut c, "sample value")?;
    let mut timestamp = None;
    if c.eat(b' ') {
        if c.peek() == Some(b'#') {
            exemplar(&mut c, &mut scratch.exemplar)?;
        } else {
            timestamp = Some(seconds(&mut c)?);
            if c.eat(b' ') {
                exemplar(&mut c, &mut scratch.exemplar)?;
            }
        }
    }
    if !c.at_end() {
        return Err(c.expected("end of line"));
    }

    let (fam, part) = asm.resolve(name, n)?;
    let f = asm.family(fam);
    match f.kind {
        Kind::Info if value != 1.0 => {
            return Err(ParseErrorKind::InvalidStateValue {
                kind: "info",
                sample: describe(name, labels.iter().map(|l| (l.name, l.value.as_ref()))),
                value: Number(value),
                expected: "1",
            })
        }
        Kind::StateSet => {
            if !labels.iter().any(|l| l.name == f.name) {
                return Err(ParseErrorKind::MissingLabel {
                    sample: describe(name, labels.iter().map(|l| (l.name, l.value.as_ref()))),
                    label: f.name.clone(),
                });
            }
            if value != 0.0 && value != 1.0 {
                return Err(ParseErrorKind::InvalidStateValue {
                    kind: "stateset",
                    sample: describe(name, labels.iter().map(|l| (l.name, l.value.as_ref()))),
                    value: Number(value),
                    expected: "0 or 1",
                });
            }
        }
        _ => {}
    }
    asm.add_sample(fam, part, name, labels, value, timestamp, n)
}

/// A float token, ending at a space or the end of the line.
fn number(c: &mut Cursor<'_>, what: &'static str) -> Result<f64, ParseErrorKind> {
    let token = c.token();
    if token.is_empty() {
        return Err(c.expected(what));
    }
    parse_float(token).ok_or_else(|| ParseErrorKind::InvalidValue(token.to_string()))
}

/// A timestamp token in seconds, as milliseconds.
fn seconds(c: &mut Cursor<'_>) -> Result<i64, ParseErrorKind> {
    let token = c.token();
    if token.is_empty() {
        return Err(c.expected("timestamp or exemplar"));
    }
    parse_seconds_as_millis(token).ok_or_else(|| ParseErrorKind::InvalidTimestamp {
        token: token.to_string(),
        expected: "seconds since the epoch (a finite float)",
    })
}

/// An exemplar after its leading space: `# {labels} value [timestamp]`, checked and dropped.
fn exemplar<'a>(c: &mut Cursor<'a>, labels: &mut Vec<RawLabel<'a>>) -> Result<(), ParseErrorKind> {
    if !c.eat_str("# {") {
        return Err(c.expected("exemplar \"# {labels} value\" or end of line"));
    }
    labels.clear();
    c.labels(labels)?;
    c.expect(b' ', "' ' before the exemplar value")?;
    number(c, "exemplar value")?;
    if c.eat(b' ') {
        seconds(c)?;
    }
    Ok(())
}
