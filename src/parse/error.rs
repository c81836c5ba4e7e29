//! Errors of the text-based parsers: what went wrong, and on which line.

use std::fmt;

use thiserror::Error;

use crate::model::NameError;

/// A refused text, OpenMetrics or JSON-wrapped body: the 1-based line and the problem.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("line {line}: {kind}")]
pub struct ParseError {
    /// 1-based line number of the offending line.
    pub line: usize,
    /// What was wrong with it.
    pub kind: ParseErrorKind,
}

/// What the parser found where it expected something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// The line ended.
    EndOfLine,
    /// This character.
    Char(char),
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::EndOfLine => f.write_str("end of line"),
            Found::Char(c) => write!(f, "{c:?}"),
        }
    }
}

/// A float shown as the exposition formats write it (`NaN`, `+Inf`, `-Inf`, `1.5`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(pub f64);

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        crate::model::labels::format_value(self.0, &mut s);
        f.write_str(&s)
    }
}

/// Every way a text-based body can be malformed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ParseErrorKind {
    /// A token was missing or a stray character appeared.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What the grammar requires here.
        expected: &'static str,
        /// What the line had instead.
        found: Found,
    },
    /// A metric or label name broke the naming rules.
    #[error(transparent)]
    Name(#[from] NameError),
    /// A label name appeared twice in one sample.
    #[error("duplicate label {0:?}")]
    DuplicateLabel(String),
    /// A quoted (UTF-8) metric or label name, as Prometheus 3 can write them.
    #[error("quoted metric and label names are not supported (UTF-8 names are refused); names must match [a-zA-Z_:][a-zA-Z0-9_:]*")]
    QuotedName,
    /// A backslash escape the format does not define.
    #[error("invalid escape sequence \"\\{found}\" in {context} (only {allowed} are allowed)")]
    InvalidEscape {
        /// The character after the backslash.
        found: char,
        /// "label value" or "HELP text".
        context: &'static str,
        /// The escapes that are allowed there.
        allowed: &'static str,
    },
    /// A label value's closing quote is missing.
    #[error("label value is not closed by '\"' before the end of the line (raw newlines must be escaped as \\n)")]
    UnterminatedLabelValue,
    /// A sample value is not a number.
    #[error("invalid sample value {0:?}: expected a float, NaN, +Inf or -Inf")]
    InvalidValue(String),
    /// A timestamp is not what the format allows.
    #[error("invalid timestamp {token:?}: expected {expected}")]
    InvalidTimestamp {
        /// The timestamp as written.
        token: String,
        /// What the format allows.
        expected: &'static str,
    },
    /// A line ends with `\r\n`.
    #[error("line ends with a carriage return: lines must end with \\n alone")]
    CarriageReturn,
    /// The body starts with a byte order mark.
    #[error("body starts with a byte order mark (U+FEFF); send UTF-8 without one")]
    ByteOrderMark,
    /// The body is not UTF-8.
    #[error("body is not valid UTF-8")]
    InvalidUtf8,
    /// An empty line in OpenMetrics, which has none.
    #[error("blank lines are not allowed in OpenMetrics")]
    BlankLine,
    /// A `#` line in OpenMetrics other than HELP, TYPE, UNIT and EOF.
    #[error(
        "comment lines are not allowed in OpenMetrics (only # HELP, # TYPE, # UNIT and # EOF)"
    )]
    Comment,
    /// An OpenMetrics body without its final `# EOF`.
    #[error("OpenMetrics body does not end with \"# EOF\"")]
    MissingEof,
    /// Anything after an OpenMetrics `# EOF`.
    #[error("unexpected data after \"# EOF\"")]
    DataAfterEof,
    /// A TYPE line names a type the format does not define.
    #[error("unknown metric type {found:?} (expected one of: {expected})")]
    UnknownType {
        /// The type as written.
        found: String,
        /// The types the format defines.
        expected: &'static str,
    },
    /// An OpenMetrics gaugehistogram family.
    #[error("metric family {0:?} is a gaugehistogram, which promagg does not support")]
    GaugeHistogram(String),
    /// A UNIT value with characters outside the metric name set.
    #[error("invalid unit {0:?}: a unit must match [a-zA-Z0-9_:]*")]
    InvalidUnit(String),
    /// A UNIT that the family name does not end with.
    #[error("unit {unit:?} is not a suffix of metric family name {name:?} (the name must end in \"_{unit}\")")]
    UnitNotSuffix {
        /// The unit.
        unit: String,
        /// The family name.
        name: String,
    },
    /// A second HELP, TYPE or UNIT line for one family.
    #[error("second {what} line for metric family {name:?}")]
    DuplicateMetadata {
        /// "HELP", "TYPE" or "UNIT".
        what: &'static str,
        /// The family.
        name: String,
    },
    /// HELP, TYPE or UNIT after the family's samples.
    #[error(
        "{what} line for metric family {name:?} comes after its samples; metadata must come first"
    )]
    MetadataAfterSamples {
        /// "HELP", "TYPE" or "UNIT".
        what: &'static str,
        /// The family.
        name: String,
    },
    /// A family whose lines are split by another family's.
    #[error("metric family {name:?} continues here after other families; all lines of a family must form one group (it started at line {first_line})")]
    NonContiguousFamily {
        /// The family.
        name: String,
        /// Where its first line was.
        first_line: usize,
    },
    /// A sample whose name does not fit the type of the family it falls in.
    #[error("sample {sample:?} does not fit {kind} family {family:?}: expected {expected}")]
    SampleNameMismatch {
        /// The sample name.
        sample: String,
        /// The family type.
        kind: &'static str,
        /// The family name.
        family: String,
        /// The sample names the family allows.
        expected: String,
    },
    /// A histogram bucket without `le`, a summary quantile without `quantile`, a stateset sample
    /// without its state label.
    #[error("sample {sample} has no {label:?} label")]
    MissingLabel {
        /// The sample as written.
        sample: String,
        /// The missing label.
        label: String,
    },
    /// `le` or `quantile` on a sample that must not have it.
    #[error("sample {sample} must not have a {label:?} label")]
    UnexpectedLabel {
        /// The sample as written.
        sample: String,
        /// The label.
        label: &'static str,
    },
    /// An `le` or `quantile` value that is not a valid bound or rank.
    #[error("invalid {label} value {value:?}: {reason}")]
    InvalidBound {
        /// "le" or "quantile".
        label: &'static str,
        /// The value as written.
        value: String,
        /// What it must be.
        reason: &'static str,
    },
    /// A negative or NaN counter, bucket or count.
    #[error("counter increments must be non-negative numbers: {sample} is {value}")]
    NegativeCounter {
        /// The sample as written.
        sample: String,
        /// Its value.
        value: Number,
    },
    /// An info or stateset sample with a value its type forbids.
    #[error("{kind} sample {sample} is {value}, but must be {expected}")]
    InvalidStateValue {
        /// "info" or "stateset".
        kind: &'static str,
        /// The sample as written.
        sample: String,
        /// Its value.
        value: Number,
        /// The values allowed.
        expected: &'static str,
    },
    /// The same series (or the same bucket, quantile, sum or count of one) twice in a body.
    #[error("duplicate sample {sample} (first given at line {first_line})")]
    DuplicateSample {
        /// The sample as written.
        sample: String,
        /// Where it was first given.
        first_line: usize,
    },
    /// A histogram without its `+Inf` bucket.
    #[error("histogram {series} has no le=\"+Inf\" bucket")]
    MissingInfBucket {
        /// The series.
        series: String,
    },
    /// A histogram or summary without `_sum` or `_count`, or a counter with only `_created`.
    #[error("{kind} {series} has no {suffix} sample")]
    MissingSample {
        /// "histogram", "summary" or "counter".
        kind: &'static str,
        /// The series.
        series: String,
        /// The missing sample's suffix.
        suffix: &'static str,
    },
    /// Histogram buckets that are not cumulative.
    #[error("histogram {series}: bucket le=\"{le}\" has count {count}, less than {previous} in the bucket below; buckets are cumulative")]
    BucketsNotCumulative {
        /// The series.
        series: String,
        /// The bucket bound.
        le: Number,
        /// The bucket count.
        count: Number,
        /// The count of the bucket below it.
        previous: Number,
    },
    /// A histogram whose `_count` differs from its `+Inf` bucket.
    #[error("histogram {series}: _count {count} differs from the le=\"+Inf\" bucket {inf}")]
    CountMismatch {
        /// The series.
        series: String,
        /// The `_count` value.
        count: Number,
        /// The `+Inf` bucket value.
        inf: Number,
    },
    /// Two families that would expose samples of the same name.
    #[error("metric family {name:?} clashes with family {other:?} (line {other_line}): both would expose samples named {sample:?}")]
    FamilyClash {
        /// The later family.
        name: String,
        /// The earlier family.
        other: String,
        /// Where the earlier family started.
        other_line: usize,
        /// The sample name both would use.
        sample: String,
    },
    /// A JSON-wrapped body that is not one JSON string.
    #[error(
        "invalid JSON-wrapped body (expected one JSON string holding text-format metrics): {0}"
    )]
    Json(String),
}

impl ParseErrorKind {
    /// Attaches the line number, cutting over-long names and tokens so that an error message
    /// never repeats megabytes of a hostile body.
    pub(crate) fn at(mut self, line: usize) -> ParseError {
        self.shorten_fields();
        ParseError { line, kind: self }
    }

    fn shorten_fields(&mut self) {
        use ParseErrorKind as K;
        let cut = |s: &mut String| *s = shorten(std::mem::take(s));
        match self {
            K::Name(NameError::InvalidChars { name, .. } | NameError::Reserved(name))
            | K::DuplicateLabel(name)
            | K::InvalidValue(name)
            | K::InvalidTimestamp { token: name, .. }
            | K::UnknownType { found: name, .. }
            | K::GaugeHistogram(name)
            | K::InvalidUnit(name)
            | K::DuplicateMetadata { name, .. }
            | K::MetadataAfterSamples { name, .. }
            | K::NonContiguousFamily { name, .. }
            | K::MissingLabel { label: name, .. }
            | K::Json(name) => cut(name),
            K::UnitNotSuffix { unit, name } => {
                cut(unit);
                cut(name);
            }
            K::SampleNameMismatch {
                sample,
                family,
                expected,
                ..
            } => {
                cut(sample);
                cut(family);
                cut(expected);
            }
            K::FamilyClash {
                name,
                other,
                sample,
                ..
            } => {
                cut(name);
                cut(other);
                cut(sample);
            }
            // Sample and series descriptions are built short already.
            K::Name(NameError::Empty(_))
            | K::Expected { .. }
            | K::QuotedName
            | K::InvalidEscape { .. }
            | K::UnterminatedLabelValue
            | K::CarriageReturn
            | K::ByteOrderMark
            | K::InvalidUtf8
            | K::BlankLine
            | K::Comment
            | K::MissingEof
            | K::DataAfterEof
            | K::UnexpectedLabel { .. }
            | K::InvalidBound { .. }
            | K::NegativeCounter { .. }
            | K::InvalidStateValue { .. }
            | K::DuplicateSample { .. }
            | K::MissingInfBucket { .. }
            | K::MissingSample { .. }
            | K::BucketsNotCumulative { .. }
            | K::CountMismatch { .. } => {}
        }
    }
}

/// Longest sample description an error message repeats.
const MAX_DESCRIPTION: usize = 200;

/// `name{a="1",b="2"}` as written (labels in input order), cut to a readable length.
pub(crate) fn describe<'a>(
    name: &str,
    labels: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut out = String::with_capacity(64);
    out.push_str(name);
    let mut first = true;
    for (n, v) in labels {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(n);
        out.push_str("=\"");
        crate::model::labels::escape_label_value(v, &mut out);
        out.push('"');
    }
    if !first {
        out.push('}');
    }
    shorten(out)
}

/// Cuts an over-long description, marking the cut.
pub(crate) fn shorten(mut s: String) -> String {
    if s.len() > MAX_DESCRIPTION {
        let mut end = MAX_DESCRIPTION;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_line_and_problem() {
        let e = ParseErrorKind::Expected {
            expected: "'=' after label name",
            found: Found::Char('-'),
        }
        .at(3);
        assert_eq!(
            e.to_string(),
            "line 3: expected '=' after label name, found '-'"
        );
        let e = ParseErrorKind::NegativeCounter {
            sample: "c".into(),
            value: Number(f64::NAN),
        }
        .at(1);
        assert_eq!(
            e.to_string(),
            "line 1: counter increments must be non-negative numbers: c is NaN"
        );
        assert_eq!(Found::EndOfLine.to_string(), "end of line");
    }

    #[test]
    fn long_tokens_are_cut_in_messages() {
        let long = "x".repeat(10_000);
        let e = ParseErrorKind::InvalidValue(long.clone()).at(1);
        assert!(e.to_string().len() < 300, "{e}");
        let e = ParseErrorKind::Name(NameError::InvalidChars {
            kind: "metric",
            name: format!("{long}-"),
            pattern: "p",
        })
        .at(2);
        assert!(e.to_string().len() < 400, "{e}");
        let e = crate::parse::text::parse(&format!("{long}-a 1\n")).unwrap_err();
        assert!(e.to_string().len() < 400, "{e}");
        let e = crate::parse::text::parse(&format!("a {long}\n")).unwrap_err();
        assert!(e.to_string().contains("xxx..."), "{e}");
    }

    #[test]
    fn descriptions_escape_and_shorten() {
        assert_eq!(
            describe("m", [("a", "x\"y"), ("b", "2")]),
            r#"m{a="x\"y",b="2"}"#
        );
        assert_eq!(describe("m", []), "m");
        let long = describe("m", [("a", "é".repeat(300).as_str())]);
        assert!(long.len() <= MAX_DESCRIPTION + 3 && long.ends_with("..."));
    }
}
