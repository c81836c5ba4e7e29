//! Configuration from Spin variables (component variables, templated from application
//! variables, overridable with `SPIN_VARIABLE_<NAME>`); unset or empty means the default.

use std::str::FromStr;

use anyhow::{anyhow, Context, Result};
use promagg::api::{parse_duration_ms, parse_ttl_prefixes, ApiConfig, AuthConfig};
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
    if let Some(on) = parsed("scrape_cache")? {
        cfg.render_cache = on;
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

/// Tokens per scope (`auth_read_tokens`, `auth_write_tokens`, `auth_admin_tokens`), and
/// whether service-chained requests are exempt (`auth_exempt_internal`).
pub fn auth_config() -> Result<AuthConfig> {
    let tokens = |name: &str| -> Result<String> { Ok(var(name)?.unwrap_or_default()) };
    let mut auth = AuthConfig::from_lists(
        &tokens("auth_read_tokens")?,
        &tokens("auth_write_tokens")?,
        &tokens("auth_admin_tokens")?,
    );
    auth.exempt_internal = parsed::<bool>("auth_exempt_internal")?.unwrap_or(false);
    Ok(auth)
}

/// Tokens that may only run `/-/push` (`push_tokens`, comma-separated).
pub fn push_tokens() -> Result<Vec<String>> {
    Ok(AuthConfig::token_list(
        &var("push_tokens")?.unwrap_or_default(),
    ))
}

/// Gateway settings: engine settings plus TTL defaults.
pub fn api_config() -> Result<ApiConfig> {
    let default_ttl_ms = var("default_ttl")?
        .map(|v| parse_duration_ms(&v).context("variable default_ttl"))
        .transpose()?;
    let ttl_by_prefix = var("ttl_prefixes")?
        .map(|rules| parse_ttl_prefixes(&rules).context("variable ttl_prefixes"))
        .transpose()?
        .unwrap_or_default();
    Ok(ApiConfig {
        engine: engine_config()?,
        default_ttl_ms,
        ttl_by_prefix,
        auth: auth_config()?,
    })
}

/// Pusher settings: the remote_write endpoint, credentials, protocol, batching, interval.
pub fn push_config() -> Result<promagg::pusher::PushConfig> {
    use promagg::pusher::{Protocol, PushConfig};
    let protocol = match var("remote_write_version")?.as_deref() {
        None | Some("1") | Some("1.0") => Protocol::V1,
        Some("2") | Some("2.0") => Protocol::V2,
        Some(other) => {
            return Err(anyhow!(
                "variable remote_write_version={other:?} is invalid: expected 1 or 2"
            ))
        }
    };
    let mut extra_labels = Vec::new();
    if let Some(spec) = var("remote_write_extra_labels")? {
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                anyhow!("variable remote_write_extra_labels: {pair:?} is not name=value")
            })?;
            extra_labels.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let duration = |name: &str, default: i64| -> Result<i64> {
        Ok(var(name)?
            .map(|v| parse_duration_ms(&v).with_context(|| format!("variable {name}")))
            .transpose()?
            .unwrap_or(default))
    };
    Ok(PushConfig {
        endpoint: var("prom_endpoint")?,
        user: var("prom_user")?,
        token: var("prom_token")?,
        protocol,
        max_samples_per_batch: parsed("remote_write_batch_samples")?
            .unwrap_or(promagg::remote_write::DEFAULT_MAX_SAMPLES_PER_BATCH),
        timeout_ms: duration("remote_write_timeout", 10_000)?.max(1) as u64,
        extra_labels,
        interval_ms: duration("push_interval", 10_000)?,
    })
}
