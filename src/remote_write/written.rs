//! The remote write 2.0 response headers that report what the receiver wrote.

use thiserror::Error;

/// Header with the number of float samples the receiver wrote.
pub const SAMPLES_WRITTEN: &str = "X-Prometheus-Remote-Write-Samples-Written";
/// Header with the number of histogram samples the receiver wrote.
pub const HISTOGRAMS_WRITTEN: &str = "X-Prometheus-Remote-Write-Histograms-Written";
/// Header with the number of exemplars the receiver wrote.
pub const EXEMPLARS_WRITTEN: &str = "X-Prometheus-Remote-Write-Exemplars-Written";

/// What a receiver said it wrote; `None` where it sent no header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WrittenStats {
    /// Float samples written.
    pub samples: Option<u64>,
    /// Histogram samples written.
    pub histograms: Option<u64>,
    /// Exemplars written.
    pub exemplars: Option<u64>,
}

impl WrittenStats {
    /// True when the receiver confirmed writing all `sent` samples.
    ///
    /// A receiver without the header (e.g. a 1.0-only one that accepted the body without
    /// understanding it) confirms nothing, as the 2.0 spec tells senders to assume.
    pub fn confirms(&self, sent: usize) -> bool {
        self.samples == u64::try_from(sent).ok()
    }
}

/// A `-Written` header whose value is not a non-negative integer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("response header {header}: {value:?} is not a non-negative integer")]
pub struct WrittenError {
    /// The header name.
    pub header: &'static str,
    /// Its value.
    pub value: String,
}

/// Reads the `-Written` counts from response headers (names matched case-insensitively).
pub fn parse_written_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<WrittenStats, WrittenError> {
    let mut out = WrittenStats::default();
    for (name, value) in headers {
        let (slot, header) = if name.eq_ignore_ascii_case(SAMPLES_WRITTEN) {
            (&mut out.samples, SAMPLES_WRITTEN)
        } else if name.eq_ignore_ascii_case(HISTOGRAMS_WRITTEN) {
            (&mut out.histograms, HISTOGRAMS_WRITTEN)
        } else if name.eq_ignore_ascii_case(EXEMPLARS_WRITTEN) {
            (&mut out.exemplars, EXEMPLARS_WRITTEN)
        } else {
            continue;
        };
        let parsed = value.trim().parse::<u64>().map_err(|_| WrittenError {
            header,
            value: value.to_string(),
        })?;
        *slot = Some(parsed);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_three_case_insensitively() {
        let got = parse_written_headers([
            ("content-type", "text/plain"),
            ("x-prometheus-remote-write-samples-written", "12"),
            ("X-Prometheus-Remote-Write-Histograms-Written", " 0 "),
            ("X-PROMETHEUS-REMOTE-WRITE-EXEMPLARS-WRITTEN", "3"),
        ])
        .unwrap();
        assert_eq!(
            got,
            WrittenStats {
                samples: Some(12),
                histograms: Some(0),
                exemplars: Some(3)
            }
        );
        assert!(got.confirms(12));
        assert!(!got.confirms(13));
    }

    #[test]
    fn missing_headers_confirm_nothing() {
        let got = parse_written_headers([("server", "x")]).unwrap();
        assert_eq!(got, WrittenStats::default());
        assert!(!got.confirms(0));
        assert!(!got.confirms(5));
    }

    #[test]
    fn bad_values_name_the_header() {
        let err = parse_written_headers([(SAMPLES_WRITTEN, "-1")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "response header X-Prometheus-Remote-Write-Samples-Written: \"-1\" is not a \
             non-negative integer"
        );
        let err = parse_written_headers([(EXEMPLARS_WRITTEN, "lots")]).unwrap_err();
        assert_eq!(err.header, EXEMPLARS_WRITTEN);
    }
}
