//! The configuration in force, as name/value pairs named like the Spin variables that set
//! them: the status page lists them and `GET /api/v1/status` returns them as Pushgateway's
//! `flags`.

use crate::engine::Backend;
use crate::limits::TimestampPolicy;

use super::timefmt::duration;
use super::ApiConfig;

/// Every setting the gateway enforces, in a stable order; tokens are never included.
pub fn settings(cfg: &ApiConfig) -> Vec<(&'static str, String)> {
    let e = &cfg.engine;
    let l = &e.limits;
    let backend = match e.backend {
        Backend::Sqlite => "sqlite",
        Backend::Redis => "redis",
        Backend::Cloud => "cloud",
    };
    let ttl_prefixes = cfg
        .ttl_by_prefix
        .iter()
        .map(|(p, ms)| format!("{p}={}", duration(*ms)))
        .collect::<Vec<_>>()
        .join(",");
    vec![
        ("auth", cfg.auth.mode().to_string()),
        ("kv_backend", backend.to_string()),
        ("shards", e.shards.to_string()),
        ("max_pending_deltas", e.max_pending_deltas.to_string()),
        ("max_body_bytes", l.max_body_bytes.to_string()),
        (
            "max_series_per_request",
            l.max_series_per_request.to_string(),
        ),
        ("max_labels_per_series", l.max_labels_per_series.to_string()),
        ("max_name_len", l.max_name_len.to_string()),
        ("max_label_value_len", l.max_label_value_len.to_string()),
        ("max_help_len", l.max_help_len.to_string()),
        ("max_total_series", l.max_total_series.to_string()),
        ("max_families", l.max_families.to_string()),
        (
            "timestamps",
            match l.timestamps {
                TimestampPolicy::Reject => "reject",
                TimestampPolicy::Drop => "drop",
            }
            .to_string(),
        ),
        (
            "default_ttl",
            cfg.default_ttl_ms
                .filter(|ms| *ms > 0)
                .map_or_else(|| "none".to_string(), duration),
        ),
        (
            "ttl_prefixes",
            if ttl_prefixes.is_empty() {
                "none".to_string()
            } else {
                ttl_prefixes
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::AuthConfig;

    #[test]
    fn lists_limits_and_ttls_but_never_tokens() {
        let mut cfg = ApiConfig {
            default_ttl_ms: Some(900_000),
            ttl_by_prefix: vec![("batch_".into(), 3_600_000), ("tmp_".into(), 600_000)],
            auth: AuthConfig::from_lists("secret-r", "secret-w", ""),
            ..ApiConfig::default()
        };
        cfg.engine.limits.max_total_series = 1234;
        let s = settings(&cfg);
        let get = |k: &str| s.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("max_total_series"), Some("1234"));
        assert_eq!(get("default_ttl"), Some("15m"));
        assert_eq!(get("ttl_prefixes"), Some("batch_=1h,tmp_=10m"));
        assert_eq!(get("kv_backend"), Some("sqlite"));
        assert_eq!(get("auth"), Some("tokens"));
        assert_eq!(get("timestamps"), Some("reject"));
        assert!(s.iter().all(|(_, v)| !v.contains("secret")));
        let open = settings(&ApiConfig::default());
        let get = |k: &str| open.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        assert_eq!(get("default_ttl").as_deref(), Some("none"));
        assert_eq!(get("ttl_prefixes").as_deref(), Some("none"));
        assert!(get("auth").unwrap().starts_with("open"));
    }
}
