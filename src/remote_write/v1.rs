//! Remote write 1.0: `prometheus.WriteRequest`, metadata once per family per request.

use prost::Message as _;

use super::expand::{expand, Expanded, FamilyMeta, WireSeries};
use super::{
    batch, compress, decompress, validate, Batch, DecodeError, EncodeError, EncodeOptions,
    StaleSeries, CONTENT_ENCODING, CONTENT_TYPE_V1, USER_AGENT, VERSION_HEADER, VERSION_V1,
};
use crate::model::MetricType;
use crate::proto::prometheus::{
    metric_metadata, Label, MetricMetadata, Sample, TimeSeries, WriteRequest,
};

const HEADERS_V1: &[(&str, &str)] = &[
    ("Content-Encoding", CONTENT_ENCODING),
    ("Content-Type", CONTENT_TYPE_V1),
    (VERSION_HEADER, VERSION_V1),
    ("User-Agent", USER_AGENT),
];

/// The request headers every remote write 1.0 body needs.
pub fn headers_v1() -> &'static [(&'static str, &'static str)] {
    HEADERS_V1
}

/// Encodes a run as remote write 1.0 requests of at most `max_samples_per_batch` samples.
///
/// Each request carries, in its `metadata` field, the type/HELP/unit of every live
/// family it has samples of (marker-only families have no metadata to send). No series
/// means no requests.
pub fn encode_v1(
    families: &[crate::model::MetricFamily],
    stale: &[StaleSeries],
    opts: &EncodeOptions,
) -> Result<Vec<Batch>, EncodeError> {
    validate(opts)?;
    let run = expand(families, stale, &opts.extra_labels);
    batch::ranges(run.series.len(), opts.max_samples_per_batch)
        .map(|range| {
            let chunk = &run.series[range];
            let request = write_request(&run, chunk, opts.timestamp_ms);
            Ok(Batch {
                body: compress(&request.encode_to_vec())?,
                samples: chunk.len(),
                series: chunk.len(),
            })
        })
        .collect()
}

/// Decodes a remote write 1.0 body (snappy block format, then protobuf).
pub fn decode_v1(body: &[u8]) -> Result<WriteRequest, DecodeError> {
    WriteRequest::decode(decompress(body)?.as_slice()).map_err(|e| DecodeError::Protobuf {
        message: "prometheus.WriteRequest",
        reason: e.to_string(),
    })
}

fn write_request(run: &Expanded, chunk: &[WireSeries], timestamp_ms: i64) -> WriteRequest {
    WriteRequest {
        timeseries: chunk
            .iter()
            .map(|s| TimeSeries {
                labels: s
                    .labels
                    .iter()
                    .map(|(name, value)| Label {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect(),
                samples: vec![Sample {
                    value: s.value,
                    timestamp: timestamp_ms,
                }],
                exemplars: Vec::new(),
                histograms: Vec::new(),
            })
            .collect(),
        metadata: batch::families_in(chunk)
            .into_iter()
            .map(|i| &run.families[i])
            .filter(|f| f.live)
            .map(metadata)
            .collect(),
    }
}

fn metadata(f: &FamilyMeta) -> MetricMetadata {
    let kind = match f.kind {
        MetricType::Counter => metric_metadata::MetricType::Counter,
        MetricType::Gauge => metric_metadata::MetricType::Gauge,
        MetricType::Histogram => metric_metadata::MetricType::Histogram,
        MetricType::Summary => metric_metadata::MetricType::Summary,
        MetricType::Untyped => metric_metadata::MetricType::Unknown,
    };
    MetricMetadata {
        r#type: kind as i32,
        metric_family_name: f.name.clone(),
        help: f.help.clone(),
        unit: f.unit.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{families, stale};
    use super::super::{is_stale_nan, STALE_NAN_BITS};
    use super::*;

    fn opts(max: usize) -> EncodeOptions {
        EncodeOptions {
            timestamp_ms: 1_700_000_000_123,
            extra_labels: vec![("instance".into(), "gw".into())],
            max_samples_per_batch: max,
        }
    }

    fn text(ts: &TimeSeries) -> String {
        ts.labels
            .iter()
            .map(|l| format!("{}={}", l.name, l.value))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn decode_all(batches: &[Batch]) -> Vec<WriteRequest> {
        batches
            .iter()
            .map(|b| decode_v1(&b.body).unwrap())
            .collect()
    }

    #[test]
    fn round_trip_every_type_in_order() {
        let batches = encode_v1(&families(), &[], &opts(2_000)).unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!((batches[0].samples, batches[0].series), (13, 13));
        let req = decode_v1(&batches[0].body).unwrap();
        let got: Vec<(String, f64)> = req
            .timeseries
            .iter()
            .map(|ts| {
                assert_eq!(ts.samples.len(), 1);
                assert_eq!(ts.samples[0].timestamp, 1_700_000_000_123);
                (text(ts), ts.samples[0].value)
            })
            .collect();
        let want: Vec<(String, f64)> = [
            ("__name__=jobs_total,instance=gw,job=a", 7.0),
            ("__name__=mystery,instance=gw", 3.0),
            ("__name__=req_seconds_bucket,instance=gw,le=0.1,path=/", 2.0),
            ("__name__=req_seconds_bucket,instance=gw,le=1,path=/", 5.0),
            (
                "__name__=req_seconds_bucket,instance=gw,le=+Inf,path=/",
                6.0,
            ),
            ("__name__=req_seconds_sum,instance=gw,path=/", 3.5),
            ("__name__=req_seconds_count,instance=gw,path=/", 6.0),
            ("__name__=rpc_seconds,instance=gw,quantile=0.5", 0.25),
            ("__name__=rpc_seconds,instance=gw,quantile=0.9", 1.0),
            ("__name__=rpc_seconds_sum,instance=gw", 12.0),
            ("__name__=rpc_seconds_count,instance=gw", 30.0),
            ("__name__=temp_celsius,instance=gw,room=a", 21.0),
            ("__name__=temp_celsius,instance=gw,room=b", -1.5),
        ]
        .iter()
        .map(|(l, v)| (l.to_string(), *v))
        .collect();
        assert_eq!(got, want);
        // Labels are sorted on the wire, `_created` is never sent.
        for ts in &req.timeseries {
            assert!(ts.labels.windows(2).all(|w| w[0].name < w[1].name));
            assert!(!ts.labels[0].value.ends_with("_created"));
        }
    }

    #[test]
    fn metadata_once_per_family_with_prometheus_types() {
        let req = decode_all(&encode_v1(&families(), &[], &opts(2_000)).unwrap()).remove(0);
        let meta: Vec<(String, i32, String, String)> = req
            .metadata
            .iter()
            .map(|m| {
                (
                    m.metric_family_name.clone(),
                    m.r#type,
                    m.help.clone(),
                    m.unit.clone(),
                )
            })
            .collect();
        use metric_metadata::MetricType as T;
        assert_eq!(
            meta,
            [
                (
                    "jobs_total".into(),
                    T::Counter as i32,
                    "Jobs done.".into(),
                    String::new()
                ),
                (
                    "mystery".into(),
                    T::Unknown as i32,
                    String::new(),
                    String::new()
                ),
                (
                    "req_seconds".into(),
                    T::Histogram as i32,
                    "Request latency.".into(),
                    String::new()
                ),
                (
                    "rpc_seconds".into(),
                    T::Summary as i32,
                    "RPC latency.".into(),
                    String::new()
                ),
                (
                    "temp_celsius".into(),
                    T::Gauge as i32,
                    String::new(),
                    "celsius".into()
                ),
            ]
        );
    }

    #[test]
    fn batches_split_at_the_sample_bound_and_keep_order() {
        let whole = decode_all(&encode_v1(&families(), &stale(), &opts(2_000)).unwrap());
        let all: Vec<String> = whole[0].timeseries.iter().map(text).collect();
        assert_eq!(all.len(), 13 + 1 + 5);
        for max in [1, 2, 5, 6, 13, 18, 19, 20] {
            let batches = encode_v1(&families(), &stale(), &opts(max)).unwrap();
            assert_eq!(batches.len(), all.len().div_ceil(max), "max {max}");
            assert!(batches
                .iter()
                .all(|b| b.samples <= max && b.samples == b.series));
            assert!(batches[..batches.len() - 1]
                .iter()
                .all(|b| b.samples == max));
            let reqs = decode_all(&batches);
            let joined: Vec<String> = reqs
                .iter()
                .flat_map(|r| r.timeseries.iter().map(text))
                .collect();
            assert_eq!(joined, all, "max {max}");
            for (b, r) in batches.iter().zip(&reqs) {
                assert_eq!(r.timeseries.len(), b.series);
                // Each request describes exactly the live families it has samples of.
                let mut names: Vec<String> = r
                    .timeseries
                    .iter()
                    .map(|ts| {
                        ts.labels
                            .iter()
                            .find(|l| l.name == "__name__")
                            .unwrap()
                            .value
                            .clone()
                    })
                    .filter(|n| !n.starts_with("gone_total"))
                    .map(|n| {
                        ["_bucket", "_sum", "_count"]
                            .iter()
                            .fold(n.clone(), |n, s| {
                                n.strip_suffix(s).map(str::to_string).unwrap_or(n)
                            })
                    })
                    .collect();
                let mut seen = std::collections::HashSet::new();
                names.retain(|n| seen.insert(n.clone()));
                let meta: Vec<String> = r
                    .metadata
                    .iter()
                    .map(|m| m.metric_family_name.clone())
                    .collect();
                assert_eq!(meta, names, "max {max}");
            }
        }
        // A histogram's series straddle the boundary when the bound cuts through it.
        let reqs = decode_all(&encode_v1(&families(), &[], &opts(3)).unwrap());
        assert_eq!(
            text(&reqs[0].timeseries[2]),
            "__name__=req_seconds_bucket,instance=gw,le=0.1,path=/"
        );
        assert_eq!(
            text(&reqs[1].timeseries[0]),
            "__name__=req_seconds_bucket,instance=gw,le=1,path=/"
        );
    }

    #[test]
    fn staleness_markers_carry_the_exact_nan_bits() {
        let reqs = decode_all(&encode_v1(&families(), &stale(), &opts(2_000)).unwrap());
        let markers: Vec<&TimeSeries> = reqs[0].timeseries[13..].iter().collect();
        let names: Vec<String> = markers.iter().map(|ts| text(ts)).collect();
        assert_eq!(
            names,
            [
                "__name__=gone_total,instance=gw,job=x",
                "__name__=req_seconds_bucket,instance=gw,le=0.1,path=/old",
                "__name__=req_seconds_bucket,instance=gw,le=1,path=/old",
                "__name__=req_seconds_bucket,instance=gw,le=+Inf,path=/old",
                "__name__=req_seconds_sum,instance=gw,path=/old",
                "__name__=req_seconds_count,instance=gw,path=/old",
            ]
        );
        for ts in markers {
            assert_eq!(ts.samples[0].value.to_bits(), STALE_NAN_BITS);
            assert_eq!(ts.samples[0].timestamp, 1_700_000_000_123);
        }
        assert!(reqs[0].timeseries[..13]
            .iter()
            .all(|ts| !is_stale_nan(ts.samples[0].value)));
        // The marker-only family has no metadata; the histogram's is sent once.
        let meta: Vec<&str> = reqs[0]
            .metadata
            .iter()
            .map(|m| m.metric_family_name.as_str())
            .collect();
        assert_eq!(
            meta,
            [
                "jobs_total",
                "mystery",
                "req_seconds",
                "rpc_seconds",
                "temp_celsius"
            ]
        );
    }

    #[test]
    fn empty_run_sends_nothing_and_bad_options_are_refused() {
        assert!(encode_v1(&[], &[], &opts(10)).unwrap().is_empty());
        assert_eq!(
            encode_v1(&families(), &[], &opts(0)),
            Err(EncodeError::ZeroBatchSize)
        );
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
        let batches = encode_v1(&[f], &[], &o).unwrap();
        let raw = snap::raw::Decoder::new()
            .decompress_vec(&batches[0].body)
            .unwrap();
        // WriteRequest { timeseries: [{ labels: [{__name__, g}], samples: [{1.0, 2}] }],
        //                metadata: [{ type: GAUGE, metric_family_name: "g" }] }, by hand.
        let label = [&[0x0a, 0x08][..], b"__name__", &[0x12, 0x01], b"g"].concat();
        let sample = [&[0x09][..], &1.0f64.to_le_bytes(), &[0x10, 0x02]].concat();
        let series = [
            &[0x0a, label.len() as u8][..],
            &label,
            &[0x12, sample.len() as u8],
            &sample,
        ]
        .concat();
        let meta = [&[0x08, 0x02, 0x12, 0x01][..], b"g"].concat();
        let want = [
            &[0x0a, series.len() as u8][..],
            &series,
            &[0x1a, meta.len() as u8],
            &meta,
        ]
        .concat();
        assert_eq!(raw, want);
    }

    #[test]
    fn decode_errors_say_which_layer_failed() {
        assert!(matches!(
            decode_v1(b"not snappy at all"),
            Err(DecodeError::Snappy(_))
        ));
        let bad_proto = snap::raw::Encoder::new()
            .compress_vec(&[0x0f, 0x00])
            .unwrap();
        let err = decode_v1(&bad_proto).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::Protobuf {
                message: "prometheus.WriteRequest",
                ..
            }
        ));
    }

    #[test]
    fn headers_are_the_remote_write_1_0_set() {
        assert_eq!(
            headers_v1(),
            [
                ("Content-Encoding", "snappy"),
                ("Content-Type", "application/x-protobuf"),
                ("X-Prometheus-Remote-Write-Version", "0.1.0"),
                ("User-Agent", concat!("promagg/", env!("CARGO_PKG_VERSION"))),
            ]
        );
    }
}
