//! Assembly of parsed lines into metric families: which family a sample belongs to, which
//! series and part of it, and the checks that need a whole series (histogram buckets,
//! duplicates) before the model is built.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

use crate::model::{
    Bucket, HistogramValue, Labels, MetricFamily, MetricType, Quantile, SampleValue, Series,
    SummaryValue,
};

use super::error::{describe, shorten, Number, ParseError, ParseErrorKind};
use super::lexer::{Dialect, RawLabel};
use super::number::parse_float;

/// The type of a family as its TYPE line gives it (OpenMetrics has two more than the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// counter
    Counter,
    /// gauge
    Gauge,
    /// histogram
    Histogram,
    /// summary
    Summary,
    /// untyped (text) or unknown (OpenMetrics)
    Untyped,
    /// OpenMetrics info: one `_info` gauge of value 1.
    Info,
    /// OpenMetrics stateset: gauges of value 0 or 1 labelled by state.
    StateSet,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
            Kind::Untyped => "untyped",
            Kind::Info => "info",
            Kind::StateSet => "stateset",
        }
    }

    fn model(self) -> MetricType {
        match self {
            Kind::Counter => MetricType::Counter,
            Kind::Gauge | Kind::Info | Kind::StateSet => MetricType::Gauge,
            Kind::Histogram => MetricType::Histogram,
            Kind::Summary => MetricType::Summary,
            Kind::Untyped => MetricType::Untyped,
        }
    }
}

/// Which part of a series a sample line gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// The value of a counter, gauge, untyped, info or stateset series.
    Value,
    /// A histogram bucket (`_bucket` with `le`).
    Bucket,
    /// A summary quantile (with `quantile`).
    Quantile,
    /// `_sum`.
    Sum,
    /// `_count`.
    Count,
    /// `_created` (OpenMetrics).
    Created,
}

/// A metadata line's content.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Meta {
    /// HELP text, unescaped; empty text counts as no HELP line.
    Help(String),
    /// TYPE.
    Type(Kind),
    /// UNIT; empty counts as no UNIT line.
    Unit(String),
}

impl Meta {
    fn what(&self) -> &'static str {
        match self {
            Meta::Help(_) => "HELP",
            Meta::Type(_) => "TYPE",
            Meta::Unit(_) => "UNIT",
        }
    }
}

/// A value and the line that gave it.
#[derive(Debug, Clone, Copy)]
struct Seen {
    value: f64,
    line: usize,
}

/// A bucket or quantile: its bound or rank, value and line.
#[derive(Debug, Clone, Copy)]
struct Point {
    key: f64,
    value: f64,
    line: usize,
}

/// Everything a body said about one series so far.
#[derive(Debug)]
struct SeriesAcc {
    labels: Labels,
    line: usize,
    timestamp_ms: Option<i64>,
    value: Option<Seen>,
    sum: Option<Seen>,
    count: Option<Seen>,
    created: Option<Seen>,
    points: Vec<Point>,
}

const NONE: u32 = u32::MAX;

/// Hashes of label sets are already uniformly distributed; hashing them again is waste.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Series of a family by label-set hash, with chains for (improbable) collisions, so that
/// finding a series needs no second copy of its labels.
#[derive(Default)]
struct SeriesIndex {
    heads: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
    next: Vec<u32>,
}

impl SeriesIndex {
    fn find(&self, hash: u64, is: impl Fn(usize) -> bool) -> Option<usize> {
        let mut i = *self.heads.get(&hash)?;
        while i != NONE {
            if is(i as usize) {
                return Some(i as usize);
            }
            i = self.next[i as usize];
        }
        None
    }

    fn insert(&mut self, hash: u64, i: usize) {
        let prev = self.heads.insert(hash, i as u32).unwrap_or(NONE);
        self.next.push(prev);
    }
}

/// A family being assembled.
pub(crate) struct Family {
    /// The name as the metadata or first sample gave it.
    pub(crate) name: String,
    /// The type.
    pub(crate) kind: Kind,
    help: Option<String>,
    unit: Option<String>,
    first_line: usize,
    has_type: bool,
    has_help: bool,
    has_unit: bool,
    has_samples: bool,
    series: Vec<SeriesAcc>,
    index: SeriesIndex,
    last: usize,
}

/// Collects the families of one body in input order.
pub(crate) struct Assembler {
    dialect: Dialect,
    families: Vec<Family>,
    by_name: HashMap<String, usize>,
    current: Option<usize>,
    hasher: RandomState,
}

/// The part a sample called `sample` is of a `kind` family called `family`, if any.
fn part_of(dialect: Dialect, kind: Kind, family: &str, sample: &str) -> Option<Part> {
    let rest = sample.strip_prefix(family)?;
    let om = dialect == Dialect::OpenMetrics;
    Some(match (kind, rest) {
        (Kind::Gauge | Kind::Untyped | Kind::StateSet, "") => Part::Value,
        (Kind::Counter, "") if !om => Part::Value,
        (Kind::Counter, "_total") if om => Part::Value,
        (Kind::Info, "_info") => Part::Value,
        (Kind::Histogram, "_bucket") => Part::Bucket,
        (Kind::Summary, "") => Part::Quantile,
        (Kind::Histogram | Kind::Summary, "_sum") => Part::Sum,
        (Kind::Histogram | Kind::Summary, "_count") => Part::Count,
        (Kind::Counter | Kind::Histogram | Kind::Summary, "_created") if om => Part::Created,
        _ => return None,
    })
}

/// The sample names a family allows, for error messages.
fn allowed_names(dialect: Dialect, kind: Kind, family: &str) -> String {
    let suffixes: &[&str] = match (kind, dialect) {
        (Kind::Counter, Dialect::OpenMetrics) => &["_total", "_created"],
        (Kind::Info, _) => &["_info"],
        (Kind::Histogram, Dialect::Text) => &["_bucket", "_sum", "_count"],
        (Kind::Histogram, Dialect::OpenMetrics) => &["_bucket", "_sum", "_count", "_created"],
        (Kind::Summary, Dialect::Text) => &["", "_sum", "_count"],
        (Kind::Summary, Dialect::OpenMetrics) => &["", "_sum", "_count", "_created"],
        _ => &[""],
    };
    let names: Vec<String> = suffixes.iter().map(|s| format!("{family}{s}")).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// Suffixes by which a sample name can differ from its family's name.
fn suffixes(dialect: Dialect) -> &'static [&'static str] {
    match dialect {
        Dialect::Text => &["_bucket", "_sum", "_count"],
        Dialect::OpenMetrics => &["_total", "_created", "_bucket", "_sum", "_count", "_info"],
    }
}

/// True when the raw labels, minus the one at `skip`, are exactly `labels`.
///
/// Only used as a fast path for consecutive samples of one series; large label sets take the
/// slow path rather than a quadratic duplicate check.
fn same_labels(raw: &[RawLabel<'_>], skip: Option<usize>, labels: &Labels) -> bool {
    let n = raw.len() - usize::from(skip.is_some());
    if n != labels.len() || n > 16 {
        return false;
    }
    for (i, l) in raw.iter().enumerate() {
        if Some(i) == skip {
            continue;
        }
        if labels.get(l.name) != Some(l.value.as_ref()) {
            return false;
        }
        if raw[..i]
            .iter()
            .enumerate()
            .any(|(j, o)| Some(j) != skip && o.name == l.name)
        {
            return false;
        }
    }
    true
}

impl Family {
    /// The series `raw` (minus the label at `skip`) belongs to, created if new.
    fn series_for(
        &mut self,
        raw: &[RawLabel<'_>],
        skip: Option<usize>,
        hasher: &RandomState,
        line: usize,
    ) -> Result<usize, ParseErrorKind> {
        if let Some(last) = self.series.get(self.last) {
            if same_labels(raw, skip, &last.labels) {
                return Ok(self.last);
            }
        }
        let mut pairs: Vec<(String, String)> = Vec::with_capacity(raw.len());
        for (i, l) in raw.iter().enumerate() {
            if Some(i) != skip {
                pairs.push((l.name.to_string(), l.value.as_ref().to_string()));
            }
        }
        pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(ParseErrorKind::DuplicateLabel(w[0].0.clone()));
        }
        // The lexer checked every name (character set and reserved prefix); sorted and
        // unique was checked just above.
        let labels = Labels::from_sorted_unchecked(pairs);
        let hash = hasher.hash_one(&labels);
        let series = &self.series;
        let i = match self.index.find(hash, |i| series[i].labels == labels) {
            Some(i) => i,
            None => {
                let i = self.series.len();
                self.series.push(SeriesAcc {
                    labels,
                    line,
                    timestamp_ms: None,
                    value: None,
                    sum: None,
                    count: None,
                    created: None,
                    points: Vec::new(),
                });
                self.index.insert(hash, i);
                i
            }
        };
        self.last = i;
        Ok(i)
    }

    /// The name and type the model stores this family under.
    fn model_name(&self, dialect: Dialect) -> String {
        match (self.kind, dialect) {
            (Kind::Counter, Dialect::OpenMetrics) => format!("{}_total", self.name),
            (Kind::Info, _) => format!("{}_info", self.name),
            _ => self.name.clone(),
        }
    }
}

/// The label whose value is a bound or rank rather than part of the series, for this family.
fn special_label(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Histogram => Some("le"),
        Kind::Summary => Some("quantile"),
        _ => None,
    }
}

fn set_once(
    slot: &mut Option<Seen>,
    value: f64,
    line: usize,
    sample: impl FnOnce() -> String,
) -> Result<(), ParseErrorKind> {
    if let Some(first) = slot {
        return Err(ParseErrorKind::DuplicateSample {
            sample: sample(),
            first_line: first.line,
        });
    }
    *slot = Some(Seen { value, line });
    Ok(())
}

fn raw_pairs<'r>(raw: &'r [RawLabel<'_>]) -> impl Iterator<Item = (&'r str, &'r str)> {
    raw.iter().map(|l| (l.name, l.value.as_ref()))
}

impl Assembler {
    /// An empty assembler for one body.
    pub(crate) fn new(dialect: Dialect) -> Self {
        Assembler {
            dialect,
            families: Vec::new(),
            by_name: HashMap::new(),
            current: None,
            hasher: RandomState::new(),
        }
    }

    /// The family at `idx`.
    pub(crate) fn family(&self, idx: usize) -> &Family {
        &self.families[idx]
    }

    fn new_family(&mut self, name: &str, line: usize) -> usize {
        let idx = self.families.len();
        self.families.push(Family {
            name: name.to_string(),
            kind: Kind::Untyped,
            help: None,
            unit: None,
            first_line: line,
            has_type: false,
            has_help: false,
            has_unit: false,
            has_samples: false,
            series: Vec::new(),
            index: SeriesIndex::default(),
            last: usize::MAX,
        });
        self.by_name.insert(name.to_string(), idx);
        self.current = Some(idx);
        idx
    }

    fn non_contiguous(&self, idx: usize) -> ParseErrorKind {
        let f = &self.families[idx];
        ParseErrorKind::NonContiguousFamily {
            name: f.name.clone(),
            first_line: f.first_line,
        }
    }

    /// Records a HELP, TYPE or UNIT line for family `name`.
    pub(crate) fn metadata(
        &mut self,
        name: &str,
        meta: Meta,
        line: usize,
    ) -> Result<(), ParseErrorKind> {
        let idx = match self.current {
            Some(cur) if self.families[cur].name == name => cur,
            _ => match self.by_name.get(name) {
                Some(&idx) => return Err(self.non_contiguous(idx)),
                None => self.new_family(name, line),
            },
        };
        let fam = &mut self.families[idx];
        let what = meta.what();
        if fam.has_samples {
            return Err(ParseErrorKind::MetadataAfterSamples {
                what,
                name: name.to_string(),
            });
        }
        let (seen, empty) = match &meta {
            Meta::Help(h) => (&mut fam.has_help, h.is_empty()),
            Meta::Type(_) => (&mut fam.has_type, false),
            Meta::Unit(u) => (&mut fam.has_unit, u.is_empty()),
        };
        if empty {
            return Ok(());
        }
        if *seen {
            return Err(ParseErrorKind::DuplicateMetadata {
                what,
                name: name.to_string(),
            });
        }
        *seen = true;
        match meta {
            Meta::Help(h) => fam.help = Some(h),
            Meta::Type(k) => fam.kind = k,
            Meta::Unit(u) => fam.unit = Some(u),
        }
        Ok(())
    }

    /// The family and part a sample named `name` belongs to; a new untyped family when it
    /// fits none so far.
    pub(crate) fn resolve(
        &mut self,
        name: &str,
        line: usize,
    ) -> Result<(usize, Part), ParseErrorKind> {
        let d = self.dialect;
        if let Some(cur) = self.current {
            let f = &self.families[cur];
            if let Some(part) = part_of(d, f.kind, &f.name, name) {
                return Ok((cur, part));
            }
            if f.name == name {
                return Err(ParseErrorKind::SampleNameMismatch {
                    sample: name.to_string(),
                    kind: f.kind.as_str(),
                    family: f.name.clone(),
                    expected: allowed_names(d, f.kind, &f.name),
                });
            }
        }
        if let Some(&idx) = self.by_name.get(name) {
            return Err(self.non_contiguous(idx));
        }
        for suffix in suffixes(d) {
            if let Some(&idx) = name.strip_suffix(suffix).and_then(|b| self.by_name.get(b)) {
                let f = &self.families[idx];
                if part_of(d, f.kind, &f.name, name).is_some() {
                    return Err(self.non_contiguous(idx));
                }
            }
        }
        Ok((self.new_family(name, line), Part::Value))
    }

    /// Adds one sample line to series of family `fam`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_sample(
        &mut self,
        fam: usize,
        part: Part,
        sample: &str,
        raw: &[RawLabel<'_>],
        value: f64,
        timestamp_ms: Option<i64>,
        line: usize,
    ) -> Result<(), ParseErrorKind> {
        let f = &mut self.families[fam];
        f.has_samples = true;
        let describe_sample = || describe(sample, raw_pairs(raw));

        let mut skip = None;
        let mut key = 0.0;
        if let Some(special) = special_label(f.kind) {
            for (i, l) in raw.iter().enumerate() {
                if l.name == special {
                    if skip.is_some() {
                        return Err(ParseErrorKind::DuplicateLabel(special.to_string()));
                    }
                    skip = Some(i);
                }
            }
            let wanted = matches!(part, Part::Bucket | Part::Quantile);
            match (skip, wanted) {
                (None, true) => {
                    return Err(ParseErrorKind::MissingLabel {
                        sample: describe_sample(),
                        label: special.to_string(),
                    })
                }
                (Some(_), false) => {
                    return Err(ParseErrorKind::UnexpectedLabel {
                        sample: describe_sample(),
                        label: special,
                    })
                }
                (Some(i), true) => key = bound(special, &raw[i].value)?,
                (None, false) => {}
            }
        }

        let counts_up = matches!(
            (f.kind, part),
            (Kind::Counter, Part::Value)
                | (Kind::Histogram, Part::Bucket | Part::Count)
                | (Kind::Summary, Part::Count)
        );
        if counts_up && (value.is_nan() || value < 0.0) {
            return Err(ParseErrorKind::NegativeCounter {
                sample: describe_sample(),
                value: Number(value),
            });
        }

        let i = f.series_for(raw, skip, &self.hasher, line)?;
        let s = &mut f.series[i];
        match part {
            Part::Value => set_once(&mut s.value, value, line, describe_sample)?,
            Part::Sum => set_once(&mut s.sum, value, line, describe_sample)?,
            Part::Count => set_once(&mut s.count, value, line, describe_sample)?,
            Part::Created => set_once(&mut s.created, value, line, describe_sample)?,
            Part::Bucket | Part::Quantile => s.points.push(Point { key, value, line }),
        }
        if part != Part::Created && s.timestamp_ms.is_none() {
            s.timestamp_ms = timestamp_ms;
        }
        Ok(())
    }

    /// Checks whole series and families and builds the model, dropping families without
    /// samples (a HELP or TYPE alone has nothing to aggregate).
    pub(crate) fn finish(self) -> Result<Vec<MetricFamily>, ParseError> {
        let dialect = self.dialect;
        let mut exposed: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::with_capacity(self.families.len());
        for (idx, fam) in self.families.iter().enumerate() {
            if fam.series.is_empty() {
                continue;
            }
            let name = fam.model_name(dialect);
            let kind = fam.kind.model();
            for sample in exposed_names(&name, kind) {
                if let Some(&other) = exposed.get(&sample) {
                    let o = &self.families[other];
                    return Err(ParseErrorKind::FamilyClash {
                        name: fam.name.clone(),
                        other: o.name.clone(),
                        other_line: o.first_line,
                        sample,
                    }
                    .at(fam.first_line));
                }
                exposed.insert(sample, idx);
            }
            out.push((idx, name, kind));
        }
        let mut families = self.families;
        out.into_iter()
            .map(|(idx, name, kind)| {
                let fam = &mut families[idx];
                let series = std::mem::take(&mut fam.series)
                    .into_iter()
                    .map(|s| build_series(fam.kind, &name, s))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(MetricFamily {
                    name,
                    kind,
                    help: fam.help.take(),
                    unit: fam.unit.take(),
                    series,
                })
            })
            .collect()
    }
}

/// Parses an `le` bound or `quantile` rank.
fn bound(label: &'static str, value: &str) -> Result<f64, ParseErrorKind> {
    let invalid = |reason| ParseErrorKind::InvalidBound {
        label,
        value: shorten(value.to_string()),
        reason,
    };
    let v = parse_float(value).ok_or_else(|| invalid("expected a float or +Inf"))?;
    if v.is_nan() {
        return Err(invalid("must not be NaN"));
    }
    if label == "quantile" && !(0.0..=1.0).contains(&v) {
        return Err(invalid("must be between 0 and 1"));
    }
    // `le="-0"` and `le="0"` are one bound; store it one way.
    Ok(v + 0.0)
}

/// The sample names a family of this name and type is exposed with in the text format.
fn exposed_names(name: &str, kind: MetricType) -> Vec<String> {
    let suffixes: &[&str] = match kind {
        MetricType::Histogram => &["", "_bucket", "_sum", "_count"],
        MetricType::Summary => &["", "_sum", "_count"],
        _ => &[""],
    };
    suffixes.iter().map(|s| format!("{name}{s}")).collect()
}

/// Builds one model series, checking what needs the whole series.
fn build_series(kind: Kind, name: &str, mut s: SeriesAcc) -> Result<Series, ParseError> {
    let series = || shorten(s.labels.series_key(name));
    let value = match kind {
        Kind::Counter | Kind::Gauge | Kind::Untyped | Kind::Info | Kind::StateSet => {
            let Some(v) = s.value else {
                return Err(ParseErrorKind::MissingSample {
                    kind: "counter",
                    series: series(),
                    suffix: "_total",
                }
                .at(s.line));
            };
            match kind {
                Kind::Counter => SampleValue::Counter(v.value),
                Kind::Untyped => SampleValue::Untyped(v.value),
                _ => SampleValue::Gauge(v.value),
            }
        }
        Kind::Histogram | Kind::Summary => {
            let hist = kind == Kind::Histogram;
            let (what, label, part_suffix) = if hist {
                ("histogram", "le", "_bucket")
            } else {
                ("summary", "quantile", "")
            };
            // Stable: of two equal bounds, the one given later stays later.
            s.points.sort_by(|a, b| a.key.total_cmp(&b.key));
            for w in s.points.windows(2) {
                if w[0].key == w[1].key {
                    let mut key = String::new();
                    crate::model::labels::format_value(w[1].key, &mut key);
                    let sample_name = format!("{name}{part_suffix}");
                    let pairs = s
                        .labels
                        .pairs()
                        .iter()
                        .map(|(a, b)| (a.as_str(), b.as_str()));
                    return Err(ParseErrorKind::DuplicateSample {
                        sample: describe(&sample_name, pairs.chain([(label, key.as_str())])),
                        first_line: w[0].line,
                    }
                    .at(w[1].line));
                }
                if hist && w[1].value < w[0].value {
                    return Err(ParseErrorKind::BucketsNotCumulative {
                        series: series(),
                        le: Number(w[1].key),
                        count: Number(w[1].value),
                        previous: Number(w[0].value),
                    }
                    .at(w[1].line));
                }
            }
            let missing = |suffix| ParseErrorKind::MissingSample {
                kind: what,
                series: series(),
                suffix,
            };
            let inf = match s.points.last() {
                Some(p) if p.key == f64::INFINITY => Some(*p),
                _ if hist => {
                    return Err(ParseErrorKind::MissingInfBucket { series: series() }.at(s.line))
                }
                _ => None,
            };
            let sum = s.sum.ok_or_else(|| missing("_sum").at(s.line))?;
            let count = s.count.ok_or_else(|| missing("_count").at(s.line))?;
            if let Some(inf) = inf {
                if inf.value != count.value {
                    return Err(ParseErrorKind::CountMismatch {
                        series: series(),
                        count: Number(count.value),
                        inf: Number(inf.value),
                    }
                    .at(count.line));
                }
            }
            if hist {
                SampleValue::Histogram(HistogramValue {
                    buckets: s
                        .points
                        .iter()
                        .map(|p| Bucket {
                            upper_bound: p.key,
                            cumulative_count: p.value,
                        })
                        .collect(),
                    sum: sum.value,
                    count: count.value,
                })
            } else {
                SampleValue::Summary(SummaryValue {
                    quantiles: s
                        .points
                        .iter()
                        .map(|p| Quantile {
                            quantile: p.key,
                            value: p.value,
                        })
                        .collect(),
                    sum: sum.value,
                    count: count.value,
                })
            }
        }
    };
    Ok(Series {
        labels: s.labels,
        value,
        timestamp_ms: s.timestamp_ms,
        created: s.created.map(|c| c.value),
    })
}
