//! Write routes: pushes (seed and Pushgateway APIs), PATCH increments, deletes.

use http::{Request, Response};

use crate::aggregate::GaugeMode;
use crate::engine::{self, PushRequest, Selector};
use crate::model::{validate_metric_name, Labels, MetricFamily, MetricType, SampleValue, Series};
use crate::parse::parse_body;
use crate::pushgateway::parse_grouping_path;
use crate::store::Store;

use super::query::{self, PushOptions};
use super::{text_response, ApiConfig, ApiError, Ctx};

fn header<'a>(req: &'a Request<Vec<u8>>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn request(
    cfg: &ApiConfig,
    ctx: &Ctx,
    req: &Request<Vec<u8>>,
    families: Vec<MetricFamily>,
    gauge_mode: GaugeMode,
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

/// `POST|PUT /metrics`: a body in any accepted format; gauges add unless `?gauge=` says otherwise.
pub fn push_body<S: Store>(
    store: &S,
    cfg: &ApiConfig,
    ctx: &Ctx,
    req: &Request<Vec<u8>>,
    group: Option<Labels>,
) -> Result<Response<Vec<u8>>, ApiError> {
    let opts = query::push_options(req.uri().query())?;
    let families = parse(cfg, req)?;
    let mode = opts.gauge.unwrap_or(GaugeMode::Sum);
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
    // Pushgateway users push timestamps and states as gauges: keep the last value by default.
    let mode = opts.gauge.unwrap_or(GaugeMode::Last);
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
        &request(cfg, ctx, req, families, GaugeMode::Sum, None, &opts),
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
