//! Request and store limits, with safe defaults; each violation is a typed error.

use thiserror::Error;

/// What to do with timestamps on pushed samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampPolicy {
    /// Refuse the push, as Pushgateway does.
    #[default]
    Reject,
    /// Accept the sample and drop its timestamp.
    Drop,
}

/// The limits a request and the store are held to.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Maximum request body, in bytes, after decompression.
    pub max_body_bytes: usize,
    /// Maximum series in one request.
    pub max_series_per_request: usize,
    /// Maximum labels on one series.
    pub max_labels_per_series: usize,
    /// Maximum length of a metric or label name, in bytes.
    pub max_name_len: usize,
    /// Maximum length of a label value, in bytes.
    pub max_label_value_len: usize,
    /// Maximum length of HELP text, in bytes.
    pub max_help_len: usize,
    /// Maximum series in the whole store (cardinality).
    pub max_total_series: usize,
    /// Maximum metric families in the whole store.
    pub max_families: usize,
    /// What to do with timestamps on pushed samples.
    pub timestamps: TimestampPolicy,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 8 << 20,
            max_series_per_request: 20_000,
            max_labels_per_series: 64,
            max_name_len: 256,
            max_label_value_len: 2048,
            max_help_len: 4096,
            max_total_series: 200_000,
            max_families: 10_000,
            timestamps: TimestampPolicy::Reject,
        }
    }
}

/// A limit that a request broke.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LimitError {
    /// The body is larger than allowed.
    #[error("request body exceeds max_body_bytes={limit}")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// Too many series in one request.
    #[error("request has {got} series, more than max_series_per_request={limit}")]
    TooManySeries {
        /// Series in the request.
        got: usize,
        /// The limit.
        limit: usize,
    },
    /// Too many labels on one series.
    #[error("series {series} has {got} labels, more than max_labels_per_series={limit}")]
    TooManyLabels {
        /// The series, canonically encoded.
        series: String,
        /// Labels on it.
        got: usize,
        /// The limit.
        limit: usize,
    },
    /// A name is too long.
    #[error("name {name:?} is {got} bytes, more than max_name_len={limit}")]
    NameTooLong {
        /// The name (truncated to 64 bytes).
        name: String,
        /// Its length.
        got: usize,
        /// The limit.
        limit: usize,
    },
    /// A label value is too long.
    #[error("value of label {label:?} is {got} bytes, more than max_label_value_len={limit}")]
    LabelValueTooLong {
        /// The label name.
        label: String,
        /// The value's length.
        got: usize,
        /// The limit.
        limit: usize,
    },
    /// HELP text is too long.
    #[error("HELP of {family:?} is {got} bytes, more than max_help_len={limit}")]
    HelpTooLong {
        /// The family.
        family: String,
        /// Its length.
        got: usize,
        /// The limit.
        limit: usize,
    },
    /// The store would hold more series than allowed.
    #[error("store would hold {got} series, more than max_total_series={limit}")]
    TooManyTotalSeries {
        /// Series after the push.
        got: usize,
        /// The limit.
        limit: usize,
    },
    /// The store would hold more families than allowed.
    #[error("store would hold {got} metric families, more than max_families={limit}")]
    TooManyFamilies {
        /// Families after the push.
        got: usize,
        /// The limit.
        limit: usize,
    },
    /// A sample carried a timestamp and the policy refuses them.
    #[error("sample of {series} carries a timestamp; pushed samples must not (as in Pushgateway)")]
    TimestampNotAllowed {
        /// The series, canonically encoded.
        series: String,
    },
}

fn truncated(s: &str) -> String {
    let mut end = s.len().min(64);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

impl Limits {
    /// Checks the per-request limits of parsed families (names, labels, series count, timestamps).
    ///
    /// With [`TimestampPolicy::Drop`] timestamps are removed in place instead.
    pub fn check_request(
        &self,
        families: &mut [crate::model::MetricFamily],
    ) -> Result<(), LimitError> {
        let total: usize = families.iter().map(|f| f.series.len()).sum();
        if total > self.max_series_per_request {
            return Err(LimitError::TooManySeries {
                got: total,
                limit: self.max_series_per_request,
            });
        }
        for fam in families.iter_mut() {
            self.check_name(&fam.name)?;
            if let Some(help) = &fam.help {
                if help.len() > self.max_help_len {
                    return Err(LimitError::HelpTooLong {
                        family: fam.name.clone(),
                        got: help.len(),
                        limit: self.max_help_len,
                    });
                }
            }
            for s in fam.series.iter_mut() {
                if s.labels.len() > self.max_labels_per_series {
                    return Err(LimitError::TooManyLabels {
                        series: truncated(&s.labels.series_key(&fam.name)),
                        got: s.labels.len(),
                        limit: self.max_labels_per_series,
                    });
                }
                for (name, value) in s.labels.pairs() {
                    self.check_name(name)?;
                    if value.len() > self.max_label_value_len {
                        return Err(LimitError::LabelValueTooLong {
                            label: name.clone(),
                            got: value.len(),
                            limit: self.max_label_value_len,
                        });
                    }
                }
                if s.timestamp_ms.is_some() {
                    match self.timestamps {
                        TimestampPolicy::Reject => {
                            return Err(LimitError::TimestampNotAllowed {
                                series: truncated(&s.labels.series_key(&fam.name)),
                            })
                        }
                        TimestampPolicy::Drop => s.timestamp_ms = None,
                    }
                }
            }
        }
        Ok(())
    }

    fn check_name(&self, name: &str) -> Result<(), LimitError> {
        if name.len() > self.max_name_len {
            return Err(LimitError::NameTooLong {
                name: truncated(name),
                got: name.len(),
                limit: self.max_name_len,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Labels, MetricFamily, MetricType, SampleValue, Series};

    fn fam(n_series: usize, labels: usize, ts: Option<i64>) -> MetricFamily {
        let mut f = MetricFamily::new("m", MetricType::Gauge);
        for i in 0..n_series {
            let mut pairs: Vec<(String, String)> =
                (0..labels).map(|j| (format!("l{j}"), "v".into())).collect();
            pairs.push(("i".into(), i.to_string()));
            f.series.push(Series {
                labels: Labels::new(pairs).unwrap(),
                value: SampleValue::Gauge(1.0),
                timestamp_ms: ts,
                created: None,
            });
        }
        f
    }

    #[test]
    fn each_limit_is_enforced() {
        let l = Limits {
            max_series_per_request: 3,
            max_labels_per_series: 2,
            ..Limits::default()
        };
        assert!(l.check_request(&mut [fam(3, 1, None)]).is_ok());
        assert!(matches!(
            l.check_request(&mut [fam(4, 0, None)]),
            Err(LimitError::TooManySeries { got: 4, limit: 3 })
        ));
        assert!(matches!(
            l.check_request(&mut [fam(1, 2, None)]),
            Err(LimitError::TooManyLabels { got: 3, .. })
        ));
        let mut long = fam(1, 0, None);
        long.name = "x".repeat(300);
        assert!(matches!(
            l.check_request(&mut [long]),
            Err(LimitError::NameTooLong { got: 300, .. })
        ));
    }

    #[test]
    fn timestamps_rejected_or_dropped() {
        let mut f = [fam(1, 0, Some(5))];
        assert!(matches!(
            Limits::default().check_request(&mut f),
            Err(LimitError::TimestampNotAllowed { .. })
        ));
        let drop = Limits {
            timestamps: TimestampPolicy::Drop,
            ..Limits::default()
        };
        drop.check_request(&mut f).unwrap();
        assert_eq!(f[0].series[0].timestamp_ms, None);
    }
}
