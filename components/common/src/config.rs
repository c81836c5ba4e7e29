//! Configuration from Spin variables (component variables, templated from application
//! variables, overridable with `SPIN_VARIABLE_<NAME>`); unset or empty means the default.

use std::str::FromStr;

use anyhow::{anyhow, Context, Result};
use promagg::api::{parse_duration_ms, ApiConfig};
use promagg::engine::{Backend, EngineConfig};
use promagg::limits::TimestampPolicy;
use spin_sdk::variables::{self, Error};

/// The value of a variable, `None` when undefined or empty.
pub fn var(name: &str) -> Result<Option<String>> {
    match variables::get(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v.trim().to_string())),
        Err(Error::Undefined(_)) => Ok(None),
        Err(e) => Err(anyhow!("variable {name}: {e}")),
    }
}

fn parsed<T: FromStr>(name: &str) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    var(name)?
        .map(|v| {
            v.parse::<T>()
                .map_err(|e| anyhow!("variable {name}={v:?} is invalid: {e}"))
        })
        .transpose()
}

/// The declared key-value backend (`kv_backend`); the `no-atomics` build is always `cloud`.
pub fn backend() -> Result<Backend> {
    if cfg!(feature = "no-atomics") {
        return Ok(Backend::Cloud);
    }
    Ok(parsed::<Backend>("kv_backend")?.unwrap_or_default())
}

/// Engine settings: backend, shards, limits.
pub fn engine_config() -> Result<EngineConfig> {
    let mut cfg = EngineConfig::for_backend(backend()?);
    if let Some(n) = parsed("shards")? {
        cfg.shards = n;
    }
    if let Some(n) = parsed("max_pending_deltas")? {
        cfg.max_pending_deltas = n;
    }
    let l = &mut cfg.limits;
    for (name, slot) in [
        ("max_body_bytes", &mut l.max_body_bytes),
        ("max_series_per_request", &mut l.max_series_per_request),
        ("max_labels_per_series", &mut l.max_labels_per_series),
        ("max_name_len", &mut l.max_name_len),
        ("max_label_value_len", &mut l.max_label_value_len),
        ("max_total_series", &mut l.max_total_series),
        ("max_families", &mut l.max_families),
    ] {
        if let Some(n) = parsed(name)? {
            *slot = n;
        }
    }
    if let Some(t) = var("timestamps")? {
        l.timestamps = match t.as_str() {
            "reject" => TimestampPolicy::Reject,
            "drop" => TimestampPolicy::Drop,
            other => {
                return Err(anyhow!(
                    "variable timestamps={other:?} is invalid: expected reject or drop"
                ))
            }
        };
    }
    Ok(cfg)
}

/// Gateway settings: engine settings plus TTL defaults.
pub fn api_config() -> Result<ApiConfig> {
    let default_ttl_ms = var("default_ttl")?
        .map(|v| parse_duration_ms(&v).context("variable default_ttl"))
        .transpose()?;
    let mut ttl_by_prefix = Vec::new();
    if let Some(rules) = var("ttl_prefixes")? {
        for rule in rules.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let (prefix, ttl) = rule.split_once('=').ok_or_else(|| {
                anyhow!("variable ttl_prefixes: rule {rule:?} is not prefix=duration")
            })?;
            let ttl = parse_duration_ms(ttl).context("variable ttl_prefixes")?;
            ttl_by_prefix.push((prefix.trim().to_string(), ttl));
        }
    }
    Ok(ApiConfig {
        engine: engine_config()?,
        default_ttl_ms,
        ttl_by_prefix,
    })
}
