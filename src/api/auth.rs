//! Optional bearer-token auth with scopes, from Spin secret variables.
//!
//! - `read`: `GET /metrics`, the JSON API and the status page;
//! - `write`: pushes, PATCH, and DELETE of a series or a group (client libraries' delete
//!   functions send the same token as their pushes);
//! - `admin`: `DELETE /metrics/__all` and `/-/push`; an admin token may do everything.
//!
//! Push tokens (`push_tokens`, checked by [`AuthConfig::check_push`]) may only run
//! `/-/push`, and are also taken from `?token=` for schedulers that cannot set headers.
//!
//! No token configured at all: everything is open (logged once per process, shown on the
//! status page). With tokens configured, a scope without tokens of its own is open for
//! `read` (Prometheus scrapes without credentials) and needs an admin token otherwise.
//! Basic auth is accepted too, the password being the token, so Prometheus' `basic_auth`
//! and client libraries' auth handlers work.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::{HeaderValue, Request};

use super::ApiError;

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Reading metrics and status.
    Read,
    /// Writing and deleting series or groups.
    Write,
    /// Wiping everything, running pushes.
    Admin,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

/// The configured tokens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthConfig {
    /// Tokens granting `read`.
    pub read: Vec<String>,
    /// Tokens granting `write`.
    pub write: Vec<String>,
    /// Tokens granting everything.
    pub admin: Vec<String>,
    /// Requests from other components of the app (service chaining) need no token.
    pub exempt_internal: bool,
}

impl AuthConfig {
    /// Parses comma-separated token lists (empty entries ignored).
    pub fn from_lists(read: &str, write: &str, admin: &str) -> Self {
        AuthConfig {
            read: Self::token_list(read),
            write: Self::token_list(write),
            admin: Self::token_list(admin),
            exempt_internal: false,
        }
    }

    /// Splits one comma-separated token list, ignoring empty entries.
    pub fn token_list(list: &str) -> Vec<String> {
        list.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// True when no token is configured: everything is open.
    pub fn is_open(&self) -> bool {
        self.read.is_empty() && self.write.is_empty() && self.admin.is_empty()
    }

    /// A one-word description for the status page.
    pub fn mode(&self) -> &'static str {
        if self.is_open() {
            "open (no tokens configured)"
        } else {
            "tokens"
        }
    }

    /// Checks the request's credentials for `scope`.
    pub fn check<B>(&self, req: &Request<B>, scope: Scope) -> Result<(), ApiError> {
        if self.is_open() || (scope == Scope::Read && self.read.is_empty()) {
            return Ok(());
        }
        if self.exempt_internal && is_chained(req) {
            return Ok(());
        }
        let Some(presented) = credential(req) else {
            return Err(unauthorized(format!(
                "{} scope requires a token (Authorization: Bearer <token>, or Basic with the token as password)",
                scope.name()
            )));
        };
        let granted = |list: &[String]| list.iter().any(|t| constant_time_eq(t, &presented));
        let ok = granted(&self.admin)
            || match scope {
                Scope::Read => granted(&self.read) || granted(&self.write),
                Scope::Write => granted(&self.write),
                Scope::Admin => false,
            };
        if ok {
            return Ok(());
        }
        let known = granted(&self.read) || granted(&self.write);
        if known {
            Err(ApiError::new(
                403,
                format!("token lacks the {} scope", scope.name()),
            ))
        } else {
            Err(unauthorized("invalid token".into()))
        }
    }

    /// Checks a `/-/push` request: one of `push_tokens` as the `Authorization` credential or
    /// as the `token` query parameter (for schedulers that cannot set headers), or an admin
    /// credential in `Authorization`. Open only when no token of any kind is configured.
    pub fn check_push<B>(&self, req: &Request<B>, push_tokens: &[String]) -> Result<(), ApiError> {
        if push_tokens.is_empty() {
            return self.check(req, Scope::Admin);
        }
        let query = query_token(req);
        let header = credential(req);
        let is_push = |t: &String| push_tokens.iter().any(|p| constant_time_eq(p, t));
        if query.iter().chain(header.iter()).any(is_push) {
            return Ok(());
        }
        if self.exempt_internal && is_chained(req) {
            return Ok(());
        }
        match (header, query) {
            (None, None) => Err(unauthorized(
                "/-/push requires a push token (?token=<token> or Authorization: Bearer <token>) or an admin token"
                    .into(),
            )),
            // A token in the URL is only ever a push token: admin tokens stay out of URLs.
            (None, Some(_)) => Err(unauthorized("invalid token".into())),
            (Some(_), _) if self.is_open() => Err(unauthorized("invalid token".into())),
            (Some(_), _) => self.check(req, Scope::Admin),
        }
    }
}

/// The `token` query parameter, URL-decoded.
fn query_token<B>(req: &Request<B>) -> Option<String> {
    let query = req.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

fn unauthorized(message: String) -> ApiError {
    ApiError {
        www_authenticate: Some(HeaderValue::from_static(
            "Bearer realm=\"promagg\", Basic realm=\"promagg\"",
        )),
        ..ApiError::new(401, message)
    }
}

/// Client address Spin gives requests from another component of the app (service
/// chaining).
const CHAINED_CLIENT_ADDR: &str = "0.0.0.0:0";

/// True for a service-chained request (`http://<component>.spin.internal`).
///
/// Spin keeps the client's headers and appends its own `spin-client-addr` after them, so
/// an outside client can add a forged `spin-client-addr: 0.0.0.0:0`; it cannot remove
/// Spin's. Every value must therefore be the chained address.
fn is_chained<B>(req: &Request<B>) -> bool {
    let mut values = req.headers().get_all("spin-client-addr").iter().peekable();
    values.peek().is_some() && values.all(|v| v.as_bytes() == CHAINED_CLIENT_ADDR.as_bytes())
}

/// The token in `Authorization` (Bearer, or Basic's password).
fn credential<B>(req: &Request<B>) -> Option<String> {
    let v = req
        .headers()
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (_, password) = text.split_once(':')?;
        return Some(password.to_string());
    }
    None
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = (a.len() ^ b.len()) as u8 | u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(auth: Option<&str>) -> Request<()> {
        let mut b = Request::builder().uri("/metrics");
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn open_when_unset() {
        let a = AuthConfig::default();
        assert!(a.is_open());
        assert!(a.check(&req(None), Scope::Admin).is_ok());
    }

    #[test]
    fn scopes() {
        let a = AuthConfig::from_lists("", "w1, w2", "adm");
        assert!(
            a.check(&req(None), Scope::Read).is_ok(),
            "read open without read tokens"
        );
        let e = a.check(&req(None), Scope::Write).unwrap_err();
        assert_eq!(e.status, 401);
        assert!(e.www_authenticate.is_some());
        assert!(a.check(&req(Some("Bearer w2")), Scope::Write).is_ok());
        let e = a.check(&req(Some("Bearer w1")), Scope::Admin).unwrap_err();
        assert_eq!(e.status, 403);
        assert!(a.check(&req(Some("Bearer adm")), Scope::Admin).is_ok());
        assert!(a.check(&req(Some("Bearer adm")), Scope::Write).is_ok());
        assert_eq!(
            a.check(&req(Some("Bearer nope")), Scope::Write)
                .unwrap_err()
                .status,
            401
        );
        // Basic: the password is the token
        let basic = format!("Basic {}", STANDARD.encode("anyone:w1"));
        assert!(a.check(&req(Some(&basic)), Scope::Write).is_ok());
        let r = AuthConfig::from_lists("r", "w", "");
        assert!(r.check(&req(None), Scope::Read).is_err());
        assert!(
            r.check(&req(Some("Bearer w")), Scope::Read).is_ok(),
            "write implies read"
        );
        assert_eq!(
            r.check(&req(Some("Bearer r")), Scope::Write)
                .unwrap_err()
                .status,
            403
        );
    }

    #[test]
    fn chained_requests_are_exempt_only_when_configured() {
        let chained = Request::builder()
            .header("spin-client-addr", "0.0.0.0:0")
            .body(())
            .unwrap();
        let external = Request::builder()
            .header("spin-client-addr", "10.0.0.7:51234")
            .body(())
            .unwrap();
        let forged = Request::builder()
            .header("spin-client-addr", "0.0.0.0:0")
            .header("spin-client-addr", "10.0.0.7:51234")
            .body(())
            .unwrap();
        let mut a = AuthConfig::from_lists("", "w", "");
        assert_eq!(a.check(&chained, Scope::Write).unwrap_err().status, 401);
        a.exempt_internal = true;
        assert!(a.check(&chained, Scope::Write).is_ok());
        assert_eq!(a.check(&external, Scope::Write).unwrap_err().status, 401);
        assert_eq!(a.check(&forged, Scope::Write).unwrap_err().status, 401);
        let bare = Request::builder().body(()).unwrap();
        assert_eq!(a.check(&bare, Scope::Write).unwrap_err().status, 401);
    }

    fn push_req(uri: &str, auth: Option<&str>) -> Request<()> {
        let mut b = Request::builder().uri(uri);
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn push_tokens_in_header_or_query() {
        let push = AuthConfig::token_list(" p1 ,, p2%x ");
        assert_eq!(push, vec!["p1".to_string(), "p2%x".to_string()]);
        let a = AuthConfig::from_lists("r", "w", "adm");
        let status = |uri: &str, auth: Option<&str>| {
            a.check_push(&push_req(uri, auth), &push)
                .map_err(|e| e.status)
        };
        assert_eq!(status("/-/push", None), Err(401));
        assert_eq!(status("/-/push?token=p1", None), Ok(()));
        assert_eq!(
            status("/-/push?x=1&token=p2%25x", None),
            Ok(()),
            "URL-decoded"
        );
        assert_eq!(status("/-/push", Some("Bearer p1")), Ok(()));
        let basic = format!("Basic {}", STANDARD.encode("cron:p1"));
        assert_eq!(status("/-/push", Some(&basic)), Ok(()));
        assert_eq!(status("/-/push", Some("Bearer adm")), Ok(()));
        assert_eq!(status("/-/push?token=nope", None), Err(401));
        assert_eq!(
            status("/-/push?token=adm", None),
            Err(401),
            "admin tokens are not taken from the URL"
        );
        assert_eq!(status("/-/push", Some("Bearer w")), Err(403));
        assert_eq!(status("/-/push", Some("Bearer nope")), Err(401));
        assert_eq!(status("/-/push?token=nope", Some("Bearer adm")), Ok(()));
        // A push token grants nothing else.
        assert_eq!(
            a.check(&req(Some("Bearer p1")), Scope::Write)
                .unwrap_err()
                .status,
            401
        );
    }

    #[test]
    fn push_tokens_alone_close_only_the_push_route() {
        let push = AuthConfig::token_list("p");
        let open = AuthConfig::default();
        assert!(open.check_push(&push_req("/-/push", None), &[]).is_ok());
        let e = open
            .check_push(&push_req("/-/push", None), &push)
            .unwrap_err();
        assert_eq!(e.status, 401);
        assert!(e.www_authenticate.is_some());
        assert_eq!(
            open.check_push(&push_req("/-/push", Some("Bearer x")), &push)
                .unwrap_err()
                .status,
            401
        );
        assert!(open
            .check_push(&push_req("/-/push?token=p", None), &push)
            .is_ok());
        // Without push tokens, the admin scope alone decides (as before).
        let a = AuthConfig::from_lists("", "", "adm");
        assert_eq!(
            a.check_push(&push_req("/-/push?token=adm", None), &[])
                .unwrap_err()
                .status,
            401
        );
        assert!(a
            .check_push(&push_req("/-/push", Some("Bearer adm")), &[])
            .is_ok());
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
        assert!(!constant_time_eq("", "a"));
        assert!(constant_time_eq("", ""));
    }
}
