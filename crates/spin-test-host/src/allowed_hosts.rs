//! `allowed_outbound_hosts`, parsed and matched as Spin's outbound-networking config does.
//!
//! Each entry is `scheme://host[:port]`: `*` for any scheme, host or port; `*.domain` for
//! any subdomain; a CIDR range; `self` / `self.alt` for requests to the app itself; a port,
//! a `start..end` range or nothing (the scheme's well-known port). Entries may be
//! `{{ var }}` templates over application variables, resolved at load.

use std::collections::BTreeMap;
use std::ops::Range;

use anyhow::{anyhow, bail, Context, Result};

use crate::manifest::Variable;
use crate::variables::{Resolver, Template};

/// Service-chaining domain: `http://<component>.spin.internal/...`.
pub const SERVICE_CHAINING_DOMAIN: &str = "spin.internal";

#[derive(Debug, Clone, PartialEq, Eq)]
enum SchemeRule {
    Any,
    One(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostRule {
    Any,
    AnySubdomain(String),
    ToSelf,
    Exact(String),
    Cidr(ipnet::IpNet),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortRule {
    Any,
    Port(u16),
    Range(Range<u16>),
}

/// One parsed `allowed_outbound_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: SchemeRule,
    host: HostRule,
    port: PortRule,
}

fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl AllowedHost {
    /// Parses one literal entry.
    pub fn parse(entry: &str) -> Result<AllowedHost> {
        let url = entry.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            match url {
                "*" | ":" | "" | "?" => bail!(
                    "{url:?} is not an allowed outbound host format: hosts must be in the form <scheme>://<host>[:<port>], with '*' wildcards allowed for each"
                ),
                _ => bail!("{url:?} does not contain a scheme (e.g., 'http://' or '*://')"),
            }
        };
        let (host, rest) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = match rest.split_once('/') {
            Some((_, path)) if !path.is_empty() => {
                bail!("{url:?} has a path but is not allowed to")
            }
            Some((port, _)) => port,
            None => rest,
        };
        Ok(AllowedHost {
            scheme: Self::parse_scheme(scheme)?,
            host: Self::parse_host(host)?,
            port: Self::parse_port(port, scheme)?,
        })
    }

    fn parse_scheme(scheme: &str) -> Result<SchemeRule> {
        if scheme == "*" {
            return Ok(SchemeRule::Any);
        }
        if scheme.starts_with('{') {
            bail!("scheme lists are not yet supported");
        }
        if scheme.chars().any(|c| !c.is_alphabetic()) {
            bail!("scheme {scheme:?} contains non alphabetic character");
        }
        Ok(SchemeRule::One(scheme.to_string()))
    }

    fn parse_host(host: &str) -> Result<HostRule> {
        let host = host.trim();
        if host == "*" {
            return Ok(HostRule::Any);
        }
        if host == "self" || host == "self.alt" {
            return Ok(HostRule::ToSelf);
        }
        if host.starts_with('{') {
            bail!("host lists are not yet supported");
        }
        if let Ok(net) = host.parse::<ipnet::IpNet>() {
            return Ok(HostRule::Cidr(net.trunc()));
        }
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return Ok(HostRule::Cidr(ipnet::IpNet::from(ip)));
        }
        if matches!(host.split('/').nth(1), Some(path) if !path.is_empty()) {
            bail!("hosts must not contain paths");
        }
        if let Some(domain) = host.strip_prefix("*.") {
            if domain.contains('*') {
                bail!("Invalid allowed host {host}: wildcards are allowed only as prefixes");
            }
            return Ok(HostRule::AnySubdomain(format!(".{domain}")));
        }
        if host.contains('*') {
            bail!("Invalid allowed host {host}: wildcards are allowed only as subdomains");
        }
        Ok(HostRule::Exact(host.trim_end_matches('/').to_string()))
    }

    fn parse_port(port: &str, scheme: &str) -> Result<PortRule> {
        if port.is_empty() {
            return well_known_port(scheme).map(PortRule::Port).with_context(|| {
                format!("no port was provided and the scheme {scheme:?} does not have a known default port number")
            });
        }
        if port == "*" {
            return Ok(PortRule::Any);
        }
        if port.starts_with('{') {
            bail!("port lists are not yet supported");
        }
        if let Some((start, end)) = port.split_once("..") {
            let start = start
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            let end = end
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            return Ok(PortRule::Range(start..end));
        }
        Ok(PortRule::Port(port.parse().with_context(|| {
            format!("port {port:?} is not a number")
        })?))
    }

    fn allows(&self, url: &OutboundUrl) -> bool {
        let scheme = match &self.scheme {
            SchemeRule::Any => true,
            SchemeRule::One(s) => *s == url.scheme,
        };
        let host = match &self.host {
            HostRule::Any => true,
            HostRule::AnySubdomain(suffix) => url.host.ends_with(suffix.as_str()),
            HostRule::Exact(h) => *h == url.host,
            HostRule::ToSelf => false,
            HostRule::Cidr(net) => url
                .host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| net.contains(&ip)),
        };
        let port = match &self.port {
            PortRule::Any => true,
            rule => match url.port.or_else(|| well_known_port(&url.scheme)) {
                None => false,
                Some(p) => match rule {
                    PortRule::Port(allowed) => *allowed == p,
                    PortRule::Range(r) => r.contains(&p),
                    PortRule::Any => true,
                },
            },
        };
        scheme && host && port
    }

    fn allows_relative(&self, schemes: &[&str]) -> bool {
        let scheme = match &self.scheme {
            SchemeRule::Any => true,
            SchemeRule::One(s) => schemes.contains(&s.as_str()),
        };
        scheme && matches!(self.host, HostRule::Any | HostRule::ToSelf)
    }
}

/// The scheme, host and port of an outbound request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundUrl {
    /// Lower-case scheme.
    pub scheme: String,
    /// Host name or IP literal.
    pub host: String,
    /// Explicit port, if any.
    pub port: Option<u16>,
}

impl OutboundUrl {
    /// From a request URI; `default_scheme` applies when it has none.
    pub fn from_uri(uri: &http::Uri, default_scheme: &str) -> Result<OutboundUrl> {
        let authority = uri
            .authority()
            .ok_or_else(|| anyhow!("{uri} does not have a host component"))?;
        Ok(OutboundUrl {
            scheme: uri
                .scheme_str()
                .unwrap_or(default_scheme)
                .to_ascii_lowercase(),
            host: authority.host().to_ascii_lowercase(),
            port: authority.port_u16(),
        })
    }
}

/// A component's resolved `allowed_outbound_hosts`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    hosts: Vec<AllowedHost>,
}

impl AllowedHosts {
    /// Checks entries at manifest load: literals must parse; templates may only name declared
    /// application variables.
    pub fn validate(entries: &[String], app_variables: &BTreeMap<String, Variable>) -> Result<()> {
        if entries.len() == 1 && entries[0] == "insecure:allow-all" {
            bail!("'insecure:allow-all' is not allowed - use '*://*:*' instead if you really want to allow all outbound traffic");
        }
        for entry in entries {
            let template = Template::parse(entry).map_err(|e| anyhow!("{entry:?}: {e}"))?;
            if template.is_literal() {
                AllowedHost::parse(entry)?;
            } else if let Some(unknown) = template
                .variable_names()
                .find(|v| !app_variables.contains_key(*v))
            {
                bail!("{entry:?}: unknown application variable {unknown:?}");
            }
        }
        Ok(())
    }

    /// Resolves templates and parses every entry.
    pub fn resolve(entries: &[String], resolver: &Resolver) -> Result<AllowedHosts> {
        let hosts = entries
            .iter()
            .map(|entry| {
                let template = Template::parse(entry).map_err(|e| anyhow!("{entry:?}: {e}"))?;
                let text = resolver.render(&template)?;
                AllowedHost::parse(&text)
                    .with_context(|| format!("allowed outbound host {entry:?}"))
            })
            .collect::<Result<_>>()?;
        Ok(AllowedHosts { hosts })
    }

    /// Parses literal entries (tests and tools).
    pub fn parse_literal(entries: &[&str]) -> Result<AllowedHosts> {
        let hosts = entries
            .iter()
            .map(|e| AllowedHost::parse(e))
            .collect::<Result<_>>()?;
        Ok(AllowedHosts { hosts })
    }

    /// Whether a request to `url` is allowed.
    pub fn allows(&self, url: &OutboundUrl) -> bool {
        self.hosts.iter().any(|h| h.allows(url))
    }

    /// Whether a request to the app itself (relative URL or `self.alt`) is allowed.
    pub fn allows_relative(&self, schemes: &[&str]) -> bool {
        self.hosts.iter().any(|h| h.allows_relative(schemes))
    }
}

/// The component a `http://<id>.spin.internal` host names, if it is one.
pub fn service_chaining_target(host: &str) -> Option<&str> {
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let (first, rest) = host.split_once('.')?;
    (rest == SERVICE_CHAINING_DOMAIN).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> OutboundUrl {
        OutboundUrl::from_uri(&s.parse().unwrap(), "https").unwrap()
    }

    fn allows(rules: &[&str], target: &str) -> bool {
        AllowedHosts::parse_literal(rules)
            .unwrap()
            .allows(&url(target))
    }

    #[test]
    fn schemes_hosts_and_ports() {
        assert!(allows(&["https://example.com"], "https://example.com/x"));
        assert!(!allows(&["https://example.com"], "http://example.com/x"));
        assert!(!allows(
            &["https://example.com"],
            "https://example.com:8443/x"
        ));
        assert!(allows(
            &["https://example.com:8443"],
            "https://example.com:8443/"
        ));
        assert!(allows(&["http://127.0.0.1:*"], "http://127.0.0.1:40000/"));
        assert!(allows(
            &["http://localhost:3000..3010"],
            "http://localhost:3005/"
        ));
        assert!(!allows(
            &["http://localhost:3000..3010"],
            "http://localhost:3010/"
        ));
        assert!(allows(&["*://*:*"], "http://anything:1/"));
        assert!(allows(
            &["https://*.example.com"],
            "https://a.b.example.com/"
        ));
        assert!(!allows(&["https://*.example.com"], "https://example.com/"));
        assert!(allows(&["http://10.0.0.0/8:*"], "http://10.1.2.3:99/"));
        assert!(!allows(&["http://10.0.0.0/8:*"], "http://11.1.2.3:99/"));
        assert!(allows(
            &["http://*.spin.internal"],
            "http://api.spin.internal/x"
        ));
        assert!(!allows(&[], "https://example.com/"));
    }

    #[test]
    fn self_rules_allow_only_relative_requests() {
        let self_only = AllowedHosts::parse_literal(&["http://self"]).unwrap();
        assert!(self_only.allows_relative(&["http", "https"]));
        assert!(!self_only.allows(&url("http://self/x")));
        let any = AllowedHosts::parse_literal(&["*://*:*"]).unwrap();
        assert!(any.allows_relative(&["http", "https"]));
        let other = AllowedHosts::parse_literal(&["https://example.com"]).unwrap();
        assert!(!other.allows_relative(&["http", "https"]));
    }

    #[test]
    fn bad_entries_are_refused_with_reasons() {
        let e = |s: &str| format!("{:#}", AllowedHost::parse(s).unwrap_err());
        assert!(e("example.com").contains("does not contain a scheme"));
        assert!(e("*").contains("not an allowed outbound host format"));
        assert!(e("https://example.com/path").contains("path"));
        assert!(e("https://a.*.com").contains("wildcards"));
        assert!(e("ftp://example.com").contains("known default port"));
        assert!(e("http://example.com:abc").contains("not a number"));
        assert!(AllowedHosts::validate(&["insecure:allow-all".into()], &BTreeMap::new()).is_err());
    }

    #[test]
    fn templates_resolve_against_application_variables() {
        let manifest = crate::manifest::Manifest::parse(
            r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
upstream = { default = "push.example.com" }
[[trigger.http]]
route = "/..."
component = "c"
[component.c]
source = "c.wasm"
allowed_outbound_hosts = ["https://{{ upstream }}"]
"#,
            std::path::Path::new("/app"),
        )
        .unwrap();
        let resolver = Resolver::new(&manifest, &crate::variables::Providers::default()).unwrap();
        let hosts =
            AllowedHosts::resolve(&manifest.components["c"].allowed_outbound_hosts, &resolver)
                .unwrap();
        assert!(hosts.allows(&url("https://push.example.com/metrics")));
        assert!(!hosts.allows(&url("https://evil.example.com/")));
        let unknown = AllowedHosts::validate(&["https://{{ nope }}".into()], &BTreeMap::new());
        assert!(unknown.is_err());
    }

    #[test]
    fn service_chaining_hosts() {
        assert_eq!(service_chaining_target("api.spin.internal"), Some("api"));
        assert_eq!(service_chaining_target("api.spin.internal:80"), Some("api"));
        assert_eq!(service_chaining_target("api.example.com"), None);
        assert_eq!(service_chaining_target("spin.internal"), None);
    }
}
