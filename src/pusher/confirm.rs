//! Reading a remote_write 2.0 receiver's `X-Prometheus-Remote-Write-*-Written` headers on a
//! 2xx answer and comparing them with what the request carried.
//!
//! The 2.0 spec: a receiver that did not write everything MUST NOT answer 2xx (it answers
//! 4xx, or 5xx/429 when it wants the whole request again); on a 2.0 request a missing
//! header counts as 0 written; and a 2xx with none of the headers SHOULD be taken as a
//! 415, the mark of a 1.0 receiver that decoded the 2.0 body as an empty 1.0 one. So a
//! shortfall behind a 2xx is a broken receiver: reported, never silently accepted, and not
//! retried (the spec retries only 5xx and 429; the next run sends the cumulative values
//! again anyway).

use crate::remote_write::{parse_written_headers, WrittenStats};

use super::HttpResponse;

/// What a 2xx answer to a remote_write 2.0 request confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// Everything sent was written (missing headers counted as 0).
    Complete(WrittenStats),
    /// Fewer samples written than sent.
    Partial(WrittenStats, String),
    /// None of the `-Written` headers: treated as 415 Unsupported Media Type.
    Unconfirmed(String),
    /// A `-Written` header whose value is not a count.
    Malformed(String),
}

/// Checks a 2xx answer to a request that carried `sent_samples` float samples (and, as the
/// gateway expands histograms to classic series and keeps no exemplars, nothing else).
pub fn confirm(resp: &HttpResponse, sent_samples: usize) -> Confirmation {
    let headers = resp.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let stats = match parse_written_headers(headers) {
        Ok(s) => s,
        Err(e) => {
            return Confirmation::Malformed(format!("receiver answered {}: {e}", resp.status))
        }
    };
    if stats == WrittenStats::default() {
        return Confirmation::Unconfirmed(format!(
            "receiver answered {} without any X-Prometheus-Remote-Write-*-Written header, \
             which remote_write 2.0 says to treat as 415 Unsupported Media Type (a 1.0-only \
             receiver?); set remote_write_version=1 for it",
            resp.status
        ));
    }
    let written = stats.samples.unwrap_or(0);
    if written < u64::try_from(sent_samples).unwrap_or(u64::MAX) {
        let message =
            format!(
            "partial write: receiver answered {} but wrote {written} of {sent_samples} samples \
             (X-Prometheus-Remote-Write-Samples-Written{})",
            resp.status,
            if stats.samples.is_some() { "" } else { " missing" }
        );
        return Confirmation::Partial(stats, message);
    }
    Confirmation::Complete(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)]) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
        }
    }

    const SAMPLES: &str = "x-prometheus-remote-write-samples-written";
    const HISTOGRAMS: &str = "x-prometheus-remote-write-histograms-written";

    #[test]
    fn all_written_is_complete() {
        let got = confirm(&answer(204, &[(SAMPLES, "5"), (HISTOGRAMS, "0")]), 5);
        assert_eq!(
            got,
            Confirmation::Complete(WrittenStats {
                samples: Some(5),
                histograms: Some(0),
                exemplars: None
            })
        );
    }

    #[test]
    fn more_than_sent_is_not_a_shortfall() {
        assert!(matches!(
            confirm(&answer(200, &[(SAMPLES, "6")]), 5),
            Confirmation::Complete(_)
        ));
    }

    #[test]
    fn fewer_is_a_partial_write() {
        let Confirmation::Partial(stats, msg) = confirm(&answer(200, &[(SAMPLES, "3")]), 5) else {
            panic!("not partial");
        };
        assert_eq!(stats.samples, Some(3));
        assert_eq!(
            msg,
            "partial write: receiver answered 200 but wrote 3 of 5 samples \
             (X-Prometheus-Remote-Write-Samples-Written)"
        );
    }

    #[test]
    fn a_missing_samples_header_counts_as_zero() {
        let Confirmation::Partial(stats, msg) = confirm(&answer(204, &[(HISTOGRAMS, "0")]), 2)
        else {
            panic!("not partial");
        };
        assert_eq!(stats.samples, None);
        assert!(msg.contains("wrote 0 of 2 samples"), "{msg}");
        assert!(msg.contains("Samples-Written missing"), "{msg}");
        // Nothing sent, nothing to miss.
        assert!(matches!(
            confirm(&answer(204, &[(HISTOGRAMS, "0")]), 0),
            Confirmation::Complete(_)
        ));
    }

    #[test]
    fn no_header_at_all_is_an_assumed_415() {
        let Confirmation::Unconfirmed(msg) = confirm(&answer(204, &[("server", "old")]), 1) else {
            panic!("not unconfirmed");
        };
        assert!(
            msg.starts_with("receiver answered 204 without any"),
            "{msg}"
        );
        assert!(msg.contains("415"), "{msg}");
    }

    #[test]
    fn a_bad_count_names_the_header() {
        let Confirmation::Malformed(msg) = confirm(&answer(200, &[(SAMPLES, "five")]), 5) else {
            panic!("not malformed");
        };
        assert_eq!(
            msg,
            "receiver answered 200: response header X-Prometheus-Remote-Write-Samples-Written: \
             \"five\" is not a non-negative integer"
        );
    }
}
