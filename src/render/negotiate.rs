//! Choosing the exposition format from a scraper's `Accept` header.
//!
//! Mirrors prometheus/common's `expfmt.NegotiateIncludingOpenMetrics` (and the goautoneg
//! parser under it), which is what client_golang and the Pushgateway answer Prometheus
//! with. The clauses are ordered by q-value, keeping header order among equal ones, and the
//! first clause naming a format we write wins:
//! `text/plain` with `version=0.0.4` or no version, or `application/openmetrics-text` with
//! `version=1.0.0`, `0.0.1` or none (both OpenMetrics versions get our 1.0.0 output, whose
//! syntax is the same). Anything else, protobuf included since we do not offer it, is passed
//! over; when nothing matches, or there is no header, the answer is text 0.0.4.
//!
//! Quirks kept on purpose so we answer exactly as a Go exporter would: media types and
//! parameter names are compared case-sensitively, only spaces are trimmed, a q-value that
//! does not parse counts as 0, `q=0` is not treated as "not acceptable", and wildcards
//! (`*/*`, `text/*`) never select a format. Prometheus itself always sends `*/*` last with the
//! lowest weight, so a plain `curl` (`Accept: */*`) gets text.

use crate::model::MetricFamily;

/// An exposition format the gateway can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0 text format.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` header value of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Picks the format to answer with from the request's `Accept` header (`None` when absent).
pub fn negotiate(accept: Option<&str>) -> Format {
    let Some(header) = accept else {
        return Format::Text;
    };
    let mut clauses: Vec<Clause<'_>> = header
        .split(',')
        .filter_map(Clause::parse)
        // goautoneg's ordering always moves concrete types ahead of wildcards, and a
        // wildcard never names one of our formats, so dropping them changes nothing.
        .filter(|c| c.media_type != "*" && c.subtype != "*")
        .collect();
    order_by_q(&mut clauses);
    clauses
        .iter()
        .find_map(Clause::format)
        .unwrap_or(Format::Text)
}

/// Renders `families` in `format` into a new string.
pub fn render(format: Format, families: &[MetricFamily]) -> String {
    let (mut out, _) = render_open(format, families, "");
    close(format, &mut out);
    out
}

/// Renders `families` in `format` without closing the exposition (no OpenMetrics `# EOF`),
/// also returning the offset where the first family named `mark` or later starts: families
/// sorting there can be rendered on their own and spliced in (see `engine::rendered`).
pub fn render_open(format: Format, families: &[MetricFamily], mark: &str) -> (String, usize) {
    let mut out = String::new();
    let at = match format {
        Format::Text => super::text::render_marked(families, mark, &mut out),
        Format::OpenMetrics => super::openmetrics::render_marked(families, mark, &mut out),
    };
    (out, at)
}

/// Closes an exposition rendered by [`render_open`] (OpenMetrics ends with `# EOF`).
pub fn close(format: Format, out: &mut String) {
    if format == Format::OpenMetrics {
        out.push_str(super::openmetrics::EOF);
    }
}

/// One comma-separated clause of an `Accept` header, as goautoneg reads it.
#[derive(Debug, Clone, PartialEq)]
struct Clause<'a> {
    media_type: &'a str,
    subtype: &'a str,
    /// Parsed at `f32` precision, as goautoneg does, so `0.5` and `0.50000001` tie.
    q: f32,
    /// The `version` parameter; empty when absent, as a Go map lookup gives.
    version: &'a str,
}

impl<'a> Clause<'a> {
    /// Reads one clause; `None` for a media range without a `/` (except a bare `*`).
    fn parse(part: &'a str) -> Option<Self> {
        let part = part.trim_matches(' ');
        let mut pieces = part.split(';');
        let media_range = pieces.next().unwrap_or_default();
        let mut halves = media_range.split('/');
        let media_type = halves.next().unwrap_or_default().trim_matches(' ');
        let subtype = match (halves.next(), halves.next()) {
            (None, _) if media_type == "*" => "*",
            (Some(sub), None) => sub.trim_matches(' '),
            _ => return None,
        };
        let mut clause = Clause {
            media_type,
            subtype,
            q: 1.0,
            version: "",
        };
        for param in pieces {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            match key.trim_matches(' ') {
                // Go's ParseFloat yields 0 on a syntax error and the value is not trimmed.
                "q" => clause.q = value.parse().unwrap_or(0.0),
                "version" => clause.version = value.trim_matches(' '),
                _ => {}
            }
        }
        Some(clause)
    }

    /// The format this clause asks for, if we write it.
    fn format(&self) -> Option<Format> {
        match (self.media_type, self.subtype, self.version) {
            ("text", "plain", "0.0.4" | "") => Some(Format::Text),
            ("application", "openmetrics-text", "1.0.0" | "0.0.1" | "") => {
                Some(Format::OpenMetrics)
            }
            _ => None,
        }
    }
}

/// Orders clauses by descending q as Go's `sort.Sort` does with goautoneg's comparison.
///
/// Go sorts up to 12 elements by insertion sort, which is stable and treats a NaN q as
/// equal to everything; we do exactly that. Longer headers (never sent by a real scraper)
/// get a stable sort with NaN last, avoiding insertion sort's quadratic cost.
fn order_by_q(clauses: &mut [Clause<'_>]) {
    const GO_INSERTION_SORT_MAX: usize = 12;
    if clauses.len() <= GO_INSERTION_SORT_MAX {
        for i in 1..clauses.len() {
            let mut j = i;
            while j > 0 && clauses[j].q > clauses[j - 1].q {
                clauses.swap(j, j - 1);
                j -= 1;
            }
        }
    } else {
        clauses.sort_by(|a, b| match (a.q.is_nan(), b.q.is_nan()) {
            (false, false) => b.q.total_cmp(&a.q),
            (a_nan, b_nan) => a_nan.cmp(&b_nan),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MetricType, SampleValue, Series};

    const OM: Format = Format::OpenMetrics;
    const TEXT: Format = Format::Text;

    fn neg(accept: &str) -> Format {
        negotiate(Some(accept))
    }

    #[test]
    fn content_types() {
        assert_eq!(
            TEXT.content_type(),
            "text/plain; version=0.0.4; charset=utf-8"
        );
        assert_eq!(
            OM.content_type(),
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
    }

    #[test]
    fn absent_or_empty_header_is_text() {
        assert_eq!(negotiate(None), TEXT);
        assert_eq!(neg(""), TEXT);
        assert_eq!(neg(" "), TEXT);
    }

    // The headers Prometheus' scraper sends (scrape.acceptHeader and its predecessors).
    #[test]
    fn real_prometheus_headers() {
        let cases = [
            // 1.x and early 2.x: protobuf first, which we do not offer.
            (
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.1",
                TEXT,
            ),
            // 2.5 to 2.4x.
            (
                "application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
                OM,
            ),
            (
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
                OM,
            ),
            // 2.49+ default scrape_protocols.
            (
                "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
                OM,
            ),
            // 2.49+ with native histograms: protobuf is skipped, OpenMetrics is next.
            (
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,application/openmetrics-text;version=0.0.1;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
                OM,
            ),
            // 3.x defaults, with either escaping scheme.
            (
                "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
                OM,
            ),
            (
                "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=underscores;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
                OM,
            ),
            // 3.x with scrape_protocols: [PrometheusText1.0.0, PrometheusText0.0.4]:
            // text 1.0.0 is not ours, 0.0.4 is.
            (
                "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4",
                TEXT,
            ),
            // 3.x with scrape_protocols: [PrometheusProto, OpenMetricsText0.0.1].
            (
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,*/*;q=0.4",
                OM,
            ),
        ];
        for (header, want) in cases {
            assert_eq!(neg(header), want, "{header}");
        }
    }

    #[test]
    fn wildcards_and_browsers_get_text() {
        assert_eq!(neg("*/*"), TEXT);
        assert_eq!(neg("*"), TEXT);
        assert_eq!(neg("application/*"), TEXT);
        assert_eq!(neg("*/*;q=1,application/openmetrics-text;q=0.1"), OM);
        assert_eq!(
            neg("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
            TEXT
        );
        assert_eq!(neg("application/json"), TEXT);
    }

    #[test]
    fn q_values_order_the_clauses() {
        assert_eq!(
            neg("text/plain;q=0.5,application/openmetrics-text;q=0.9"),
            OM
        );
        assert_eq!(
            neg("text/plain;q=0.9,application/openmetrics-text;q=0.5"),
            TEXT
        );
        assert_eq!(neg("text/plain;q=0.2,application/openmetrics-text"), OM);
        assert_eq!(neg("application/openmetrics-text;q=0.2,text/plain"), TEXT);
        // Equal weights: header order decides.
        assert_eq!(neg("text/plain,application/openmetrics-text"), TEXT);
        assert_eq!(neg("application/openmetrics-text,text/plain"), OM);
        assert_eq!(
            neg("text/plain;q=0.5,application/openmetrics-text;q=0.5"),
            TEXT
        );
        // Weights equal at f32 precision tie too.
        assert_eq!(
            neg("text/plain;q=0.5,application/openmetrics-text;q=0.500000001"),
            TEXT
        );
        // q=0 is still a match, as in Go.
        assert_eq!(neg("application/openmetrics-text;q=0"), OM);
        // Out-of-range weights just order.
        assert_eq!(neg("text/plain;q=1,application/openmetrics-text;q=7"), OM);
        assert_eq!(neg("text/plain;q=-1,application/openmetrics-text;q=0"), OM);
    }

    #[test]
    fn versions_select_or_pass_over_a_clause() {
        assert_eq!(neg("application/openmetrics-text"), OM);
        assert_eq!(neg("application/openmetrics-text;version=1.0.0"), OM);
        assert_eq!(neg("application/openmetrics-text;version=0.0.1"), OM);
        assert_eq!(neg("application/openmetrics-text;version=2.0.0"), TEXT);
        assert_eq!(
            neg("application/openmetrics-text;version=2.0.0,text/plain;version=0.0.4;q=0.1"),
            TEXT
        );
        assert_eq!(
            neg("text/plain;version=1.0.0,application/openmetrics-text;q=0.1"),
            OM
        );
        assert_eq!(
            neg("text/plain;version=0.0.4,application/openmetrics-text"),
            TEXT
        );
        assert_eq!(
            neg("text/plain;charset=utf-8,application/openmetrics-text"),
            TEXT
        );
        // The last duplicate parameter wins, like a Go map assignment.
        assert_eq!(
            neg("application/openmetrics-text;version=9;version=1.0.0"),
            OM
        );
        assert_eq!(
            neg("application/openmetrics-text;version=1.0.0;version=9"),
            TEXT
        );
    }

    #[test]
    fn spaces_are_trimmed_everywhere_goautoneg_trims_them() {
        assert_eq!(
            neg(" application/openmetrics-text ; version = 1.0.0 , text/plain;q=0.5"),
            OM
        );
        assert_eq!(
            neg("text/plain;q=0.1, application / openmetrics-text ;q=0.2"),
            OM
        );
        // q is parsed untrimmed: " 0.9" is a syntax error, so 0.
        assert_eq!(
            neg("application/openmetrics-text;q= 0.9,text/plain;q=0.1"),
            TEXT
        );
        // Only spaces are trimmed, not tabs.
        assert_eq!(neg("\tapplication/openmetrics-text"), TEXT);
    }

    #[test]
    fn garbage_is_skipped_or_falls_back_to_text() {
        for header in [
            "garbage",
            ",,,",
            ";;;",
            "text",
            "a/b/c",
            "/",
            "text/plain/extra,application",
            "\u{0}\u{1}",
            "application/openmetrics-text/x",
            "Application/OpenMetrics-Text",
            "TEXT/PLAIN,APPLICATION/OPENMETRICS-TEXT",
        ] {
            assert_eq!(neg(header), TEXT, "{header:?}");
        }
        assert_eq!(neg("garbage,application/openmetrics-text"), OM);
        assert_eq!(neg("a/b/c;q=1,application/openmetrics-text;q=0.1"), OM);
        assert_eq!(
            neg("text/plain;q=abc,application/openmetrics-text;q=0.001"),
            OM
        );
        assert_eq!(neg("text/plain;q,application/openmetrics-text;q=0.5"), TEXT);
        // "Q" is not the weight parameter.
        assert_eq!(
            neg("text/plain;Q=0.1,application/openmetrics-text;q=0.5"),
            TEXT
        );
    }

    #[test]
    fn nan_weight_blocks_like_go_insertion_sort() {
        // Go: Less(om, text) is 1 > NaN == false, so text stays first.
        assert_eq!(
            neg("text/plain;q=NaN,application/openmetrics-text;q=1"),
            TEXT
        );
        assert_eq!(neg("application/openmetrics-text;q=nan,text/plain;q=1"), OM);
    }

    #[test]
    fn long_headers_are_still_ordered_by_q() {
        let mut parts: Vec<String> = (0..40)
            .map(|i| format!("application/x-{i};q=0.{i:02}"))
            .collect();
        parts.push("text/plain;q=0.2".into());
        parts.push("application/openmetrics-text;q=0.3".into());
        parts.push("application/x-nan;q=NaN".into());
        assert_eq!(neg(&parts.join(",")), OM);
        parts.push("text/plain;version=0.0.4;q=0.31".into());
        assert_eq!(neg(&parts.join(",")), TEXT);
        parts.insert(0, "text/plain;q=NaN".into());
        assert_eq!(neg(&parts.join(",")), TEXT);
    }

    proptest::proptest! {
        // Against a plain reading of the rule: the earliest of the highest-weighted clauses
        // that name one of our formats wins, text otherwise. Weights are generated as Go
        // parses them, to f32, and never NaN (whose ordering is Go's own quirk, tested above).
        #[test]
        fn picks_the_first_best_weighted_clause_we_write(
            clauses in proptest::collection::vec(
                (0usize..8, proptest::option::of(0u32..=1000)),
                0..20,
            )
        ) {
            const MEDIA: [(&str, Option<Format>); 8] = [
                ("text/plain", Some(Format::Text)),
                ("text/plain;version=0.0.4", Some(Format::Text)),
                ("text/plain;version=1.0.0", None),
                ("application/openmetrics-text", Some(Format::OpenMetrics)),
                ("application/openmetrics-text;version=1.0.0", Some(Format::OpenMetrics)),
                ("application/openmetrics-text;version=2.0.0", None),
                ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", None),
                ("*/*", None),
            ];
            let header: Vec<String> = clauses
                .iter()
                .map(|&(m, q)| match q {
                    Some(q) => format!("{};q={}", MEDIA[m].0, f64::from(q) / 1000.0),
                    None => MEDIA[m].0.to_string(),
                })
                .collect();
            let mut best: Option<(f32, Format)> = None;
            for &(m, q) in &clauses {
                let q = q.map_or(1.0, |q| (f64::from(q) / 1000.0).to_string().parse::<f32>().unwrap());
                if let Some(format) = MEDIA[m].1 {
                    if best.is_none_or(|(b, _)| q > b) {
                        best = Some((q, format));
                    }
                }
            }
            let want = best.map_or(Format::Text, |(_, f)| f);
            proptest::prop_assert_eq!(neg(&header.join(",")), want);
        }

        #[test]
        fn any_header_gets_an_answer(header in "\\PC{0,200}") {
            let format = neg(&header);
            proptest::prop_assert!(matches!(format, Format::Text | Format::OpenMetrics));
            proptest::prop_assert_eq!(neg(&header), format);
        }
    }

    #[test]
    fn render_uses_the_chosen_encoder() {
        let fam = MetricFamily {
            name: "up".into(),
            kind: MetricType::Gauge,
            help: None,
            unit: None,
            series: vec![Series {
                labels: Default::default(),
                value: SampleValue::Gauge(1.0),
                timestamp_ms: None,
                created: None,
            }],
        };
        assert_eq!(
            render(TEXT, std::slice::from_ref(&fam)),
            "# TYPE up gauge\nup 1\n"
        );
        assert_eq!(render(OM, &[fam]), "# TYPE up gauge\nup 1\n# EOF\n");
        assert_eq!(render(TEXT, &[]), "");
        assert_eq!(render(OM, &[]), "# EOF\n");
    }
}
