//! Write routes: pushes (seed and Pushgateway APIs), PATCH increments, deletes.

use http::{Request, Response};

use crate::aggregate::GaugeMode;
use crate::engine::{self, GaugeChoice, PushRequest, Selector};
use crate::model::{validate_metric_name, Labels, MetricFamily, MetricType, SampleValue, Series};
use crate::parse::parse_body;
use crate::pushgateway::parse_grouping_path;
use crate::store::Store;

use super::query::{self, parse_duration_ms, PushOptions, QueryError};
use super::{text_response, ApiConfig, ApiError, Ctx};

fn header<'a>(req: &'a Request<Vec<u8>>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A `ttl_prefixes` setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TtlRuleError {
    /// A rule without `=`.
    #[error("rule {number} ({rule:?}) is not prefix=duration")]
    NotARule {
        /// 1-based position among the comma-separated rules.
        number: usize,
        /// The rule as written.
        rule: String,
    },
    /// A prefix no metric name can start with, so the rule would never apply.
    #[error("rule {number}: prefix {prefix:?} can never match a metric name (letters, digits, _ and :, not starting with a digit)")]
    BadPrefix {
        /// 1-based position among the comma-separated rules.
        number: usize,
        /// The prefix as written.
        prefix: String,
    },
    /// A rule whose duration does not parse.
    #[error("rule {number} ({rule:?}): {source}")]
    Duration {
        /// 1-based position among the comma-separated rules.
        number: usize,
        /// The rule as written.
        rule: String,
        /// What is wrong with the duration.
        source: QueryError,
    },
    /// A prefix given twice (which one wins would depend on the order).
    #[error("rule {number}: prefix {prefix:?} is already given by rule {first}")]
    Duplicate {
        /// 1-based position of the second rule.
        number: usize,
        /// The repeated prefix.
        prefix: String,
        /// 1-based position of the first rule.
        first: usize,
    },
}

/// Parses `ttl_prefixes` (`batch_=1h,tmp_=10m`): TTLs by metric-name prefix, ms (`0` = never;
/// an empty prefix matches every name). Blank rules are skipped.
pub fn parse_ttl_prefixes(spec: &str) -> Result<Vec<(String, i64)>, TtlRuleError> {
    let mut rules: Vec<(String, i64)> = Vec::new();
    let mut numbers = Vec::new();
    for (i, rule) in spec.split(',').enumerate() {
        let (number, rule) = (i + 1, rule.trim());
        if rule.is_empty() {
            continue;
        }
        let (prefix, ttl) = rule.split_once('=').ok_or_else(|| TtlRuleError::NotARule {
            number,
            rule: rule.to_string(),
        })?;
        let prefix = prefix.trim();
        let name_char = |(j, c): (usize, char)| {
            c.is_ascii_alphabetic() || c == '_' || c == ':' || (j > 0 && c.is_ascii_digit())
        };
        if !prefix.char_indices().all(name_char) {
            return Err(TtlRuleError::BadPrefix {
                number,
                prefix: prefix.to_string(),
            });
        }
        let ttl = parse_duration_ms(ttl).map_err(|source| TtlRuleError::Duration {
            number,
            rule: rule.to_string(),
            source,
        })?;
        if let Some(j) = rules.iter().position(|(p, _)| p == prefix) {
            return Err(TtlRuleError::Duplicate {
                number,
                prefix: prefix.to_string(),
                first: numbers[j],
            });
        }
        rules.push((prefix.to_string(), ttl));
        numbers.push(number);
    }
    Ok(rules)
}

fn request(
    cfg: &ApiConfig,
    ctx: &Ctx,
    req: &Request<Vec<u8>>,
    families: Vec<MetricFamily>,
    gauge_mode: GaugeChoice,
    group: Option<Labels>,
    opts: &PushOptions,
) -> PushRequest {
    let mut ttl_by_prefix = cfg.ttl_by_prefix.clone();
    if let Some(d) = cfg.default_ttl_ms {
        ttl_by_prefix.push((String::new(), d));
    }
    PushRequest {
        families,
        gauge_mode,
        group,
        ttl_ms: opts.ttl_ms,
        ttl_by_prefix,
        idempotency_key: header(req, "idempotency-key").map(str::to_string),
        now_ms: ctx.now_ms,
        nonce: ctx.nonce,
    }
}

fn parse(cfg: &ApiConfig, req: &Request<Vec<u8>>) -> Result<Vec<MetricFamily>, ApiError> {
    Ok(parse_body(
        header(req, "content-type"),
        header(req, "content-encoding"),
        req.body(),
        &cfg.engine.limits,
    )?)
}

fn accepted(report: engine::PushReport) -> String {
    if report.replayed {
        return "already applied (Idempotency-Key seen before); nothing changed\n".into();
    }
    format!(
        "accepted {} series ({} created, {} updated)\n",
        report.created + report.updated,
        report.created,
        report.updated
    )
}

/// `POST|PUT /metrics`: a body in any accepted format; new gauges add unless `?gauge=` says
/// otherwise, stored ones keep their mode.
pub fn push_body<S: Store>(
    store: &S,
    cfg: &ApiConfig,
    ctx: &Ctx,
    req: &Request<Vec<u8>>,
    group: Option<Labels>,
) -> Result<Response<Vec<u8>>, ApiError> {
    let opts = query::push_options(req.uri().query())?;
    let families = parse(cfg, req)?;
    let mode = opts
        .gauge
        .map_or(GaugeChoice::StoredOr(GaugeMode::Sum), GaugeChoice::Asked);
    let report = engine::push(
        store,
        &cfg.engine,
        &request(cfg, ctx, req, families, mode, group, &opts),
    )?;
    Ok(text_response(200, accepted(report)))
}

/// `PUT|POST /metrics/job/<job>{/<label>/<value>}`: Pushgateway's API, aggregating.
pub fn push_group<S: Store>(
    store: &S,
    cfg: &ApiConfig,
    ctx: &Ctx,
    req: &Request<Vec<u8>>,
    grouping_path: &str,
) -> Result<Response<Vec<u8>>, ApiError> {
    let group = parse_grouping_path(grouping_path)?;
    let opts = query::push_options(req.uri().query())?;
    let families = parse(cfg, req)?;
    // Pushgateway users push timestamps and states as gauges: new ones keep the last value.
    let mode = opts
        .gauge
        .map_or(GaugeChoice::StoredOr(GaugeMode::Last), GaugeChoice::Asked);
    engine::push(
        store,
        &cfg.engine,
        &request(cfg, ctx, req, families, mode, Some(group), &opts),
    )?;
    Ok(text_response(200, ""))
}

/// `DELETE /metrics/job/<job>{/<label>/<value>}`: removes the group (202, as Pushgateway).
pub fn delete_group<S: Store>(
    store: &S,
    cfg: &ApiConfig,
    ctx: &Ctx,
    grouping_path: &str,
) -> Result<Response<Vec<u8>>, ApiError> {
    let group = parse_grouping_path(grouping_path)?;
    engine::delete(
        store,
        &cfg.engine,
        &Selector::Group(group),
        ctx.now_ms,
        ctx.nonce,
    )?;
    Ok(text_response(202, ""))
}

fn metric_name(rest: &str) -> Result<String, ApiError> {
    let name = percent_encoding::percent_decode_str(rest.trim_end_matches('/'))
        .decode_utf8()
        .map_err(|_| ApiError::new(400, "metric name is not valid UTF-8"))?
        .into_owned();
    validate_metric_name(&name).map_err(|e| ApiError::new(400, e.to_string()))?;
    Ok(name)
}

/// `PATCH /metrics/<name>?label=value`: counter +1, or + the number in the body.
pub fn patch_counter<S: Store>(
    store: &S,
    cfg: &ApiConfig,
    ctx: &Ctx,
    req: &Request<Vec<u8>>,
    rest: &str,
) -> Result<Response<Vec<u8>>, ApiError> {
    let name = metric_name(rest)?;
    let labels = query::labels(req.uri().query())?;
    let body = std::str::from_utf8(req.body())
        .map_err(|_| ApiError::new(400, "PATCH body must be a number in UTF-8 text"))?
        .trim();
    let amount = if body.is_empty() {
        1.0
    } else {
        body.parse::<f64>().map_err(|_| {
            ApiError::new(
                400,
                format!("PATCH body must be empty or a number to add, got {body:?}"),
            )
        })?
    };
    let mut family = MetricFamily::new(name, MetricType::Counter);
    family.series.push(Series {
        labels,
        value: SampleValue::Counter(amount),
        timestamp_ms: None,
        created: None,
    });
    let mut families = vec![family];
    cfg.engine
        .limits
        .check_request(&mut families)
        .map_err(engine::EngineError::from)?;
    let opts = PushOptions::default();
    let report = engine::push(
        store,
        &cfg.engine,
        &request(cfg, ctx, req, families, GaugeMode::Sum.into(), None, &opts),
    )?;
    Ok(text_response(200, accepted(report)))
}

/// `DELETE /metrics/__all` and `DELETE /metrics/<name>?label=value` (all given labels must match).
pub fn delete_series<S: Store>(
    store: &S,
    cfg: &ApiConfig,
    ctx: &Ctx,
    req: &Request<Vec<u8>>,
    rest: &str,
) -> Result<Response<Vec<u8>>, ApiError> {
    let selector = if rest.trim_end_matches('/') == "__all" {
        if req.uri().query().is_some_and(|q| !q.is_empty()) {
            return Err(ApiError::new(400, "DELETE /metrics/__all takes no labels"));
        }
        Selector::All
    } else {
        Selector::Family(metric_name(rest)?, query::labels(req.uri().query())?)
    };
    let n = engine::delete(store, &cfg.engine, &selector, ctx.now_ms, ctx.nonce)?;
    Ok(text_response(200, format!("deleted {n} series\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_prefixes_parse_into_rules() {
        assert_eq!(
            parse_ttl_prefixes("batch_=1h, tmp_ = 10m,,keep_=0,=15m,"),
            Ok(vec![
                ("batch_".to_string(), 3_600_000),
                ("tmp_".to_string(), 600_000),
                ("keep_".to_string(), 0),
                (String::new(), 900_000),
            ])
        );
        assert_eq!(parse_ttl_prefixes(""), Ok(Vec::new()));
        assert_eq!(parse_ttl_prefixes(" , "), Ok(Vec::new()));
        assert_eq!(
            parse_ttl_prefixes("ns:sub_=90,a1=250ms"),
            Ok(vec![
                ("ns:sub_".to_string(), 90_000),
                ("a1".to_string(), 250)
            ])
        );
    }

    #[test]
    fn bad_ttl_prefixes_are_named_by_rule_number() {
        let err = |s: &str| parse_ttl_prefixes(s).unwrap_err().to_string();
        assert_eq!(
            err("batch_=1h,tmp_"),
            "rule 2 (\"tmp_\") is not prefix=duration"
        );
        assert_eq!(
            err("batch_=1w"),
            "rule 1 (\"batch_=1w\"): invalid ttl \"1w\": expected seconds or a duration like 90s, 15m, 2h, 1d"
        );
        assert_eq!(
            err("a_=1h,,b_=-5"),
            "rule 3 (\"b_=-5\"): invalid ttl \"-5\": expected seconds or a duration like 90s, 15m, 2h, 1d"
        );
        assert_eq!(
            err("batch_=1h,tmp_=1m,batch_=2h"),
            "rule 3: prefix \"batch_\" is already given by rule 1"
        );
        assert!(err("9lives_=1h").starts_with("rule 1: prefix \"9lives_\" can never match"));
        assert!(err("a_=1h,my-app_=1h").starts_with("rule 2: prefix \"my-app_\" can never match"));
        assert_eq!(
            parse_ttl_prefixes("x=1h,y=").unwrap_err(),
            TtlRuleError::Duration {
                number: 2,
                rule: "y=".into(),
                source: QueryError::Duration(String::new()),
            }
        );
    }
}
