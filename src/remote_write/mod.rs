//! Remote write encoding: stored families to snappy-compressed protobuf request bodies.
//!
//! Pure encoding, no I/O: the caller sends each [`Batch`] with the matching header set
//! ([`headers_v1`] or [`headers_v2`]). Both protocol versions share one flattening step
//! ([`expand`]): families sorted by name, series by labels, histograms expanded to
//! `_bucket{le}`/`_sum`/`_count` and summaries to `{quantile}`/`_sum`/`_count`, every
//! sample stamped with the run's single timestamp, then staleness markers for series
//! that disappeared. `_created` is not sent, and a series' own push timestamp is not
//! used: the gateway reports what it holds at the time of the run.
//!
//! Extra labels (e.g. `instance`) are added to every series that does not already carry
//! a label of that name: they override nothing.

pub mod batch;
pub mod expand;
pub mod v1;
pub mod v2;
pub mod written;

use thiserror::Error;

use crate::model::{Labels, MetricFamily, MetricType, NameError, SampleValue, Series};

pub use v1::{decode_v1, encode_v1, headers_v1};
pub use v2::{decode_v2, encode_v2, headers_v2};
pub use written::{parse_written_headers, WrittenError, WrittenStats};

/// The float bits Prometheus uses as a staleness marker (`value.StaleNaN`).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;
/// `Content-Encoding` of every remote write body.
pub const CONTENT_ENCODING: &str = "snappy";
/// `Content-Type` of a remote write 1.0 body.
pub const CONTENT_TYPE_V1: &str = "application/x-protobuf";
/// `X-Prometheus-Remote-Write-Version` of a remote write 1.0 request.
pub const VERSION_V1: &str = "0.1.0";
/// `Content-Type` of a remote write 2.0 body.
pub const CONTENT_TYPE_V2: &str = "application/x-protobuf;proto=io.prometheus.write.v2.Request";
/// `X-Prometheus-Remote-Write-Version` of a remote write 2.0 request.
pub const VERSION_V2: &str = "2.0.0";
/// Name of the version header.
pub const VERSION_HEADER: &str = "X-Prometheus-Remote-Write-Version";
/// `User-Agent` of the gateway's remote write requests.
pub const USER_AGENT: &str = concat!("promagg/", env!("CARGO_PKG_VERSION"));
/// Default upper bound on samples in one request (Prometheus' own default is 2,000).
pub const DEFAULT_MAX_SAMPLES_PER_BATCH: usize = 2_000;

/// The staleness-marker NaN, as a float.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// True when `v` is exactly the staleness marker (not just any NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// How a run is encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodeOptions {
    /// The one timestamp (ms since the epoch) every sample of the run carries.
    pub timestamp_ms: i64,
    /// Labels added to every series that lacks a label of that name.
    pub extra_labels: Vec<(String, String)>,
    /// Upper bound on samples (and so series) in one request; at least 1.
    pub max_samples_per_batch: usize,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            timestamp_ms: 0,
            extra_labels: Vec::new(),
            max_samples_per_batch: DEFAULT_MAX_SAMPLES_PER_BATCH,
        }
    }
}

/// One request body, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The snappy (block format) compressed protobuf message.
    pub body: Vec<u8>,
    /// Float samples in the request.
    pub samples: usize,
    /// Time series in the request.
    pub series: usize,
}

/// A series removed since the last run, which gets a staleness marker.
///
/// Carries the shape of its last value so every series it expanded to is marked:
/// each `_bucket{le}` of a histogram, each `{quantile}` of a summary, and `_sum`/`_count`.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleSeries {
    /// The family name as stored (counters as `foo_total`).
    pub family: String,
    /// The family type.
    pub kind: MetricType,
    /// The series labels (without `le`/`quantile`).
    pub labels: Labels,
    /// Histogram bucket bounds; `+Inf` is marked whether listed or not.
    pub bounds: Vec<f64>,
    /// Summary quantile ranks.
    pub quantiles: Vec<f64>,
}

impl StaleSeries {
    /// The staleness entry for `series` of `family`, shaped like its value.
    pub fn of(family: &MetricFamily, series: &Series) -> Self {
        let (bounds, quantiles) = match &series.value {
            SampleValue::Histogram(h) => (h.bounds(), Vec::new()),
            SampleValue::Summary(s) => {
                (Vec::new(), s.quantiles.iter().map(|q| q.quantile).collect())
            }
            _ => (Vec::new(), Vec::new()),
        };
        StaleSeries {
            family: family.name.clone(),
            kind: family.kind,
            labels: series.labels.clone(),
            bounds,
            quantiles,
        }
    }
}

/// Why a run could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// An extra label name breaks the label naming rules.
    #[error("extra label {name:?}: {source}")]
    ExtraLabelName {
        /// The name.
        name: String,
        /// The rule it broke.
        source: NameError,
    },
    /// `le` or `quantile` as an extra label would collide with expanded series.
    #[error("extra label {0:?} is reserved for histogram buckets and summary quantiles")]
    ExtraLabelReserved(String),
    /// The same extra label name twice.
    #[error("extra label {0:?} is given twice")]
    ExtraLabelDuplicate(String),
    /// A batch size of zero.
    #[error("max_samples_per_batch must be at least 1")]
    ZeroBatchSize,
    /// Snappy refused the message (only possible beyond 4 GiB).
    #[error("snappy compression failed: {0}")]
    Compress(String),
}

/// Why a remote write body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The body is not snappy block-format data.
    #[error("body is not snappy block-compressed: {0}")]
    Snappy(String),
    /// The decompressed bytes are not the expected protobuf message.
    #[error("body is not a valid {message}: {reason}")]
    Protobuf {
        /// The message type expected.
        message: &'static str,
        /// The decoder's explanation.
        reason: String,
    },
}

/// Checks the options once per run, before any work.
fn validate(opts: &EncodeOptions) -> Result<(), EncodeError> {
    if opts.max_samples_per_batch == 0 {
        return Err(EncodeError::ZeroBatchSize);
    }
    for (i, (name, _)) in opts.extra_labels.iter().enumerate() {
        crate::model::validate_label_name(name).map_err(|source| EncodeError::ExtraLabelName {
            name: name.clone(),
            source,
        })?;
        if name == "le" || name == "quantile" {
            return Err(EncodeError::ExtraLabelReserved(name.clone()));
        }
        if opts.extra_labels[..i].iter().any(|(n, _)| n == name) {
            return Err(EncodeError::ExtraLabelDuplicate(name.clone()));
        }
    }
    Ok(())
}

/// Snappy block-format compression, as remote write requires (not the framed format).
fn compress(message: &[u8]) -> Result<Vec<u8>, EncodeError> {
    snap::raw::Encoder::new()
        .compress_vec(message)
        .map_err(|e| EncodeError::Compress(e.to_string()))
}

/// Most bytes one compressed byte can stand for in snappy's block format (a 3-byte copy
/// element yields at most 64 bytes), with room to spare.
const MAX_EXPANSION: usize = 32;

/// Snappy block-format decompression.
///
/// The length header is checked against what the body could possibly expand to before
/// anything is allocated: a 5-byte body must not make the decoder reserve gigabytes.
fn decompress(body: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let claimed =
        snap::raw::decompress_len(body).map_err(|e| DecodeError::Snappy(e.to_string()))?;
    let possible = body.len().saturating_mul(MAX_EXPANSION);
    if claimed > possible {
        return Err(DecodeError::Snappy(format!(
            "header claims {claimed} bytes, more than {} compressed bytes can hold",
            body.len()
        )));
    }
    snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| DecodeError::Snappy(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(extra: &[(&str, &str)], max: usize) -> EncodeOptions {
        EncodeOptions {
            timestamp_ms: 1,
            extra_labels: extra
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            max_samples_per_batch: max,
        }
    }

    #[test]
    fn stale_nan_is_the_prometheus_marker() {
        assert!(stale_nan().is_nan());
        assert_eq!(stale_nan().to_bits(), 0x7ff0000000000002);
        assert!(is_stale_nan(stale_nan()));
        assert!(!is_stale_nan(f64::NAN));
        assert!(!is_stale_nan(1.0));
    }

    #[test]
    fn options_are_validated() {
        assert_eq!(validate(&opts(&[("instance", "a")], 1)), Ok(()));
        assert_eq!(validate(&opts(&[], 0)), Err(EncodeError::ZeroBatchSize));
        assert_eq!(
            validate(&opts(&[("le", "1")], 5)),
            Err(EncodeError::ExtraLabelReserved("le".into()))
        );
        assert_eq!(
            validate(&opts(&[("quantile", "1")], 5)),
            Err(EncodeError::ExtraLabelReserved("quantile".into()))
        );
        assert_eq!(
            validate(&opts(&[("a", "1"), ("b", "2"), ("a", "3")], 5)),
            Err(EncodeError::ExtraLabelDuplicate("a".into()))
        );
        assert_eq!(
            validate(&opts(&[("__name__", "x")], 5)),
            Err(EncodeError::ExtraLabelName {
                name: "__name__".into(),
                source: NameError::Reserved("__name__".into())
            })
        );
        assert!(matches!(
            validate(&opts(&[("a-b", "x")], 5)),
            Err(EncodeError::ExtraLabelName { .. })
        ));
    }

    #[test]
    fn snappy_round_trip_uses_the_block_format() {
        let data: Vec<u8> = (0..10_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let packed = compress(&data).unwrap();
        assert!(packed.len() < data.len());
        // The block format starts with the uncompressed length as a varint, unlike the
        // framed format's stream identifier chunk (0xff 0x06 0x00 0x00 "sNaPpY").
        assert_eq!(snap::raw::decompress_len(&packed).unwrap(), data.len());
        assert_ne!(packed[0], 0xff);
        assert_eq!(decompress(&packed).unwrap(), data);
        assert!(matches!(
            decompress(b"\xff\x06\x00\x00sNaPpY"),
            Err(DecodeError::Snappy(_))
        ));
        assert_eq!(compress(&[]).unwrap(), [0]);
        assert_eq!(decompress(&[0]).unwrap(), Vec::<u8>::new());
        let err = decompress(&[0xff, 0xff, 0xff, 0xff, 0x0a]).unwrap_err();
        assert!(err.to_string().contains("header claims"), "{err}");
        let big = vec![0u8; 1 << 20];
        let packed = compress(&big).unwrap();
        assert_eq!(
            decompress(&packed).unwrap(),
            big,
            "a real 1 MiB run of zeros still decodes"
        );
    }

    #[test]
    fn stale_series_of_keeps_the_shape() {
        use crate::model::{Bucket, HistogramValue, Quantile, SummaryValue};
        let mut h = MetricFamily::new("h", MetricType::Histogram);
        h.series.push(Series {
            labels: Labels::new(vec![("a".into(), "1".into())]).unwrap(),
            value: SampleValue::Histogram(HistogramValue {
                buckets: vec![
                    Bucket {
                        upper_bound: 1.0,
                        cumulative_count: 1.0,
                    },
                    Bucket {
                        upper_bound: f64::INFINITY,
                        cumulative_count: 2.0,
                    },
                ],
                sum: 1.0,
                count: 2.0,
            }),
            timestamp_ms: None,
            created: None,
        });
        let st = StaleSeries::of(&h, &h.series[0]);
        assert_eq!(st.family, "h");
        assert_eq!(st.kind, MetricType::Histogram);
        assert_eq!(st.bounds, [1.0, f64::INFINITY]);
        assert!(st.quantiles.is_empty());
        let mut s = MetricFamily::new("s", MetricType::Summary);
        s.series.push(Series {
            labels: Labels::empty(),
            value: SampleValue::Summary(SummaryValue {
                quantiles: vec![Quantile {
                    quantile: 0.5,
                    value: 1.0,
                }],
                sum: 1.0,
                count: 1.0,
            }),
            timestamp_ms: None,
            created: None,
        });
        assert_eq!(StaleSeries::of(&s, &s.series[0]).quantiles, [0.5]);
    }
}

/// Families and markers shared by the v1 and v2 tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::model::{
        Bucket, HistogramValue, Labels, MetricFamily, MetricType, Quantile, SampleValue, Series,
        SummaryValue,
    };

    use super::StaleSeries;

    /// Labels from pairs.
    pub fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        )
        .unwrap()
    }

    fn series(l: &[(&str, &str)], value: SampleValue) -> Series {
        Series {
            labels: labels(l),
            value,
            timestamp_ms: None,
            created: Some(100.0),
        }
    }

    /// One family of every type: 1 counter + 2 gauges + 1 untyped + 4 (summary) + 5
    /// (histogram: 3 buckets, sum, count) = 13 series.
    pub fn families() -> Vec<MetricFamily> {
        let mut c = MetricFamily::new("jobs_total", MetricType::Counter);
        c.help = Some("Jobs done.".into());
        c.series
            .push(series(&[("job", "a")], SampleValue::Counter(7.0)));
        let mut g = MetricFamily::new("temp_celsius", MetricType::Gauge);
        g.unit = Some("celsius".into());
        g.series
            .push(series(&[("room", "b")], SampleValue::Gauge(-1.5)));
        g.series
            .push(series(&[("room", "a")], SampleValue::Gauge(21.0)));
        let mut u = MetricFamily::new("mystery", MetricType::Untyped);
        u.series.push(series(&[], SampleValue::Untyped(3.0)));
        let mut s = MetricFamily::new("rpc_seconds", MetricType::Summary);
        s.help = Some("RPC latency.".into());
        s.series.push(series(
            &[],
            SampleValue::Summary(SummaryValue {
                quantiles: vec![
                    Quantile {
                        quantile: 0.5,
                        value: 0.25,
                    },
                    Quantile {
                        quantile: 0.9,
                        value: 1.0,
                    },
                ],
                sum: 12.0,
                count: 30.0,
            }),
        ));
        let mut h = MetricFamily::new("req_seconds", MetricType::Histogram);
        h.help = Some("Request latency.".into());
        h.series.push(series(
            &[("path", "/")],
            SampleValue::Histogram(HistogramValue {
                buckets: vec![
                    Bucket {
                        upper_bound: 0.1,
                        cumulative_count: 2.0,
                    },
                    Bucket {
                        upper_bound: 1.0,
                        cumulative_count: 5.0,
                    },
                    Bucket {
                        upper_bound: f64::INFINITY,
                        cumulative_count: 6.0,
                    },
                ],
                sum: 3.5,
                count: 6.0,
            }),
        ));
        vec![u, h, g, s, c]
    }

    /// A removed counter series and a removed histogram series (2 bounds + +Inf, sum, count).
    pub fn stale() -> Vec<StaleSeries> {
        vec![
            StaleSeries {
                family: "gone_total".into(),
                kind: MetricType::Counter,
                labels: labels(&[("job", "x")]),
                bounds: vec![],
                quantiles: vec![],
            },
            StaleSeries {
                family: "req_seconds".into(),
                kind: MetricType::Histogram,
                labels: labels(&[("path", "/old")]),
                bounds: vec![0.1, 1.0, f64::INFINITY],
                quantiles: vec![],
            },
        ]
    }
}
