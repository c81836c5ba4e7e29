//! Remote write 2.0 (opt-in): `io.prometheus.write.v2.Request` with an interned symbol table.

use std::collections::HashMap;

use prost::Message as _;

use super::expand::{expand, Expanded, WireSeries};
use super::{
    batch, compress, decompress, validate, Batch, DecodeError, EncodeError, EncodeOptions,
    StaleSeries, CONTENT_ENCODING, CONTENT_TYPE_V2, USER_AGENT, VERSION_HEADER, VERSION_V2,
};
use crate::model::MetricType;
use crate::proto::write_v2::{metadata, Metadata, Request, Sample, TimeSeries};

const HEADERS_V2: &[(&str, &str)] = &[
    ("Content-Encoding", CONTENT_ENCODING),
    ("Content-Type", CONTENT_TYPE_V2),
    (VERSION_HEADER, VERSION_V2),
    ("User-Agent", USER_AGENT),
];

/// The request headers every remote write 2.0 body needs.
pub fn headers_v2() -> &'static [(&'static str, &'static str)] {
    HEADERS_V2
}

/// Encodes a run as remote write 2.0 requests of at most `max_samples_per_batch` samples.
///
/// Each request has its own symbol table (starting with `""`, as the spec requires);
/// every series carries its family's metadata (type, HELP and unit refs) and one sample.
/// Markers of families with no live series carry their type only.
pub fn encode_v2(
    families: &[crate::model::MetricFamily],
    stale: &[StaleSeries],
    opts: &EncodeOptions,
) -> Result<Vec<Batch>, EncodeError> {
    validate(opts)?;
    let run = expand(families, stale, &opts.extra_labels);
    batch::ranges(run.series.len(), opts.max_samples_per_batch)
        .map(|range| {
            let chunk = &run.series[range];
            let request = request(&run, chunk, opts.timestamp_ms);
            Ok(Batch {
                body: compress(&request.encode_to_vec())?,
                samples: chunk.len(),
                series: chunk.len(),
            })
        })
        .collect()
}

/// Decodes a remote write 2.0 body (snappy block format, then protobuf).
pub fn decode_v2(body: &[u8]) -> Result<Request, DecodeError> {
    Request::decode(decompress(body)?.as_slice()).map_err(|e| DecodeError::Protobuf {
        message: "io.prometheus.write.v2.Request",
        reason: e.to_string(),
    })
}

/// A request's de-duplicated string table.
struct Symbols {
    list: Vec<String>,
    refs: HashMap<String, u32>,
}

impl Symbols {
    fn new() -> Self {
        let mut s = Symbols {
            list: Vec::new(),
            refs: HashMap::new(),
        };
        s.intern("");
        s
    }

    /// The index of `text`, adding it on first use.
    fn intern(&mut self, text: &str) -> u32 {
        if let Some(&r) = self.refs.get(text) {
            return r;
        }
        // A request is bounded by max_samples_per_batch; more than 2^32 symbols cannot fit
        // in the protobuf size limit anyway, so saturating never yields a wrong ref in practice.
        let r = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        self.list.push(text.to_string());
        self.refs.insert(text.to_string(), r);
        r
    }
}

fn request(run: &Expanded, chunk: &[WireSeries], timestamp_ms: i64) -> Request {
    let mut symbols = Symbols::new();
    let timeseries = chunk
        .iter()
        .map(|s| {
            let mut labels_refs = Vec::with_capacity(s.labels.len() * 2);
            for (name, value) in &s.labels {
                labels_refs.push(symbols.intern(name));
                labels_refs.push(symbols.intern(value));
            }
            let family = &run.families[s.family];
            TimeSeries {
                labels_refs,
                samples: vec![Sample {
                    value: s.value,
                    timestamp: timestamp_ms,
                    start_timestamp: 0,
                }],
                histograms: Vec::new(),
                exemplars: Vec::new(),
                metadata: Some(Metadata {
                    r#type: metric_type(family.kind) as i32,
                    help_ref: symbols.intern(&family.help),
                    unit_ref: symbols.intern(&family.unit),
                }),
            }
        })
        .collect();
    Request {
        symbols: symbols.list,
        timeseries,
    }
}

fn metric_type(kind: MetricType) -> metadata::MetricType {
    match kind {
        MetricType::Counter => metadata::MetricType::Counter,
        MetricType::Gauge => metadata::MetricType::Gauge,
        MetricType::Histogram => metadata::MetricType::Histogram,
        MetricType::Summary => metadata::MetricType::Summary,
        MetricType::Untyped => metadata::MetricType::Unspecified,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::super::fixtures::{families, stale};
    use super::super::{decode_v1, encode_v1, STALE_NAN_BITS};
    use super::*;

    fn opts(max: usize) -> EncodeOptions {
        EncodeOptions {
            timestamp_ms: 42,
            extra_labels: vec![("instance".into(), "gw".into())],
            max_samples_per_batch: max,
        }
    }

    /// Resolves a series' refs, checking each is in range.
    fn resolve(req: &Request, ts: &TimeSeries) -> Vec<(String, String)> {
        assert_eq!(ts.labels_refs.len() % 2, 0);
        ts.labels_refs
            .chunks(2)
            .map(|p| {
                (
                    req.symbols[p[0] as usize].clone(),
                    req.symbols[p[1] as usize].clone(),
                )
            })
            .collect()
    }

    fn check_symbols(req: &Request) {
        assert_eq!(
            req.symbols[0], "",
            "symbols must start with the empty string"
        );
        let unique: HashSet<&String> = req.symbols.iter().collect();
        assert_eq!(unique.len(), req.symbols.len(), "duplicate symbols");
        let n = req.symbols.len() as u32;
        let mut used = HashSet::new();
        for ts in &req.timeseries {
            let m = ts.metadata.as_ref().unwrap();
            for r in ts.labels_refs.iter().chain([&m.help_ref, &m.unit_ref]) {
                assert!(*r < n, "ref {r} out of range {n}");
                used.insert(*r);
            }
        }
        // Every symbol but the mandatory "" is referenced.
        assert!((1..n).all(|r| used.contains(&r)));
    }

    #[test]
    fn round_trip_matches_v1_series_and_values() {
        let v2 = encode_v2(&families(), &stale(), &opts(2_000)).unwrap();
        let v1 = encode_v1(&families(), &stale(), &opts(2_000)).unwrap();
        let req = decode_v2(&v2[0].body).unwrap();
        let req1 = decode_v1(&v1[0].body).unwrap();
        check_symbols(&req);
        assert_eq!(req.timeseries.len(), req1.timeseries.len());
        for (ts, ts1) in req.timeseries.iter().zip(&req1.timeseries) {
            let labels1: Vec<(String, String)> = ts1
                .labels
                .iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect();
            assert_eq!(resolve(&req, ts), labels1);
            assert_eq!(ts.samples.len(), 1);
            assert_eq!(
                ts.samples[0].value.to_bits(),
                ts1.samples[0].value.to_bits()
            );
            assert_eq!(ts.samples[0].timestamp, 42);
            assert_eq!(ts.samples[0].start_timestamp, 0);
            assert!(ts.histograms.is_empty() && ts.exemplars.is_empty());
        }
        assert_eq!((v2[0].samples, v2[0].series), (19, 19));
    }

    #[test]
    fn metadata_rides_on_every_series() {
        let req =
            decode_v2(&encode_v2(&families(), &stale(), &opts(2_000)).unwrap()[0].body).unwrap();
        let meta_of = |name: &str| {
            let ts = req
                .timeseries
                .iter()
                .find(|ts| {
                    resolve(&req, ts)
                        .iter()
                        .any(|(n, v)| n == "__name__" && v == name)
                })
                .unwrap();
            let m = ts.metadata.unwrap();
            (
                metadata::MetricType::try_from(m.r#type).unwrap(),
                req.symbols[m.help_ref as usize].clone(),
                req.symbols[m.unit_ref as usize].clone(),
            )
        };
        use metadata::MetricType as T;
        assert_eq!(
            meta_of("jobs_total"),
            (T::Counter, "Jobs done.".into(), String::new())
        );
        assert_eq!(
            meta_of("temp_celsius"),
            (T::Gauge, String::new(), "celsius".into())
        );
        assert_eq!(
            meta_of("mystery"),
            (T::Unspecified, String::new(), String::new())
        );
        assert_eq!(
            meta_of("req_seconds_bucket"),
            (T::Histogram, "Request latency.".into(), String::new())
        );
        assert_eq!(
            meta_of("req_seconds_count"),
            (T::Histogram, "Request latency.".into(), String::new())
        );
        assert_eq!(
            meta_of("rpc_seconds_sum"),
            (T::Summary, "RPC latency.".into(), String::new())
        );
        // A marker-only family still says its type.
        assert_eq!(
            meta_of("gone_total"),
            (T::Counter, String::new(), String::new())
        );
    }

    #[test]
    fn staleness_markers_keep_their_bits() {
        let req = decode_v2(&encode_v2(&[], &stale(), &opts(2_000)).unwrap()[0].body).unwrap();
        assert_eq!(req.timeseries.len(), 6);
        assert!(req
            .timeseries
            .iter()
            .all(|ts| ts.samples[0].value.to_bits() == STALE_NAN_BITS));
    }

    #[test]
    fn each_batch_has_its_own_complete_symbol_table() {
        let all: Vec<Vec<(String, String)>> = {
            let req = decode_v2(&encode_v2(&families(), &stale(), &opts(2_000)).unwrap()[0].body)
                .unwrap();
            req.timeseries.iter().map(|ts| resolve(&req, ts)).collect()
        };
        for max in [1, 4, 7, 19] {
            let batches = encode_v2(&families(), &stale(), &opts(max)).unwrap();
            assert_eq!(batches.len(), 19usize.div_ceil(max));
            let mut joined = Vec::new();
            for b in &batches {
                let req = decode_v2(&b.body).unwrap();
                check_symbols(&req);
                assert_eq!(req.timeseries.len(), b.series);
                assert!(b.samples <= max);
                joined.extend(req.timeseries.iter().map(|ts| resolve(&req, ts)));
            }
            assert_eq!(joined, all, "max {max}");
        }
    }

    #[test]
    fn golden_bytes_of_one_gauge() {
        let mut f = crate::model::MetricFamily::new("g", MetricType::Gauge);
        f.series.push(crate::model::Series {
            labels: crate::model::Labels::empty(),
            value: crate::model::SampleValue::Gauge(1.0),
            timestamp_ms: None,
            created: None,
        });
        let o = EncodeOptions {
            timestamp_ms: 2,
            extra_labels: vec![],
            max_samples_per_batch: 10,
        };
        let batches = encode_v2(&[f], &[], &o).unwrap();
        let raw = snap::raw::Decoder::new()
            .decompress_vec(&batches[0].body)
            .unwrap();
        // Request { symbols: ["", "__name__", "g"], timeseries: [{ labels_refs: [1, 2],
        //   samples: [{1.0, 2}], metadata: { type: GAUGE } }] }, encoded by hand.
        let symbols = [
            &[0x22, 0x00, 0x22, 0x08][..],
            b"__name__",
            &[0x22, 0x01],
            b"g",
        ]
        .concat();
        let sample = [&[0x09][..], &1.0f64.to_le_bytes(), &[0x10, 0x02]].concat();
        let series = [
            &[0x0a, 0x02, 0x01, 0x02, 0x12, sample.len() as u8][..],
            &sample,
            &[0x2a, 0x02, 0x08, 0x02],
        ]
        .concat();
        let want = [&symbols[..], &[0x2a, series.len() as u8], &series].concat();
        assert_eq!(raw, want);
    }

    #[test]
    fn symbols_intern_once_from_index_one() {
        let mut s = Symbols::new();
        assert_eq!(s.intern(""), 0);
        assert_eq!(s.intern("a"), 1);
        assert_eq!(s.intern("b"), 2);
        assert_eq!(s.intern("a"), 1);
        assert_eq!(s.list, ["", "a", "b"]);
    }

    #[test]
    fn a_v1_body_is_not_a_v2_request_and_vice_versa() {
        // The reserved field numbers make a 1.0 body decode as an empty 2.0 request.
        let v1 = encode_v1(&families(), &[], &opts(2_000)).unwrap();
        let as_v2 = decode_v2(&v1[0].body).unwrap();
        assert!(as_v2.symbols.is_empty() && as_v2.timeseries.is_empty());
        assert!(matches!(
            decode_v2(b"\x05garbage"),
            Err(DecodeError::Snappy(_)) | Err(DecodeError::Protobuf { .. })
        ));
    }

    #[test]
    fn headers_are_the_remote_write_2_0_set() {
        assert_eq!(
            headers_v2(),
            [
                ("Content-Encoding", "snappy"),
                (
                    "Content-Type",
                    "application/x-protobuf;proto=io.prometheus.write.v2.Request"
                ),
                ("X-Prometheus-Remote-Write-Version", "2.0.0"),
                ("User-Agent", concat!("promagg/", env!("CARGO_PKG_VERSION"))),
            ]
        );
    }
}
